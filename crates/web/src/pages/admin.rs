//! Users, roles and scopes; API tokens. Administrators only.

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{Markup, html};
use sanad_domain::{Permission, Role};
use sanad_store::{ApiToken, User};
use serde::Deserialize;

use super::layout;
use crate::auth::{self, Lang, Principal, TOKEN_SCOPES};
use crate::error::WebError;
use crate::i18n::Locale;
use crate::service::{self, UserForm};
use crate::{AppState, RequestId};

pub async fn users(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
) -> Result<Html<String>, WebError> {
    p.require(Permission::UsersManage)?;
    Ok(users_page(l, &p, &s.store.users().await?, None))
}

fn users_page(l: Locale, p: &Principal, users: &[User], error: Option<&str>) -> Html<String> {
    let content = html! {
        h1 { (l.t("users.title")) }
        p { a href="/admin/tokens" { (l.t("tokens.title")) } }
        table {
            thead { tr { th { (l.t("users.username")) } th { (l.t("users.display_name")) } th { (l.t("users.role")) } th { (l.t("users.scope")) } th { (l.t("users.state")) } } }
            tbody {
                @for u in users {
                    tr {
                        td { a href=(format!("/admin/users/{}", u.username)) { (u.username) } }
                        td { (u.display_name) }
                        td { (l.t(&format!("role.{}", u.role.as_str()))) }
                        td { code { (u.scope.to_string()) } }
                        td { (if !u.active { l.t("users.inactive") } else if u.locked_until.is_some_and(|t| t > auth::now_secs()) { l.t("users.locked") } else { l.t("users.active") }) }
                    }
                }
            }
        }
        h2 { (l.t("users.create")) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        (user_form(l, p, None))
    };
    layout::page(l, Some(p), l.t("users.title"), "users", content)
}

fn user_form(l: Locale, p: &Principal, u: Option<&User>) -> Markup {
    let action = u.map_or_else(
        || "/admin/users".to_owned(),
        |u| format!("/admin/users/{}", u.username),
    );
    html! {
        form.grid method="post" action=(action) {
            input type="hidden" name="_csrf" value=(p.csrf());
            label for="username" { (l.t("users.username")) }
            @if let Some(u) = u { input id="username" name="username" value=(u.username) readonly; } @else { input id="username" name="username" required pattern="[a-z0-9._-]{3,40}"; }
            label for="display_name" { (l.t("users.display_name")) }
            input id="display_name" name="display_name" required value=(u.map(|u| u.display_name.as_str()).unwrap_or(""));
            label for="role" { (l.t("users.role")) }
            select id="role" name="role" { @for r in Role::ALL { option value=(r.as_str()) selected[u.is_some_and(|u| u.role == r)] { (l.t(&format!("role.{}", r.as_str()))) } } }
            label for="scope" { (l.t("users.scope")) }
            input id="scope" name="scope" required value=(u.map_or_else(|| "national".to_owned(), |u| u.scope.to_string()));
            label for="locale" { (l.t("users.locale")) }
            select id="locale" name="locale" { @for x in Locale::ALL { option value=(x.code()) selected[u.is_some_and(|u| u.locale == x.code())] { (x.t("language.name")) } } }
            label for="password" { (l.t("users.password")) }
            input id="password" name="password" type="password" autocomplete="new-password" minlength="10" required[u.is_none()];
            @if u.is_some() {
                label for="active" { (l.t("users.active")) }
                select id="active" name="active" { option value="true" selected[u.is_some_and(|u| u.active)] { (l.t("common.yes")) } option value="false" selected[u.is_some_and(|u| !u.active)] { (l.t("common.no")) } }
            }
            button.primary type="submit" { (l.t("common.save")) }
        }
        p.hint { (l.t("users.scope_hint")) }
    }
}

pub async fn create_user(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Form(f): Form<UserForm>,
) -> Result<Response, WebError> {
    match service::create_user(&s, &p, &req, &f).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(WebError::Invalid(m) | WebError::Conflict(m)) => Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            users_page(l, &p, &s.store.users().await?, Some(&m)),
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

pub async fn edit_user(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Path(username): Path<String>,
) -> Result<Html<String>, WebError> {
    p.require(Permission::UsersManage)?;
    let u = s.store.user(&username).await?.ok_or(WebError::NotFound)?;
    let content =
        html! { h1 { (l.t("users.edit")) " " (u.username) } (user_form(l, &p, Some(&u))) };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("users.edit"),
        "users",
        content,
    ))
}

pub async fn update_user(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(username): Path<String>,
    Form(mut f): Form<UserForm>,
) -> Result<Redirect, WebError> {
    f.username = username;
    service::update_user(&s, &p, &req, &f).await?;
    Ok(Redirect::to("/admin/users"))
}

pub async fn tokens(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
) -> Result<Html<String>, WebError> {
    p.require(Permission::UsersManage)?;
    Ok(tokens_page(l, &p, &s.store.tokens().await?, None))
}

fn tokens_page(
    l: Locale,
    p: &Principal,
    tokens: &[ApiToken],
    created: Option<&str>,
) -> Html<String> {
    let content = html! {
        h1 { (l.t("tokens.title")) }
        @if let Some(t) = created { div.notice role="status" { p { (l.t("tokens.shown_once")) } code.token { (t) } } }
        table {
            thead { tr { th { "id" } th { (l.t("tokens.name")) } th { (l.t("tokens.user")) } th { (l.t("tokens.scopes")) } th { (l.t("users.state")) } th {} } }
            tbody {
                @for t in tokens {
                    tr {
                        td { code { (t.id) } } td { (t.name) } td { (t.username) } td { (t.scopes.join(" ")) }
                        td { (if t.revoked { l.t("tokens.revoked") } else { l.t("users.active") }) }
                        td { @if !t.revoked { form method="post" action=(format!("/admin/tokens/{}/revoke", t.id)) { input type="hidden" name="_csrf" value=(p.csrf()); button.link type="submit" data-confirm=(l.t("tokens.revoke")) { (l.t("tokens.revoke")) } } } }
                    }
                }
            }
        }
        h2 { (l.t("tokens.create")) }
        form.grid method="post" action="/admin/tokens" {
            input type="hidden" name="_csrf" value=(p.csrf());
            label for="name" { (l.t("tokens.name")) } input id="name" name="name" required;
            label for="username" { (l.t("tokens.user")) } input id="username" name="username" required;
            label for="scopes" { (l.t("tokens.scopes")) } input id="scopes" name="scopes" required placeholder=(TOKEN_SCOPES.join(" "));
            button.primary type="submit" { (l.t("tokens.create")) }
        }
    };
    layout::page(l, Some(p), l.t("tokens.title"), "users", content)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenForm {
    pub name: String,
    /// The user the token acts as.
    pub username: String,
    /// Space-separated scopes.
    pub scopes: String,
}

/// Issue a token: the secret is shown once and only its hash is kept.
pub async fn issue_token(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    f: &TokenForm,
) -> Result<String, WebError> {
    p.require(Permission::UsersManage)?;
    let scopes: Vec<String> = f.scopes.split_whitespace().map(str::to_owned).collect();
    if let Some(bad) = scopes.iter().find(|s| !TOKEN_SCOPES.contains(&s.as_str())) {
        return Err(WebError::Invalid(format!(
            "scopes: '{bad}' is not one of {}",
            TOKEN_SCOPES.join(", ")
        )));
    }
    if scopes.is_empty() || f.name.trim().is_empty() {
        return Err(WebError::Invalid("name and scopes: required".into()));
    }
    s.store
        .user(&f.username)
        .await?
        .ok_or_else(|| WebError::Invalid(format!("username: no user '{}'", f.username)))?;
    let (id, secret) = (auth::random_hex(6), auth::random_hex(24));
    let t = ApiToken {
        id: id.clone(),
        secret_hash: auth::sha256_hex(&secret),
        name: f.name.trim().into(),
        username: f.username.clone(),
        scopes,
        created_at: sanad_store::generic::now(),
        revoked: false,
    };
    s.store.create_token(&t, &service::actor(p, req)).await?;
    Ok(format!("sanad_{id}_{secret}"))
}

pub async fn create_token(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Form(f): Form<TokenForm>,
) -> Result<Html<String>, WebError> {
    let token = issue_token(&s, &p, &req, &f).await?;
    Ok(tokens_page(l, &p, &s.store.tokens().await?, Some(&token)))
}

pub async fn revoke_token(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(id): Path<String>,
) -> Result<Redirect, WebError> {
    p.require(Permission::UsersManage)?;
    s.store.revoke_token(&id, &service::actor(&p, &req)).await?;
    Ok(Redirect::to("/admin/tokens"))
}

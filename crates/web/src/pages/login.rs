//! Login, logout and the language setting.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::html;
use sanad_store::{Change, LoginAttempt, Session};
use serde::Deserialize;

use super::layout;
use crate::auth::{self, LANG_COOKIE, Lang, Principal, SESSION_COOKIE, Via};
use crate::error::WebError;
use crate::i18n::Locale;
use crate::{AppState, RequestId};

const LOGIN_CSRF: &str = "sanad_login_csrf";

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Only paths on this site: never an open redirect.
fn safe_next(n: Option<&str>) -> String {
    n.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/")
        .to_owned()
}

pub async fn form(State(s): State<AppState>, Lang(l): Lang, Query(q): Query<Next>) -> Response {
    render(&s, l, &safe_next(q.next.as_deref()), None)
}

/// The form carries a fresh token that must match its cookie (login CSRF, before any session).
fn render(s: &AppState, l: Locale, next: &str, error: Option<&str>) -> Response {
    let token = auth::random_hex(16);
    let content = html! {
        section.login {
            h1 { (l.t("login.title")) }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/login" {
                input type="hidden" name="_csrf" value=(token);
                input type="hidden" name="next" value=(next);
                label for="username" { (l.t("login.username")) }
                input id="username" name="username" autocomplete="username" required autofocus;
                label for="password" { (l.t("login.password")) }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button.primary type="submit" { (l.t("login.submit")) }
            }
        }
    };
    let cookie = auth::set_cookie(
        LOGIN_CSRF,
        &token,
        Some(std::time::Duration::from_secs(3600)),
        s.security.secure_cookies,
    );
    (
        [(header::SET_COOKIE, cookie)],
        layout::page(l, None, l.t("login.title"), "", content),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(rename = "_csrf")]
    csrf: String,
    next: Option<String>,
}

pub async fn submit(
    State(s): State<AppState>,
    Lang(l): Lang,
    Extension(req): Extension<RequestId>,
    Extension(ip): Extension<auth::ClientIp>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, WebError> {
    let next = safe_next(f.next.as_deref());
    let login_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("sanad_login_csrf="));
    if login_cookie != Some(f.csrf.as_str()) {
        return Err(WebError::Csrf);
    }
    if !s.limiter.allow(ip.0, &s.security) {
        return Err(WebError::TooManyRequests);
    }
    let now = auth::now_secs();
    let user = s.store.user(f.username.trim()).await?;
    let locked = user
        .as_ref()
        .is_some_and(|u| u.locked_until.is_some_and(|t| t > now));
    // Hash even for unknown users, so timing does not reveal which usernames exist.
    let hash = user
        .as_ref()
        .map_or_else(|| dummy_hash().to_owned(), |u| u.password_hash.clone());
    let password = f.password.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &password))
        .await
        .unwrap_or(false);
    let user = match user {
        Some(u) if ok && u.active && !locked => u,
        Some(u) => {
            if !locked {
                let lock_until = now + s.security.lockout.as_secs() as i64;
                s.store
                    .record_login(
                        &u.username,
                        LoginAttempt::Failed {
                            now,
                            max_failures: s.security.max_failures,
                            lock_until,
                        },
                    )
                    .await?;
            }
            let msg = if locked {
                l.t("login.locked")
            } else {
                l.t("login.failed")
            };
            return Ok(render(&s, l, &next, Some(msg)));
        }
        None => return Ok(render(&s, l, &next, Some(l.t("login.failed")))),
    };
    s.store
        .record_login(&user.username, LoginAttempt::Succeeded)
        .await?;
    // A new session id at every login (no fixation); any previous one is dropped.
    if let Some(old) = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("sanad_session="))
    {
        s.store.delete_session(&auth::sha256_hex(old)).await?;
    }
    let id = auth::random_hex(32);
    s.store
        .create_session(&Session {
            id_hash: auth::sha256_hex(&id),
            username: user.username.clone(),
            csrf: auth::random_hex(32),
            created_at: now,
            last_seen: now,
        })
        .await?;
    s.store
        .audit(
            &sanad_store::Actor::new(&user.username, &req.0),
            &Change::new("login", "session", &user.username),
        )
        .await?;
    let cookie = auth::set_cookie(SESSION_COOKIE, &id, None, s.security.secure_cookies);
    let clear = auth::set_cookie(
        LOGIN_CSRF,
        "",
        Some(std::time::Duration::ZERO),
        s.security.secure_cookies,
    );
    Ok((
        axum::response::AppendHeaders([(header::SET_COOKIE, cookie), (header::SET_COOKIE, clear)]),
        Redirect::to(&next),
    )
        .into_response())
}

/// A real Argon2id hash of a random password, checked when the username is unknown.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(&auth::random_hex(16)))
}

pub async fn logout(State(s): State<AppState>, p: Principal) -> Result<Response, WebError> {
    if let Via::Session { id_hash, .. } = &p.via {
        s.store.delete_session(id_hash).await?;
    }
    let clear = auth::set_cookie(
        SESSION_COOKIE,
        "",
        Some(std::time::Duration::ZERO),
        s.security.secure_cookies,
    );
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response())
}

#[derive(Deserialize)]
pub struct LanguageForm {
    lang: String,
}

/// Signed-in users keep the language in their profile; others in a cookie.
pub async fn language(
    State(s): State<AppState>,
    p: Option<Principal>,
    headers: HeaderMap,
    Extension(req): Extension<RequestId>,
    Form(f): Form<LanguageForm>,
) -> Result<Response, WebError> {
    let l = Locale::parse(&f.lang).ok_or_else(|| WebError::Invalid("lang: fr, ar or en".into()))?;
    if let Some(p) = p {
        let mut u = s
            .store
            .user(&p.username)
            .await?
            .ok_or(WebError::Unauthenticated)?;
        if u.locale != l.code() {
            u.locale = l.code().into();
            s.store
                .update_user(&u, &crate::service::actor(&p, &req))
                .await?;
        }
    }
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            r.find("://")
                .and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_owned()))
        });
    let cookie = auth::set_cookie(
        LANG_COOKIE,
        l.code(),
        Some(std::time::Duration::from_secs(365 * 86400)),
        s.security.secure_cookies,
    );
    Ok((
        [(header::SET_COOKIE, cookie)],
        Redirect::to(&safe_next(back.as_deref())),
    )
        .into_response())
}

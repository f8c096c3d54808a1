//! Rule sets: list, view, diff, propose, approve (by a second user).

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{Markup, html};
use sanad_domain::Permission;
use serde::Deserialize;

use super::layout;
use crate::auth::{Lang, Principal};
use crate::error::WebError;
use crate::i18n::Locale;
use crate::service::{self, RuleSetEntry};
use crate::{AppState, RequestId};

fn status_badge(l: Locale, status: &str) -> Markup {
    html! { span class=(format!("badge {status}")) { (l.t(&format!("rules.status.{status}"))) } }
}

pub async fn list(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
) -> Result<Html<String>, WebError> {
    let sets = service::rule_sets(&s, &p).await?;
    let content = html! {
        h1 { (l.t("rules.title")) }
        @if p.can(Permission::RulesPropose) { p { a.button href="/rules/propose" { (l.t("rules.propose")) } } }
        table {
            thead { tr { th { (l.t("rules.id")) } th { (l.t("rules.effective_from")) } th { (l.t("rules.name")) } th { (l.t("rules.status")) } th { (l.t("rules.proposed_by")) } th { (l.t("rules.approved_by")) } } }
            tbody {
                @for r in &sets {
                    tr {
                        td { a href=(format!("/rules/{}", r.id)) { (r.id) } }
                        td { (l.date(r.effective_from)) }
                        td { (r.title) }
                        td { (status_badge(l, &r.status)) }
                        td { (r.proposed_by.as_deref().unwrap_or("—")) }
                        td { (r.approved_by.as_deref().unwrap_or("—")) }
                    }
                }
            }
        }
        (diff_form(l, &sets, None, None))
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("rules.title"),
        "rules",
        content,
    ))
}

fn diff_form(l: Locale, sets: &[RuleSetEntry], a: Option<&str>, b: Option<&str>) -> Markup {
    html! {
        form.inline-form method="get" action="/rules/diff" {
            h2 { (l.t("rules.compare")) }
            label for="a" { (l.t("rules.from")) }
            select id="a" name="a" { @for r in sets { option value=(r.id) selected[Some(r.id.as_str()) == a] { (r.id) } } }
            label for="b" { (l.t("rules.to")) }
            select id="b" name="b" { @for (i, r) in sets.iter().enumerate() { option value=(r.id) selected[Some(r.id.as_str()) == b || (b.is_none() && i + 1 == sets.len())] { (r.id) } } }
            button type="submit" { (l.t("rules.compare")) }
        }
    }
}

pub async fn show(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let (entry, rs) = service::rule_set(&s, &p, &id).await?;
    let can_approve = entry.status == "proposed"
        && p.can(Permission::RulesApprove)
        && entry.proposed_by.as_deref() != Some(p.username.as_str());
    let content = html! {
        h1 { (l.t("rules.rule_set")) " " (rs.id) " " (status_badge(l, &entry.status)) }
        dl.facts {
            dt { (l.t("rules.name")) } dd { (rs.title) }
            dt { (l.t("rules.effective_from")) } dd { (l.date(rs.effective_from)) }
            dt { (l.t("rules.threshold")) } dd { (rs.threshold()) }
            @if !rs.source.is_empty() { dt { (l.t("rules.source")) } dd { (rs.source) } }
            @if let Some(by) = &entry.proposed_by { dt { (l.t("rules.proposed_by")) } dd { (by) } }
            @if let Some(by) = &entry.approved_by { dt { (l.t("rules.approved_by")) } dd { (by) } }
        }
        @if can_approve {
            form method="post" action=(format!("/rules/{}/approve", rs.id)) {
                input type="hidden" name="_csrf" value=(p.csrf());
                button.primary type="submit" data-confirm=(l.t("rules.approve_confirm")) { (l.t("rules.approve")) }
            }
        } @else if entry.status == "proposed" {
            p.hint { (l.t("rules.awaiting_other")) }
        }
        h2 { (l.t("rules.parameters")) }
        pre.toml { (rs.to_toml()) }
    };
    Ok(layout::page(l, Some(&p), &rs.id, "rules", content))
}

#[derive(Deserialize)]
pub struct DiffQuery {
    a: String,
    b: String,
}

pub async fn diff(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Query(q): Query<DiffQuery>,
) -> Result<Html<String>, WebError> {
    let (_, a) = service::rule_set(&s, &p, &q.a).await?;
    let (_, b) = service::rule_set(&s, &p, &q.b).await?;
    let sets = service::rule_sets(&s, &p).await?;
    let changes = sanad_rules::diff::diff(&a, &b);
    let content = html! {
        h1 { (l.t("rules.diff_title")) " " (a.id) " → " (b.id) }
        (diff_form(l, &sets, Some(&a.id), Some(&b.id)))
        @if changes.is_empty() { p { (l.t("rules.no_changes")) } } @else {
            table.diff {
                thead { tr { th { (l.t("rules.parameter")) } th { (a.id) } th { (b.id) } } }
                tbody { @for c in &changes { tr { td { code { (c.parameter) } } td.before { (c.before.as_deref().unwrap_or("—")) } td.after { (c.after.as_deref().unwrap_or("—")) } } } }
            }
        }
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("rules.diff_title"),
        "rules",
        content,
    ))
}

pub async fn propose_form(Lang(l): Lang, p: Principal) -> Result<Html<String>, WebError> {
    p.require(Permission::RulesPropose)?;
    Ok(propose_page(l, &p, "", None))
}

fn propose_page(l: Locale, p: &Principal, body: &str, error: Option<&str>) -> Html<String> {
    let content = html! {
        h1 { (l.t("rules.propose")) }
        p.hint { (l.t("rules.propose_hint")) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form method="post" action="/rules/propose" {
            input type="hidden" name="_csrf" value=(p.csrf());
            label for="body" { (l.t("rules.toml")) }
            textarea id="body" name="body" rows="24" spellcheck="false" required { (body) }
            button.primary type="submit" { (l.t("rules.submit_proposal")) }
        }
    };
    layout::page(l, Some(p), l.t("rules.propose"), "rules", content)
}

#[derive(Deserialize)]
pub struct ProposeForm {
    body: String,
}

pub async fn propose(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Form(f): Form<ProposeForm>,
) -> Result<Response, WebError> {
    match service::propose(&s, &p, &req, &f.body).await {
        Ok(rs) => Ok(Redirect::to(&format!("/rules/{}", rs.id)).into_response()),
        // Keep what was typed, with the reason, rather than losing it.
        Err(WebError::Invalid(m) | WebError::Conflict(m)) => Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            propose_page(l, &p, &f.body, Some(&m)),
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

pub async fn approve(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(id): Path<String>,
) -> Result<Redirect, WebError> {
    service::approve(&s, &p, &req, &id).await?;
    Ok(Redirect::to(&format!("/rules/{id}")))
}

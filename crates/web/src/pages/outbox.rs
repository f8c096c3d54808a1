//! The notification outbox: messages to the households in the caller's scope, filtered by
//! status, with the count per status; a dead message can be queued again.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Redirect};
use maud::html;
use serde::Deserialize;

use super::layout;
use crate::auth::{Lang, Principal};
use crate::error::WebError;
use crate::service::{self, MESSAGE_STATUSES};
use crate::{AppState, RequestId};

#[derive(Deserialize)]
pub struct Filter {
    #[serde(default)]
    status: String,
}

/// A phone number shown with its middle hidden (`+2126****78`): enough to recognise it.
fn masked(recipient: &str) -> String {
    sanad_domain::access::mask_id(recipient)
}

/// `2026-11-02T09:30:01.000Z` → `2026-11-02 09:30` (UTC).
fn when(stamp: &str) -> String {
    stamp
        .get(..16)
        .map(|s| s.replace('T', " "))
        .unwrap_or_else(|| stamp.to_owned())
}

pub async fn list(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Query(f): Query<Filter>,
) -> Result<Html<String>, WebError> {
    let view = service::outbox(&s, &p, Some(&f.status)).await?;
    let count = |st: &str| {
        view.counts
            .iter()
            .find(|(k, _)| k == st)
            .map_or(0, |(_, n)| *n)
    };
    let total: i64 = view.counts.iter().map(|(_, n)| n).sum();
    let content = html! {
        h1 { (l.t("outbox.title")) }
        nav.filters aria-label=(l.t("outbox.filter")) {
            @if f.status.is_empty() { a href="/outbox" aria-current="page" { (l.t("outbox.all")) " (" (l.int(total)) ")" } }
            @else { a href="/outbox" { (l.t("outbox.all")) " (" (l.int(total)) ")" } }
            @for st in MESSAGE_STATUSES {
                @let key = format!("outbox.status.{st}");
                @let label = l.t(&key);
                @if f.status == st { " · " a href=(format!("/outbox?status={st}")) aria-current="page" { (label) " (" (l.int(count(st))) ")" } }
                @else { " · " a href=(format!("/outbox?status={st}")) { (label) " (" (l.int(count(st))) ")" } }
            }
        }
        @if view.messages.is_empty() { p.empty { (l.t("outbox.none")) } } @else {
            table.outbox {
                thead { tr {
                    th { (l.t("outbox.created")) } th { (l.t("outbox.household")) } th { (l.t("outbox.template")) } th { (l.t("outbox.recipient")) }
                    th { (l.t("rules.status")) } th.num { (l.t("outbox.attempts")) } th { (l.t("outbox.detail")) } th {}
                } }
                tbody {
                    @for m in &view.messages {
                        tr class=(m.status) {
                            td { (when(&m.created_at)) }
                            td { a href=(format!("/households/{}#timeline", m.rsu_id)) { (m.rsu_id) } }
                            td { (l.t(&format!("outbox.template.{}", m.template))) " (" (m.language) ")" }
                            td { bdi dir="ltr" { (masked(&m.recipient)) } }
                            td { (l.t(&format!("outbox.status.{}", m.status))) }
                            td.num { (m.attempts) }
                            td {
                                details { summary { (l.t("outbox.text")) } p lang=(m.language) dir=(if m.language == "ar" { "rtl" } else { "ltr" }) { (m.body) } }
                                @if let Some(e) = &m.last_error { p.error { (e) } }
                                @if let Some(at) = &m.next_attempt_at { @if m.status == "failed" { p.hint { (l.t("outbox.next_attempt")) " " (when(at)) } } }
                                @if let Some(at) = &m.sent_at { p.hint { (l.t("outbox.sent_at")) " " (when(at)) } }
                                @if let Some(at) = &m.delivered_at { p.hint { (l.t("outbox.delivered_at")) " " (when(at)) } }
                            }
                            td {
                                @if m.status == "dead" {
                                    form.inline method="post" action=(format!("/outbox/{}/retry", super::urlencode(&m.id))) {
                                        input type="hidden" name="_csrf" value=(p.csrf());
                                        button type="submit" { (l.t("outbox.retry")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("outbox.title"),
        "outbox",
        content,
    ))
}

pub async fn retry(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(id): Path<String>,
) -> Result<Redirect, WebError> {
    service::retry_message(&s, &p, &req, &id).await?;
    Ok(Redirect::to("/outbox?status=queued"))
}

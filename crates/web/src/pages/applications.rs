//! The review queue: applications whose checks are not all conclusive, for an agent of the
//! household's antenna to decide, with each check's evidence and the 30-day deadline.

use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use axum::{Extension, Form};
use maud::html;
use sanad_applications::{DeadlinePolicy, DeadlineStatus, ReasonCode, deadline_status};
use serde::Deserialize;

use super::layout;
use crate::auth::{Lang, Principal};
use crate::error::WebError;
use crate::{AppState, RequestId, service};

pub async fn queue(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
) -> Result<Html<String>, WebError> {
    let files = service::review_queue(&s, &p).await?;
    let today = s.today();
    let content = html! {
        h1 { (l.t("review.title")) }
        p { (l.tn("review.count", files.len() as i64)) }
        @for f in &files {
            @let deadline = deadline_status(f.application.submitted_on, today, &DeadlinePolicy::default());
            @let class = match deadline { DeadlineStatus::OnTrack { .. } => "ok", DeadlineStatus::AtRisk { .. } => "at-risk", DeadlineStatus::Overdue { .. } => "overdue" };
            section.card.review {
                h2 {
                    (f.receipt) " · " a href=(format!("/households/{}#applications", f.application.household)) { (f.application.household) }
                    " " span class=(format!("badge {class}")) { (l.t(&format!("review.deadline.{class}"))) " " (l.date(f.deadline)) }
                }
                table.checks {
                    tbody {
                        @for c in f.checks.iter().filter(|c| service::wire_name(&c.outcome) != "pass") {
                            tr class=(service::wire_name(&c.outcome)) { td { code { (service::wire_name(&c.code)) } } td { (l.t(&format!("application.outcome.{}", service::wire_name(&c.outcome)))) } td { (c.message) } }
                        }
                    }
                }
                form.inline-form method="post" action=(format!("/applications/{}/decide", f.receipt)) {
                    input type="hidden" name="_csrf" value=(p.csrf());
                    button.primary type="submit" name="decision" value="approve" { (l.t("review.approve")) }
                    label for=(format!("reason-{}", f.receipt)) { (l.t("review.reason")) }
                    select id=(format!("reason-{}", f.receipt)) name="reason" { @for r in ReasonCode::ALL { option value=(r.code()) { (r.code()) } } }
                    button type="submit" name="decision" value="reject" { (l.t("review.reject")) }
                }
            }
        }
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("review.title"),
        "review",
        content,
    ))
}

#[derive(Deserialize)]
pub struct DecideForm {
    decision: String,
    reason: Option<String>,
}

pub async fn decide(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(receipt): Path<String>,
    Form(f): Form<DecideForm>,
) -> Result<Redirect, WebError> {
    let reject = match f.decision.as_str() {
        "approve" => None,
        "reject" => {
            let r = f.reason.as_deref().unwrap_or_default();
            Some(
                ReasonCode::ALL
                    .into_iter()
                    .find(|c| c.code() == r)
                    .ok_or_else(|| {
                        WebError::Invalid(format!("reason: '{r}' is not a reason code"))
                    })?,
            )
        }
        other => {
            return Err(WebError::Invalid(format!(
                "decision: '{other}' is not approve or reject"
            )));
        }
    };
    service::decide_application(&s, &p, &req, &receipt, reject).await?;
    Ok(Redirect::to("/applications"))
}

//! Server-rendered pages. Each handler renders with [`layout::page`]; errors come back as
//! problem+json from [`WebError`] and [`html_errors`] renders them for people.

pub mod admin;
pub mod applications;
pub mod audit;
pub mod home;
pub mod households;
pub mod layout;
pub mod login;
pub mod outbox;
pub mod payroll;
pub mod pilot;
// pilot (issue 7)
pub mod pilot_cases;
// pilot M&E indicators (issue 7)
pub mod pilot_indicators;
// pilot outcomes import (issue 7)
pub mod pilot_outcomes;
pub mod rules;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::AppState;
use crate::auth::{Lang, Principal};
use crate::error::WebError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::dashboard))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/settings/language", post(login::language))
        .route("/households", get(households::search))
        .route("/households/{id}", get(households::show))
        .route("/households/{id}/applications", post(households::apply))
        .route("/households/{id}/events", post(households::declare))
        .route("/households/{id}/split", post(households::split))
        .route("/applications", get(applications::queue))
        .route("/applications/{receipt}/decide", post(applications::decide))
        .route("/rules", get(rules::list))
        .route("/rules/diff", get(rules::diff))
        .route(
            "/rules/propose",
            get(rules::propose_form).post(rules::propose),
        )
        .route("/rules/{id}", get(rules::show))
        .route("/rules/{id}/approve", post(rules::approve))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route(
            "/admin/users/{username}",
            get(admin::edit_user).post(admin::update_user),
        )
        .route(
            "/admin/tokens",
            get(admin::tokens).post(admin::create_token),
        )
        .route("/admin/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/payroll", get(payroll::list))
        .route("/payroll/{month}", get(payroll::show))
        .route(
            "/payroll/{month}/reconciliation.csv",
            get(payroll::reconciliation_csv),
        )
        .route("/payroll/{month}/budget.csv", get(payroll::budget_csv))
        .route("/payroll/{month}/{step}", post(payroll::step))
        .route("/pilot", get(pilot::show))
        .route("/audit", get(audit::list))
        .route("/audit.csv", get(audit::export))
        .route("/api/docs", get(crate::api::docs_page))
        // notify branch
        .route("/outbox", get(outbox::list))
        .route("/outbox/{id}/retry", post(outbox::retry))
        // pilot (issue 7)
        .route("/pilot/measures", get(pilot_cases::measures))
        .route("/pilot/caseload", get(pilot_cases::caseload))
        .route(
            "/pilot/designs",
            get(pilot_cases::designs).post(pilot_cases::register_design),
        )
        .route(
            "/pilot/designs/{id}/assign",
            post(pilot_cases::assign_design),
        )
        .route("/pilot/caseload/reassign", post(pilot_cases::reassign))
        // pilot outcomes import (issue 7)
        .route("/pilot/outcomes", get(pilot_outcomes::page))
        .route(
            "/pilot/outcomes/survey",
            post(pilot_outcomes::import_survey),
        )
        .route("/pilot/outcomes/lists", post(pilot_outcomes::import_list))
        .route(
            "/pilot/designs/{id}/report",
            get(pilot_outcomes::design_report),
        )
        .route(
            "/pilot/designs/{id}/report.html",
            get(pilot_outcomes::design_report_html),
        )
        .route("/pilot/indicators", get(pilot_indicators::page))
        .route("/pilot/indicators.csv", get(pilot_indicators::csv))
        .route("/pilot/cases/{id}", get(pilot_cases::case))
        .route("/pilot/cases/{id}/open", post(pilot_cases::open))
        .route("/pilot/cases/{id}/goals", post(pilot_cases::add_goal))
        .route(
            "/pilot/cases/{id}/goals/{goal}",
            post(pilot_cases::set_goal_status),
        )
        .route("/pilot/cases/{id}/close", post(pilot_cases::close))
        .route("/pilot/cases/{id}/visits", post(pilot_cases::record_visit))
        .route("/pilot/cases/{id}/referrals", post(pilot_cases::refer))
        .route(
            "/pilot/cases/{id}/referrals/{referral}",
            post(pilot_cases::referral_outcome),
        )
        .route("/pilot/cases/{id}/enrol", post(pilot_cases::enrol))
        .route(
            "/pilot/cases/{id}/enrolments/{measure}/exit",
            post(pilot_cases::exit_enrolment),
        )
        .layer(middleware::from_fn(html_errors))
}

/// People get pages, not JSON: a 401 becomes a redirect to the login form (back here
/// afterwards), other problems a page in the user's language with the problem's detail.
async fn html_errors(req: Request, next: Next) -> Response {
    let lang = req
        .extensions()
        .get::<Lang>()
        .copied()
        .unwrap_or(Lang(crate::i18n::Locale::Fr));
    let principal = req.extensions().get::<Principal>().cloned();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let htmx = req.headers().contains_key("hx-request");
    let res = next.run(req).await;
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !is_problem {
        return res;
    }
    let status = res.status();
    if status == StatusCode::UNAUTHORIZED {
        let next = if path.starts_with('/') && !path.starts_with("//") {
            path
        } else {
            "/".into()
        };
        return Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response();
    }
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap_or_default();
    let problem = serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default();
    let l = lang.0;
    let detail =
        localized(l, &problem["i18n"]).or_else(|| problem["detail"].as_str().map(str::to_owned));
    let title = WebError::title(status, l);
    let content = maud::html! {
        div.problem role="alert" {
            h1 { (title) }
            @if let Some(d) = &detail { p { (d) } }
            @if !htmx { p { a href="/" { (l.t("nav.home")) } } }
        }
    };
    let mut res = if htmx {
        axum::response::Html(content.into_string()).into_response()
    } else {
        layout::page(l, principal.as_ref(), title, "", content).into_response()
    };
    *res.status_mut() = status;
    res
}

/// A problem's message in the user's language, when it names one (`WebError::Localized`).
fn localized(l: crate::i18n::Locale, i18n: &serde_json::Value) -> Option<String> {
    let key = i18n["key"].as_str()?;
    let mut text = l.t(key).to_owned();
    for (name, value) in i18n["args"].as_object().into_iter().flatten() {
        text = text.replace(&format!("{{{name}}}"), value.as_str().unwrap_or_default());
    }
    Some(text)
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

//! The JSON API under `/api/v1/`: the same operations as the pages (through
//! [`crate::service`]), for the citizen portal, the RSU feed and payment providers.
//! Authentication by API token (`Authorization: Bearer sanad_<id>_<secret>`) or session;
//! errors as `application/problem+json`; the OpenAPI document is generated from these
//! handlers' annotations (utoipa) and served at `/api/v1/openapi.json`.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use sanad_domain::{Month, Permission};
use sanad_rules::io::{EntitlementOutput, HouseholdInput};
use sanad_store::{AuditRecord, HouseholdSummary, RegionCount};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::{Lang, Principal};
use crate::error::WebError;
use crate::pages::admin::TokenForm;
use crate::pages::audit::AuditQuery;
use crate::service::{self, RuleSetEntry, UserForm};
use crate::{AppState, RequestId};

#[derive(OpenApi)]
#[openapi(
    info(title = "Sanad API", version = "1", description = "Direct social aid (ASD): registry, rules, entitlements, administration and audit. Every route but this document needs authentication: an API token (`Authorization: Bearer sanad_<id>_<secret>`) or a session cookie with its CSRF token for changes. Errors are RFC 9457 `application/problem+json`."),
    paths(delivery_report, split_household, submit_application, household_applications, declare_event, household_events, payroll, search_households, household, household_entitlement, compute, regions, list_rule_sets, get_rule_set, propose_rule_set, approve_rule_set, diff_rule_sets, list_users, create_user, update_user, create_token, audit, verify_audit, pilot_indicators),
    components(schemas(service::DeliveryReport, service::DeliveryOutcome, SplitBody, service::SplitOutcome, service::ApplicationForm, EventBody, service::EventOutcome, service::EventView, UserForm, TokenForm, ProposeBody, RuleSetEntry)),
    tags((name = "registry"), (name = "applications"), (name = "rules"), (name = "payroll"), (name = "notifications"), (name = "admin"), (name = "audit"), (name = "pilot"))
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/households", get(search_households))
        .route("/households/{id}", get(household))
        .route("/households/{id}/entitlement", get(household_entitlement))
        .route("/entitlements/compute", post(compute))
        .route("/registry/regions", get(regions))
        .route("/rule-sets", get(list_rule_sets).post(propose_rule_set))
        .route("/rule-sets/diff", get(diff_rule_sets))
        .route("/rule-sets/{id}", get(get_rule_set))
        .route("/rule-sets/{id}/approve", post(approve_rule_set))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{username}", axum::routing::put(update_user))
        .route("/tokens", post(create_token))
        .route("/payroll/{month}", get(payroll))
        .route("/applications", post(submit_application))
        .route("/households/{id}/applications", get(household_applications))
        .route(
            "/households/{id}/events",
            get(household_events).post(declare_event),
        )
        .route("/audit", get(audit))
        .route("/audit/verify", get(verify_audit))
        .route("/notify/delivery", post(delivery_report))
        .route("/households/{id}/split", post(split_household))
        .route("/pilot/indicators", get(pilot_indicators))
}

/// A page of results and the cursor for the next one (absent on the last page).
#[derive(Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct SearchParams {
    /// An RSU id, IDCS, CNIE, phone number or family name; absent to list.
    q: Option<String>,
    /// The last RSU id of the previous page.
    after: Option<String>,
    /// Page size, 1–500 (default 50).
    limit: Option<u32>,
}

/// Find households by key, or list them page by page, within the caller's scope.
#[utoipa::path(get, path = "/api/v1/households", tag = "registry", params(SearchParams), responses((status = 200, description = "Households in scope"), (status = 401), (status = 403)))]
async fn search_households(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<SearchParams>,
) -> Result<Json<Page<HouseholdSummary>>, WebError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let items = match q.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => service::search(&s, &p, q).await?,
        None => service::list(&s, &p, q.after.as_deref(), limit).await?,
    };
    let next = (q.q.is_none() && items.len() as u32 == limit)
        .then(|| items.last().map(|h| h.rsu_id.to_string()))
        .flatten();
    Ok(Json(Page { items, next }))
}

/// A household with its members and score history. National ID numbers are masked for
/// roles that do not need them; a household outside the caller's scope is 404.
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "registry", params(("id" = String, Path, description = "RSU household id")), responses((status = 200), (status = 401), (status = 404)))]
async fn household(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, WebError> {
    let h = service::household(&s, &p, &id).await?;
    let mut v = serde_json::to_value(&*h).map_err(|e| WebError::Invalid(e.to_string()))?;
    if let Some(members) = v["members"].as_array_mut() {
        for m in members {
            for key in ["idcs", "cnie"] {
                if let Some(id) = m[key].as_str() {
                    m[key] = p.id_number(id).into();
                }
            }
        }
    }
    if !p.can(Permission::NationalIds)
        && let Some(r) = v["registrant"].as_str()
    {
        v["registrant"] = p.id_number(r).into();
    }
    Ok(Json(v))
}

#[derive(Deserialize, IntoParams)]
pub struct MonthParams {
    /// `YYYY-MM`.
    month: String,
    /// A rule set id to use instead of the one in force for the month.
    rules: Option<String>,
}

fn month(m: &str) -> Result<Month, WebError> {
    m.parse()
        .map_err(|e| WebError::Invalid(format!("month: {e}")))
}

/// The entitlement of a registry household for a month, as `sanad entitlement` prints it.
#[utoipa::path(get, path = "/api/v1/households/{id}/entitlement", tag = "registry", params(("id" = String, Path), MonthParams), responses((status = 200), (status = 404)))]
async fn household_entitlement(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<MonthParams>,
) -> Result<Json<serde_json::Value>, WebError> {
    let m = month(&q.month)?;
    let h = service::household(&s, &p, &id).await?;
    let e = service::entitlement(&*s.rule_book().await?, &h, m)
        .ok_or_else(|| WebError::Invalid(format!("month: no rule set in force in {m}")))?;
    let line = |l: &sanad_rules::Line| serde_json::json!({"person_id": l.member.map(|i| p.id_number(&h.members[i as usize].idcs.to_string())), "component": l.component.code(), "rank": l.rank, "amount_centimes": l.amount.centimes(), "parameter": l.param.to_string()});
    Ok(Json(serde_json::json!({
        "household_id": h.rsu_id.to_string(), "month": m, "rule_set": e.rules.id, "eligible": e.decision.eligible,
        "reasons": e.decision.reasons.iter().map(|r| r.code()).collect::<Vec<_>>(),
        "monthly_total_centimes": e.decision.monthly_total.centimes(),
        "lines": e.decision.lines.iter().map(line).collect::<Vec<_>>(),
        "one_off": e.decision.one_off.iter().map(line).collect::<Vec<_>>(),
    })))
}

/// Compute an entitlement from supplied data: the input and output of `sanad entitlement`
/// (see docs/entitlement.md). Nothing is stored.
#[utoipa::path(post, path = "/api/v1/entitlements/compute", tag = "rules", params(MonthParams), request_body(content = Object, description = "household.json"), responses((status = 200, description = "EntitlementOutput"), (status = 422, description = "The field at fault")))]
async fn compute(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<MonthParams>,
    body: String,
) -> Result<Json<EntitlementOutput>, WebError> {
    p.require(Permission::RulesRead)?;
    let m = month(&q.month)?;
    let input = HouseholdInput::from_json(&body).map_err(|e| WebError::Invalid(e.to_string()))?;
    let book = s.rule_book().await?;
    let rules = match &q.rules {
        Some(id) => book
            .get(id)
            .ok_or_else(|| WebError::Invalid(format!("rules: no rule set '{id}'")))?,
        None => book
            .for_month(m)
            .ok_or_else(|| WebError::Invalid(format!("month: no rule set in force in {m}")))?,
    };
    Ok(Json(input.compute(rules, m)))
}

/// Households and persons by region, within the caller's scope.
#[utoipa::path(get, path = "/api/v1/registry/regions", tag = "registry", responses((status = 200)))]
async fn regions(
    State(s): State<AppState>,
    p: Principal,
) -> Result<Json<Vec<RegionCount>>, WebError> {
    p.require(Permission::Aggregates)?;
    Ok(Json(s.store.count_by_region(&p.scope).await?))
}

#[utoipa::path(get, path = "/api/v1/rule-sets", tag = "rules", responses((status = 200, body = [RuleSetEntry])))]
async fn list_rule_sets(
    State(s): State<AppState>,
    p: Principal,
) -> Result<Json<Vec<RuleSetEntry>>, WebError> {
    Ok(Json(service::rule_sets(&s, &p).await?))
}

/// A rule set with every parameter.
#[utoipa::path(get, path = "/api/v1/rule-sets/{id}", tag = "rules", params(("id" = String, Path)), responses((status = 200), (status = 404)))]
async fn get_rule_set(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, WebError> {
    let (entry, rs) = service::rule_set(&s, &p, &id).await?;
    Ok(Json(serde_json::json!({"entry": entry, "rule_set": rs})))
}

#[derive(Deserialize, ToSchema)]
pub struct ProposeBody {
    /// The rule file (TOML), as `rules/*.toml`.
    toml: String,
}

/// Propose a rule set; another user must approve it.
#[utoipa::path(post, path = "/api/v1/rule-sets", tag = "rules", request_body = ProposeBody, responses((status = 201), (status = 409), (status = 422)))]
async fn propose_rule_set(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Json(b): Json<ProposeBody>,
) -> Result<Response, WebError> {
    let rs = service::propose(&s, &p, &req, &b.toml).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(serde_json::json!({"id": rs.id, "status": "proposed"})),
    )
        .into_response())
}

/// Approve a proposed rule set (refused to its proposer).
#[utoipa::path(post, path = "/api/v1/rule-sets/{id}/approve", tag = "rules", params(("id" = String, Path)), responses((status = 200), (status = 409)))]
async fn approve_rule_set(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(id): Path<String>,
) -> Result<Json<sanad_store::StoredRuleSet>, WebError> {
    Ok(Json(service::approve(&s, &p, &req, &id).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct DiffParams {
    a: String,
    b: String,
}

/// Parameter-by-parameter differences between two rule sets.
#[utoipa::path(get, path = "/api/v1/rule-sets/diff", tag = "rules", params(DiffParams), responses((status = 200)))]
async fn diff_rule_sets(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<DiffParams>,
) -> Result<Json<serde_json::Value>, WebError> {
    let (_, a) = service::rule_set(&s, &p, &q.a).await?;
    let (_, b) = service::rule_set(&s, &p, &q.b).await?;
    let changes: Vec<_> = sanad_rules::diff::diff(&a, &b)
        .into_iter()
        .map(
            |c| serde_json::json!({"parameter": c.parameter, "before": c.before, "after": c.after}),
        )
        .collect();
    Ok(Json(
        serde_json::json!({"from": a.id, "to": b.id, "changes": changes}),
    ))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "admin", responses((status = 200), (status = 403)))]
async fn list_users(
    State(s): State<AppState>,
    p: Principal,
) -> Result<Json<Vec<serde_json::Value>>, WebError> {
    p.require(Permission::UsersManage)?;
    let users = s.store.users().await?;
    Ok(Json(
        users
            .iter()
            .map(|u| serde_json::to_value(u.view()).unwrap_or_default())
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = UserForm, responses((status = 201), (status = 409), (status = 422)))]
async fn create_user(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Json(f): Json<UserForm>,
) -> Result<Response, WebError> {
    let u = service::create_user(&s, &p, &req, &f).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(serde_json::to_value(u.view()).unwrap_or_default()),
    )
        .into_response())
}

#[utoipa::path(put, path = "/api/v1/users/{username}", tag = "admin", params(("username" = String, Path)), request_body = UserForm, responses((status = 200), (status = 404)))]
async fn update_user(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(username): Path<String>,
    Json(mut f): Json<UserForm>,
) -> Result<Json<serde_json::Value>, WebError> {
    f.username = username;
    let u = service::update_user(&s, &p, &req, &f).await?;
    Ok(Json(serde_json::to_value(u.view()).unwrap_or_default()))
}

/// Issue an API token; the response holds the secret, shown this once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = TokenForm, responses((status = 201)))]
async fn create_token(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Json(f): Json<TokenForm>,
) -> Result<Response, WebError> {
    let token = crate::pages::admin::issue_token(&s, &p, &req, &f).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(serde_json::json!({"token": token})),
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
pub struct LimitParam {
    /// Page size, 1–1000 (default 100).
    limit: Option<u32>,
}

/// Take an application for a household in the caller's scope: a receipt number, every check
/// with its evidence, and the automatic decision (approve, reject with reasons, or review).
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications", request_body = service::ApplicationForm, responses((status = 201), (status = 404), (status = 409, description = "An application for that component is already open")))]
async fn submit_application(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Json(f): Json<service::ApplicationForm>,
) -> Result<Response, WebError> {
    let file =
        service::submit_application(&s, &p, &req, &f, sanad_applications::Channel::Api).await?;
    Ok((axum::http::StatusCode::CREATED, Json(file)).into_response())
}

/// A household's applications with their checks and decisions.
#[utoipa::path(get, path = "/api/v1/households/{id}/applications", tag = "applications", params(("id" = String, Path)), responses((status = 200), (status = 404)))]
async fn household_applications(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Vec<service::ApplicationFile>>, WebError> {
    let h = service::household(&s, &p, &id).await?;
    Ok(Json(service::applications_of(&s, &h).await?))
}

/// A life event or declaration: when it takes effect and what happened, e.g.
/// `{"effective": "2026-11-05", "kind": {"event": "death", "person": "1000000017"}}`
/// (`event`: birth, death, schooling_change, disability_recognised, marriage, divorce,
/// member_leaves, member_joins, residence_change, score_update, payment_account_change,
/// phone_change — see docs/applications.md).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct EventBody {
    #[schema(value_type = String, format = Date)]
    pub effective: chrono::NaiveDate,
    #[schema(value_type = Object)]
    pub kind: sanad_applications::EventKind,
}

/// Declare a life event for a household in the caller's scope: the household is changed (and
/// checked whole), the event recorded and audited, and the household re-evaluated from the
/// event's month; the next payroll settles the difference.
#[utoipa::path(post, path = "/api/v1/households/{id}/events", tag = "applications", params(("id" = String, Path)), request_body = EventBody, responses((status = 201, body = service::EventOutcome), (status = 404), (status = 422)))]
async fn declare_event(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(id): Path<String>,
    Json(b): Json<EventBody>,
) -> Result<Response, WebError> {
    let outcome = service::declare_event(&s, &p, &req, &id, b.kind, b.effective).await?;
    Ok((axum::http::StatusCode::CREATED, Json(outcome)).into_response())
}

/// A household's recorded events, newest first.
#[utoipa::path(get, path = "/api/v1/households/{id}/events", tag = "applications", params(("id" = String, Path)), responses((status = 200, body = Vec<service::EventView>), (status = 404)))]
async fn household_events(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Vec<service::EventView>>, WebError> {
    let h = service::household(&s, &p, &id).await?;
    Ok(Json(service::events_of(&s, &h).await?))
}

// Delivery reports and household splits.

/// The SMS gateway's delivery report for a message it accepted: `delivered`, or `failed`
/// (retried under the outbox's policy, or dead once it gives up). Needs an API token with
/// the `notify:delivery` scope. The same report twice changes nothing (`changed: false`).
#[utoipa::path(post, path = "/api/v1/notify/delivery", tag = "notifications", request_body = service::DeliveryReport, responses((status = 200, body = service::DeliveryOutcome), (status = 403), (status = 404, description = "No sent message has this delivery id"), (status = 422)))]
async fn delivery_report(
    State(s): State<AppState>,
    p: Principal,
    Json(r): Json<service::DeliveryReport>,
) -> Result<Json<service::DeliveryOutcome>, WebError> {
    Ok(Json(service::delivery_report(&s, &p, &r).await?))
}

/// A household split: the members leaving (IDCS and their relation to the new household's
/// head, exactly one `head`), the new household's RSU id, and the remaining head if the head
/// leaves, e.g. `{"effective": "2026-11-01", "new_rsu_id": "500000000777", "members":
/// [{"idcs": "1000000017", "relation": "head"}], "remaining_head": null}`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct SplitBody {
    #[schema(value_type = String, format = Date)]
    pub effective: chrono::NaiveDate,
    pub new_rsu_id: String,
    pub members: Vec<service::SplitMember>,
    #[serde(default)]
    pub remaining_head: Option<String>,
}

/// Split a household in the caller's scope: both households and an event on each are
/// written together; the household left behind is re-evaluated like after any event.
#[utoipa::path(post, path = "/api/v1/households/{id}/split", tag = "applications", params(("id" = String, Path)), request_body = SplitBody, responses((status = 201, body = service::SplitOutcome), (status = 404), (status = 409, description = "The new RSU id exists already"), (status = 422)))]
async fn split_household(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(id): Path<String>,
    Json(b): Json<SplitBody>,
) -> Result<Response, WebError> {
    let form = service::SplitForm {
        new_rsu_id: b.new_rsu_id,
        members: b.members,
        remaining_head: b.remaining_head,
    };
    let outcome = service::split_household(&s, &p, &req, &id, &form, b.effective).await?;
    Ok((axum::http::StatusCode::CREATED, Json(outcome)).into_response())
}

/// A payroll cycle: its state, totals by line status and region, the reconciliation with
/// each provider and the payment files (aggregates only; amounts in centimes).
#[utoipa::path(get, path = "/api/v1/payroll/{month}", tag = "payroll", params(("month" = String, Path, description = "YYYY-MM")), responses((status = 200), (status = 403)))]
async fn payroll(
    State(s): State<AppState>,
    p: Principal,
    Path(m): Path<String>,
) -> Result<Json<service::PayrollSummary>, WebError> {
    Ok(Json(service::payroll_summary(&s, &p, month(&m)?).await?))
}

/// Audit records, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery, LimitParam), responses((status = 200), (status = 403)))]
async fn audit(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<AuditQuery>,
    Query(l): Query<LimitParam>,
) -> Result<Json<Page<AuditRecord>>, WebError> {
    let limit = l.limit.unwrap_or(100).clamp(1, 1000);
    let items = service::audit_records(&s, &p, &q.filter(), q.before, limit).await?;
    let next = (items.len() as u32 == limit)
        .then(|| items.last().map(|r| r.seq.to_string()))
        .flatten();
    Ok(Json(Page { items, next }))
}

/// Check the whole hash chain.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200)))]
async fn verify_audit(
    State(s): State<AppState>,
    p: Principal,
) -> Result<Json<sanad_store::audit::Verification>, WebError> {
    p.require(Permission::AuditRead)?;
    Ok(Json(sanad_store::audit::verify(&*s.store, None).await?))
}

/// The API documentation, rendered on the server from the OpenAPI document (works offline).
pub async fn docs_page(Lang(l): Lang, p: Option<Principal>) -> Html<String> {
    let doc = ApiDoc::openapi();
    let json = doc.to_pretty_json().unwrap_or_default();
    let content = maud::html! {
        h1 { (l.t("api.title")) }
        p { (doc.info.description.clone().unwrap_or_default()) }
        p { a href="/api/v1/openapi.json" { "openapi.json" } }
        table {
            thead { tr { th { (l.t("api.method")) } th { (l.t("api.path")) } th { (l.t("api.summary")) } } }
            tbody {
                @for (path, item) in &doc.paths.paths {
                    @for (method, op) in operations(item) {
                        tr { td { code { (method) } } td { code { (path) } } td { (op.summary.clone().or(op.description.clone()).unwrap_or_default()) } }
                    }
                }
            }
        }
        details { summary { "OpenAPI" } pre { (json) } }
    };
    crate::pages::layout::page(l, p.as_ref(), l.t("api.title"), "api", content)
}

fn operations(
    item: &utoipa::openapi::PathItem,
) -> Vec<(&'static str, &utoipa::openapi::path::Operation)> {
    [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("DELETE", &item.delete),
    ]
    .into_iter()
    .filter_map(|(m, o)| o.as_ref().map(|o| (m, o)))
    .collect()
}

impl IntoResponse for ApiDoc {
    fn into_response(self) -> Response {
        (
            [(header::CONTENT_TYPE, "application/json")],
            ApiDoc::openapi().to_json().unwrap_or_default(),
        )
            .into_response()
    }
}

/// The pilot's M&E indicators over the caller's scope (aggregates, each an exact ratio
/// `{num, den}`): enrolment against capacity by measure and antenna, visits of the month per
/// case open in it, goals achieved, referrals completed, follow-up alerts open (empty lists
/// before a catalogue is stored).
#[utoipa::path(get, path = "/api/v1/pilot/indicators", tag = "pilot", params(("month" = Option<String>, Query, description = "YYYY-MM, default the current month")), responses((status = 200), (status = 403)))]
async fn pilot_indicators(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<crate::pages::pilot_indicators::IndicatorsQuery>,
) -> Result<Json<sanad_pilot::Indicators>, WebError> {
    let month = crate::pages::pilot_indicators::month(&q)?;
    Ok(Json(
        service::pilot_admin::indicators(&s, &p, month)
            .await?
            .unwrap_or_else(service::pilot_admin::no_indicators),
    ))
}

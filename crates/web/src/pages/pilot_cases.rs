//! The accompanying-measures pilot in the field (issue 7): the catalogue with its places, the
//! social worker's caseload with follow-up alerts, a household's case (plan goals by domain,
//! visits, referrals, enrolment) and the pre-registered evaluation designs. Tablet first:
//! cards and stacked forms with large targets, no table wider than the screen needs.

use axum::extract::{Path, Query, State};
use axum::response::{Html, Redirect};
use axum::{Extension, Form};
use maud::{Markup, html};
use sanad_domain::Permission;
use sanad_pilot::{
    Alert, Attendance, Case, Domain, ExitReason, GoalStatus, ReferralStatus, Refusal, Service,
    Severity,
};
use serde::Deserialize;

use super::layout;
use crate::auth::{Lang, Principal};
use crate::error::WebError;
use crate::i18n::Locale;
use crate::service::pilot as svc;
use crate::service::wire_name;
use crate::{AppState, RequestId};

fn lang(l: Locale) -> sanad_pilot::Lang {
    match l {
        Locale::Fr => sanad_pilot::Lang::Fr,
        Locale::Ar => sanad_pilot::Lang::Ar,
        Locale::En => sanad_pilot::Lang::En,
    }
}

/// The pilot's sub-navigation, by permission.
pub(crate) fn tabs(l: Locale, p: &Principal, active: &str) -> Markup {
    let items = [
        ("measures", "/pilot/measures", p.can(Permission::Aggregates)),
        (
            "caseload",
            "/pilot/caseload",
            p.can(Permission::CasesManage),
        ),
        ("designs", "/pilot/designs", p.can(Permission::Aggregates)),
        // pilot outcomes import (issue 7)
        (
            "outcomes",
            "/pilot/outcomes",
            p.can(Permission::DesignsManage),
        ),
        (
            "indicators",
            "/pilot/indicators",
            p.can(Permission::Aggregates),
        ),
        ("report", "/pilot", p.can(Permission::Aggregates)),
    ];
    html! {
        nav.tabs aria-label=(l.t("pilot.tabs")) {
            @for (key, href, shown) in items {
                @if shown {
                    @let k = format!("pilot.tab.{key}");
                    @let label = l.t(&k);
                    @if key == active { a href=(href) aria-current="page" { (label) } } @else { a href=(href) { (label) } }
                }
            }
        }
    }
}

pub async fn measures(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
) -> Result<Html<String>, WebError> {
    let overview = svc::measures_overview(&s, &p).await?;
    let content = html! {
        (tabs(l, &p, "measures"))
        h1 { (l.t("pilot.measures.title")) }
        @match &overview {
            None => p.empty { (l.t("pilot.none")) },
            Some(o) => {
                p.hint { (l.t("pilot.measures.version")) " " code { (o.pilot.catalogue.version()) } }
                @for m in o.pilot.catalogue.measures() {
                    section.card.measure id=(format!("measure-{}", m.id)) {
                        h2 { (m.name.get(lang(l))) " " span.badge { (m.domain.name().get(lang(l))) } }
                        p { (m.description.get(lang(l))) }
                        dl.facts {
                            dt { (l.t("pilot.measures.capacity")) } dd { (l.int(i64::from(m.capacity_per_antenna))) }
                            dt { (l.t("pilot.measures.cost")) } dd { (l.money(m.cost_per_household)) }
                        }
                        table.places {
                            thead { tr { th { (l.t("pilot.antenna")) } th.num { (l.t("pilot.wave")) } th.num { (l.t("pilot.measures.used")) } th.num { (l.t("pilot.measures.left")) } } }
                            tbody {
                                @for a in &o.antennas {
                                    @let (used, left) = a.places.iter().find(|x| x.0 == m.id).map_or((0, 0), |x| (x.1, x.2));
                                    tr class=[(!a.started).then_some("later")] {
                                        td { (a.antenna.province) " " span.hint { (l.month(a.antenna.start)) } }
                                        td.num { (a.antenna.wave) }
                                        td.num { (l.int(used)) }
                                        td.num { (l.int(left)) }
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
        l.t("pilot.measures.title"),
        "pilot",
        content,
    ))
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "at-risk",
        Severity::Critical => "overdue",
    }
}

fn alert_list(l: Locale, alerts: &[Alert]) -> Markup {
    html! {
        ul.alerts {
            @for a in alerts {
                li class=(severity(a.severity)) {
                    span class=(format!("badge {}", severity(a.severity))) { (l.t(&format!("pilot.alert.{}", a.code.as_str()))) }
                    " "
                    @if let Some(h) = &a.household { a href=(format!("/pilot/cases/{h}")) { (h) } " · " }
                    (a.message.get(lang(l)))
                }
            }
        }
    }
}

pub async fn caseload(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
) -> Result<Html<String>, WebError> {
    let load = svc::caseload(&s, &p).await?;
    let today = svc::today();
    let content = html! {
        (tabs(l, &p, "caseload"))
        h1 { (l.t("pilot.caseload.title")) }
        p { (l.tn("pilot.caseload.count", load.cases.len() as i64)) }
        @if !load.team.is_empty() {
            section.card id="team" {
                h2 { (l.t("pilot.caseload.team")) }
                table {
                    thead { tr { th { (l.t("pilot.case.worker_title")) } th.num { (l.t("pilot.caseload.open")) } } }
                    tbody { @for (w, n) in &load.team { tr class=[(*n > load.policy.max_caseload).then_some("over")] { td { (w) } td.num { (l.int(*n as i64)) } } } }
                }
                @if p.can(Permission::CasesReassign) { (reassign_form(l, &p, &load)) }
            }
        }
        section.card id="alerts" {
            h2 { (l.tn("pilot.alerts.count", load.alerts.len() as i64)) }
            (alert_list(l, &load.alerts))
        }
        @for c in &load.cases {
            @let next = svc::next_contact(c, &load.policy);
            @let class = if next < today { "overdue" } else if (next - today).num_days() <= 7 { "at-risk" } else { "ok" };
            a.case-card href=(format!("/pilot/cases/{}", c.household)) {
                strong { (c.household) }
                span { (l.t("pilot.case.opened")) " " (l.date(c.opened_on)) }
                @if !load.team.is_empty() { span { (l.t("pilot.case.worker")) " " (c.worker) } }
                span { (l.tn("pilot.case.visits", c.visits.len() as i64)) }
                span class=(format!("badge {class}")) { (l.t("pilot.case.next_contact")) " " (l.date(next)) }
            }
        }
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("pilot.caseload.title"),
        "caseload",
        content,
    ))
}

/// The supervisor's form: one case (or every case of a worker) to another social worker.
fn reassign_form(l: Locale, p: &Principal, load: &svc::Caseload) -> Markup {
    html! {
        form.stack method="post" action="/pilot/caseload/reassign" {
            (csrf(p))
            h3 { (l.t("pilot.reassign.title")) }
            label for="reassign-household" { (l.t("pilot.reassign.case")) }
            select id="reassign-household" name="household" {
                option value="" { (l.t("pilot.reassign.all_of")) }
                @for c in &load.cases { option value=(c.household) { (c.household) " — " (c.worker) } }
            }
            label for="reassign-from" { (l.t("pilot.reassign.from")) }
            select id="reassign-from" name="from" {
                @for (w, _) in &load.team { option value=(w) { (w) } }
            }
            label for="reassign-to" { (l.t("pilot.reassign.to")) }
            input id="reassign-to" name="to" required list="reassign-workers" autocomplete="off";
            datalist id="reassign-workers" { @for (w, _) in &load.team { option value=(w) {} } }
            button type="submit" { (l.t("pilot.reassign.button")) }
        }
    }
}

fn csrf(p: &Principal) -> Markup {
    html! { input type="hidden" name="_csrf" value=(p.csrf()); }
}

fn goals(l: Locale, p: &Principal, c: &Case) -> Markup {
    let h = &c.household;
    html! {
        @for d in Domain::ALL {
            @let gs = c.goals.iter().filter(|g| g.domain == d).collect::<Vec<_>>();
            @if !gs.is_empty() {
                h3 { (d.name().get(lang(l))) }
                ul.goals {
                    @for g in gs {
                        li {
                            (g.text) " — " (l.t(&format!("pilot.goal.{}", wire_name(&g.status)))) " · " (l.t("pilot.goal.target")) " " (l.date(g.target_date))
                            @if g.status == GoalStatus::Open {
                                form.inline-form method="post" action=(format!("/pilot/cases/{h}/goals/{}", g.id)) {
                                    (csrf(p))
                                    button type="submit" name="status" value="achieved" { (l.t("pilot.goal.mark_achieved")) }
                                    button type="submit" name="status" value="dropped" { (l.t("pilot.goal.mark_dropped")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if c.goals.is_empty() { p.empty { (l.t("pilot.goal.none")) } }
    }
}

fn visits(l: Locale, p: &Principal, c: &Case, today: &str) -> Markup {
    let h = &c.household;
    html! {
        @if c.visits.is_empty() { p.empty { (l.t("pilot.visit.none")) } }
        @for v in c.visits.iter().rev() {
            article.visit {
                h3 { (l.date(v.date)) " · " (l.t(&format!("pilot.attendance.{}", wire_name(&v.attendance)))) }
                @if !v.notes.is_empty() { p { (v.notes) } }
                @if !v.next_steps.is_empty() { p { strong { (l.t("pilot.visit.next_steps")) } " " (v.next_steps) } }
                @if let Some(n) = v.next_visit { p.hint { (l.t("pilot.visit.next_visit")) " " (l.date(n)) } }
            }
        }
        form.stack method="post" action=(format!("/pilot/cases/{h}/visits")) {
            (csrf(p))
            h3 { (l.t("pilot.visit.record")) }
            label for="visit-date" { (l.t("pilot.visit.date")) }
            input id="visit-date" name="date" type="date" required value=(today) max=(today);
            label for="attendance" { (l.t("pilot.visit.attendance")) }
            select id="attendance" name="attendance" {
                @for a in [Attendance::Present, Attendance::Absent, Attendance::Refused, Attendance::Moved] {
                    option value=(wire_name(&a)) { (l.t(&format!("pilot.attendance.{}", wire_name(&a)))) }
                }
            }
            label for="notes" { (l.t("pilot.visit.notes")) }
            textarea.prose dir="auto" id="notes" name="notes" rows="4" {}
            label for="next_steps" { (l.t("pilot.visit.next_steps")) }
            textarea.prose dir="auto" id="next_steps" name="next_steps" rows="2" {}
            label for="next_visit" { (l.t("pilot.visit.next_visit")) }
            input id="next_visit" name="next_visit" type="date";
            button.primary type="submit" { (l.t("pilot.visit.save")) }
        }
    }
}

fn referrals(l: Locale, p: &Principal, c: &Case, today: &str) -> Markup {
    let h = &c.household;
    html! {
        @if c.referrals.is_empty() { p.empty { (l.t("pilot.referral.none")) } }
        @for r in &c.referrals {
            article.referral {
                h3 { (l.t(&format!("pilot.service.{}", wire_name(&r.service)))) @if !r.detail.is_empty() { " — " (r.detail) } }
                p {
                    (l.t("pilot.referral.sent")) " " (l.date(r.sent_on)) " · "
                    span.badge { (l.t(&format!("pilot.referral.status.{}", wire_name(&r.status)))) }
                    @if let Some(on) = r.status_on { " " (l.date(on)) }
                }
                @if !r.outcome.is_empty() { p { strong { (l.t("pilot.referral.outcome")) } " " (r.outcome) } }
                @if matches!(r.status, ReferralStatus::Sent | ReferralStatus::Accepted) {
                    form.stack method="post" action=(format!("/pilot/cases/{h}/referrals/{}", r.id)) {
                        (csrf(p))
                        label for=(format!("status-{}", r.id)) { (l.t("pilot.referral.answer")) }
                        select id=(format!("status-{}", r.id)) name="status" {
                            @for st in [ReferralStatus::Accepted, ReferralStatus::Completed, ReferralStatus::Refused] {
                                option value=(wire_name(&st)) { (l.t(&format!("pilot.referral.status.{}", wire_name(&st)))) }
                            }
                        }
                        label for=(format!("on-{}", r.id)) { (l.t("pilot.referral.on")) }
                        input id=(format!("on-{}", r.id)) name="on" type="date" required value=(today) max=(today);
                        label for=(format!("outcome-{}", r.id)) { (l.t("pilot.referral.outcome")) }
                        input id=(format!("outcome-{}", r.id)) name="outcome";
                        button type="submit" { (l.t("pilot.referral.update")) }
                    }
                }
            }
        }
        form.stack method="post" action=(format!("/pilot/cases/{h}/referrals")) {
            (csrf(p))
            h3 { (l.t("pilot.referral.new")) }
            label for="service" { (l.t("pilot.referral.service")) }
            select id="service" name="service" {
                @for sv in [Service::School, Service::HealthCentre, Service::Anapec, Service::Other] {
                    option value=(wire_name(&sv)) { (l.t(&format!("pilot.service.{}", wire_name(&sv)))) }
                }
            }
            label for="detail" { (l.t("pilot.referral.detail")) }
            input id="detail" name="detail";
            label for="sent_on" { (l.t("pilot.referral.sent")) }
            input id="sent_on" name="sent_on" type="date" required value=(today) max=(today);
            button.primary type="submit" { (l.t("pilot.referral.send")) }
        }
    }
}

/// Why a measure is not offered, in the user's language.
fn refusal_text(l: Locale, r: &Refusal) -> String {
    match r {
        Refusal::UnknownMeasure(_) => l.t("pilot.refusal.unknown_measure").to_owned(),
        Refusal::NotInPlan { .. } => l.t("pilot.refusal.not_in_plan").to_owned(),
        Refusal::WaveNotStarted { start, .. } => format!(
            "{} {}",
            l.t("pilot.refusal.wave_not_started"),
            l.month(*start)
        ),
        Refusal::HouseholdNotActive => l.t("pilot.refusal.household_not_active").to_owned(),
        Refusal::AlreadyEnrolled { since } => format!(
            "{} {}",
            l.t("pilot.refusal.already_enrolled"),
            l.date(*since)
        ),
        Refusal::NotInTargetGroup(_) => l.t("pilot.refusal.not_in_target_group").to_owned(),
        Refusal::CapacityFull { capacity, .. } => format!(
            "{} ({})",
            l.t("pilot.refusal.capacity_full"),
            l.int(i64::from(*capacity))
        ),
    }
}

fn enrolment(l: Locale, p: &Principal, f: &svc::CaseFile) -> Markup {
    let h = &f.household.rsu_id;
    html! {
        @for e in &f.enrolments {
            div.enrolled {
                p {
                    code { (e.measure) } " · " (l.t("pilot.enrolment.since")) " " (l.date(e.enrolled_on))
                    @if let Some(x) = &e.exit { " · " (l.t("pilot.enrolment.exited")) " " (l.date(x.on)) " (" (l.t(&format!("pilot.exit.{}", wire_name(&x.reason)))) ")" }
                }
                @if e.is_active() {
                    form.inline-form method="post" action=(format!("/pilot/cases/{h}/enrolments/{}/exit", e.measure)) {
                        (csrf(p))
                        label for=(format!("exit-{}", e.measure)) { (l.t("pilot.enrolment.reason")) }
                        select id=(format!("exit-{}", e.measure)) name="reason" {
                            @for r in [ExitReason::Completed, ExitReason::NoLongerEligible, ExitReason::Withdrew, ExitReason::Moved, ExitReason::Deceased, ExitReason::Other] {
                                option value=(wire_name(&r)) { (l.t(&format!("pilot.exit.{}", wire_name(&r)))) }
                            }
                        }
                        input name="note" placeholder=(l.t("pilot.enrolment.note")) aria-label=(l.t("pilot.enrolment.note"));
                        button type="submit" { (l.t("pilot.enrolment.end")) }
                    }
                }
            }
        }
        @match &f.offers {
            None => p.empty { (l.t("pilot.none")) },
            Some(offers) => {
                ul.offers {
                    @for (m, verdict) in offers {
                        li {
                            strong { (m.name.get(lang(l))) }
                            @match verdict {
                                Ok(()) => {
                                    form.inline-form method="post" action=(format!("/pilot/cases/{h}/enrol")) {
                                        (csrf(p))
                                        input type="hidden" name="measure" value=(m.id);
                                        button.primary type="submit" { (l.t("pilot.enrolment.enrol")) }
                                    }
                                }
                                Err(refusal) => { " " span.hint { (refusal_text(l, refusal)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub async fn case(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let f = svc::case_file(&s, &p, &id).await?;
    let today = svc::today().to_string();
    let h = &f.household.rsu_id;
    let content = html! {
        (tabs(l, &p, "caseload"))
        h1 { (l.t("pilot.case.title")) " " a href=(format!("/households/{h}")) { (h) } }
        @match &f.case {
            None => {
                section.card {
                    p.empty { (l.t("pilot.case.none")) }
                    form method="post" action=(format!("/pilot/cases/{h}/open")) {
                        (csrf(&p))
                        button.primary type="submit" { (l.t("pilot.case.open")) }
                    }
                }
            }
            Some(c) => {
                p { (l.t("pilot.case.opened")) " " (l.date(c.opened_on)) " · " (l.t("pilot.case.worker")) " " (c.worker) }
                @if !f.alerts.is_empty() { section.card { (alert_list(l, &f.alerts)) } }
                section.card id="plan" {
                    h2 { (l.t("pilot.plan.title")) }
                    (goals(l, &p, c))
                    form.stack method="post" action=(format!("/pilot/cases/{h}/goals")) {
                        (csrf(&p))
                        h3 { (l.t("pilot.goal.add")) }
                        label for="domain" { (l.t("pilot.goal.domain")) }
                        select id="domain" name="domain" { @for d in Domain::ALL { option value=(d.as_str()) { (d.name().get(lang(l))) } } }
                        label for="goal-text" { (l.t("pilot.goal.text")) }
                        input id="goal-text" name="text" required;
                        label for="target_date" { (l.t("pilot.goal.target_date")) }
                        input id="target_date" name="target_date" type="date" required min=(today);
                        button.primary type="submit" { (l.t("pilot.goal.save")) }
                    }
                }
                section.card id="visits" { h2 { (l.t("pilot.visit.title")) } (visits(l, &p, c, &today)) }
                section.card id="referrals" { h2 { (l.t("pilot.referral.title")) } (referrals(l, &p, c, &today)) }
                section.card id="close" {
                    form.stack method="post" action=(format!("/pilot/cases/{h}/close")) {
                        (csrf(&p))
                        h2 { (l.t("pilot.case.close")) }
                        label for="close-reason" { (l.t("pilot.case.close_reason")) }
                        input id="close-reason" name="reason" required;
                        button type="submit" { (l.t("pilot.case.close")) }
                    }
                }
            }
        }
        section.card id="enrolment" { h2 { (l.t("pilot.enrolment.title")) } (enrolment(l, &p, &f)) }
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("pilot.case.title"),
        "caseload",
        content,
    ))
}

fn back(id: &str, anchor: &str) -> Redirect {
    Redirect::to(&format!("/pilot/cases/{}#{anchor}", super::urlencode(id)))
}

pub async fn open(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(id): Path<String>,
) -> Result<Redirect, WebError> {
    svc::open_case(&s, &p, &req, &id).await?;
    Ok(back(&id, "plan"))
}

pub async fn add_goal(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(id): Path<String>,
    Form(f): Form<svc::GoalForm>,
) -> Result<Redirect, WebError> {
    svc::add_goal(&s, &p, &req, &id, &f).await?;
    Ok(back(&id, "plan"))
}

pub async fn set_goal_status(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path((id, goal)): Path<(String, u32)>,
    Form(f): Form<svc::GoalStatusForm>,
) -> Result<Redirect, WebError> {
    svc::set_goal_status(&s, &p, &req, &id, goal, &f).await?;
    Ok(back(&id, "plan"))
}

pub async fn close(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(id): Path<String>,
    Form(f): Form<svc::CloseForm>,
) -> Result<Redirect, WebError> {
    svc::close_case(&s, &p, &req, &id, &f).await?;
    Ok(Redirect::to(&format!(
        "/pilot/cases/{}",
        super::urlencode(&id)
    )))
}

pub async fn record_visit(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(id): Path<String>,
    Form(f): Form<svc::VisitForm>,
) -> Result<Redirect, WebError> {
    svc::record_visit(&s, &p, &req, &id, &f).await?;
    Ok(back(&id, "visits"))
}

pub async fn refer(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(id): Path<String>,
    Form(f): Form<svc::ReferralForm>,
) -> Result<Redirect, WebError> {
    svc::refer(&s, &p, &req, &id, &f).await?;
    Ok(back(&id, "referrals"))
}

pub async fn referral_outcome(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path((id, referral)): Path<(String, u32)>,
    Form(f): Form<svc::OutcomeForm>,
) -> Result<Redirect, WebError> {
    svc::referral_outcome(&s, &p, &req, &id, referral, &f).await?;
    Ok(back(&id, "referrals"))
}

pub async fn exit_enrolment(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path((id, measure)): Path<(String, String)>,
    Form(f): Form<svc::ExitForm>,
) -> Result<Redirect, WebError> {
    svc::exit_enrolment(&s, &p, &req, &id, &measure, &f).await?;
    Ok(back(&id, "enrolment"))
}

#[derive(Deserialize)]
pub struct EnrolForm {
    measure: String,
}

pub async fn enrol(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(id): Path<String>,
    Form(f): Form<EnrolForm>,
) -> Result<Redirect, WebError> {
    svc::enrol(&s, &p, &req, &id, &f.measure).await?;
    Ok(back(&id, "enrolment"))
}

#[derive(Deserialize, Default)]
pub struct DesignsQuery {
    /// The design just registered: its hash is shown at the top.
    #[serde(default)]
    registered: Option<String>,
}

pub async fn designs(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Query(q): Query<DesignsQuery>,
) -> Result<Html<String>, WebError> {
    let designs = svc::designs(&s, &p).await?;
    let manage = p.can(Permission::DesignsManage);
    let content = html! {
        (tabs(l, &p, "designs"))
        h1 { (l.t("pilot.designs.title")) }
        p.hint { (l.t("pilot.designs.hint")) }
        @if let Some(d) = q.registered.as_ref().and_then(|id| designs.iter().find(|d| &d.row.id == id)) {
            div.notice role="status" id="registered" { p { (l.t("pilot.designs.registered_now")) " " strong { (d.row.id) } } code.token { (d.row.hash) } }
        }
        @if manage {
            section.card id="register-design" {
                h2 { (l.t("pilot.designs.register")) }
                p.hint { (l.t("pilot.designs.register_hint")) }
                form.stack method="post" action="/pilot/designs" {
                    (csrf(&p))
                    label for="design-file" { (l.t("pilot.designs.file")) }
                    input id="design-file" type="file" accept=".json,.toml,application/json,text/plain" data-fill="design-body";
                    label for="design-body" { (l.t("pilot.designs.body")) }
                    textarea id="design-body" name="body" rows="14" spellcheck="false" required {}
                    button type="submit" { (l.t("pilot.designs.register_button")) }
                }
            }
        }
        @if designs.is_empty() { p.empty { (l.t("pilot.designs.none")) } }
        @for d in &designs {
            section.card.design id=(format!("design-{}", d.row.id)) {
                h2 { (d.row.id) " "
                    @if d.verified { span.badge.ok { (l.t("pilot.designs.verified")) } } @else { span.badge.overdue { (l.t("pilot.designs.mismatch")) } }
                }
                dl.facts {
                    dt { (l.t("pilot.designs.hash")) } dd { code.token { (d.row.hash) } }
                    dt { (l.t("pilot.designs.registered")) } dd { (d.row.registered_at) " · " (d.row.registered_by) }
                    @if let Some(x) = &d.design {
                        dt { (l.t("pilot.designs.algorithm")) } dd { code { (x.algorithm) } " · " (l.t("pilot.designs.seed")) " " code { (x.seed) } }
                        dt { (l.t("pilot.designs.unit")) } dd { (x.unit) @if let Some(c) = &x.cluster { " · " (l.t("pilot.designs.cluster")) " " (c) } }
                        dt { (l.t("pilot.designs.strata")) } dd { (x.strata.join(", ")) }
                        dt { (l.t("pilot.designs.arms")) } dd { @for a in &x.arms { (a.name) " (" (a.share) ") " } }
                        @if let Some(w) = x.waves { dt { (l.t("pilot.designs.waves")) } dd { (w) } }
                    }
                }
                @if !d.counts.is_empty() {
                    h3 { (l.t("pilot.designs.assignment")) }
                    (layout::bars(l, &d.counts))
                    @if manage {
                        p { a href=(format!("/pilot/designs/{}/report", super::urlencode(&d.row.id))) { (l.t("pilot.designs.report")) } }
                    }
                } @else if manage && d.verified {
                    form method="post" action=(format!("/pilot/designs/{}/assign", super::urlencode(&d.row.id))) {
                        (csrf(&p))
                        p.hint { (l.t("pilot.designs.assign_hint")) }
                        button type="submit" { (l.t("pilot.designs.assign_button")) }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("pilot.designs.title"),
        "pilot",
        content,
    ))
}

#[derive(Deserialize)]
pub struct DesignForm {
    body: String,
}

/// Register a pasted design (JSON or TOML); back to the list with its hash shown.
pub async fn register_design(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Form(f): Form<DesignForm>,
) -> Result<Redirect, WebError> {
    let row = crate::service::pilot_admin::register_design(
        &s,
        &p,
        &crate::service::actor(&p, &req),
        "design",
        &f.body,
    )
    .await?;
    let id = super::urlencode(&row.id);
    Ok(Redirect::to(&format!(
        "/pilot/designs?registered={id}#registered"
    )))
}

/// Draw and store a registered design's assignment; the list then shows its counts by arm.
pub async fn assign_design(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Path(id): Path<String>,
) -> Result<Redirect, WebError> {
    crate::service::pilot_admin::assign_design(&s, &p, &crate::service::actor(&p, &req), &id)
        .await?;
    Ok(Redirect::to(&format!(
        "/pilot/designs#design-{}",
        super::urlencode(&id)
    )))
}

#[derive(Deserialize)]
pub struct ReassignForm {
    /// One household's case, or empty to move every open case of `from`.
    #[serde(default)]
    household: String,
    #[serde(default)]
    from: String,
    to: String,
}

/// A supervisor moves a case, or a worker's whole caseload, to another social worker.
pub async fn reassign(
    State(s): State<AppState>,
    p: Principal,
    Extension(req): Extension<RequestId>,
    Form(f): Form<ReassignForm>,
) -> Result<Redirect, WebError> {
    let household = Some(f.household.trim()).filter(|h| !h.is_empty());
    crate::service::pilot_admin::reassign(
        &s,
        &p,
        &req,
        household,
        Some(f.from.trim()),
        f.to.trim(),
    )
    .await?;
    Ok(Redirect::to("/pilot/caseload#team"))
}

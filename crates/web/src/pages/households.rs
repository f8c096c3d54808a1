//! Household search and the household page: members, score history, eligibility with its
//! explanation, and entitlement by month.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Html;
use maud::{Markup, html};
use sanad_domain::{Geography, Household, Month, Permission};
use sanad_rules::explain;
use sanad_store::HouseholdSummary;
use serde::Deserialize;

use super::layout;
use crate::auth::{Lang, Principal};
use crate::error::WebError;
use crate::i18n::Locale;
use crate::{AppState, service};

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn search(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Result<Html<String>, WebError> {
    p.require(Permission::HouseholdRead)?;
    let q = q.q.trim().to_owned();
    let results = if q.is_empty() {
        None
    } else {
        Some(service::search(&s, &p, &q).await)
    };
    let results = match results {
        None => html! {},
        Some(Ok(rows)) => results_table(l, &rows),
        Some(Err(WebError::Invalid(_))) => {
            html! { p.error role="alert" { (l.t("search.unrecognised")) } }
        }
        Some(Err(e)) => return Err(e),
    };
    // htmx asks for the results only.
    if headers.contains_key("hx-request") {
        return Ok(Html(results.into_string()));
    }
    let content = html! {
        h1 { (l.t("search.title")) }
        form.search method="get" action="/households" hx-get="/households" hx-target="#results" hx-push-url="true" hx-trigger="submit" {
            label for="q" { (l.t("search.label")) }
            div.row {
                input id="q" name="q" value=(q) type="search" autocomplete="off" required placeholder=(l.t("search.placeholder"));
                button.primary type="submit" { (l.t("search.submit")) }
            }
            p.hint { (l.t("search.hint")) }
        }
        div id="results" aria-live="polite" { (results) }
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("search.title"),
        "households",
        content,
    ))
}

fn results_table(l: Locale, rows: &[HouseholdSummary]) -> Markup {
    html! {
        @if rows.is_empty() {
            p.empty { (l.t("search.none")) }
        } @else {
            p { (l.tn("households.count", rows.len() as i64)) }
            table.results {
                thead { tr { th { (l.t("household.rsu_id")) } th { (l.t("household.head")) } th { (l.t("household.commune")) } th.num { (l.t("household.members")) } th.num { (l.t("household.score")) } } }
                tbody {
                    @for r in rows {
                        tr {
                            td { a href=(format!("/households/{}", r.rsu_id)) { (r.rsu_id) } }
                            td { (r.head_name) }
                            td { (commune_name(l, &r.commune)) }
                            td.num { (r.members) }
                            td.num { (r.score.map(|s| s.to_string()).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    }
}

fn commune_name(l: Locale, code: &str) -> String {
    Geography::get().commune(code).map_or_else(
        || code.to_owned(),
        |c| {
            if l == Locale::Ar {
                c.name_ar.clone()
            } else {
                c.name_fr.clone()
            }
        },
    )
}

#[derive(Deserialize)]
pub struct MonthQuery {
    month: Option<String>,
}

pub async fn show(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<MonthQuery>,
) -> Result<Html<String>, WebError> {
    let h = service::household(&s, &p, &id).await?;
    let month = match q.month.as_deref() {
        Some(m) => m
            .parse::<Month>()
            .map_err(|e| WebError::Invalid(format!("month: {e}")))?,
        None => Month::of(s.today()),
    };
    let paid = service::household_payments(&s, &h).await?;
    let applications = service::applications_of(&s, &h).await?;
    let messages = service::household_messages(&s, &p, &h).await?;
    let events = service::events_of(&s, &h).await?;
    let ended = service::ended_awards(&s, &h).await?;
    let book = s.rule_book().await?;
    let current = service::entitlement(&book, &h, month);
    let history: Vec<_> = (0..6)
        .rev()
        .map(|i| month.plus(-i))
        .filter_map(|m| service::entitlement(&book, &h, m).map(|e| (m, e)))
        .collect();
    let content = html! {
        h1 { (l.t("household.title")) " " (h.rsu_id) }
        (summary(l, &h))
        section.card { h2 { (l.t("household.members_title")) } (members(l, &p, &h)) }
        section.card { h2 { (l.t("household.scores_title")) } (scores(l, &h)) }
        section.card id="eligibility" {
            h2 { (l.t("household.eligibility_title")) " — " (l.month(month)) }
            @match &current {
                None => p { (l.t("household.no_rules")) },
                Some(e) => (explanation(l, &h, e, month)),
            }
        }
        section.card {
            h2 { (l.t("household.history_title")) }
            table {
                thead { tr { th { (l.t("household.month")) } th { (l.t("household.rule_set")) } th { (l.t("household.eligible")) } th.num { (l.t("household.monthly_total")) } } }
                tbody {
                    @for (m, e) in &history {
                        tr {
                            td { a href=(format!("/households/{}?month={m}", h.rsu_id)) { (l.month(*m)) } }
                            td { (e.rules.id) }
                            td { (if e.decision.eligible { l.t("common.yes") } else { l.t("common.no") }) }
                            td.num { (l.money(e.decision.monthly_total)) }
                        }
                    }
                }
            }
        }
        (applications_section(l, &p, &h, &applications, &ended))
        (events_section(l, &p, &h, &events))
        (split_section(l, &p, &h))
        (payments(l, &paid))
        (timeline(l, &h, &applications, &paid, &messages, &events))
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("household.title"),
        "households",
        content,
    ))
}

fn applications_section(
    l: Locale,
    p: &Principal,
    h: &Household,
    apps: &[service::ApplicationFile],
    ended: &std::collections::HashMap<String, Month>,
) -> Markup {
    html! {
        section.card id="applications" {
            h2 { (l.t("application.title")) }
            @for a in apps {
                details open[a.status == sanad_applications::Status::InReview] {
                    summary {
                        strong { (a.receipt) } " · " (l.t(&format!("application.status.{}", service::wire_name(&a.status))))
                        @if let Some(m) = a.start_month {
                            " · " (l.t("application.paid_from")) " " (l.month(m))
                            @if let Some(last) = ended.get(&a.receipt) {
                                " · " strong.ended { (l.t("award.ended_since")) " " (l.month(last.next())) }
                            }
                        } @else {
                            " · " (l.t("application.deadline")) " " (l.date(a.deadline))
                        }
                    }
                    table.checks {
                        thead { tr { th { (l.t("application.check")) } th { (l.t("application.outcome")) } th { (l.t("application.evidence")) } } }
                        tbody {
                            @for c in &a.checks {
                                tr class=(service::wire_name(&c.outcome)) { td { code { (service::wire_name(&c.code)) } } td { (l.t(&format!("application.outcome.{}", service::wire_name(&c.outcome)))) } td { (c.message) } }
                            }
                        }
                    }
                }
            }
            @if apps.is_empty() { p.empty { (l.t("application.none")) } }
            @if p.can(sanad_domain::Permission::ApplicationsIntake) {
                form.inline-form method="post" action=(format!("/households/{}/applications", h.rsu_id)) {
                    input type="hidden" name="_csrf" value=(p.csrf());
                    label { input type="checkbox" name="child_allowance" value="1" checked; " " (l.t("application.child_allowance")) }
                    label { input type="checkbox" name="flat_rate" value="1"; " " (l.t("application.flat_rate")) }
                    label for="notice-language" { (l.t("application.notice_language")) }
                    select id="notice-language" name="language" {
                        option value="fr" selected[l != Locale::Ar] { "Français" }
                        option value="ar" selected[l == Locale::Ar] lang="ar" { "العربية" }
                    }
                    button.primary type="submit" { (l.t("application.submit")) }
                }
            }
        }
    }
}

#[derive(serde::Deserialize)]
pub struct ApplyForm {
    child_allowance: Option<String>,
    flat_rate: Option<String>,
    /// The household's language for its notices.
    language: Option<sanad_applications::notify::Language>,
}

/// An agent takes an application for the household from its page.
pub async fn apply(
    State(s): State<AppState>,
    p: Principal,
    axum::Extension(req): axum::Extension<crate::RequestId>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ApplyForm>,
) -> Result<axum::response::Redirect, WebError> {
    use sanad_applications::Requested;
    let components: Vec<Requested> = [
        (f.child_allowance.is_some(), Requested::ChildAllowance),
        (f.flat_rate.is_some(), Requested::FlatRate),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, r)| r)
    .collect();
    let form = service::ApplicationForm {
        household_id: id.clone(),
        components,
        channel: Some(sanad_applications::Channel::Agent),
        language: f.language,
    };
    service::submit_application(&s, &p, &req, &form, sanad_applications::Channel::Agent).await?;
    Ok(axum::response::Redirect::to(&format!(
        "/households/{id}#applications"
    )))
}

/// What happened to the household, oldest first: applications submitted and decided,
/// payments, score changes and the messages sent to it (notify branch).
fn timeline(
    l: Locale,
    h: &Household,
    apps: &[service::ApplicationFile],
    paid: &service::HouseholdPayments,
    messages: &[sanad_store::MessageRow],
    declared: &[service::EventView],
) -> Markup {
    use chrono::NaiveDate;
    let mut events: Vec<(NaiveDate, &str, String)> = Vec::new();
    for a in apps {
        events.push((a.application.submitted_on, "submitted", a.receipt.clone()));
        if let Some(d) = a.application.decision() {
            let mut text = format!(
                "{} · {}",
                a.receipt,
                l.t(&format!("application.status.{}", service::wire_name(&d.to)))
            );
            if !d.reasons.is_empty() {
                text += &format!(
                    " ({})",
                    d.reasons
                        .iter()
                        .map(|r| r.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            events.push((d.on, "decided", text));
        }
    }
    for x in &paid.payments {
        if let Ok(on) = NaiveDate::parse_from_str(&format!("{}-01", x.month), "%Y-%m-%d") {
            let text = format!(
                "{} · {} · {}",
                x.month,
                l.money(sanad_domain::Money::from_centimes(x.amount)),
                l.t(&format!("payment.status.{}", x.status))
            );
            events.push((on, "payment", text));
        }
    }
    let mut before: Option<sanad_domain::Score> = None;
    for r in h.scores.records() {
        let text = match before {
            Some(b) => format!("{b} → {}", r.value),
            None => r.value.to_string(),
        };
        events.push((r.valid_from, "score", text));
        before = Some(r.value);
    }
    for m in messages {
        if let Some(on) = m.created_at.get(..10).and_then(|d| d.parse().ok()) {
            events.push((
                on,
                "message",
                format!(
                    "{} ({}) · {}",
                    l.t(&format!("outbox.template.{}", m.template)),
                    m.language,
                    l.t(&format!("outbox.status.{}", m.status))
                ),
            ));
        }
    }
    for e in declared {
        if let Ok(on) = e.effective.parse() {
            events.push((
                on,
                "event",
                l.t(&format!("event.kind.{}", e.kind)).to_owned(),
            ));
        }
    }
    events.sort_by_key(|e| e.0);
    html! {
        section.card id="timeline" {
            h2 { (l.t("timeline.title")) }
            @if events.is_empty() { p.empty { "—" } } @else {
                ol.timeline {
                    @for (on, kind, text) in &events {
                        li class=(kind) { time datetime=(on) { (l.date(*on)) } " " strong { (l.t(&format!("timeline.{kind}"))) } " " (text) }
                    }
                }
            }
        }
    }
}

fn payments(l: Locale, paid: &service::HouseholdPayments) -> Markup {
    html! {
        section.card id="payments" {
            h2 { (l.t("household.payments_title")) }
            @if paid.payments.is_empty() { p.empty { (l.t("household.no_payments")) } } @else {
                table {
                    thead { tr { th { (l.t("household.month")) } th { (l.t("payroll.provider")) } th.num { (l.t("payroll.amount")) } th { (l.t("rules.status")) } } }
                    tbody {
                        @for x in &paid.payments {
                            tr {
                                td { (x.month) }
                                td { (x.provider) }
                                td.num { (l.money(sanad_domain::Money::from_centimes(x.amount))) }
                                td { (l.t(&format!("payment.status.{}", x.status))) @if let Some(r) = &x.reason { " (" (r) ")" } }
                            }
                        }
                    }
                }
            }
            @if paid.held.centimes() > 0 { p { (l.t("household.held")) " : " strong { (l.money(paid.held)) } } }
            @if paid.debt.centimes() > 0 { p { (l.t("household.debt")) " : " strong { (l.money(paid.debt)) } } }
        }
    }
}

fn summary(l: Locale, h: &Household) -> Markup {
    let geo = Geography::get();
    let province = geo
        .province(&h.residence.province)
        .map(|p| {
            if l == Locale::Ar {
                p.name_ar.clone()
            } else {
                p.name_fr.clone()
            }
        })
        .unwrap_or_default();
    html! {
        dl.facts {
            dt { (l.t("household.status")) } dd { (l.t(&format!("status.{}", h.status.as_str()))) }
            dt { (l.t("household.commune")) } dd { (commune_name(l, &h.residence.commune)) ", " (province) }
            dt { (l.t("household.area")) } dd { (l.t(&format!("area.{}", h.residence.area.as_str()))) }
            dt { (l.t("household.phone")) } dd { bdi dir="ltr" { (h.phone.as_ref().map(|p| p.to_string()).unwrap_or_else(|| "—".into())) } }
        }
    }
}

fn members(l: Locale, p: &Principal, h: &Household) -> Markup {
    let today = chrono::Local::now().date_naive();
    html! {
        table {
            thead { tr {
                th { (l.t("person.name")) } th { (l.t("person.relation")) } th { (l.t("person.sex")) } th { (l.t("person.birth_date")) } th.num { (l.t("person.age")) }
                th { (l.t("person.idcs")) } th { (l.t("person.cnie")) } th { (l.t("person.schooling")) } th { (l.t("person.disability")) }
            } }
            tbody {
                @for m in &h.members {
                    tr.deceased[m.death_date.is_some()] {
                        td { (m.first_name) " " (m.last_name) br; span lang="ar" dir="rtl" { (m.first_name_ar) " " (m.last_name_ar) } }
                        td { (l.t(&format!("relation.{}", m.relation.as_str()))) }
                        td { (l.t(&format!("sex.{}", m.sex.as_str()))) }
                        td { (l.date(m.birth_date)) @if let Some(d) = m.death_date { br; (l.t("person.died")) " " (l.date(d)) } }
                        td.num { (m.age_on(today)) }
                        td.id { (p.id_number(&m.idcs.to_string())) }
                        td.id { (m.cnie.as_ref().map(|c| p.id_number(&c.to_string())).unwrap_or_else(|| "—".into())) }
                        td { (l.t(&format!("schooling.{}", m.schooling.as_str()))) }
                        td { (l.t(&format!("disability.{}", m.disability.as_str()))) }
                    }
                }
            }
        }
    }
}

fn scores(l: Locale, h: &Household) -> Markup {
    let recs = h.scores.records();
    html! {
        @if recs.is_empty() { p { "—" } } @else {
            (score_chart(recs))
            table {
                thead { tr { th { (l.t("score.valid_from")) } th { (l.t("score.computed_on")) } th.num { (l.t("score.value")) } } }
                tbody { @for r in recs { tr { td { (l.date(r.valid_from)) } td { (l.date(r.computed_on)) } td.num { (r.value) } } } }
            }
        }
    }
}

/// The score over time as a step line, SVG.
fn score_chart(recs: &[sanad_domain::ScoreRecord]) -> Markup {
    if recs.len() < 2 {
        return html! {};
    }
    let vals: Vec<f64> = recs
        .iter()
        .map(|r| r.value.to_string().parse().unwrap_or(0.0))
        .collect();
    let (lo, hi) = vals
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    let span = (hi - lo).max(0.01);
    let pts: Vec<String> = vals
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                10.0 + i as f64 * 380.0 / (vals.len() - 1) as f64,
                70.0 - (v - lo) / span * 60.0
            )
        })
        .collect();
    html! { svg.chart.score viewBox="0 0 400 80" role="img" aria-hidden="true" { polyline points=(pts.join(" ")) {} } }
}

fn explanation(l: Locale, h: &Household, e: &service::Entitlement, month: Month) -> Markup {
    let lang = match l {
        Locale::Fr => explain::Lang::Fr,
        Locale::Ar => explain::Lang::Ar,
        Locale::En => explain::Lang::En,
    };
    let score = h
        .scores
        .at(sanad_rules::engine::reference_date(&e.rules, month))
        .map(|r| r.value);
    html! {
        p.verdict.ok[e.decision.eligible].no[!e.decision.eligible] {
            (if e.decision.eligible { l.t("household.is_eligible") } else { l.t("household.not_eligible") })
            " · " (l.t("household.rule_set")) " " a href=(format!("/rules/{}", e.rules.id)) { (e.rules.id) }
        }
        @if !e.decision.eligible {
            ul.reasons { @for r in explain::reasons(&e.decision, &e.rules, score, lang) { li { (r) } } }
        }
        @if e.decision.eligible {
            ol.lines { @for line in explain::lines(&e.decision, lang) { li { (line) } } }
            p.total { (l.t("household.monthly_total")) " : " strong { (l.money(e.decision.monthly_total)) } }
        }
    }
}

/// The kinds of event an agent declares from the household page (the API takes every kind).
const DECLARABLE: [&str; 5] = [
    "birth",
    "death",
    "schooling_change",
    "disability_recognised",
    "payment_account_change",
];
const SCHOOLING: [&str; 7] = [
    "none",
    "public_primary",
    "public_college",
    "public_secondary",
    "public_vocational",
    "private",
    "higher",
];
const SEVERITY: [&str; 4] = ["mild", "moderate", "severe", "profound"];

fn events_section(
    l: Locale,
    p: &Principal,
    h: &Household,
    events: &[service::EventView],
) -> Markup {
    html! {
        section.card id="events" {
            h2 { (l.t("event.title")) }
            @if events.is_empty() { p.empty { (l.t("event.none")) } } @else {
                table {
                    thead { tr { th { (l.t("event.effective")) } th { (l.t("event.kind")) } th { (l.t("event.declared_on")) } th { (l.t("event.declared_by")) } } }
                    tbody { @for e in events { tr { td { (e.effective) } td { (l.t(&format!("event.kind.{}", e.kind))) } td { (e.declared_on) } td { (e.declared_by) } } } }
                }
            }
            @if p.can(sanad_domain::Permission::ApplicationsIntake) {
                details {
                    summary { (l.t("event.declare")) }
                    form.stack method="post" action=(format!("/households/{}/events", h.rsu_id)) {
                        input type="hidden" name="_csrf" value=(p.csrf());
                        label { (l.t("event.kind")) select name="kind" { @for k in DECLARABLE { option value=(k) { (l.t(&format!("event.kind.{k}"))) } } } }
                        label { (l.t("event.effective")) input type="date" name="effective" required; }
                        label { (l.t("event.person")) select name="person" { option value="" { "—" } @for m in &h.members { option value=(m.idcs) { (m.first_name) " " (m.last_name) } } } }
                        label { (l.t("person.schooling")) select name="schooling" { @for c in SCHOOLING { option value=(c) { (l.t(&format!("schooling.{c}"))) } } } }
                        label { (l.t("person.disability")) select name="severity" { @for c in SEVERITY { option value=(c) { (l.t(&format!("disability.{c}"))) } } } }
                        fieldset {
                            legend { (l.t("event.kind.birth")) }
                            label { (l.t("person.idcs")) input name="child_idcs" inputmode="numeric"; }
                            label { (l.t("event.first_name")) input name="first_name"; }
                            label { (l.t("event.first_name_ar")) input name="first_name_ar" dir="rtl"; }
                            label { (l.t("person.sex")) select name="sex" { option value="F" { (l.t("sex.F")) } option value="M" { (l.t("sex.M")) } } }
                        }
                        label { (l.t("event.rib")) input name="rib" inputmode="numeric" maxlength="24"; }
                        button.primary type="submit" { (l.t("event.submit")) }
                    }
                }
            }
        }
    }
}

#[derive(serde::Deserialize)]
pub struct EventForm {
    kind: String,
    effective: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    schooling: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    child_idcs: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    first_name_ar: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    rib: String,
}

/// A snake_case code as the enum serde reads it; the error names the form field.
fn code<T: serde::de::DeserializeOwned>(field: &str, v: &str) -> Result<T, WebError> {
    serde_json::from_value(serde_json::Value::String(v.to_owned()))
        .map_err(|_| WebError::Invalid(format!("{field}: '{v}' is not a valid value")))
}

impl EventForm {
    /// The event the form declares; a newborn takes the head's family names.
    fn kind(
        &self,
        h: &Household,
    ) -> Result<(sanad_applications::EventKind, chrono::NaiveDate), WebError> {
        use sanad_applications::EventKind as K;
        let effective: chrono::NaiveDate = self.effective.parse().map_err(|_| {
            WebError::Invalid(format!("effective: '{}' is not a date", self.effective))
        })?;
        let person = || {
            sanad_domain::Idcs::parse(&self.person)
                .map_err(|e| WebError::Invalid(format!("person: {e}")))
        };
        let kind = match self.kind.as_str() {
            "death" => K::Death { person: person()? },
            "schooling_change" => K::SchoolingChange {
                person: person()?,
                schooling: code("schooling", &self.schooling)?,
            },
            "disability_recognised" => K::DisabilityRecognised {
                person: person()?,
                severity: code("severity", &self.severity)?,
            },
            "payment_account_change" => {
                let rib = sanad_domain::Rib::parse(&self.rib)
                    .map_err(|e| WebError::Invalid(format!("rib: {e}")))?;
                K::PaymentAccountChange {
                    instrument: Some(sanad_domain::PaymentInstrument::Bank { rib }),
                }
            }
            "birth" => K::Birth {
                child: Box::new(self.newborn(h, effective)?),
            },
            other => {
                return Err(WebError::Invalid(format!(
                    "kind: '{other}' cannot be declared here"
                )));
            }
        };
        Ok((kind, effective))
    }

    fn newborn(
        &self,
        h: &Household,
        born: chrono::NaiveDate,
    ) -> Result<sanad_domain::Person, WebError> {
        let head = h
            .members
            .iter()
            .find(|m| m.relation == sanad_domain::Relation::Head)
            .ok_or_else(|| WebError::Invalid("the household has no head".into()))?;
        let required = |field: &str, v: &str| {
            if v.trim().is_empty() {
                Err(WebError::Invalid(format!("{field}: required for a birth")))
            } else {
                Ok(v.trim().to_owned())
            }
        };
        let idcs = sanad_domain::Idcs::parse(&self.child_idcs)
            .map_err(|e| WebError::Invalid(format!("child_idcs: {e}")))?;
        let (first, first_ar) = (
            required("first_name", &self.first_name)?,
            required("first_name_ar", &self.first_name_ar)?,
        );
        Ok(sanad_domain::Person::newborn(
            idcs,
            first,
            first_ar,
            code("sex", &self.sex)?,
            born,
            head,
        ))
    }
}

/// An agent declares a life event from the household page.
pub async fn declare(
    State(s): State<AppState>,
    p: Principal,
    axum::Extension(req): axum::Extension<crate::RequestId>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<EventForm>,
) -> Result<axum::response::Redirect, WebError> {
    let h = service::household(&s, &p, &id).await?;
    let (kind, effective) = f.kind(&h)?;
    service::declare_event(&s, &p, &req, &id, kind, effective).await?;
    Ok(axum::response::Redirect::to(&format!(
        "/households/{id}#events"
    )))
}

// Household split.

fn split_section(l: Locale, p: &Principal, h: &Household) -> Markup {
    const RELATIONS: [&str; 7] = [
        "head",
        "spouse",
        "child",
        "kafala_child",
        "ward",
        "parent",
        "other",
    ];
    if !p.can(Permission::ApplicationsIntake) {
        return html! {};
    }
    html! {
        section.card id="split" {
            h2 { (l.t("split.title")) }
            details {
                summary { (l.t("split.open")) }
                form.stack method="post" action=(format!("/households/{}/split", h.rsu_id)) {
                    input type="hidden" name="_csrf" value=(p.csrf());
                    p.hint { (l.t("split.hint")) }
                    table.split {
                        thead { tr { th { (l.t("split.leaves")) } th { (l.t("person.name")) } th { (l.t("split.new_relation")) } } }
                        tbody {
                            @for m in &h.members {
                                tr {
                                    td { input type="checkbox" name="leave" value=(m.idcs) aria-label=(l.t("split.leaves")); }
                                    td { (m.first_name) " " (m.last_name) }
                                    td { select name=(format!("relation.{}", m.idcs)) aria-label=(l.t("split.new_relation")) {
                                        @for r in RELATIONS { option value=(r) selected[r == m.relation.as_str()] { (l.t(&format!("relation.{r}"))) } }
                                    } }
                                }
                            }
                        }
                    }
                    label { (l.t("split.new_rsu_id")) input name="new_rsu_id" inputmode="numeric" maxlength="12" required; }
                    label { (l.t("split.remaining_head")) select name="remaining_head" { option value="" { "—" } @for m in &h.members { option value=(m.idcs) { (m.first_name) " " (m.last_name) } } } }
                    label { (l.t("event.effective")) input type="date" name="effective" required; }
                    button.primary type="submit" { (l.t("split.submit")) }
                }
            }
        }
    }
}

/// An agent splits the household from its page: the boxes ticked leave, each with the
/// relation chosen in its row (`relation.<IDCS>`).
pub async fn split(
    State(s): State<AppState>,
    p: Principal,
    axum::Extension(req): axum::Extension<crate::RequestId>,
    Path(id): Path<String>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<axum::response::Redirect, WebError> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let members = fields
        .iter()
        .filter(|(k, _)| k == "leave")
        .map(|(_, idcs)| service::SplitMember {
            idcs: idcs.clone(),
            relation: get(&format!("relation.{idcs}")),
        })
        .collect();
    let effective = get("effective");
    let effective: chrono::NaiveDate = effective
        .parse()
        .map_err(|_| WebError::Invalid(format!("effective: '{effective}' is not a date")))?;
    let form = service::SplitForm {
        new_rsu_id: get("new_rsu_id"),
        members,
        remaining_head: Some(get("remaining_head")),
    };
    let out = service::split_household(&s, &p, &req, &id, &form, effective).await?;
    Ok(axum::response::Redirect::to(&format!(
        "/households/{}",
        out.new_rsu_id
    )))
}

//! Pilot operations (issue 7): the catalogue with its places, the social worker's caseload
//! with follow-up alerts, a household's case (plan, visits, referrals, enrolment) and the
//! pre-registered evaluation designs. Decisions are `sanad-pilot`'s pure functions; this
//! module loads their input from the store, with the caller's scope, and saves their result.

use chrono::NaiveDate;
use sanad_domain::{Household, Month, Permission, RegionCode, RsuId};
use sanad_pilot::{
    Alert, AlertPolicy, Case, CaseBook, Catalogue, Domain, Enrolment, Exit, Facts, Measure,
    MeasureId, Pilot, PlannedAntenna, Register, RolloutPlan, Worker, WorkerId,
};
use sanad_store::pilot::{
    AntennaRow, CaseRow, DesignRow, EnrolmentRow, ExitRow, MeasureRow, ReferralRow, VisitRow,
};
use sanad_store::{Scope, StoreError};
use serde::de::DeserializeOwned;

use super::{actor, household, wire_name};
use crate::auth::Principal;
use crate::error::WebError;
use crate::{AppState, RequestId};

fn corrupt(e: impl std::fmt::Display) -> WebError {
    WebError::Store(StoreError::Corrupt(format!("pilot: {e}")))
}

/// A serde enum from its wire name (`present`, `health_centre`…).
pub fn from_wire<T: DeserializeOwned>(field: &str, s: &str) -> Result<T, WebError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| WebError::Invalid(format!("{field}: '{s}' is not a valid value")))
}

fn date(field: &str, s: &str) -> Result<NaiveDate, WebError> {
    s.trim()
        .parse()
        .map_err(|_| WebError::Invalid(format!("{field}: '{s}' is not a date (YYYY-MM-DD)")))
}

fn opt_date(field: &str, s: &str) -> Result<Option<NaiveDate>, WebError> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        date(field, s).map(Some)
    }
}

pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

// ---- configuration: catalogue and rollout plan ----

/// The rows that store a catalogue and a rollout plan.
pub fn config_rows(pilot: &Pilot) -> Result<(Vec<MeasureRow>, Vec<AntennaRow>), WebError> {
    let measures = pilot
        .catalogue
        .measures()
        .iter()
        .map(|m| {
            Ok(MeasureRow {
                id: m.id.to_string(),
                catalogue_version: pilot.catalogue.version().to_owned(),
                domain: m.domain.as_str().to_owned(),
                capacity: i64::from(m.capacity_per_antenna),
                cost_centimes: m.cost_per_household.centimes(),
                body: serde_json::to_string(m).map_err(corrupt)?,
            })
        })
        .collect::<Result<_, WebError>>()?;
    let antennas = pilot
        .plan
        .antennas()
        .iter()
        .map(|a| AntennaRow {
            province: a.province.clone(),
            wave: i64::from(a.wave),
            start_month: a.start.to_string(),
        })
        .collect();
    Ok((measures, antennas))
}

/// The stored catalogue and plan, or `None` before any was stored.
pub async fn stored_pilot(s: &AppState) -> Result<Option<Pilot>, WebError> {
    let (measures, antennas) = (s.store.measures().await?, s.store.antennas().await?);
    if measures.is_empty() || antennas.is_empty() {
        return Ok(None);
    }
    let version = measures[0].catalogue_version.clone();
    let measures: Vec<Measure> = measures
        .iter()
        .map(|m| serde_json::from_str(&m.body).map_err(corrupt))
        .collect::<Result<_, _>>()?;
    let catalogue = Catalogue::new(version, measures).map_err(corrupt)?;
    let antennas = antennas
        .iter()
        .map(|a| {
            Ok(PlannedAntenna {
                province: a.province.clone(),
                wave: u32::try_from(a.wave).map_err(corrupt)?,
                start: a.start_month.parse().map_err(corrupt)?,
            })
        })
        .collect::<Result<Vec<_>, WebError>>()?;
    let plan = RolloutPlan::new(None, antennas).map_err(corrupt)?;
    Ok(Some(Pilot { catalogue, plan }))
}

async fn pilot_or_refuse(s: &AppState) -> Result<Pilot, WebError> {
    stored_pilot(s)
        .await?
        .ok_or_else(super::pilot_errors::no_catalogue)
}

/// Store a catalogue and rollout plan (CLI and demo; no page changes the catalogue yet).
pub async fn save_config(
    s: &AppState,
    pilot: &Pilot,
    actor: &sanad_store::Actor,
) -> Result<(), WebError> {
    let (measures, antennas) = config_rows(pilot)?;
    Ok(s.store
        .save_pilot_config(&measures, &antennas, actor)
        .await?)
}

/// One antenna of the plan with each measure's places used and left.
pub struct AntennaPlaces {
    pub antenna: PlannedAntenna,
    pub started: bool,
    /// (measure id, used, left), in catalogue order.
    pub places: Vec<(MeasureId, i64, i64)>,
}

pub struct MeasuresOverview {
    pub pilot: Pilot,
    pub antennas: Vec<AntennaPlaces>,
}

pub(crate) fn in_scope(scope: &Scope, province: &str) -> bool {
    province
        .get(..2)
        .and_then(|r| RegionCode::parse(r).ok())
        .is_some_and(|r| scope.allows(r, province))
}

/// The catalogue and, for each antenna of the plan in the caller's scope, the places used and
/// left (aggregates: no household is named).
pub async fn measures_overview(
    s: &AppState,
    p: &Principal,
) -> Result<Option<MeasuresOverview>, WebError> {
    p.require(Permission::Aggregates)?;
    let Some(pilot) = stored_pilot(s).await? else {
        return Ok(None);
    };
    let taken = s.store.places(&p.scope).await?;
    let today = today();
    let antennas = pilot
        .plan
        .antennas()
        .iter()
        .filter(|a| in_scope(&p.scope, &a.province))
        .map(|a| {
            let places = pilot
                .catalogue
                .measures()
                .iter()
                .map(|m| {
                    let used = taken
                        .iter()
                        .find(|t| t.antenna == a.province && t.measure_id == m.id.as_str())
                        .map_or(0, |t| t.active);
                    (
                        m.id.clone(),
                        used,
                        (i64::from(m.capacity_per_antenna) - used).max(0),
                    )
                })
                .collect();
            AntennaPlaces {
                antenna: a.clone(),
                started: pilot.plan.started(&a.province, today),
                places,
            }
        })
        .collect();
    Ok(Some(MeasuresOverview { pilot, antennas }))
}

// ---- cases ----

pub fn case_to_row(c: &Case) -> Result<CaseRow, WebError> {
    Ok(CaseRow {
        rsu_id: c.household.to_string(),
        antenna: c.antenna.clone(),
        worker: c.worker.to_string(),
        opened_on: c.opened_on.to_string(),
        closure: c
            .closure
            .as_ref()
            .map(|x| (x.on.to_string(), x.reason.clone())),
        goals: serde_json::to_string(&c.goals).map_err(corrupt)?,
        visits: c
            .visits
            .iter()
            .map(|v| VisitRow {
                date: v.date.to_string(),
                attendance: wire_name(&v.attendance),
                notes: v.notes.clone(),
                next_steps: v.next_steps.clone(),
                next_visit: v.next_visit.map(|d| d.to_string()),
            })
            .collect(),
        referrals: c
            .referrals
            .iter()
            .map(|r| ReferralRow {
                id: i64::from(r.id),
                service: wire_name(&r.service),
                detail: r.detail.clone(),
                sent_on: r.sent_on.to_string(),
                status: wire_name(&r.status),
                status_on: r.status_on.map(|d| d.to_string()),
                outcome: r.outcome.clone(),
            })
            .collect(),
    })
}

fn parse<T: std::str::FromStr>(s: &str) -> Result<T, WebError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(corrupt)
}

fn wire<T: DeserializeOwned>(s: &str) -> Result<T, WebError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(corrupt)
}

fn opt<T: std::str::FromStr>(s: &Option<String>) -> Result<Option<T>, WebError>
where
    T::Err: std::fmt::Display,
{
    s.as_deref().map(parse).transpose()
}

pub fn case_from_row(r: &CaseRow) -> Result<Case, WebError> {
    Ok(Case {
        household: RsuId::parse(&r.rsu_id).map_err(corrupt)?,
        antenna: r.antenna.clone(),
        worker: WorkerId::parse(&r.worker).map_err(corrupt)?,
        opened_on: parse(&r.opened_on)?,
        closure: r
            .closure
            .as_ref()
            .map(|(on, reason)| {
                Ok::<_, WebError>(sanad_pilot::Closure {
                    on: parse(on)?,
                    reason: reason.clone(),
                })
            })
            .transpose()?,
        goals: serde_json::from_str(&r.goals).map_err(corrupt)?,
        visits: r
            .visits
            .iter()
            .map(|v| {
                Ok(sanad_pilot::Visit {
                    date: parse(&v.date)?,
                    attendance: wire(&v.attendance)?,
                    notes: v.notes.clone(),
                    next_steps: v.next_steps.clone(),
                    next_visit: opt(&v.next_visit)?,
                })
            })
            .collect::<Result<_, WebError>>()?,
        referrals: r
            .referrals
            .iter()
            .map(|x| {
                Ok(sanad_pilot::Referral {
                    id: u32::try_from(x.id).map_err(corrupt)?,
                    service: wire(&x.service)?,
                    detail: x.detail.clone(),
                    sent_on: parse(&x.sent_on)?,
                    status: wire(&x.status)?,
                    status_on: opt(&x.status_on)?,
                    outcome: x.outcome.clone(),
                })
            })
            .collect::<Result<_, WebError>>()?,
    })
}

/// Open cases and their follow-up alerts on `today`: the signed-in social worker's own, or
/// for a supervisor every case of their antennas with each worker's load.
pub struct Caseload {
    pub cases: Vec<Case>,
    pub alerts: Vec<Alert>,
    pub policy: AlertPolicy,
    /// (worker, open cases) for a supervisor's team view; empty for an agent.
    pub team: Vec<(WorkerId, usize)>,
}

pub async fn caseload(s: &AppState, p: &Principal) -> Result<Caseload, WebError> {
    p.require(Permission::CasesManage)?;
    let supervisor = p.role == sanad_domain::Role::AntennaSupervisor;
    let worker = (!supervisor).then_some(p.username.as_str());
    let rows = s.store.open_cases(&p.scope, worker).await?;
    let cases: Vec<Case> = rows.iter().map(case_from_row).collect::<Result<_, _>>()?;
    let book = CaseBook::from_cases(cases.clone()).map_err(corrupt)?;
    let policy = AlertPolicy::default();
    let alerts = sanad_pilot::alerts(&book, &policy, today());
    let mut team: Vec<(WorkerId, usize)> = Vec::new();
    if supervisor {
        for c in &cases {
            match team.iter_mut().find(|(w, _)| w == &c.worker) {
                Some((_, n)) => *n += 1,
                None => team.push((c.worker.clone(), 1)),
            }
        }
        team.sort();
    }
    Ok(Caseload {
        cases,
        alerts,
        policy,
        team,
    })
}

/// When the next contact is due: the visit the last one planned, else the interval after the
/// last contact (the opening counts).
pub fn next_contact(case: &Case, policy: &AlertPolicy) -> NaiveDate {
    let last = case.last_visit().map_or(case.opened_on, |v| v.date);
    let limit = last + chrono::Days::new(u64::from(policy.visit_every_days));
    case.last_visit()
        .and_then(|v| v.next_visit)
        .filter(|&n| n < limit)
        .unwrap_or(limit)
}

/// A household's page in the pilot: its open case, enrolments and what it may be offered.
pub struct CaseFile {
    pub household: Household,
    pub case: Option<Case>,
    pub enrolments: Vec<Enrolment>,
    /// Every measure with the answer of the enrolment check on `today` (None: no catalogue).
    pub offers: Option<Vec<(Measure, Result<(), sanad_pilot::Refusal>)>>,
    pub alerts: Vec<Alert>,
}

pub(crate) fn enrolment_from_row(e: &EnrolmentRow) -> Result<Enrolment, WebError> {
    Ok(Enrolment {
        household: RsuId::parse(&e.rsu_id).map_err(corrupt)?,
        measure: MeasureId::parse(&e.measure_id).map_err(corrupt)?,
        antenna: e.antenna.clone(),
        enrolled_on: parse(&e.enrolled_on)?,
        exit: e
            .exit
            .as_ref()
            .map(|x| {
                Ok::<_, WebError>(Exit {
                    on: parse(&x.on)?,
                    reason: wire(&x.reason)?,
                    note: x.note.clone(),
                })
            })
            .transpose()?,
    })
}

/// The facts the target-group rules need beyond the RSU record: ASD eligibility this month.
async fn facts(s: &AppState, h: &Household, today: NaiveDate) -> Result<Facts, WebError> {
    let book = s.rule_book().await?;
    let eligible = super::entitlement(&book, h, Month::of(today)).map(|e| e.decision.eligible);
    Ok(Facts {
        asd_eligible: eligible,
        pregnant: None,
    })
}

/// The enrolment register the caller's scope holds (an antenna's staff see their antenna's
/// places whole).
async fn register(s: &AppState, p: &Principal) -> Result<Register, WebError> {
    let rows = s.store.enrolments(&p.scope).await?;
    Register::from_enrolments(
        rows.iter()
            .map(enrolment_from_row)
            .collect::<Result<_, _>>()?,
    )
    .map_err(corrupt)
}

pub async fn case_file(s: &AppState, p: &Principal, id: &str) -> Result<CaseFile, WebError> {
    p.require(Permission::CasesManage)?;
    let h = household(s, p, id).await?;
    let key = h.rsu_id.to_string();
    let case = s
        .store
        .open_case(&p.scope, &key)
        .await?
        .as_ref()
        .map(case_from_row)
        .transpose()?;
    let register = register(s, p).await?;
    let enrolments: Vec<Enrolment> = register.of_household(&h.rsu_id).cloned().collect();
    let today = today();
    let offers = match stored_pilot(s).await? {
        None => None,
        Some(pilot) => {
            let facts = facts(s, &h, today).await?;
            Some(
                pilot
                    .catalogue
                    .measures()
                    .iter()
                    .map(|m| {
                        (
                            m.clone(),
                            register.check(&pilot, &h, &facts, &m.id, today).map(|_| ()),
                        )
                    })
                    .collect(),
            )
        }
    };
    let alerts = match &case {
        Some(c) => sanad_pilot::alerts(
            &CaseBook::from_cases(vec![c.clone()]).map_err(corrupt)?,
            &AlertPolicy::default(),
            today,
        ),
        None => Vec::new(),
    };
    Ok(CaseFile {
        household: h,
        case,
        enrolments,
        offers,
        alerts,
    })
}

/// Open a case followed by the caller, in an antenna whose wave has started.
pub async fn open_case(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    id: &str,
) -> Result<(), WebError> {
    p.require(Permission::CasesManage)?;
    let h = household(s, p, id).await?;
    let pilot = pilot_or_refuse(s).await?;
    let mut book = CaseBook::from_cases(
        s.store
            .open_case(&p.scope, &h.rsu_id.to_string())
            .await?
            .as_ref()
            .map(case_from_row)
            .transpose()?
            .into_iter()
            .collect(),
    )
    .map_err(corrupt)?;
    let me = Worker {
        id: WorkerId::parse(&p.username).map_err(WebError::Invalid)?,
        antenna: h.residence.province.clone(),
        role: p.role,
        active: true,
    };
    let case = book
        .open(&pilot.plan, &h, &[me], usize::MAX, today())
        .map_err(|e| super::pilot_errors::case_error(&e, axum::http::StatusCode::CONFLICT))?;
    Ok(s.store
        .save_case(&case_to_row(case)?, "open", &actor(p, req))
        .await?)
}

/// A change to a household's open case: load it within the caller's scope, apply the pure
/// operation, save it whole (audited as `action`).
async fn change_case(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    id: &str,
    action: &str,
    f: impl FnOnce(&mut Case, NaiveDate) -> Result<(), sanad_pilot::CaseError>,
) -> Result<(), WebError> {
    p.require(Permission::CasesManage)?;
    let h = household(s, p, id).await?;
    let row = s
        .store
        .open_case(&p.scope, &h.rsu_id.to_string())
        .await?
        .ok_or(WebError::NotFound)?;
    let mut case = case_from_row(&row)?;
    f(&mut case, today()).map_err(|e| match e {
        sanad_pilot::CaseError::Transition { .. } => {
            super::pilot_errors::case_error(&e, axum::http::StatusCode::CONFLICT)
        }
        other => {
            super::pilot_errors::case_error(&other, axum::http::StatusCode::UNPROCESSABLE_ENTITY)
        }
    })?;
    Ok(s.store
        .save_case(&case_to_row(&case)?, action, &actor(p, req))
        .await?)
}

#[derive(Debug, serde::Deserialize)]
pub struct GoalForm {
    pub domain: String,
    pub text: String,
    pub target_date: String,
}

pub async fn add_goal(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    id: &str,
    f: &GoalForm,
) -> Result<(), WebError> {
    let domain = Domain::parse(&f.domain).map_err(|e| WebError::Invalid(format!("domain: {e}")))?;
    let target = date("target_date", &f.target_date)?;
    change_case(s, p, req, id, "add_goal", |c, today| {
        c.add_goal(domain, &f.text, target, today).map(|_| ())
    })
    .await
}

#[derive(Debug, serde::Deserialize)]
pub struct VisitForm {
    pub date: String,
    pub attendance: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub next_steps: String,
    #[serde(default)]
    pub next_visit: String,
}

pub async fn record_visit(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    id: &str,
    f: &VisitForm,
) -> Result<(), WebError> {
    let visit = sanad_pilot::Visit {
        date: date("date", &f.date)?,
        attendance: from_wire("attendance", &f.attendance)?,
        notes: f.notes.trim().to_owned(),
        next_steps: f.next_steps.trim().to_owned(),
        next_visit: opt_date("next_visit", &f.next_visit)?,
    };
    change_case(s, p, req, id, "record_visit", |c, today| {
        c.record_visit(visit, today)
    })
    .await
}

#[derive(Debug, serde::Deserialize)]
pub struct ReferralForm {
    pub service: String,
    #[serde(default)]
    pub detail: String,
    pub sent_on: String,
}

pub async fn refer(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    id: &str,
    f: &ReferralForm,
) -> Result<(), WebError> {
    let service = from_wire("service", &f.service)?;
    let sent_on = date("sent_on", &f.sent_on)?;
    change_case(s, p, req, id, "refer", |c, today| {
        c.refer(service, f.detail.trim(), sent_on, today)
            .map(|_| ())
    })
    .await
}

#[derive(Debug, serde::Deserialize)]
pub struct OutcomeForm {
    pub status: String,
    pub on: String,
    #[serde(default)]
    pub outcome: String,
}

pub async fn referral_outcome(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    id: &str,
    referral: u32,
    f: &OutcomeForm,
) -> Result<(), WebError> {
    let status = from_wire("status", &f.status)?;
    let on = date("on", &f.on)?;
    change_case(s, p, req, id, "update_referral", |c, today| {
        c.update_referral(referral, status, on, f.outcome.trim(), today)
    })
    .await
}

#[derive(Debug, serde::Deserialize)]
pub struct GoalStatusForm {
    /// `achieved` or `dropped`.
    pub status: String,
}

/// Mark an open goal of the plan achieved or dropped today.
pub async fn set_goal_status(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    id: &str,
    goal: u32,
    f: &GoalStatusForm,
) -> Result<(), WebError> {
    let status = from_wire("status", &f.status)?;
    change_case(s, p, req, id, "set_goal_status", |c, today| {
        c.set_goal_status(goal, status, today, today)
    })
    .await
}

#[derive(Debug, serde::Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    pub reason: String,
}

/// Close the household's case today; its history stays, and a new case may be opened.
pub async fn close_case(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    id: &str,
    f: &CloseForm,
) -> Result<(), WebError> {
    change_case(s, p, req, id, "close", |c, today| {
        let mut book = CaseBook::from_cases(vec![c.clone()])
            .map_err(|_| sanad_pilot::CaseError::NoOpenCase(c.household.clone()))?;
        book.close(&c.household, today, f.reason.trim(), today)?;
        *c = book.cases()[0].clone();
        Ok(())
    })
    .await
}

/// Enrol the household into a measure: every rule of the pure check (plan, wave, status, target
/// group, places in the caller's view), then the store's own capacity check in its transaction.
pub async fn enrol(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    id: &str,
    measure: &str,
) -> Result<Enrolment, WebError> {
    p.require(Permission::CasesManage)?;
    let h = household(s, p, id).await?;
    let pilot = pilot_or_refuse(s).await?;
    let measure =
        MeasureId::parse(measure).map_err(|e| WebError::Invalid(format!("measure: {e}")))?;
    let today = today();
    let facts = facts(s, &h, today).await?;
    let mut register = register(s, p).await?;
    let e = register
        .enrol(&pilot, &h, &facts, &measure, today)
        .map_err(|e| super::pilot_errors::refusal(&e))?
        .clone();
    let capacity = pilot
        .catalogue
        .measure(&measure)
        .map_or(0, |m| i64::from(m.capacity_per_antenna));
    let row = EnrolmentRow {
        rsu_id: e.household.to_string(),
        measure_id: e.measure.to_string(),
        antenna: e.antenna.clone(),
        enrolled_on: e.enrolled_on.to_string(),
        exit: None,
    };
    s.store.enrol(&row, capacity, &actor(p, req)).await?;
    Ok(e)
}

pub fn exit_row(x: &Exit) -> ExitRow {
    ExitRow {
        on: x.on.to_string(),
        reason: wire_name(&x.reason),
        note: x.note.clone(),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct ExitForm {
    /// `completed`, `no_longer_eligible`, `withdrew`, `moved`, `deceased` or `other`.
    pub reason: String,
    #[serde(default)]
    pub note: String,
}

/// End the household's active enrolment in a measure today; its place is freed.
pub async fn exit_enrolment(
    s: &AppState,
    p: &Principal,
    req: &RequestId,
    id: &str,
    measure: &str,
    f: &ExitForm,
) -> Result<(), WebError> {
    p.require(Permission::CasesManage)?;
    let h = household(s, p, id).await?;
    let measure = MeasureId::parse(measure).map_err(|_| WebError::NotFound)?;
    let exit = Exit {
        on: today(),
        reason: from_wire("reason", &f.reason)?,
        note: f.note.trim().to_owned(),
    };
    let mut register = register(s, p).await?;
    register
        .exit(&h.rsu_id, &measure, exit.clone())
        .map_err(|e| match e {
            sanad_pilot::ExitError::NotEnrolled => WebError::NotFound,
            other => super::pilot_errors::exit_error(&other),
        })?;
    Ok(s.store
        .exit_enrolment(
            &h.rsu_id.to_string(),
            measure.as_str(),
            &exit_row(&exit),
            &actor(p, req),
        )
        .await?)
}

// ---- evaluation designs ----

/// A registered design, read back: the frozen record, its parsed content and arm counts.
pub struct DesignEntry {
    pub row: DesignRow,
    pub design: Option<sanad_evaluation::assign::Design>,
    /// The canonical serialisation's hash equals the stored hash.
    pub verified: bool,
    pub counts: Vec<(String, i64)>,
}

pub async fn designs(s: &AppState, p: &Principal) -> Result<Vec<DesignEntry>, WebError> {
    p.require(Permission::Aggregates)?;
    let mut out = Vec::new();
    for row in s.store.designs().await? {
        let design: Option<sanad_evaluation::assign::Design> = serde_json::from_str(&row.body).ok();
        let verified = design.as_ref().is_some_and(|d| d.verify(&row.hash));
        let counts = s.store.assignment_counts(&row.id).await?;
        out.push(DesignEntry {
            row,
            design,
            verified,
            counts,
        });
    }
    Ok(out)
}

/// Register a design (frozen before any assignment) and store the assignment it draws over
/// `input`; returns the stored design row. Used by the demo and the CLI.
pub async fn register_and_assign(
    s: &AppState,
    id: &str,
    design: &sanad_evaluation::assign::Design,
    input: &sanad_evaluation::assign::AssignInput,
    actor: &sanad_store::Actor,
) -> Result<DesignRow, WebError> {
    let row = s
        .store
        .register_design(id, &design.canonical_json(), actor)
        .await?;
    let drawn = sanad_evaluation::assign::assign(design, input)
        .map_err(|e| WebError::Invalid(e.to_string()))?;
    let units: Vec<sanad_store::pilot::AssignmentRow> = drawn
        .units
        .iter()
        .map(|u| sanad_store::pilot::AssignmentRow {
            unit: u.id.clone(),
            arm: u.arm.clone(),
            stratum: u.stratum.clone(),
            wave: u.wave.and_then(|w| i64::try_from(w).ok()),
        })
        .collect();
    s.store.save_assignment(id, &units, actor).await?;
    Ok(row)
}

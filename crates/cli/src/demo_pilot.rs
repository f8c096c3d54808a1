//! The demo's accompanying-measures pilot (issue 7): the shipped catalogue and rollout plan
//! (moved so the pilot antenna started three months ago), enrolments of eligible households
//! of the pilot antenna taken through the same service as the case page, a few cases followed
//! by the Tangier antenna agent with visits and referrals that leave follow-up alerts open,
//! and the pre-registered evaluation design with its stored assignment.

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use sanad_domain::{Household, Role};
use sanad_evaluation::assign::{ALGORITHM, Arm, AssignInput, Design};
use sanad_pilot::{
    Attendance, CaseBook, Domain, Pilot, PlannedAntenna, ReferralStatus, RolloutPlan, Service,
    Visit, Worker, WorkerId,
};
use sanad_store::{Scope, Store};
use sanad_web::auth::{Principal, Via};
use sanad_web::service::pilot as svc;

use crate::commands::cli_actor;

/// The pilot antenna's social worker among the demo accounts.
pub const WORKER: &str = "agent-tanger";
/// The demo's design id and seed.
pub const DESIGN_ID: &str = "pilot-2027-households";
const DESIGN_SEED: u64 = 20_270_101;

fn ago(today: NaiveDate, days: u64) -> NaiveDate {
    today
        .checked_sub_days(Days::new(days))
        .expect("a date in range")
}

/// The shipped plan, every wave moved by the same number of months so the pilot antenna
/// started three months before `today` (the shipped plan starts in 2027).
fn demo_plan(today: NaiveDate) -> anyhow::Result<RolloutPlan> {
    let shipped = RolloutPlan::shipped();
    let shift = shipped
        .pilot()
        .start
        .months_until(sanad_domain::Month::of(today).plus(-3));
    let antennas = shipped
        .antennas()
        .iter()
        .map(|a| PlannedAntenna {
            start: a.start.plus(shift),
            ..a.clone()
        })
        .collect();
    Ok(RolloutPlan::new(None, antennas)?)
}

pub async fn demo_pilot(store: Arc<dyn Store>, today: NaiveDate) -> anyhow::Result<()> {
    let state = sanad_web::AppState::new(store.clone(), sanad_web::SecurityConfig::default());
    let pilot = Pilot {
        catalogue: sanad_pilot::Catalogue::shipped(),
        plan: demo_plan(today)?,
    };
    svc::save_config(&state, &pilot, &cli_actor("demo"))
        .await
        .map_err(|e| anyhow::anyhow!("pilot catalogue: {e}"))?;
    let antenna = pilot.plan.pilot().province.clone();
    let scope = Scope::Antennas(vec![antenna.clone()]);
    let page = store.list_households(&scope, None, 600).await?;
    let mut households = Vec::with_capacity(page.len());
    for h in &page {
        households.extend(store.household(&scope, &h.rsu_id).await?);
    }
    let enrolled = enrol(&state, &pilot, &households).await?;
    let cases = open_cases(&*store, &pilot, &enrolled, today).await?;
    let design = register_design(&state, &households).await?;
    println!(
        "pilot: antenna {antenna} started {}; {} enrolments, {cases} cases followed by {WORKER}; design {DESIGN_ID} sha256 {}",
        pilot.plan.pilot().start,
        enrolled.len(),
        design.hash
    );
    Ok(())
}

/// Enrol eligible households (at most 60, one measure each) through the case page's service.
async fn enrol(
    state: &sanad_web::AppState,
    pilot: &Pilot,
    households: &[Household],
) -> anyhow::Result<Vec<(Household, Domain)>> {
    let agent = Principal {
        username: WORKER.into(),
        display_name: "Youssef Agent Tanger".into(),
        role: Role::AntennaAgent,
        scope: Scope::Antennas(vec![pilot.plan.pilot().province.clone()]),
        locale: sanad_web::i18n::Locale::Fr,
        via: Via::Token {
            id: "demo".into(),
            scopes: vec!["households:read".into(), "cases:write".into()],
        },
    };
    let req = sanad_web::RequestId("demo-pilot".into());
    let mut out = Vec::new();
    let measures = pilot.catalogue.measures();
    for (i, h) in households.iter().enumerate() {
        if out.len() >= 60 {
            break;
        }
        // Each household tries the measures from a different one, so every measure gets some.
        for m in measures
            .iter()
            .cycle()
            .skip(i % measures.len())
            .take(measures.len())
        {
            match svc::enrol(state, &agent, &req, &h.rsu_id.to_string(), m.id.as_str()).await {
                Ok(_) => {
                    out.push((h.clone(), m.domain));
                    break;
                }
                Err(
                    sanad_web::WebError::Refused(_)
                    | sanad_web::WebError::Conflict(_)
                    | sanad_web::WebError::Localized { .. },
                ) => continue,
                Err(e) => anyhow::bail!("enrolling {}: {e}", h.rsu_id),
            }
        }
    }
    Ok(out)
}

/// Six cases at different stages, so the caseload shows each kind of alert and a case that
/// is on track.
async fn open_cases(
    store: &dyn Store,
    pilot: &Pilot,
    enrolled: &[(Household, Domain)],
    today: NaiveDate,
) -> anyhow::Result<usize> {
    let worker = Worker {
        id: WorkerId::parse(WORKER).map_err(anyhow::Error::msg)?,
        antenna: pilot.plan.pilot().province.clone(),
        role: Role::AntennaAgent,
        active: true,
    };
    let mut book = CaseBook::new();
    let visit = |date, attendance, notes: &str, next_visit| Visit {
        date,
        attendance,
        notes: notes.into(),
        next_steps: String::new(),
        next_visit,
    };
    for (i, (h, domain)) in enrolled.iter().take(6).enumerate() {
        let opened = ago(today, [75, 60, 45, 30, 20, 15][i]);
        book.open(&pilot.plan, h, std::slice::from_ref(&worker), 40, opened)?;
        let case = book.case_mut(&h.rsu_id)?;
        // Case 4's goal fell due three days ago: a goal alert.
        let target = if i == 4 {
            ago(today, 3)
        } else {
            opened + Days::new(120)
        };
        case.add_goal(
            *domain,
            "Objectif fixé avec la famille à l'ouverture du dossier",
            target,
            opened,
        )?;
        match i {
            // 0: never visited since the opening, more than twice the interval: critical.
            1 => case.record_visit(
                visit(
                    ago(today, 50),
                    Attendance::Present,
                    "Famille rencontrée, besoins recensés.",
                    Some(ago(today, 40)),
                ),
                today,
            )?,
            2 => {
                case.record_visit(
                    visit(
                        ago(today, 40),
                        Attendance::Absent,
                        "Personne au domicile.",
                        None,
                    ),
                    today,
                )?;
                case.record_visit(
                    visit(
                        ago(today, 20),
                        Attendance::Absent,
                        "Absents à nouveau ; voisins prévenus.",
                        None,
                    ),
                    today,
                )?;
            }
            3 => {
                case.record_visit(
                    visit(
                        ago(today, 25),
                        Attendance::Present,
                        "Enfant déscolarisé depuis un an.",
                        None,
                    ),
                    today,
                )?;
                case.refer(
                    Service::School,
                    "École primaire du quartier",
                    ago(today, 25),
                    today,
                )?;
            }
            4 => case.record_visit(
                visit(
                    ago(today, 5),
                    Attendance::Present,
                    "Suivi régulier.",
                    Some(today + Days::new(5)),
                ),
                today,
            )?,
            5 => {
                case.record_visit(
                    visit(
                        ago(today, 2),
                        Attendance::Present,
                        "Bilan de santé fait.",
                        Some(today + Days::new(20)),
                    ),
                    today,
                )?;
                let r = case.refer(
                    Service::HealthCentre,
                    "Centre de santé urbain",
                    ago(today, 10),
                    today,
                )?;
                case.update_referral(
                    r,
                    ReferralStatus::Completed,
                    ago(today, 3),
                    "Consultation faite, suivi prévu",
                    today,
                )?;
            }
            _ => {}
        }
    }
    for case in book.cases() {
        store
            .save_case(
                &svc::case_to_row(case).map_err(|e| anyhow::anyhow!("{e}"))?,
                "open",
                &cli_actor(WORKER),
            )
            .await?;
    }
    Ok(book.cases().len())
}

/// The evaluation design, frozen before its assignment: households of the pilot antenna
/// randomised 1:1 within each commune (the antenna has too few communes for a balanced
/// cluster design), then the assignment of every listed household stored with it.
async fn register_design(
    state: &sanad_web::AppState,
    households: &[Household],
) -> anyhow::Result<sanad_store::pilot::DesignRow> {
    let design = Design {
        algorithm: ALGORITHM.into(),
        seed: DESIGN_SEED,
        unit: "rsu_id".into(),
        cluster: None,
        strata: vec!["commune".into()],
        arms: vec![
            Arm {
                name: "control".into(),
                share: 0.5,
            },
            Arm {
                name: "treatment".into(),
                share: 0.5,
            },
        ],
        waves: None,
    };
    let input = AssignInput {
        ids: households.iter().map(|h| h.rsu_id.to_string()).collect(),
        strata: vec![
            households
                .iter()
                .map(|h| h.residence.commune.clone())
                .collect(),
        ],
        clusters: None,
    };
    svc::register_and_assign(state, DESIGN_ID, &design, &input, &cli_actor("analyst"))
        .await
        .map_err(|e| anyhow::anyhow!("design {DESIGN_ID}: {e}"))
}

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
    let surveyed = survey_rounds(&state).await?;
    println!(
        "pilot: antenna {antenna} started {}; {} enrolments, {cases} cases followed by {WORKER}; design {DESIGN_ID} sha256 {}; baseline and follow-up surveys of {surveyed} households",
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

// ---- the design's survey rounds (issue 7, item 9) ----

/// The demo survey's codebook: one outcome, the household's monthly income.
const CODEBOOK: &str = "variable,label_fr,label_ar,label_en,type,allowed,missing_codes\n\
income,Revenu mensuel du ménage (MAD),الدخل الشهري للأسرة (درهم),Monthly household income (MAD),numeric,0..,-99\n";
/// The known effect of the treatment arm on income between the rounds (MAD).
pub const INCOME_EFFECT: i64 = 250;
/// The change every household sees between the rounds (MAD).
pub const INCOME_TREND: i64 = 100;

/// A baseline and a follow-up round over the design's assigned households, imported through
/// the same service as `sanad pilot outcomes import`: the follow-up income is the baseline's
/// plus the trend, plus [`INCOME_EFFECT`] in the treatment arm, so the difference in
/// differences of the arms' means is exactly the effect. Returns the households surveyed.
async fn survey_rounds(state: &sanad_web::AppState) -> anyhow::Result<usize> {
    let analyst = crate::pilot_cmd::principal(&*state.store, "analyst").await?;
    let units = state.store.assignments(&Scope::National, DESIGN_ID).await?;
    let baseline = |unit: &str| {
        // Deterministic spread from the id's digits: no generator whose output may change.
        1_200
            + unit
                .bytes()
                .fold(0_i64, |a, b| (a * 31 + i64::from(b)) % 997)
    };
    let mut rounds = [
        ("baseline", String::from("unit_id,income\n")),
        ("followup", String::from("unit_id,income\n")),
    ];
    // Follow-up noise in pairs (+d, −d) within each arm (an arm's odd last household gets
    // none): it sums to zero in each arm, so the arms' difference in differences is exactly
    // the effect, while a regression still has residuals.
    let mut seen: std::collections::HashMap<&str, (usize, i64)> = Default::default();
    let in_arm = |arm: &str| units.iter().filter(|u| u.arm == arm).count();
    for u in &units {
        let b = baseline(&u.unit);
        let effect = if u.arm == "treatment" {
            INCOME_EFFECT
        } else {
            0
        };
        let (i, previous) = seen.get(u.arm.as_str()).copied().unwrap_or((0, 0));
        let noise = if i % 2 == 1 {
            -previous
        } else if i + 1 < in_arm(&u.arm) {
            baseline(&format!("{}-noise", u.unit)) % 301 - 150
        } else {
            0
        };
        seen.insert(&u.arm, (i + 1, noise));
        rounds[0].1.push_str(&format!("{},{b}\n", u.unit));
        let followup = b + INCOME_TREND + effect + noise;
        rounds[1].1.push_str(&format!("{},{followup}\n", u.unit));
    }
    for (round, csv) in &rounds {
        sanad_web::service::pilot_admin::import_outcomes(
            state,
            &analyst,
            &cli_actor("analyst"),
            ("demo-codebook.csv", CODEBOOK),
            (&format!("demo-{round}.csv"), csv),
            round,
        )
        .await
        .map_err(|e| anyhow::anyhow!("survey {round}: {e}"))?;
    }
    Ok(units.len())
}

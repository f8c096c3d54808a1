//! The demo's applications: cross-check lists derived from the synthetic registry (with a
//! few deliberate gaps, so some checks stay open), imported like real ones, then applications
//! taken through the same service as the web form: a mix of approvals, rejections and reviews.

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use sanad_applications::{Channel, Requested};
use sanad_domain::{Household, Month, Person, Relation, Role, Schooling};
use sanad_store::{Scope, Store};
use sanad_web::auth::{Principal, Via};

use crate::commands::cli_actor;

/// The school year an enrolment list dated `on` describes (September to June).
fn school_year(on: NaiveDate) -> String {
    let start = if on.month() >= 9 {
        on.year()
    } else {
        on.year() - 1
    };
    format!("{start}-{}", start + 1)
}

fn level(s: Schooling) -> Option<&'static str> {
    match s {
        Schooling::PublicPrimary => Some("primary"),
        Schooling::PublicCollege => Some("college"),
        Schooling::PublicSecondary => Some("secondary"),
        Schooling::PublicVocational => Some("vocational"),
        _ => None,
    }
}

/// The six lists as the other administrations would send them, for these households. One
/// pupil in 25 is missing from the enrolment list: those applications go to review.
fn lists(households: &[Household], today: NaiveDate) -> Vec<(String, String)> {
    let header = |kind: &str, source: &str, cols: &str| {
        format!("# list={kind} as_of={today} source={source}\n{cols}\n")
    };
    let mut fa = header("family_allowance", "CNSS-AF", "idcs,scheme");
    let mut payroll = header(
        "public_payroll",
        "DGI-PAYROLL",
        "idcs,employer_kind,employer",
    );
    let mut pensions = header("pensions", "CMR-RCAR", "idcs,fund,sector");
    let mut deaths = header("deaths", "RNP-DECES", "idcs,death_date");
    let mut school = header("school_enrolment", "MASSAR", "idcs,school_year,level");
    let mut cards = header(
        "disability_cards",
        "MSSSF-CARTE",
        "idcs,severity,valid_from,valid_to",
    );
    let year = school_year(today);
    let mut pupil = 0;
    for m in households.iter().flat_map(|h| &h.members) {
        let id = &m.idcs;
        if m.checks.family_allowance.is_some() {
            let _ = writeln!(fa, "{id},cnss");
        }
        if m.checks.public_employee.is_some() {
            let _ = writeln!(payroll, "{id},state,Administration publique");
        }
        if m.checks.pensioner.is_some() {
            let _ = writeln!(pensions, "{id},CMR,public");
        }
        if let Some(d) = m.death_date.filter(|d| *d <= today) {
            let _ = writeln!(deaths, "{id},{d}");
        }
        if let Some(l) = level(m.schooling) {
            pupil += 1;
            if pupil % 25 != 0 {
                let _ = writeln!(school, "{id},{year},{l}");
            }
        }
        if m.disability != sanad_domain::Disability::None {
            let _ = writeln!(cards, "{id},{},2024-01-01,", m.disability.as_str());
        }
    }
    [
        ("family_allowance", fa),
        ("public_payroll", payroll),
        ("pensions", pensions),
        ("deaths", deaths),
        ("school_enrolment", school),
        ("disability_cards", cards),
    ]
    .into_iter()
    .map(|(k, v)| (format!("demo-{k}.csv"), v))
    .collect()
}

/// Every household of the demo registry, whole (members and their cross-check flags).
pub async fn households(store: &dyn Store) -> anyhow::Result<Vec<Household>> {
    first_households(store, u64::MAX).await
}

/// The first `n` households of the registry by RSU id, whole.
pub async fn first_households(store: &dyn Store, n: u64) -> anyhow::Result<Vec<Household>> {
    let mut out = Vec::new();
    let mut after = None;
    while (out.len() as u64) < n {
        let page = store
            .list_households(
                &Scope::National,
                after.as_ref(),
                1_000.min(n - out.len() as u64) as u32,
            )
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.rsu_id.clone());
        let ids: Vec<_> = page.iter().map(|h| h.rsu_id.clone()).collect();
        let mut found = store.households(&Scope::National, &ids).await?;
        found.sort_by(|a, b| a.rsu_id.cmp(&b.rsu_id));
        out.extend(found);
    }
    Ok(out)
}

/// The lists as the administrations would send them on `on`, imported like real ones.
pub async fn import_lists(
    store: &dyn Store,
    households: &[Household],
    on: NaiveDate,
) -> anyhow::Result<()> {
    for (name, text) in lists(households, on) {
        let (meta, rows) = sanad_applications::lists::parse_any(&name, text.as_bytes())
            .map_err(|e| anyhow::anyhow!("{name}: {e:?}"))?;
        store
            .replace_list(
                meta.kind.code(),
                &serde_json::to_string(&meta)?,
                &rows,
                &cli_actor("demo"),
            )
            .await?;
    }
    Ok(())
}

/// The demo's antenna agent, national, as the service sees a caller.
fn agent() -> Principal {
    Principal {
        username: "agent".into(),
        display_name: "Amina Agent".into(),
        role: Role::AntennaAgent,
        scope: Scope::National,
        locale: sanad_web::i18n::Locale::Fr,
        via: Via::Token {
            id: "demo".into(),
            scopes: vec!["households:read".into(), "applications:write".into()],
        },
    }
}

fn state(store: &Arc<dyn Store>, on: NaiveDate) -> sanad_web::AppState {
    sanad_web::AppState::new(store.clone(), sanad_web::SecurityConfig::default()).with_today(on)
}

/// Each household applies on the date `dated` gives it, for the child allowance when it has
/// children under 21, else the flat-rate aid: a day's applications are taken as one batch
/// through the same service as the web form.
pub async fn take(
    store: &Arc<dyn Store>,
    households: &[Household],
    dated: impl Fn(usize) -> NaiveDate,
) -> anyhow::Result<String> {
    let counts = take_by_day(store, households, dated).await?;
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    Ok(format!(
        "{} applications ({})",
        households.len(),
        summary.join(", ")
    ))
}

/// [`take`] on one day, as counts by status.
pub async fn take_counts(
    store: &Arc<dyn Store>,
    households: &[Household],
    on: NaiveDate,
) -> anyhow::Result<std::collections::BTreeMap<String, u64>> {
    take_by_day(store, households, |_| on).await
}

async fn take_by_day(
    store: &Arc<dyn Store>,
    households: &[Household],
    dated: impl Fn(usize) -> NaiveDate,
) -> anyhow::Result<std::collections::BTreeMap<String, u64>> {
    let req = sanad_web::RequestId("demo-applications".into());
    let agent = agent();
    let mut days =
        std::collections::BTreeMap::<NaiveDate, Vec<sanad_web::service::ApplicationForm>>::new();
    for (i, h) in households.iter().enumerate() {
        let on = dated(i);
        // One household in three reads its notices in Arabic.
        let language = Some(if i % 3 == 2 {
            sanad_applications::notify::Language::Ar
        } else {
            sanad_applications::notify::Language::Fr
        });
        let children = h.members.iter().any(|m| {
            matches!(
                m.relation,
                Relation::Child | Relation::KafalaChild | Relation::Ward
            ) && m.age_on(on) < 21
        });
        let components = vec![if children {
            Requested::ChildAllowance
        } else {
            Requested::FlatRate
        }];
        days.entry(on)
            .or_default()
            .push(sanad_web::service::ApplicationForm {
                household_id: h.rsu_id.to_string(),
                components,
                channel: Some(Channel::Web),
                language,
            });
    }
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for (on, forms) in days {
        let files = sanad_web::service::submit_applications(
            &state(store, on),
            &agent,
            &req,
            &forms,
            Channel::Web,
            on,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{on}: {e}"))?;
        for f in files {
            *counts
                .entry(sanad_web::service::wire_name(&f.status))
                .or_default() += 1;
        }
    }
    Ok(counts)
}

/// The agent works through the review queue on `on`: rejects for the first failed check's
/// reason, approves the rest (open checks the agent settles by hand; the payroll still pays
/// only what the rules give).
pub async fn review(store: &Arc<dyn Store>, on: NaiveDate) -> anyhow::Result<usize> {
    let (state, agent) = (state(store, on), agent());
    let req = sanad_web::RequestId("demo-review".into());
    let mut n = 0;
    loop {
        let queue = sanad_web::service::review_queue(&state, &agent)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if queue.is_empty() {
            return Ok(n);
        }
        for f in queue {
            let reject = f.checks.iter().find_map(|c| c.reason);
            sanad_web::service::decide_application(&state, &agent, &req, &f.receipt, reject)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e}", f.receipt))?;
            n += 1;
        }
    }
}

/// Life events declared on `on` by the agent for some of these households, effective the first
/// of the month before: a birth in one household in 250, the death of the youngest child in
/// another — the next payroll pays the first as arrears and recovers the second.
pub async fn events(
    store: &Arc<dyn Store>,
    households: &[Household],
    on: NaiveDate,
) -> anyhow::Result<String> {
    use sanad_applications::EventKind;
    let (state, agent) = (state(store, on), agent());
    let req = sanad_web::RequestId("demo-events".into());
    let effective = Month::of(on).plus(-1).first_day();
    let (mut births, mut deaths) = (0, 0);
    for (i, h) in households.iter().enumerate() {
        let kind = match i % 250 {
            7 => {
                let Some(head) = h.members.iter().find(|m| m.relation == Relation::Head) else {
                    continue;
                };
                let idcs = sanad_domain::Idcs::from_body(900_000_000 + i as u64);
                let child = Person::newborn(
                    idcs,
                    "Yasmine".into(),
                    "ياسمين".into(),
                    sanad_domain::Sex::Female,
                    effective,
                    head,
                );
                EventKind::Birth {
                    child: Box::new(child),
                }
            }
            101 => {
                let alive = h.members.iter().filter(|m| {
                    m.relation.is_child() && m.death_date.is_none() && m.birth_date < effective
                });
                let Some(youngest) = alive.max_by_key(|m| m.birth_date) else {
                    continue;
                };
                EventKind::Death {
                    person: youngest.idcs.clone(),
                }
            }
            _ => continue,
        };
        let is_birth = matches!(kind, EventKind::Birth { .. });
        // A household the event cannot apply to (e.g. its data changed) is skipped, as an agent would.
        if sanad_web::service::declare_event(
            &state,
            &agent,
            &req,
            &h.rsu_id.to_string(),
            kind,
            effective,
        )
        .await
        .is_ok()
        {
            if is_birth { births += 1 } else { deaths += 1 }
        }
    }
    Ok(format!(
        "{births} births and {deaths} deaths declared on {on}, effective {effective}"
    ))
}

//! The demo's applications: cross-check lists derived from the synthetic registry (with a
//! few deliberate gaps, so some checks stay open), imported like real ones, then applications
//! taken through the same service as the web form: a mix of approvals, rejections and reviews.

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use sanad_applications::{Channel, Requested};
use sanad_domain::{Household, Relation, Role, Schooling};
use sanad_store::{Scope, Store};
use sanad_web::auth::{Principal, Via};

use crate::commands::cli_actor;

/// The school year an enrolment list dated `on` describes (September to June).
fn school_year(on: NaiveDate) -> String {
    let start = if on.month() >= 9 { on.year() } else { on.year() - 1 };
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
    let header = |kind: &str, source: &str, cols: &str| format!("# list={kind} as_of={today} source={source}\n{cols}\n");
    let mut fa = header("family_allowance", "CNSS-AF", "idcs,scheme");
    let mut payroll = header("public_payroll", "DGI-PAYROLL", "idcs,employer_kind,employer");
    let mut pensions = header("pensions", "CMR-RCAR", "idcs,fund,sector");
    let mut deaths = header("deaths", "RNP-DECES", "idcs,death_date");
    let mut school = header("school_enrolment", "MASSAR", "idcs,school_year,level");
    let mut cards = header("disability_cards", "MSSSF-CARTE", "idcs,severity,valid_from,valid_to");
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
        if let Some(d) = m.death_date {
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
    [("family_allowance", fa), ("public_payroll", payroll), ("pensions", pensions), ("deaths", deaths), ("school_enrolment", school), ("disability_cards", cards)]
        .into_iter()
        .map(|(k, v)| (format!("demo-{k}.csv"), v))
        .collect()
}

/// Import the lists, then take `n` applications as a national antenna agent would.
pub async fn demo_applications(store: Arc<dyn Store>, n: u32, today: NaiveDate) -> anyhow::Result<()> {
    let page = store.list_households(&Scope::National, None, n).await?;
    let mut households = Vec::with_capacity(page.len());
    for h in &page {
        households.extend(store.household(&Scope::National, &h.rsu_id).await?);
    }
    for (name, text) in lists(&households, today) {
        let (meta, rows) = sanad_applications::lists::parse_any(&name, text.as_bytes()).map_err(|e| anyhow::anyhow!("{name}: {e:?}"))?;
        store.replace_list(meta.kind.code(), &serde_json::to_string(&meta)?, &rows, &cli_actor("demo")).await?;
    }
    let state = sanad_web::AppState::new(store.clone(), sanad_web::SecurityConfig::default());
    let agent = Principal {
        username: "agent".into(),
        display_name: "Amina Agent".into(),
        role: Role::AntennaAgent,
        scope: Scope::National,
        locale: sanad_web::i18n::Locale::Fr,
        via: Via::Token { id: "demo".into(), scopes: vec!["households:read".into(), "applications:write".into()] },
    };
    let req = sanad_web::RequestId("demo-applications".into());
    let mut counts = std::collections::BTreeMap::<String, u32>::new();
    for (i, h) in households.iter().enumerate() {
        // One household in three reads its notices in Arabic.
        let language = Some(if i % 3 == 2 { sanad_applications::notify::Language::Ar } else { sanad_applications::notify::Language::Fr });
        let children = h.members.iter().any(|m| matches!(m.relation, Relation::Child | Relation::KafalaChild | Relation::Ward) && m.age_on(today) < 21);
        let components = vec![if children { Requested::ChildAllowance } else { Requested::FlatRate }];
        let form = sanad_web::service::ApplicationForm { household_id: h.rsu_id.to_string(), components, channel: Some(Channel::Web), language };
        let file = sanad_web::service::submit_application(&state, &agent, &req, &form, Channel::Web).await.map_err(|e| anyhow::anyhow!("{}: {e}", h.rsu_id))?;
        *counts.entry(serde_json::to_value(file.status)?.as_str().unwrap_or_default().to_owned()).or_default() += 1;
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    println!("applications: {} taken ({}), cross-check lists imported", households.len(), summary.join(", "));
    Ok(())
}

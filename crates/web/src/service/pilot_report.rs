//! The evaluation report of a registered design on the pilot's own data (issue 7, item 8): the
//! analysis dataset (assignment, survey rounds, administrative outcomes) read as
//! `sanad pilot outcomes export` writes it, then `sanad_evaluation::report::analyse` — the same
//! estimators as the synthetic pilot's report. Households are never named in it.

use sanad_domain::Permission;
use sanad_evaluation::assign::Design;
use sanad_evaluation::report::{OutcomeSpec, Report, ReportSpec};

use super::pilot_outcomes::Window;
use crate::AppState;
use crate::auth::Principal;
use crate::error::WebError;

/// Administrative outcome columns of the dataset, with the baseline column they control for.
const ADMIN: [(&str, Option<&str>); 5] = [
    ("members_in_school_list", None),
    ("health_visits", None),
    (
        "formal_employed_members",
        Some("formal_employed_members_bl"),
    ),
    ("any_formal_employment", None),
    ("payments_received", None),
];

/// The report of a two-arm design whose assignment is stored: balance on the baseline
/// variables, ITT (ANCOVA on the baseline value where there is one, strata fixed effects, HC1)
/// (CR1 by cluster for a cluster design) for each follow-up survey variable and administrative
/// outcome, LATE by 2SLS with enrolment in a measure as take-up, q-values by family.
pub async fn design_report(
    s: &AppState,
    p: &Principal,
    design_id: &str,
) -> Result<Report, WebError> {
    p.require(Permission::DesignsManage)?;
    let (row, design) = super::pilot_admin::stored_design(s, design_id).await?;
    if design.arms.len() != 2 {
        return Err(WebError::Refused(format!(
            "design {design_id}: the report compares two arms, the design has {}",
            design.arms.len()
        )));
    }
    // Pseudonyms are computed and dropped here: a throwaway key, never stored.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let key = sanad_store::pilot::design_hash(&format!("report {design_id} {nanos}"));
    let table =
        super::pilot_admin::analysis_dataset(s, p, design_id, key.as_bytes(), Window::default())
            .await?;
    let columns: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    let mut spec = spec(design_id, design, row.hash, &columns)?;
    let mut csv = Vec::new();
    sanad_evaluation::export::write_csv(&table, &mut csv).map_err(invalid)?;
    tokio::task::spawn_blocking(move || {
        let frame =
            sanad_evaluation::data::Frame::from_reader(&csv[..], "analysis").map_err(invalid)?;
        // A column without variation (no payment yet, nobody listed) has nothing to estimate.
        let varies = |c: &str| frame.column(c).is_ok_and(|v| v.iter().any(|x| x != &v[0]));
        spec.outcomes.retain(|o| varies(&o.name));
        spec.takeup = spec.takeup.take().filter(|t| varies(t));
        spec.balance_vars.retain(|b| varies(b));
        for o in &mut spec.outcomes {
            o.controls.retain(|c| varies(c));
        }
        if spec.outcomes.is_empty() {
            return Err(WebError::Refused(
                "no outcome varies yet: import a follow-up survey round or an outcome list".into(),
            ));
        }
        sanad_evaluation::report::analyse(&spec, &frame, None, None).map_err(invalid)
    })
    .await
    .map_err(|e| WebError::Invalid(e.to_string()))?
}

fn invalid(e: sanad_evaluation::EvalError) -> WebError {
    WebError::Invalid(e.to_string())
}

/// What the dataset's columns allow: survey variables measured at follow-up (with their
/// baseline as control when measured then too), and the administrative outcomes present.
fn spec(
    id: &str,
    design: Design,
    hash: String,
    columns: &[String],
) -> Result<ReportSpec, WebError> {
    let has = |c: &str| columns.iter().any(|x| x == c);
    let admin: Vec<&str> = ADMIN
        .iter()
        .flat_map(|(a, b)| [Some(*a), *b])
        .flatten()
        .collect();
    let fixed = [
        "pid", "stratum", "arm", "treat", "wave", "cluster", "takeup",
    ];
    let mut outcomes = Vec::new();
    let mut balance = Vec::new();
    for c in columns {
        if fixed.contains(&c.as_str()) || admin.contains(&c.as_str()) || c.ends_with("_bl") {
            continue;
        }
        if c.starts_with("payments_received") {
            continue;
        }
        let bl = format!("{c}_bl");
        if has(&bl) {
            balance.push(bl.clone());
        }
        outcomes.push(OutcomeSpec {
            name: c.clone(),
            family: "survey".into(),
            label: None,
            controls: if has(&bl) { vec![bl] } else { vec![] },
        });
    }
    for (name, bl) in ADMIN {
        if has(name) {
            let controls: Vec<String> = bl
                .filter(|b| has(b))
                .map(str::to_owned)
                .into_iter()
                .collect();
            balance.extend(controls.iter().cloned());
            outcomes.push(OutcomeSpec {
                name: name.into(),
                family: "administrative".into(),
                label: None,
                controls,
            });
        }
    }
    if outcomes.is_empty() {
        return Err(WebError::Refused(
            "no outcome yet: import a follow-up survey round or an outcome list".into(),
        ));
    }
    Ok(ReportSpec {
        title: Some(id.to_owned()),
        design,
        design_hash: Some(hash),
        treatment: "treat".into(),
        takeup: has("takeup").then(|| "takeup".to_owned()),
        strata: Some("stratum".into()),
        cluster: has("cluster").then(|| "cluster".to_owned()),
        balance_vars: balance,
        outcomes,
        level: 0.95,
        rd: None,
        did: None,
    })
}

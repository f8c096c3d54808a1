//! Callaway–Sant'Anna against csdid 0.4 (Python port of R `did`) on a
//! simulated staggered panel (reference/make_fixtures.py, `did_data`).

mod common;
use common::*;

use sanad_evaluation::data::Factor;
use sanad_evaluation::did::{
    Aggregation, BootWeights, Bootstrap, ControlGroup, CsOptions, CsResult, Panel,
    callaway_santanna,
};
use serde_json::Value;

const ATT_TOL: f64 = 1e-8;
const SE_TOL: f64 = 1e-8;

fn panel() -> Panel {
    let s = select("staggered", &["y", "year", "first_treat"], &["id"]);
    Panel {
        id: Factor::from_labels(s.lab("id")),
        time: col(&s, "year"),
        first_treat: col(&s, "first_treat"),
        y: col(&s, "y"),
    }
}

fn check_agg(got: &Aggregation, want: &Value, what: &str) {
    assert_close(
        got.overall_att,
        f(&want["overall_att"]),
        ATT_TOL,
        &format!("{what} overall att"),
    );
    assert_close(
        got.overall_se,
        f(&want["overall_se"]),
        SE_TOL,
        &format!("{what} overall se"),
    );
    if want.get("key").is_some() {
        let keys: Vec<f64> = got.effects.iter().map(|e| e.key).collect();
        assert_eq!(keys, fv(&want["key"]), "{what} keys");
        let att: Vec<f64> = got.effects.iter().map(|e| e.att).collect();
        let se: Vec<f64> = got.effects.iter().map(|e| e.se).collect();
        assert_all_close(&att, &fv(&want["att"]), ATT_TOL, &format!("{what} att"));
        assert_all_close(&se, &fv(&want["se"]), SE_TOL, &format!("{what} se"));
    }
}

fn check(r: &CsResult, want: &Value) {
    let gt = &want["att_gt"];
    let groups: Vec<f64> = r.att_gt.iter().map(|c| c.group).collect();
    let times: Vec<f64> = r.att_gt.iter().map(|c| c.time).collect();
    assert_eq!(groups, fv(&gt["group"]));
    assert_eq!(times, fv(&gt["time"]));
    let att: Vec<f64> = r.att_gt.iter().map(|c| c.att).collect();
    let se: Vec<f64> = r.att_gt.iter().map(|c| c.se).collect();
    assert_all_close(&att, &fv(&gt["att"]), ATT_TOL, "att_gt");
    assert_all_close(&se, &fv(&gt["se"]), SE_TOL, "se_gt");
    check_agg(&r.simple, &want["simple"], "simple");
    check_agg(&r.dynamic, &want["dynamic"], "dynamic");
    check_agg(&r.group, &want["group"], "group");
}

#[test]
fn never_treated_matches_csdid() {
    let r = callaway_santanna(&panel(), &CsOptions::default()).unwrap();
    check(&r, &fixture("did_staggered")["nevertreated"]);
}

#[test]
fn not_yet_treated_matches_csdid() {
    let opts = CsOptions {
        control: ControlGroup::NotYet,
        ..Default::default()
    };
    let r = callaway_santanna(&panel(), &opts).unwrap();
    check(&r, &fixture("did_staggered")["notyettreated"]);
}

#[test]
fn uniform_bands_cover_pointwise() {
    let opts = CsOptions {
        bootstrap: Some(Bootstrap {
            iterations: 999,
            seed: 7,
            weights: BootWeights::Mammen,
        }),
        ..Default::default()
    };
    let r = callaway_santanna(&panel(), &opts).unwrap();
    let crit = r.dynamic.uniform_critical_value.unwrap();
    assert!(crit > 1.96 && crit < 3.5, "{crit}");
    for e in &r.dynamic.effects {
        let (lo, hi) = e.band.unwrap();
        assert!(
            lo < e.ci_low + 0.05 * e.se && hi > e.ci_high - 0.05 * e.se,
            "{e:?}"
        );
    }
    let again = callaway_santanna(&panel(), &opts).unwrap();
    assert_eq!(again.att_gt_critical_value, r.att_gt_critical_value);
}

//! OLS, absorbed fixed effects and 2SLS against statsmodels, pyfixest and
//! linearmodels (fixtures made by reference/make_fixtures.py).

mod common;
use common::*;

use sanad_evaluation::data::Factor;
use sanad_evaluation::iv::{IvInput, iv};
use sanad_evaluation::ols::{OlsInput, RegResult, Vcov, ols};
use serde_json::Value;

const COEF_TOL: f64 = 1e-8;
const SE_TOL: f64 = 1e-8;

fn check(r: &RegResult, want: &Value, what: &str) {
    let names: Vec<String> = want["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(r.names, names, "{what}: names");
    assert_all_close(
        &r.coef,
        &fv(&want["coef"]),
        COEF_TOL,
        &format!("{what} coef"),
    );
    assert_all_close(&r.se, &fv(&want["se"]), SE_TOL, &format!("{what} se"));
    assert_all_close(&r.p, &fv(&want["p"]), SE_TOL, &format!("{what} p"));
    assert_all_close(
        &r.ci_low,
        &fv(&want["ci_low"]),
        SE_TOL,
        &format!("{what} ci_low"),
    );
    assert_all_close(
        &r.ci_high,
        &fv(&want["ci_high"]),
        SE_TOL,
        &format!("{what} ci_high"),
    );
    assert_close(
        r.df_inference,
        f(&want["df_inference"]),
        1e-12,
        &format!("{what} df"),
    );
}

fn mroz_ols(vcov: Vcov) -> RegResult {
    let s = select("mroz", &["lwage", "educ", "exper", "expersq"], &["age"]);
    let x = vec![col(&s, "educ"), col(&s, "exper"), col(&s, "expersq")];
    let mut input = OlsInput::new(
        col(&s, "lwage"),
        x,
        vec!["educ".into(), "exper".into(), "expersq".into()],
    );
    input.vcov = vcov;
    input.cluster = Some(Factor::from_labels(s.lab("age")));
    ols(input).unwrap()
}

#[test]
fn ols_mroz_matches_statsmodels() {
    let fx = fixture("ols_mroz");
    let r = mroz_ols(Vcov::Iid);
    assert_eq!(r.n as f64, f(&fx["iid"]["n"]));
    assert_close(r.r2, f(&fx["iid"]["r2"]), 1e-8, "r2");
    check(&r, &fx["iid"], "iid");
    check(&mroz_ols(Vcov::Hc1), &fx["hc1"], "hc1");
    let r = mroz_ols(Vcov::Cr1);
    assert_eq!(r.clusters.unwrap() as f64, f(&fx["cr1"]["clusters"]));
    check(&r, &fx["cr1"], "cr1");
}

fn grunfeld_fe(vcov: Vcov, cluster: &str) -> RegResult {
    let s = select(
        "grunfeld",
        &["invest", "value", "capital"],
        &["firm", "year"],
    );
    let mut input = OlsInput::new(
        col(&s, "invest"),
        vec![col(&s, "value"), col(&s, "capital")],
        vec!["value".into(), "capital".into()],
    );
    input.fe = Some(Factor::from_labels(s.lab("firm")));
    input.cluster = Some(Factor::from_labels(s.lab(cluster)));
    input.vcov = vcov;
    ols(input).unwrap()
}

#[test]
fn fe_grunfeld_matches_pyfixest() {
    let fx = fixture("fe_grunfeld");
    check(&grunfeld_fe(Vcov::Iid, "firm"), &fx["iid"], "iid");
    check(&grunfeld_fe(Vcov::Hc1, "firm"), &fx["hc1"], "hc1");
    check(&grunfeld_fe(Vcov::Cr1, "firm"), &fx["cr1"], "cr1 nested");
    check(
        &grunfeld_fe(Vcov::Cr1, "year"),
        &fx["cr1_year"],
        "cr1 not nested",
    );
}

fn mroz_iv(vcov: Vcov) -> sanad_evaluation::iv::IvResult {
    let s = select(
        "mroz",
        &["lwage", "educ", "exper", "expersq", "motheduc", "fatheduc"],
        &["age"],
    );
    iv(IvInput {
        y: col(&s, "lwage"),
        exog: vec![col(&s, "exper"), col(&s, "expersq")],
        exog_names: vec!["exper".into(), "expersq".into()],
        endog: vec![col(&s, "educ")],
        endog_names: vec!["educ".into()],
        instruments: vec![col(&s, "motheduc"), col(&s, "fatheduc")],
        instrument_names: vec!["motheduc".into(), "fatheduc".into()],
        intercept: true,
        fe: None,
        cluster: Some(Factor::from_labels(s.lab("age"))),
        vcov,
        level: 0.95,
    })
    .unwrap()
}

#[test]
fn iv_mroz_matches_linearmodels() {
    let fx = fixture("iv_mroz");
    let r = mroz_iv(Vcov::Iid);
    assert_eq!(r.fit.n as f64, f(&fx["iid"]["n"]));
    check(&r.fit, &fx["iid"], "iid");
    assert_close(
        r.first_stage_f[0],
        f(&fx["first_stage_f_iid"]),
        SE_TOL,
        "first stage F",
    );
    check(&mroz_iv(Vcov::Hc1).fit, &fx["hc1"], "hc1");
    check(&mroz_iv(Vcov::Cr1).fit, &fx["cr1"], "cr1");
}

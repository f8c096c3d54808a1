//! Shared helpers of the reference tests: fixtures are JSON written by
//! `reference/make_fixtures.py`; data are CSV files next to them.
#![allow(dead_code)]

use std::path::PathBuf;

use sanad_evaluation::data::{Frame, Selection};
use serde_json::Value;

pub fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(rel)
}

pub fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(path(&format!("fixtures/{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn frame(name: &str) -> Frame {
    Frame::from_path(path(&format!("data/{name}.csv"))).unwrap()
}

pub fn select(name: &str, num: &[&str], lab: &[&str]) -> Selection {
    frame(name).select(num, lab).unwrap()
}

pub fn col(s: &Selection, name: &str) -> Vec<f64> {
    s.num(name).to_vec()
}

pub fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

pub fn fv(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f).collect()
}

/// Relative closeness with an absolute floor for values near zero.
pub fn assert_close(got: f64, want: f64, rtol: f64, what: &str) {
    let err = (got - want).abs();
    let scale = want.abs().max(1e-12);
    assert!(
        err <= rtol * scale,
        "{what}: got {got:.12e}, want {want:.12e} (rel err {:.3e})",
        err / scale
    );
}

pub fn assert_all_close(got: &[f64], want: &[f64], rtol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_close(*g, *w, rtol, &format!("{what}[{i}]"));
    }
}

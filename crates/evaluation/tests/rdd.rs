//! Sharp RD against rdrobust 2.1 (Python) on the US Senate data of
//! Cattaneo, Frandsen & Titiunik (2015).

mod common;
use common::*;

use sanad_evaluation::rdd::{Kernel, RdOptions, rdrobust};

const TOL: f64 = 1e-8;

fn check(opts: RdOptions, key: &str) {
    let s = select("senate", &["vote", "margin"], &[]);
    let r = rdrobust(s.num("vote"), s.num("margin"), &opts).unwrap();
    let fx = &fixture("rdd_senate")[key];
    assert_eq!(r.n_left as f64, f(&fx["n_left"]), "{key} n_left");
    assert_eq!(r.n_right as f64, f(&fx["n_right"]), "{key} n_right");
    assert_eq!(r.n_h_left as f64, f(&fx["n_h_left"]), "{key} n_h_left");
    assert_eq!(r.n_h_right as f64, f(&fx["n_h_right"]), "{key} n_h_right");
    let pairs = [
        ("h", r.h),
        ("b", r.b),
        ("tau_conventional", r.tau_conventional),
        ("tau_bias_corrected", r.tau_bias_corrected),
        ("se_conventional", r.se_conventional),
        ("se_robust", r.se_robust),
        ("p_robust", r.p_robust),
        ("ci_robust_low", r.ci_robust_low),
        ("ci_robust_high", r.ci_robust_high),
    ];
    for (name, got) in pairs {
        assert_close(got, f(&fx[name]), TOL, &format!("{key} {name}"));
    }
}

#[test]
fn senate_default_mserd() {
    check(RdOptions::default(), "default");
}

#[test]
fn senate_other_cutoff() {
    check(
        RdOptions {
            cutoff: 5.0,
            ..Default::default()
        },
        "cutoff_5",
    );
}

#[test]
fn senate_uniform_kernel() {
    check(
        RdOptions {
            kernel: Kernel::Uniform,
            ..Default::default()
        },
        "uniform",
    );
}

#[test]
fn senate_manual_bandwidths() {
    check(
        RdOptions {
            h: Some(15.0),
            b: Some(25.0),
            ..Default::default()
        },
        "manual_h",
    );
}

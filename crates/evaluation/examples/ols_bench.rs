//! Timing of OLS with one absorbed fixed effect and CR1 standard errors on
//! synthetic data: `cargo run --release -p sanad-evaluation --example ols_bench [rows]`.
//! Default 10 000 000 rows × 10 regressors, 1 000 FE levels, 1 000 clusters.

use std::time::Instant;

use sanad_evaluation::data::Factor;
use sanad_evaluation::did::SplitMix64;
use sanad_evaluation::ols::{OlsInput, Vcov, ols};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let (k, levels) = (10, 1000u64);
    let t0 = Instant::now();
    let mut rng = SplitMix64(2024);
    let fe: Vec<u32> = (0..n).map(|_| (rng.next_u64() % levels) as u32).collect();
    let cl: Vec<u32> = fe.iter().map(|&g| (g * 7 + 3) % levels as u32).collect();
    let effects: Vec<f64> = (0..levels).map(|_| rng.next_f64() * 4.0).collect();
    let x: Vec<Vec<f64>> = (0..k)
        .map(|_| (0..n).map(|_| rng.next_f64() - 0.5).collect())
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let xb: f64 = (0..k).map(|j| (j as f64 + 1.0) * 0.1 * x[j][i]).sum();
            effects[fe[i] as usize] + xb + rng.next_f64() - 0.5
        })
        .collect();
    let names = (0..k).map(|j| format!("x{j}")).collect();
    println!("generated {n} rows in {:.2} s", t0.elapsed().as_secs_f64());
    let input = OlsInput {
        y,
        x,
        names,
        intercept: true,
        fe: Some(Factor::from_codes(fe)),
        cluster: Some(Factor::from_codes(cl)),
        vcov: Vcov::Cr1,
        level: 0.95,
    };
    let t1 = Instant::now();
    let r = ols(input).expect("fit");
    let secs = t1.elapsed().as_secs_f64();
    println!(
        "ols fe+cr1: n={} k={} fe_levels={:?} clusters={:?}",
        r.n, r.k, r.fe_levels, r.clusters
    );
    println!(
        "x0 = {:.5} (se {:.5}), x9 = {:.5} (se {:.5})",
        r.coef[0], r.se[0], r.coef[9], r.se[9]
    );
    println!("fit seconds: {secs:.3}");
}

//! Multiple-outcome corrections: Benjamini–Hochberg q-values, Anderson (2008)
//! sharpened q-values (Benjamini, Krieger & Yekutieli 2006 two-stage), and
//! Holm family-wise adjusted p-values. Input order is preserved in the output.

use crate::error::{Result, invalid};

fn check(p: &[f64]) -> Result<()> {
    if p.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return invalid("p-values must lie in [0, 1]");
    }
    Ok(())
}

fn order(p: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    idx
}

/// BH adjusted p-values (q-values): `q_(i) = min_{j ≥ i} m p_(j) / j`, capped at 1
/// (statsmodels `fdr_bh`).
pub fn benjamini_hochberg(p: &[f64]) -> Result<Vec<f64>> {
    check(p)?;
    let m = p.len() as f64;
    let idx = order(p);
    let mut out = vec![0.0; p.len()];
    let mut running = 1.0_f64;
    for (rank, &i) in idx.iter().enumerate().rev() {
        running = running.min(p[i] * m / (rank + 1) as f64);
        out[i] = running;
    }
    Ok(out)
}

/// Holm step-down adjusted p-values: `max_{j ≤ i} (m − j + 1) p_(j)`, capped at 1.
pub fn holm(p: &[f64]) -> Result<Vec<f64>> {
    check(p)?;
    let m = p.len();
    let idx = order(p);
    let mut out = vec![0.0; m];
    let mut running = 0.0_f64;
    for (rank, &i) in idx.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    Ok(out)
}

/// Number of BH rejections at level `q`.
fn bh_rejections(sorted: &[f64], q: f64) -> usize {
    let m = sorted.len() as f64;
    sorted
        .iter()
        .enumerate()
        .filter(|(r, p)| **p <= q * (*r + 1) as f64 / m)
        .map(|(r, _)| r + 1)
        .max()
        .unwrap_or(0)
}

/// Anderson (2008) sharpened q-values: the smallest q on the grid
/// 0.001, 0.002, …, 1 at which the BKY two-stage procedure rejects the
/// hypothesis (first stage BH at q/(1+q); second stage BH at
/// q/(1+q) · m/(m − r₁)). Same loop as Anderson's published Stata code.
pub fn sharpened_q(p: &[f64]) -> Result<Vec<f64>> {
    check(p)?;
    let m = p.len();
    let idx = order(p);
    let sorted: Vec<f64> = idx.iter().map(|&i| p[i]).collect();
    let mut out = vec![1.0; m];
    for step in (1..=1000).rev() {
        let q = step as f64 / 1000.0;
        let q1 = q / (1.0 + q);
        let r1 = bh_rejections(&sorted, q1);
        if r1 == m {
            // Every hypothesis already rejected at the first stage.
            idx.iter().for_each(|&i| out[i] = q);
            continue;
        }
        let q2 = q1 * m as f64 / (m - r1) as f64;
        let r2 = bh_rejections(&sorted, q2);
        for &i in &idx[..r2] {
            out[i] = q;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bh_and_holm_small() {
        let p = [0.01, 0.04, 0.03, 0.5];
        let bh = benjamini_hochberg(&p).unwrap();
        // sorted 0.01,0.03,0.04,0.5 → 0.04, 0.0533, 0.0533, 0.5
        let want = [0.04, 0.16 / 3.0, 0.16 / 3.0, 0.5];
        for (a, b) in bh.iter().zip(want) {
            assert!((a - b).abs() < 1e-15);
        }
        let h = holm(&p).unwrap();
        let want = [0.04, 0.09, 0.09, 0.5];
        for (a, b) in h.iter().zip(want) {
            assert!((a - b).abs() < 1e-15);
        }
    }
}

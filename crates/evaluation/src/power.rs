//! Power and minimum detectable effect for a two-arm comparison of means.
//!
//! Duflo, Glennerster & Kremer (2007) / Stata `power twomeans` (normal
//! approximation):
//!
//! ```text
//! MDE = (z_{1−α/2} + z_{power}) · sqrt(1 / (P(1−P) N)) · σ · sqrt(1 − R²) · sqrt(deff) / takeup
//! deff = 1 + (m − 1) ρ            (clusters of m units, intra-cluster correlation ρ)
//! N    = (z_{1−α/2} + z_{power})² σ² (1 − R²) deff / (P(1−P) · MDE² · takeup²)
//! ```
//!
//! `takeup` is the difference in take-up rates between arms (1 = full
//! compliance): the intention-to-treat effect is the treatment effect times it.
//! The closed forms ignore the far rejection tail (probability ≈ Φ(−z_{α/2} −
//! z_power − …), below 1e-6 for usual settings); [`power_at`] evaluates the
//! exact two-sided normal power including it.

use serde::{Deserialize, Serialize};

use crate::dist::{normal_cdf, normal_quantile};
use crate::error::{Result, invalid};

/// Design parameters shared by all power computations.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PowerParams {
    /// Two-sided significance level.
    pub alpha: f64,
    /// Target power (1 − β).
    pub power: f64,
    /// Share of units assigned to treatment.
    pub share_treated: f64,
    /// Outcome standard deviation.
    pub sd: f64,
    /// Share of outcome variance explained by covariates.
    pub r2: f64,
    /// Intra-cluster correlation (0 for individual randomisation).
    pub icc: f64,
    /// Units per cluster (1 for individual randomisation).
    pub cluster_size: f64,
    /// Take-up difference between arms.
    pub takeup: f64,
}

impl Default for PowerParams {
    fn default() -> Self {
        PowerParams {
            alpha: 0.05,
            power: 0.8,
            share_treated: 0.5,
            sd: 1.0,
            r2: 0.0,
            icc: 0.0,
            cluster_size: 1.0,
            takeup: 1.0,
        }
    }
}

/// A solved design.
#[derive(Debug, Clone, Serialize)]
pub struct PowerResult {
    /// Minimum detectable effect (outcome units).
    pub mde: f64,
    /// MDE in standard deviations of the outcome.
    pub mde_sd: f64,
    /// Total units.
    pub n: f64,
    /// Clusters implied by `n / cluster_size`.
    pub clusters: f64,
    pub design_effect: f64,
    /// Exact two-sided power of the design at `mde`.
    pub achieved_power: f64,
}

impl PowerParams {
    fn validate(&self) -> Result<()> {
        let open01 = |v: f64| v > 0.0 && v < 1.0;
        if !open01(self.alpha) || !open01(self.power) || !open01(self.share_treated) {
            return invalid("alpha, power and share_treated must lie in (0, 1)");
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.sd) || !(0.0..1.0).contains(&self.r2) || !(0.0..=1.0).contains(&self.icc)
        {
            return invalid("sd > 0, 0 ≤ r2 < 1, 0 ≤ icc ≤ 1 required");
        }
        if !(1.0..f64::INFINITY).contains(&self.cluster_size)
            || !positive(self.takeup)
            || self.takeup > 1.0
        {
            return invalid("cluster_size ≥ 1 and 0 < takeup ≤ 1 required");
        }
        Ok(())
    }

    /// `1 + (m − 1) ρ`.
    pub fn design_effect(&self) -> f64 {
        1.0 + (self.cluster_size - 1.0) * self.icc
    }

    /// Standard error of the ITT difference with `n` units, divided by take-up.
    fn se_effect(&self, n: f64) -> f64 {
        let p = self.share_treated;
        (1.0 / (p * (1.0 - p) * n)).sqrt()
            * self.sd
            * (1.0 - self.r2).sqrt()
            * self.design_effect().sqrt()
            / self.takeup
    }

    fn multiplier(&self) -> f64 {
        normal_quantile(1.0 - self.alpha / 2.0) + normal_quantile(self.power)
    }

    fn result(&self, n: f64, mde: f64) -> PowerResult {
        PowerResult {
            mde,
            mde_sd: mde / self.sd,
            n,
            clusters: n / self.cluster_size,
            design_effect: self.design_effect(),
            achieved_power: power_at(self, n, mde),
        }
    }
}

/// MDE for a total sample of `n` units.
pub fn mde(params: &PowerParams, n: f64) -> Result<PowerResult> {
    params.validate()?;
    if !n.is_finite() || n <= 0.0 {
        return invalid("n must be positive");
    }
    Ok(params.result(n, params.multiplier() * params.se_effect(n)))
}

/// Total sample size needed to detect `effect` (not rounded up).
pub fn sample_size(params: &PowerParams, effect: f64) -> Result<PowerResult> {
    params.validate()?;
    if effect == 0.0 || !effect.is_finite() {
        return invalid("effect must be non-zero");
    }
    let n = (params.multiplier() * params.se_effect(1.0) / effect.abs()).powi(2);
    Ok(params.result(n, effect.abs()))
}

/// Exact two-sided normal power of detecting `effect` with `n` units.
pub fn power_at(params: &PowerParams, n: f64, effect: f64) -> f64 {
    let z = normal_quantile(1.0 - params.alpha / 2.0);
    let d = effect.abs() / params.se_effect(n);
    normal_cdf(d - z) + normal_cdf(-d - z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_mde() {
        // 2.8 σ sqrt(4/N) rule of thumb: (1.96 + 0.8416) · 2/sqrt(N).
        let r = mde(&PowerParams::default(), 400.0).unwrap();
        let want = (1.959_963_984_540_054 + 0.841_621_233_572_914_3) * 2.0 / 20.0;
        assert!((r.mde - want).abs() < 1e-13);
        let back = sample_size(&PowerParams::default(), r.mde).unwrap();
        assert!((back.n - 400.0).abs() < 1e-9);
    }

    #[test]
    fn clustering_and_takeup_inflate() {
        let base = mde(&PowerParams::default(), 1000.0).unwrap().mde;
        let p = PowerParams {
            icc: 0.05,
            cluster_size: 21.0,
            takeup: 0.5,
            r2: 0.2,
            ..Default::default()
        };
        let r = mde(&p, 1000.0).unwrap();
        let want = base * (2.0f64).sqrt() * (0.8f64).sqrt() / 0.5;
        assert!((r.mde - want).abs() < 1e-13);
    }
}

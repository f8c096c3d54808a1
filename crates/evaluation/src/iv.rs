//! Two-stage least squares (e.g. LATE with the random assignment as
//! instrument for take-up).
//!
//! `β = (X̂'X̂)⁻¹ X̂'y` with `X = [1, exog, endog]`, `Z = [1, exog, instruments]`
//! and `X̂ = Z (Z'Z)⁻¹ Z'X`. Residuals use the structural `X`
//! (`e = y − Xβ`), scores use `X̂`. The variance conventions are those of
//! [`crate::ols`] (they equal linearmodels' `IV2SLS(..., debiased=True)`):
//! iid `s² = e'e/(N−k)`, HC1 `N/(N−k)`, CR1 `G/(G−1)·(N−1)/(N−k)` with `G−1`
//! t degrees of freedom. A fixed effect can be absorbed by demeaning all
//! variables, with the degrees-of-freedom rule of OLS.
//! A first-stage F statistic on the excluded instruments (same variance
//! estimator) is reported for each endogenous regressor.

use serde::Serialize;

use crate::data::Factor;
use crate::error::{Result, invalid};
use crate::linalg;
use crate::ols::{self, Col, INTERCEPT, OlsInput, RegResult, Vcov, VcovSpec};

/// Input to [`iv`]. Names are one per column.
#[derive(Debug, Clone)]
pub struct IvInput {
    pub y: Vec<f64>,
    pub exog: Vec<Vec<f64>>,
    pub exog_names: Vec<String>,
    pub endog: Vec<Vec<f64>>,
    pub endog_names: Vec<String>,
    pub instruments: Vec<Vec<f64>>,
    pub instrument_names: Vec<String>,
    pub intercept: bool,
    pub fe: Option<Factor>,
    pub cluster: Option<Factor>,
    pub vcov: Vcov,
    pub level: f64,
}

/// 2SLS estimates plus first-stage diagnostics.
#[derive(Debug, Clone, Serialize)]
pub struct IvResult {
    /// Second-stage estimates (intercept, exogenous, then endogenous).
    #[serde(flatten)]
    pub fit: RegResult,
    /// First-stage F on the excluded instruments, one per endogenous variable.
    pub first_stage_f: Vec<f64>,
}

/// Fit 2SLS.
pub fn iv(mut input: IvInput) -> Result<IvResult> {
    let n = input.y.len();
    for (cols, what) in [
        (&input.exog, "exog"),
        (&input.endog, "endog"),
        (&input.instruments, "instruments"),
    ] {
        ols::check_lengths(n, cols, what)?;
    }
    if input.instruments.len() < input.endog.len() {
        return invalid("iv: fewer instruments than endogenous regressors");
    }
    if input.endog.is_empty() {
        return invalid("iv: no endogenous regressor");
    }
    if input.vcov == Vcov::Cr1 && input.cluster.is_none() {
        return invalid("iv: vcov cr1 needs a cluster variable");
    }
    let first_stage_f = first_stage_fs(&input)?;
    let intercept = input.intercept && input.fe.is_none();
    if let Some(fe) = &input.fe {
        let counts = fe.counts();
        let all = std::iter::once(&mut input.y)
            .chain(input.exog.iter_mut())
            .chain(input.endog.iter_mut())
            .chain(input.instruments.iter_mut());
        for c in all {
            ols::demean(c, fe, &counts);
        }
    }
    let mut base: Vec<Col> = Vec::new();
    let mut names = Vec::new();
    if intercept {
        base.push(Col::Ones);
        names.push(INTERCEPT.to_string());
    }
    base.extend(input.exog.iter().map(|c| Col::Data(c)));
    names.extend(input.exog_names.iter().cloned());
    names.extend(input.endog_names.iter().cloned());
    let mut z = base.clone();
    z.extend(input.instruments.iter().map(|c| Col::Data(c)));
    let kz = z.len();
    let zl = linalg::cholesky(&ols::weighted_gram(&z, n, None), kz)?;
    let fitted: Vec<Vec<f64>> = input
        .endog
        .iter()
        .map(|d| {
            let pi = linalg::chol_solve(&zl, kz, &ols::cross(&z, d));
            ols::predict(&z, &pi, n)
        })
        .collect();
    let mut xhat = base.clone();
    xhat.extend(fitted.iter().map(|c| Col::Data(c)));
    let mut x = base;
    x.extend(input.endog.iter().map(|c| Col::Data(c)));
    let k = x.len();
    let bread = linalg::spd_inverse(&ols::weighted_gram(&xhat, n, None), k)
        .map_err(|e| ols::name_singular(e, &names))?;
    let coef = linalg::matmul(&bread, k, k, &ols::cross(&xhat, &input.y), 1);
    let e = ols::residuals(&x, &input.y, &coef);
    let ssr = ols::dot(&e, &e);
    let df_k = ols::df_model(k, input.fe.as_ref(), input.vcov, input.cluster.as_ref());
    let spec = VcovSpec {
        kind: input.vcov,
        cluster: input.cluster.as_ref(),
        n,
        df_model: df_k,
    };
    let (vcov, df_inf, clusters) = ols::vcov_matrix(&xhat, &e, &bread, &spec)?;
    let [se, t, p, ci_low, ci_high] = ols::inference(&coef, &vcov, df_inf, input.level);
    let ybar = input.y.iter().sum::<f64>() / n as f64;
    let centre = if input.fe.is_some() { 0.0 } else { ybar };
    let tss: f64 = input.y.iter().map(|v| (v - centre).powi(2)).sum();
    Ok(IvResult {
        fit: RegResult {
            names,
            coef,
            se,
            t,
            p,
            ci_low,
            ci_high,
            vcov,
            vcov_kind: input.vcov,
            n,
            k,
            df_model: df_k,
            df_inference: df_inf,
            clusters,
            fe_levels: input.fe.as_ref().map(Factor::n_levels),
            ssr,
            r2: 1.0 - ssr / tss,
        },
        first_stage_f,
    })
}

/// Wald F of the excluded instruments in each first-stage regression.
fn first_stage_fs(input: &IvInput) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for d in &input.endog {
        let mut x = input.exog.clone();
        x.extend(input.instruments.iter().cloned());
        let mut names = input.exog_names.clone();
        names.extend(input.instrument_names.iter().cloned());
        let fit = ols::ols(OlsInput {
            y: d.clone(),
            x,
            names,
            intercept: input.intercept,
            fe: input.fe.clone(),
            cluster: input.cluster.clone(),
            vcov: input.vcov,
            level: input.level,
        })?;
        let first = fit.k - input.instruments.len();
        let which: Vec<usize> = (first..fit.k).collect();
        out.push(ols::wald_f(&fit, &which)?.0);
    }
    Ok(out)
}

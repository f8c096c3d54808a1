//! Ordinary least squares with one absorbed fixed effect and iid / HC1 / CR1
//! variance estimators.
//!
//! # Conventions (identical to pyfixest's defaults, `ssc(k_adj=True,
//! k_fixef="nonnested", G_adj=True)`, which also equal statsmodels' when no
//! fixed effect is absorbed)
//!
//! * `k` counts the estimated coefficients (the intercept included when present).
//! * The absorbed fixed effect with `L` levels adds `L` to the degrees of
//!   freedom used, `df_k = k + L` (no intercept is estimated then).
//! * With CR1 and a fixed effect *nested* in the clusters (every FE level in
//!   one cluster, e.g. firm FE clustered by firm), the FE levels are not
//!   counted, except one: `df_k = k + 1` (as reghdfe / fixest / pyfixest).
//! * iid: `V = s² (X'X)⁻¹`, `s² = SSR / (N − df_k)`; t with `N − df_k` df.
//! * HC1: `V = N/(N − df_k) · (X'X)⁻¹ Σ eᵢ² xᵢxᵢ' (X'X)⁻¹`; t with `N − df_k` df.
//! * CR1: `V = G/(G−1) · (N−1)/(N − df_k) · (X'X)⁻¹ Σ_g s_g s_g' (X'X)⁻¹`
//!   with `s_g = Σ_{i∈g} xᵢ eᵢ`; t with `G − 1` df.
//!
//! # Performance
//!
//! Columns are stored separately (column-major). The fixed effect is swept out
//! in place (two passes per column), `X'X` and `X'y` are accumulated over
//! row blocks that fit in cache, residuals are one extra vector, and the CR1
//! meat is built from per-cluster score sums, so memory stays at the data plus
//! O(N) and time is linear in N·K².

use serde::{Deserialize, Serialize};

use crate::data::Factor;
use crate::dist;
use crate::error::{EvalError, Result, invalid};
use crate::linalg;

/// Name used for the constant term.
pub const INTERCEPT: &str = "(Intercept)";

/// Variance estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vcov {
    /// Homoskedastic.
    Iid,
    /// Heteroskedasticity-robust with the N/(N−K) factor.
    Hc1,
    /// Cluster-robust with the G/(G−1)·(N−1)/(N−K) factor.
    Cr1,
}

impl std::str::FromStr for Vcov {
    type Err = EvalError;
    fn from_str(s: &str) -> Result<Vcov> {
        match s.to_ascii_lowercase().as_str() {
            "iid" | "unadjusted" | "classical" => Ok(Vcov::Iid),
            "hc1" | "robust" | "hetero" => Ok(Vcov::Hc1),
            "cr1" | "cluster" | "clustered" => Ok(Vcov::Cr1),
            other => invalid(format!("unknown vcov '{other}' (iid, hc1, cr1)")),
        }
    }
}

/// Input to [`ols`]: the data are moved in and demeaned in place.
#[derive(Debug, Clone)]
pub struct OlsInput {
    /// Outcome.
    pub y: Vec<f64>,
    /// Regressor columns (not including the intercept).
    pub x: Vec<Vec<f64>>,
    /// One name per column of `x`.
    pub names: Vec<String>,
    /// Add a constant (ignored when `fe` is set: the FE absorbs it).
    pub intercept: bool,
    /// Absorbed fixed effect.
    pub fe: Option<Factor>,
    /// Cluster identifier (required for CR1).
    pub cluster: Option<Factor>,
    /// Variance estimator.
    pub vcov: Vcov,
    /// Confidence level of the intervals, e.g. 0.95.
    pub level: f64,
}

impl OlsInput {
    /// Plain OLS with intercept, iid errors, 95% intervals.
    pub fn new(y: Vec<f64>, x: Vec<Vec<f64>>, names: Vec<String>) -> OlsInput {
        OlsInput {
            y,
            x,
            names,
            intercept: true,
            fe: None,
            cluster: None,
            vcov: Vcov::Iid,
            level: 0.95,
        }
    }
}

/// Estimates and inference of a linear model.
#[derive(Debug, Clone, Serialize)]
pub struct RegResult {
    /// Coefficient names (intercept first when estimated).
    pub names: Vec<String>,
    pub coef: Vec<f64>,
    pub se: Vec<f64>,
    pub t: Vec<f64>,
    pub p: Vec<f64>,
    pub ci_low: Vec<f64>,
    pub ci_high: Vec<f64>,
    /// Row-major k×k variance matrix.
    pub vcov: Vec<f64>,
    pub vcov_kind: Vcov,
    /// Observations used.
    pub n: usize,
    /// Estimated coefficients.
    pub k: usize,
    /// Degrees of freedom used by the small-sample factor (`df_k` above).
    pub df_model: usize,
    /// Degrees of freedom of the t distribution used for p-values / CIs.
    pub df_inference: f64,
    /// Number of clusters (CR1 only).
    pub clusters: Option<usize>,
    /// Levels of the absorbed fixed effect.
    pub fe_levels: Option<usize>,
    /// Sum of squared residuals.
    pub ssr: f64,
    /// R² (within R² when a fixed effect is absorbed).
    pub r2: f64,
}

impl RegResult {
    /// Index of a coefficient by name.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// A regressor column: the constant is virtual so it costs no memory.
#[derive(Clone, Copy)]
pub(crate) enum Col<'a> {
    Ones,
    Data(&'a [f64]),
}

const BLOCK: usize = 1024;

/// Calls `f(buf, len)` for consecutive row blocks; `buf[j*BLOCK + r]` is
/// column `j`, row `start + r`. Keeps the K×K work cache-resident.
fn for_each_block(cols: &[Col], n: usize, mut f: impl FnMut(&[f64], usize, usize)) {
    let k = cols.len();
    let mut buf = vec![0.0; k * BLOCK];
    let mut start = 0;
    while start < n {
        let len = BLOCK.min(n - start);
        for (j, c) in cols.iter().enumerate() {
            let dst = &mut buf[j * BLOCK..j * BLOCK + len];
            match c {
                Col::Ones => dst.fill(1.0),
                Col::Data(v) => dst.copy_from_slice(&v[start..start + len]),
            }
        }
        f(&buf, start, len);
        start += len;
    }
}

/// `Σ wᵢ xᵢ xᵢ'` (w = 1 when `w` is None), row-major k×k.
pub(crate) fn weighted_gram(cols: &[Col], n: usize, w: Option<&[f64]>) -> Vec<f64> {
    let k = cols.len();
    let mut g = vec![0.0; k * k];
    let mut wx = vec![0.0; BLOCK];
    for_each_block(cols, n, |buf, start, len| {
        for i in 0..k {
            let xi = &buf[i * BLOCK..i * BLOCK + len];
            let xi: &[f64] = match w {
                None => xi,
                Some(w) => {
                    for r in 0..len {
                        wx[r] = xi[r] * w[start + r];
                    }
                    &wx[..len]
                }
            };
            for j in i..k {
                let xj = &buf[j * BLOCK..j * BLOCK + len];
                g[i * k + j] += dot(xi, xj);
            }
        }
    });
    for i in 0..k {
        for j in 0..i {
            g[i * k + j] = g[j * k + i];
        }
    }
    g
}

/// `Σ xᵢ yᵢ` for every column.
pub(crate) fn cross(cols: &[Col], y: &[f64]) -> Vec<f64> {
    cols.iter()
        .map(|c| match c {
            Col::Ones => y.iter().sum(),
            Col::Data(v) => dot(v, y),
        })
        .collect()
}

/// Dot product with four accumulators so the compiler can vectorise it.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let chunks = a.len() / 4;
    for c in 0..chunks {
        for l in 0..4 {
            acc[l] += a[4 * c + l] * b[4 * c + l];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for i in 4 * chunks..a.len() {
        s += a[i] * b[i];
    }
    s
}

/// Subtract group means in place: the within transformation.
pub(crate) fn demean(col: &mut [f64], fe: &Factor, counts: &[usize]) {
    let mut sums = vec![0.0; counts.len()];
    for (v, &g) in col.iter().zip(&fe.codes) {
        sums[g as usize] += v;
    }
    for (s, &c) in sums.iter_mut().zip(counts) {
        *s /= c as f64;
    }
    for (v, &g) in col.iter_mut().zip(&fe.codes) {
        *v -= sums[g as usize];
    }
}

/// `Xβ`.
pub(crate) fn predict(cols: &[Col], beta: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    for (c, &b) in cols.iter().zip(beta) {
        match c {
            Col::Ones => out.iter_mut().for_each(|v| *v += b),
            Col::Data(x) => out.iter_mut().zip(*x).for_each(|(v, xv)| *v += b * xv),
        }
    }
    out
}

/// `y − Xβ`.
pub(crate) fn residuals(cols: &[Col], y: &[f64], beta: &[f64]) -> Vec<f64> {
    let mut e = y.to_vec();
    for (c, &b) in cols.iter().zip(beta) {
        match c {
            Col::Ones => e.iter_mut().for_each(|v| *v -= b),
            Col::Data(x) => e.iter_mut().zip(*x).for_each(|(v, xv)| *v -= b * xv),
        }
    }
    e
}

/// Everything the sandwich needs besides the data.
pub(crate) struct VcovSpec<'a> {
    pub kind: Vcov,
    pub cluster: Option<&'a Factor>,
    pub n: usize,
    pub df_model: usize,
}

/// Variance matrix and inference df. `cols` are the score regressors (X for
/// OLS, the first-stage fitted X̂ for 2SLS), `bread = (cols'cols)⁻¹`.
pub(crate) fn vcov_matrix(
    cols: &[Col],
    e: &[f64],
    bread: &[f64],
    spec: &VcovSpec,
) -> Result<(Vec<f64>, f64, Option<usize>)> {
    let k = cols.len();
    let n = spec.n as f64;
    let resid_df = spec.n as f64 - spec.df_model as f64;
    if resid_df <= 0.0 {
        return Err(EvalError::Insufficient(format!(
            "{} observations for {} parameters",
            spec.n, spec.df_model
        )));
    }
    match spec.kind {
        Vcov::Iid => {
            let s2 = dot(e, e) / resid_df;
            Ok((bread.iter().map(|b| b * s2).collect(), resid_df, None))
        }
        Vcov::Hc1 => {
            let e2: Vec<f64> = e.iter().map(|v| v * v).collect();
            let meat = weighted_gram(cols, spec.n, Some(&e2));
            let mut v = linalg::sandwich(bread, &meat, k);
            v.iter_mut().for_each(|x| *x *= n / resid_df);
            Ok((v, resid_df, None))
        }
        Vcov::Cr1 => {
            let cl = spec
                .cluster
                .ok_or_else(|| EvalError::Invalid("CR1 needs a cluster variable".into()))?;
            let g = cl.n_levels();
            if g < 2 {
                return Err(EvalError::Insufficient(
                    "CR1 needs at least 2 clusters".into(),
                ));
            }
            let mut scores = vec![0.0; g * k];
            for (j, c) in cols.iter().enumerate() {
                for (i, (&gi, &ei)) in cl.codes.iter().zip(e).enumerate() {
                    let x = match c {
                        Col::Ones => 1.0,
                        Col::Data(v) => v[i],
                    };
                    scores[gi as usize * k + j] += x * ei;
                }
            }
            let mut meat = vec![0.0; k * k];
            for s in scores.chunks_exact(k) {
                for a in 0..k {
                    for b in 0..k {
                        meat[a * k + b] += s[a] * s[b];
                    }
                }
            }
            let gf = g as f64;
            let factor = gf / (gf - 1.0) * (n - 1.0) / resid_df;
            let mut v = linalg::sandwich(bread, &meat, k);
            v.iter_mut().for_each(|x| *x *= factor);
            Ok((v, gf - 1.0, Some(g)))
        }
    }
}

/// Standard errors, t statistics, p-values and intervals from a vcov.
pub(crate) fn inference(coef: &[f64], vcov: &[f64], df: f64, level: f64) -> [Vec<f64>; 5] {
    let k = coef.len();
    let crit = dist::t_quantile(0.5 + level / 2.0, df);
    let se: Vec<f64> = (0..k).map(|i| vcov[i * k + i].max(0.0).sqrt()).collect();
    let t: Vec<f64> = coef.iter().zip(&se).map(|(b, s)| b / s).collect();
    let p = t.iter().map(|t| dist::t_two_sided_p(*t, df)).collect();
    let lo = coef.iter().zip(&se).map(|(b, s)| b - crit * s).collect();
    let hi = coef.iter().zip(&se).map(|(b, s)| b + crit * s).collect();
    [se, t, p, lo, hi]
}

/// Degrees of freedom used by the model, following the convention above.
pub(crate) fn df_model(
    k: usize,
    fe: Option<&Factor>,
    kind: Vcov,
    cluster: Option<&Factor>,
) -> usize {
    match fe {
        None => k,
        Some(f) => {
            let nested = kind == Vcov::Cr1 && cluster.is_some_and(|c| f.nested_in(c));
            if nested { k + 1 } else { k + f.n_levels() }
        }
    }
}

pub(crate) fn check_lengths(n: usize, cols: &[Vec<f64>], what: &str) -> Result<()> {
    if cols.iter().any(|c| c.len() != n) {
        return invalid(format!("{what}: all columns must have {n} rows"));
    }
    Ok(())
}

/// Rename "collinear column j" errors with the variable name.
pub(crate) fn name_singular(e: EvalError, names: &[String]) -> EvalError {
    match e {
        EvalError::Singular(msg) => {
            let named = names.iter().enumerate().find_map(|(j, nm)| {
                msg.starts_with(&format!("column {j} "))
                    .then(|| format!("'{nm}' {}", &msg[format!("column {j} ").len()..]))
            });
            EvalError::Singular(named.unwrap_or(msg))
        }
        other => other,
    }
}

/// Fit OLS. See the module documentation for the conventions.
pub fn ols(mut input: OlsInput) -> Result<RegResult> {
    let n = input.y.len();
    check_lengths(n, &input.x, "ols")?;
    if input.names.len() != input.x.len() {
        return invalid("ols: one name per regressor");
    }
    if input.vcov == Vcov::Cr1 && input.cluster.is_none() {
        return invalid("ols: vcov cr1 needs a cluster variable");
    }
    for f in input.fe.iter().chain(input.cluster.iter()) {
        if f.codes.len() != n {
            return invalid("ols: factor length differs from the data");
        }
    }
    let intercept = input.intercept && input.fe.is_none();
    let y_mean = input.y.iter().sum::<f64>() / n as f64;
    if let Some(fe) = &input.fe {
        let counts = fe.counts();
        demean(&mut input.y, fe, &counts);
        for c in &mut input.x {
            demean(c, fe, &counts);
        }
    }
    let mut names = Vec::new();
    let mut cols = Vec::new();
    if intercept {
        names.push(INTERCEPT.to_string());
        cols.push(Col::Ones);
    }
    names.extend(input.names.iter().cloned());
    cols.extend(input.x.iter().map(|c| Col::Data(c)));
    let k = cols.len();
    let xtx = weighted_gram(&cols, n, None);
    let xty = cross(&cols, &input.y);
    let bread = linalg::spd_inverse(&xtx, k).map_err(|e| name_singular(e, &names))?;
    let coef = linalg::matmul(&bread, k, k, &xty, 1);
    let e = residuals(&cols, &input.y, &coef);
    let ssr = dot(&e, &e);
    let centre = if input.fe.is_some() { 0.0 } else { y_mean };
    let tss: f64 = input.y.iter().map(|v| (v - centre).powi(2)).sum();
    let df_k = df_model(k, input.fe.as_ref(), input.vcov, input.cluster.as_ref());
    let spec = VcovSpec {
        kind: input.vcov,
        cluster: input.cluster.as_ref(),
        n,
        df_model: df_k,
    };
    let (vcov, df_inf, clusters) = vcov_matrix(&cols, &e, &bread, &spec)?;
    let [se, t, p, ci_low, ci_high] = inference(&coef, &vcov, df_inf, input.level);
    Ok(RegResult {
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
    })
}

/// Wald F test that the listed coefficients are jointly zero:
/// `F = b' V⁻¹ b / q` with `(q, df)` degrees of freedom, `df` the inference df
/// of the fit. Returns `(F, p)`.
pub fn wald_f(res: &RegResult, which: &[usize]) -> Result<(f64, f64)> {
    let q = which.len();
    let k = res.k;
    let b: Vec<f64> = which.iter().map(|&i| res.coef[i]).collect();
    let mut v = vec![0.0; q * q];
    for (a, &i) in which.iter().enumerate() {
        for (c, &j) in which.iter().enumerate() {
            v[a * q + c] = res.vcov[i * k + j];
        }
    }
    let x = linalg::spd_solve(&v, q, &b)?;
    let f = dot(&b, &x) / q as f64;
    Ok((f, dist::f_sf(f, q as f64, res.df_inference)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_line() {
        let x: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| 1.0 + 2.0 * v).collect();
        let r = ols(OlsInput::new(y, vec![x], vec!["x".into()])).unwrap();
        assert!((r.coef[0] - 1.0).abs() < 1e-12 && (r.coef[1] - 2.0).abs() < 1e-12);
        assert!(r.ssr < 1e-20);
    }

    #[test]
    fn simple_regression_se_closed_form() {
        // se(slope) = sqrt(s² / Sxx) with s² = SSR/(n-2).
        let x = vec![1.0, 2.0, 3.0, 4.0, 5.0];
        let y = vec![2.0, 4.1, 5.9, 8.2, 9.8];
        let r = ols(OlsInput::new(y.clone(), vec![x.clone()], vec!["x".into()])).unwrap();
        let sxx = 10.0;
        let want = (r.ssr / 3.0 / sxx).sqrt();
        assert!((r.se[1] - want).abs() < 1e-12);
    }

    #[test]
    fn collinear_regressor_is_named() {
        let x = vec![1.0, 2.0, 3.0, 4.0];
        let z: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
        let err = ols(OlsInput::new(
            vec![1.0, 3.0, 2.0, 5.0],
            vec![x, z],
            vec!["x".into(), "z".into()],
        ))
        .unwrap_err();
        assert!(err.to_string().contains("'z'"), "{err}");
    }
}

//! Balance tables (as DIME's `iebaltab`), attrition and Lee (2009) bounds.

use serde::Serialize;

use crate::data::Factor;
use crate::error::{EvalError, Result, invalid};
use crate::ols::{OlsInput, Vcov, ols, wald_f};

/// Options shared by the balance and attrition regressions.
#[derive(Debug, Clone, Default)]
pub struct BalanceOptions {
    /// Strata fixed effects absorbed in the difference regressions.
    pub strata: Option<Factor>,
    /// Cluster identifiers (switches the variance to CR1).
    pub cluster: Option<Factor>,
    /// Variance when no cluster is given (iid by default, like iebaltab).
    pub robust: bool,
}

impl BalanceOptions {
    fn vcov(&self) -> Vcov {
        match (&self.cluster, self.robust) {
            (Some(_), _) => Vcov::Cr1,
            (None, true) => Vcov::Hc1,
            (None, false) => Vcov::Iid,
        }
    }
}

/// One row of a balance table.
#[derive(Debug, Clone, Serialize)]
pub struct BalanceRow {
    pub variable: String,
    pub n_control: usize,
    pub mean_control: f64,
    pub se_control: f64,
    pub n_treatment: usize,
    pub mean_treatment: f64,
    pub se_treatment: f64,
    /// Treatment minus control means.
    pub difference: f64,
    /// `difference / sqrt((var_t + var_c)/2)` (Imbens–Rubin normalised difference).
    pub normalized_difference: f64,
    /// Coefficient of the treatment dummy in `var ~ treat [+ strata FE]`.
    pub regression_difference: f64,
    /// Its p-value (iid, HC1 or CR1 as configured).
    pub p_value: f64,
}

/// Joint orthogonality test: `treat ~ vars [+ strata FE]`, F test that all
/// variable coefficients are zero.
#[derive(Debug, Clone, Serialize)]
pub struct JointTest {
    pub n: usize,
    pub f: f64,
    pub df_num: usize,
    pub df_den: f64,
    pub p_value: f64,
}

fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (
        m,
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0),
    )
}

fn check_binary(t: &[f64]) -> Result<()> {
    if t.iter().any(|&v| v != 0.0 && v != 1.0) {
        return invalid("treatment must be coded 0/1");
    }
    Ok(())
}

/// Balance row for one variable. `treat` is 0/1; all slices have equal length.
pub fn balance_row(
    name: &str,
    values: &[f64],
    treat: &[f64],
    opts: &BalanceOptions,
) -> Result<BalanceRow> {
    check_binary(treat)?;
    let pick = |arm: f64| -> Vec<f64> {
        values
            .iter()
            .zip(treat)
            .filter(|(_, t)| **t == arm)
            .map(|(v, _)| *v)
            .collect()
    };
    let (c, t) = (pick(0.0), pick(1.0));
    if c.len() < 2 || t.len() < 2 {
        return Err(EvalError::Insufficient(format!(
            "{name}: fewer than 2 units in an arm"
        )));
    }
    let (mc, vc) = mean_var(&c);
    let (mt, vt) = mean_var(&t);
    let mut input = OlsInput::new(
        values.to_vec(),
        vec![treat.to_vec()],
        vec!["treatment".into()],
    );
    input.fe = opts.strata.clone();
    input.cluster = opts.cluster.clone();
    input.vcov = opts.vcov();
    let fit = ols(input)?;
    let j = fit.index("treatment").unwrap_or(0);
    Ok(BalanceRow {
        variable: name.to_string(),
        n_control: c.len(),
        mean_control: mc,
        se_control: (vc / c.len() as f64).sqrt(),
        n_treatment: t.len(),
        mean_treatment: mt,
        se_treatment: (vt / t.len() as f64).sqrt(),
        difference: mt - mc,
        normalized_difference: (mt - mc) / ((vt + vc) / 2.0).sqrt(),
        regression_difference: fit.coef[j],
        p_value: fit.p[j],
    })
}

/// Joint F test of orthogonality (complete cases of all variables).
pub fn joint_test(
    vars: &[(String, Vec<f64>)],
    treat: &[f64],
    opts: &BalanceOptions,
) -> Result<JointTest> {
    check_binary(treat)?;
    let names = vars.iter().map(|(n, _)| n.clone()).collect();
    let cols = vars.iter().map(|(_, v)| v.clone()).collect();
    let mut input = OlsInput::new(treat.to_vec(), cols, names);
    input.fe = opts.strata.clone();
    input.cluster = opts.cluster.clone();
    input.vcov = opts.vcov();
    let fit = ols(input)?;
    let first = fit.k - vars.len();
    let which: Vec<usize> = (first..fit.k).collect();
    let (f, p) = wald_f(&fit, &which)?;
    Ok(JointTest {
        n: fit.n,
        f,
        df_num: vars.len(),
        df_den: fit.df_inference,
        p_value: p,
    })
}

/// Attrition by arm and the differential-attrition test.
#[derive(Debug, Clone, Serialize)]
pub struct Attrition {
    pub n_control: usize,
    pub n_treatment: usize,
    /// Share observed at follow-up.
    pub observed_control: f64,
    pub observed_treatment: f64,
    /// Coefficient of treatment in `observed ~ treat [+ strata]` and its p-value.
    pub difference: f64,
    pub p_value: f64,
}

/// Share observed per arm and regression test of differential attrition.
pub fn attrition(observed: &[f64], treat: &[f64], opts: &BalanceOptions) -> Result<Attrition> {
    check_binary(treat)?;
    check_binary(observed).map_err(|_| EvalError::Invalid("observed must be coded 0/1".into()))?;
    let share = |arm: f64| {
        let v: Vec<f64> = observed
            .iter()
            .zip(treat)
            .filter(|(_, t)| **t == arm)
            .map(|(o, _)| *o)
            .collect();
        (v.len(), v.iter().sum::<f64>() / v.len() as f64)
    };
    let ((nc, oc), (nt, ot)) = (share(0.0), share(1.0));
    let mut input = OlsInput::new(
        observed.to_vec(),
        vec![treat.to_vec()],
        vec!["treatment".into()],
    );
    input.fe = opts.strata.clone();
    input.cluster = opts.cluster.clone();
    input.vcov = opts.vcov();
    let fit = ols(input)?;
    let j = fit.index("treatment").unwrap_or(0);
    Ok(Attrition {
        n_control: nc,
        n_treatment: nt,
        observed_control: oc,
        observed_treatment: ot,
        difference: fit.coef[j],
        p_value: fit.p[j],
    })
}

/// Lee (2009) sharp bounds on the effect for always-observed units.
#[derive(Debug, Clone, Serialize)]
pub struct LeeBounds {
    /// Share of the less-attrited arm's observed outcomes that is trimmed.
    pub trim_share: f64,
    /// Which arm is trimmed: "treatment" or "control".
    pub trimmed_arm: &'static str,
    pub lower: f64,
    pub upper: f64,
}

/// Mean after removing a share `p` of observations from the bottom (`top =
/// false`) or top; the boundary observation is removed fractionally so the
/// trimmed mean is exact for any `p` (Lee's quantile trimming without ties).
fn trimmed_mean(sorted: &[f64], p: f64, top: bool) -> f64 {
    let n = sorted.len() as f64;
    let keep = n * (1.0 - p);
    let mut left = keep;
    let mut s = 0.0;
    let iter: Box<dyn Iterator<Item = &f64>> = if top {
        Box::new(sorted.iter())
    } else {
        Box::new(sorted.iter().rev())
    };
    for v in iter {
        let w = left.min(1.0);
        if w <= 0.0 {
            break;
        }
        s += w * v;
        left -= w;
    }
    s / keep
}

/// Lee bounds: `y` is used only where `observed == 1`. The arm with the
/// higher observation rate is trimmed by `(q_hi − q_lo)/q_hi`; the lower
/// bound drops its top outcomes, the upper bound its bottom outcomes.
/// Standard errors are not computed (see docs/evaluation.md).
pub fn lee_bounds(y: &[f64], observed: &[f64], treat: &[f64]) -> Result<LeeBounds> {
    check_binary(treat)?;
    let arm = |a: f64| -> (Vec<f64>, f64) {
        let mut obs: Vec<f64> = Vec::new();
        let mut n = 0usize;
        for ((yi, oi), ti) in y.iter().zip(observed).zip(treat) {
            if *ti == a {
                n += 1;
                if *oi == 1.0 {
                    obs.push(*yi);
                }
            }
        }
        obs.sort_by(f64::total_cmp);
        let q = obs.len() as f64 / n.max(1) as f64;
        (obs, q)
    };
    let ((yc, qc), (yt, qt)) = (arm(0.0), arm(1.0));
    if yc.is_empty() || yt.is_empty() {
        return Err(EvalError::Insufficient(
            "an arm has no observed outcome".into(),
        ));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    if qt >= qc {
        let p = (qt - qc) / qt;
        Ok(LeeBounds {
            trim_share: p,
            trimmed_arm: "treatment",
            lower: trimmed_mean(&yt, p, true) - mean(&yc),
            upper: trimmed_mean(&yt, p, false) - mean(&yc),
        })
    } else {
        let p = (qc - qt) / qc;
        Ok(LeeBounds {
            trim_share: p,
            trimmed_arm: "control",
            lower: mean(&yt) - trimmed_mean(&yc, p, false),
            upper: mean(&yt) - trimmed_mean(&yc, p, true),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimmed_means() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!((trimmed_mean(&v, 0.25, true) - 2.0).abs() < 1e-15);
        assert!((trimmed_mean(&v, 0.25, false) - 3.0).abs() < 1e-15);
        // Half an observation trimmed from the top: (1 + 2 + 3 + 0.5·4)/3.5.
        assert!((trimmed_mean(&v, 0.125, true) - 8.0 / 3.5).abs() < 1e-15);
    }

    #[test]
    fn lee_bounds_hand_example() {
        // Control: 4 units, 2 observed (y 1, 2). Treatment: 4 units, all observed (1..4).
        let y = [1.0, 2.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0];
        let o = [1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let t = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let b = lee_bounds(&y, &o, &t).unwrap();
        assert_eq!(b.trimmed_arm, "treatment");
        assert!((b.trim_share - 0.5).abs() < 1e-15);
        assert!((b.lower - (1.5 - 1.5)).abs() < 1e-15);
        assert!((b.upper - (3.5 - 1.5)).abs() < 1e-15);
    }

    #[test]
    fn balance_row_simple() {
        let t = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let v = [1.0, 2.0, 3.0, 2.0, 3.0, 4.0];
        let r = balance_row("v", &v, &t, &BalanceOptions::default()).unwrap();
        assert!(
            (r.difference - 1.0).abs() < 1e-14 && (r.regression_difference - 1.0).abs() < 1e-12
        );
        assert!((r.normalized_difference - 1.0).abs() < 1e-14);
        // Two-sample pooled t test: t = 1 / sqrt(1·(1/3 + 1/3)), 4 df.
        let want = crate::dist::t_two_sided_p(1.0 / (2.0f64 / 3.0).sqrt(), 4.0);
        assert!((r.p_value - want).abs() < 1e-12);
    }
}

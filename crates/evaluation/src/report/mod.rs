//! Evaluation report: the numbers ([`analyse`] → [`Report`], serialisable
//! for the web app) and their rendering as HTML fragments, SVG plots and a
//! standalone offline document.
//!
//! Rendering rules (the web app embeds the fragments under a strict CSP):
//! all user text is HTML-escaped; no JavaScript; no `style=` attributes
//! (SVG uses presentation attributes and classes); the standalone document
//! carries its styles in a `<style>` block and nothing external.

mod html;
mod labels;
mod svg;

use serde::{Deserialize, Serialize};

use crate::assign::Design;
use crate::balance::{self, BalanceOptions, BalanceRow, JointTest};
use crate::data::{Factor, Frame, Selection};
use crate::did::{self, Aggregation, ControlGroup, CsOptions, Panel};
use crate::error::{EvalError, Result};
use crate::iv::{self, IvInput};
use crate::multiple;
use crate::ols::{self, OlsInput, RegResult, Vcov};
use crate::rdd::{self, Bin, RdOptions, RdResult};

pub use html::{
    FRAGMENT_STYLESHEET, balance_html, body_html, design_html, estimates_html,
    event_study_table_html, qvalues_html, rd_table_html, standalone_html,
};
pub use labels::{Key, Lang, text};
pub use svg::{coef_plot_svg, event_study_svg, rd_plot_svg};

/// One outcome of the estimates table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutcomeSpec {
    /// Column name.
    pub name: String,
    /// Family for the multiple-testing correction.
    #[serde(default = "default_family")]
    pub family: String,
    /// Display label (defaults to the column name).
    #[serde(default)]
    pub label: Option<String>,
    /// Covariates of both regressions (e.g. the baseline value: ANCOVA).
    #[serde(default)]
    pub controls: Vec<String>,
}

fn default_family() -> String {
    "primary".into()
}

fn default_level() -> f64 {
    0.95
}

/// Regression-discontinuity section.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RdSpec {
    pub y: String,
    pub x: String,
    pub cutoff: f64,
    /// Bins per side of the plot (default rule when omitted).
    #[serde(default)]
    pub bins: Option<usize>,
    /// Half-width of the plotted window around the cutoff (default 3·h):
    /// the estimate always uses all data, the plot zooms on the cutoff.
    #[serde(default)]
    pub window: Option<f64>,
    #[serde(default)]
    pub label: Option<String>,
}

/// Event-study section (Callaway–Sant'Anna dynamic aggregation).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DidSpec {
    pub y: String,
    /// First-treatment period column.
    pub group: String,
    pub time: String,
    pub id: String,
    pub control: ControlGroup,
    #[serde(default)]
    pub label: Option<String>,
}

/// What to put in the report and which columns hold it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportSpec {
    #[serde(default)]
    pub title: Option<String>,
    /// The randomisation design (its hash is shown and checked).
    pub design: Design,
    /// Pre-registered design hash to check against.
    #[serde(default)]
    pub design_hash: Option<String>,
    /// 0/1 assignment column (1 = second arm of the design).
    pub treatment: String,
    /// 0/1 take-up column; enables the LATE (2SLS, assignment as instrument).
    #[serde(default)]
    pub takeup: Option<String>,
    /// Strata column (absorbed as fixed effects).
    #[serde(default)]
    pub strata: Option<String>,
    /// Cluster column (CR1 variances; HC1 without it).
    #[serde(default)]
    pub cluster: Option<String>,
    #[serde(default)]
    pub balance_vars: Vec<String>,
    #[serde(default)]
    pub outcomes: Vec<OutcomeSpec>,
    #[serde(default = "default_level")]
    pub level: f64,
    #[serde(default)]
    pub rd: Option<RdSpec>,
    #[serde(default)]
    pub did: Option<DidSpec>,
}

/// Units and clusters per arm.
#[derive(Debug, Clone, Serialize)]
pub struct ArmCount {
    pub name: String,
    pub share: f64,
    pub units: usize,
    pub clusters: Option<usize>,
}

/// Design section.
#[derive(Debug, Clone, Serialize)]
pub struct DesignSummary {
    pub design: Design,
    pub design_hash: String,
    /// `None` when no pre-registered hash was given.
    pub hash_verified: Option<bool>,
    pub arms: Vec<ArmCount>,
    pub n_strata: Option<usize>,
}

/// Balance section: iebaltab rows and the joint test.
#[derive(Debug, Clone, Serialize)]
pub struct BalanceTable {
    pub control_name: String,
    pub treatment_name: String,
    pub rows: Vec<BalanceRow>,
    pub joint: JointTest,
    pub vcov: Vcov,
    pub cluster: Option<String>,
    pub strata: Option<String>,
}

/// A coefficient with its inference.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Coef {
    pub estimate: f64,
    pub se: f64,
    pub p: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// One row of the estimates table.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub outcome: String,
    pub label: String,
    pub family: String,
    pub n: usize,
    pub control_mean: f64,
    pub control_sd: f64,
    pub itt: Coef,
    pub late: Option<Coef>,
    pub first_stage_f: Option<f64>,
    /// Multiple-testing adjustments of the ITT p-value within the family.
    pub q_bh: f64,
    pub q_sharpened: f64,
    pub p_holm: f64,
}

/// Estimates section with the variance used.
#[derive(Debug, Clone, Serialize)]
pub struct EstimatesTable {
    pub rows: Vec<Estimate>,
    pub vcov: Vcov,
    pub cluster: Option<String>,
    pub strata: Option<String>,
    pub level: f64,
}

/// Intercept and slope (in `x − cutoff`) of a local linear fit on one side.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LineFit {
    pub intercept: f64,
    pub slope: f64,
    pub from: f64,
    pub to: f64,
}

/// RD section.
#[derive(Debug, Clone, Serialize)]
pub struct RdSection {
    pub spec: RdSpec,
    pub result: RdResult,
    pub bins: Vec<Bin>,
    pub fit_left: LineFit,
    pub fit_right: LineFit,
    pub level: f64,
}

/// Event-study section.
#[derive(Debug, Clone, Serialize)]
pub struct EventStudy {
    pub label: String,
    pub dynamic: Aggregation,
    pub n_units: usize,
    pub level: f64,
}

/// Everything the report shows.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub title: Option<String>,
    pub design: DesignSummary,
    pub balance: Option<BalanceTable>,
    pub estimates: EstimatesTable,
    pub rd: Option<RdSection>,
    pub event_study: Option<EventStudy>,
}

/// Compute every section. `main` holds one row per unit (assignment,
/// take-up, baseline and follow-up columns); `rd` and `panel` are needed
/// only when the spec has those sections.
pub fn analyse(
    spec: &ReportSpec,
    main: &Frame,
    rd: Option<&Frame>,
    panel: Option<&Frame>,
) -> Result<Report> {
    let rd = match (&spec.rd, rd) {
        (Some(s), Some(f)) => Some(rd_section(s, f, spec.level)?),
        (Some(_), None) => {
            return Err(EvalError::Invalid(
                "report: RD section needs its data".into(),
            ));
        }
        _ => None,
    };
    let event_study = match (&spec.did, panel) {
        (Some(s), Some(f)) => Some(event_study(s, f, spec.level)?),
        (Some(_), None) => {
            return Err(EvalError::Invalid(
                "report: event study needs its panel".into(),
            ));
        }
        _ => None,
    };
    Ok(Report {
        title: spec.title.clone(),
        design: design_summary(spec, main)?,
        balance: balance_table(spec, main)?,
        estimates: estimates(spec, main)?,
        rd,
        event_study,
    })
}

fn labels(spec: &ReportSpec) -> Vec<&str> {
    spec.strata
        .iter()
        .chain(&spec.cluster)
        .map(String::as_str)
        .collect()
}

fn factor(sel: &Selection, col: &Option<String>) -> Option<Factor> {
    col.as_ref().map(|c| Factor::from_labels(sel.lab(c)))
}

fn arm_names(d: &Design) -> (String, String) {
    match d.arms.as_slice() {
        [a, b, ..] => (a.name.clone(), b.name.clone()),
        _ => ("control".into(), "treatment".into()),
    }
}

fn design_summary(spec: &ReportSpec, main: &Frame) -> Result<DesignSummary> {
    let sel = main.select(&[&spec.treatment], &labels(spec))?;
    let t = sel.num(&spec.treatment);
    let arm = |k: f64, name: String, share: f64| {
        let rows: Vec<usize> = (0..t.len()).filter(|&i| t[i] == k).collect();
        let clusters = spec.cluster.as_ref().map(|c| {
            let lab = sel.lab(c);
            rows.iter()
                .map(|&i| lab[i].as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        });
        ArmCount {
            name,
            share,
            units: rows.len(),
            clusters,
        }
    };
    let (c, tr) = arm_names(&spec.design);
    let share = |i: usize| spec.design.arms.get(i).map_or(f64::NAN, |a| a.share);
    Ok(DesignSummary {
        design: spec.design.clone(),
        design_hash: spec.design.hash(),
        hash_verified: spec.design_hash.as_ref().map(|h| spec.design.verify(h)),
        arms: vec![arm(0.0, c, share(0)), arm(1.0, tr, share(1))],
        n_strata: factor(&sel, &spec.strata).map(|f| f.n_levels()),
    })
}

fn vcov_of(spec: &ReportSpec) -> Vcov {
    if spec.cluster.is_some() {
        Vcov::Cr1
    } else {
        Vcov::Hc1
    }
}

fn balance_table(spec: &ReportSpec, main: &Frame) -> Result<Option<BalanceTable>> {
    if spec.balance_vars.is_empty() {
        return Ok(None);
    }
    let labs = labels(spec);
    let opts = |sel: &Selection| BalanceOptions {
        strata: factor(sel, &spec.strata),
        cluster: factor(sel, &spec.cluster),
        robust: true,
    };
    let mut rows = Vec::new();
    for v in &spec.balance_vars {
        let sel = main.select(&[&spec.treatment, v], &labs)?;
        rows.push(balance::balance_row(
            v,
            sel.num(v),
            sel.num(&spec.treatment),
            &opts(&sel),
        )?);
    }
    let mut num = vec![spec.treatment.as_str()];
    num.extend(spec.balance_vars.iter().map(String::as_str));
    let sel = main.select(&num, &labs)?;
    let cols: Vec<(String, Vec<f64>)> = spec
        .balance_vars
        .iter()
        .map(|v| (v.clone(), sel.num(v).to_vec()))
        .collect();
    let joint = balance::joint_test(&cols, sel.num(&spec.treatment), &opts(&sel))?;
    let (control_name, treatment_name) = arm_names(&spec.design);
    Ok(Some(BalanceTable {
        control_name,
        treatment_name,
        rows,
        joint,
        vcov: vcov_of(spec),
        cluster: spec.cluster.clone(),
        strata: spec.strata.clone(),
    }))
}

fn coef(r: &RegResult, name: &str) -> Result<Coef> {
    let j = r
        .index(name)
        .ok_or_else(|| EvalError::Invalid(format!("report: no coefficient '{name}'")))?;
    Ok(Coef {
        estimate: r.coef[j],
        se: r.se[j],
        p: r.p[j],
        ci_low: r.ci_low[j],
        ci_high: r.ci_high[j],
    })
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, var.sqrt())
}

/// ITT (OLS) and LATE (2SLS) for one outcome on its complete cases.
fn estimate(spec: &ReportSpec, o: &OutcomeSpec, main: &Frame) -> Result<Estimate> {
    let mut num = vec![o.name.as_str(), spec.treatment.as_str()];
    num.extend(spec.takeup.iter().map(String::as_str));
    num.extend(o.controls.iter().map(String::as_str));
    let sel = main.select(&num, &labels(spec))?;
    let y = sel.num(&o.name);
    let t = sel.num(&spec.treatment);
    let controls: Vec<Vec<f64>> = o.controls.iter().map(|c| sel.num(c).to_vec()).collect();
    let mut x = vec![t.to_vec()];
    x.extend(controls.iter().cloned());
    let mut names = vec![spec.treatment.clone()];
    names.extend(o.controls.iter().cloned());
    let itt = ols::ols(OlsInput {
        fe: factor(&sel, &spec.strata),
        cluster: factor(&sel, &spec.cluster),
        vcov: vcov_of(spec),
        level: spec.level,
        ..OlsInput::new(y.to_vec(), x, names)
    })?;
    let late = match &spec.takeup {
        None => None,
        Some(d) => Some(iv::iv(IvInput {
            y: y.to_vec(),
            exog: controls,
            exog_names: o.controls.clone(),
            endog: vec![sel.num(d).to_vec()],
            endog_names: vec![d.clone()],
            instruments: vec![t.to_vec()],
            instrument_names: vec![spec.treatment.clone()],
            intercept: true,
            fe: factor(&sel, &spec.strata),
            cluster: factor(&sel, &spec.cluster),
            vcov: vcov_of(spec),
            level: spec.level,
        })?),
    };
    let yc: Vec<f64> = y
        .iter()
        .zip(t)
        .filter(|(_, t)| **t == 0.0)
        .map(|(y, _)| *y)
        .collect();
    let (control_mean, control_sd) = mean_sd(&yc);
    Ok(Estimate {
        outcome: o.name.clone(),
        label: o.label.clone().unwrap_or_else(|| o.name.clone()),
        family: o.family.clone(),
        n: sel.n,
        control_mean,
        control_sd,
        itt: coef(&itt, &spec.treatment)?,
        first_stage_f: late.as_ref().map(|l| l.first_stage_f[0]),
        late: match (&late, &spec.takeup) {
            (Some(l), Some(d)) => Some(coef(&l.fit, d)?),
            _ => None,
        },
        q_bh: f64::NAN,
        q_sharpened: f64::NAN,
        p_holm: f64::NAN,
    })
}

fn estimates(spec: &ReportSpec, main: &Frame) -> Result<EstimatesTable> {
    let mut rows = spec
        .outcomes
        .iter()
        .map(|o| estimate(spec, o, main))
        .collect::<Result<Vec<_>>>()?;
    adjust_by_family(&mut rows)?;
    Ok(EstimatesTable {
        rows,
        vcov: vcov_of(spec),
        cluster: spec.cluster.clone(),
        strata: spec.strata.clone(),
        level: spec.level,
    })
}

/// BH, sharpened and Holm adjustments of the ITT p-values within each family.
fn adjust_by_family(rows: &mut [Estimate]) -> Result<()> {
    let mut families: Vec<String> = rows.iter().map(|r| r.family.clone()).collect();
    families.dedup();
    families.sort();
    families.dedup();
    for fam in families {
        let idx: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].family == fam).collect();
        let p: Vec<f64> = idx.iter().map(|&i| rows[i].itt.p).collect();
        let (bh, sq, holm) = (
            multiple::benjamini_hochberg(&p)?,
            multiple::sharpened_q(&p)?,
            multiple::holm(&p)?,
        );
        for (k, &i) in idx.iter().enumerate() {
            rows[i].q_bh = bh[k];
            rows[i].q_sharpened = sq[k];
            rows[i].p_holm = holm[k];
        }
    }
    Ok(())
}

/// Triangular-kernel local linear fit of `y` on `x − c` within `h` of the cutoff.
fn local_linear(xs: &[f64], ys: &[f64], c: f64, h: f64, left: bool) -> Result<LineFit> {
    let (mut s0, mut s1, mut s2, mut t0, mut t1) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (&x, &y) in xs.iter().zip(ys) {
        let u = x - c;
        if (left && u >= 0.0) || (!left && u < 0.0) || u.abs() > h {
            continue;
        }
        let w = 1.0 - u.abs() / h;
        s0 += w;
        s1 += w * u;
        s2 += w * u * u;
        t0 += w * y;
        t1 += w * u * y;
    }
    let det = s0 * s2 - s1 * s1;
    if det.abs() <= f64::EPSILON * s0 * s2 {
        return Err(EvalError::Insufficient(
            "rd plot: too few points to fit a line".into(),
        ));
    }
    let (from, to) = if left { (c - h, c) } else { (c, c + h) };
    Ok(LineFit {
        intercept: (s2 * t0 - s1 * t1) / det,
        slope: (s0 * t1 - s1 * t0) / det,
        from,
        to,
    })
}

fn rd_section(spec: &RdSpec, frame: &Frame, level: f64) -> Result<RdSection> {
    let sel = frame.select(&[&spec.y, &spec.x], &[])?;
    let (y, x) = (sel.num(&spec.y), sel.num(&spec.x));
    let opts = RdOptions {
        cutoff: spec.cutoff,
        level,
        ..Default::default()
    };
    let result = rdd::rdrobust(y, x, &opts)?;
    // rdrobust's left side is x < c, its right side x ≥ c; the fits match.
    let fit_left = local_linear(x, y, spec.cutoff, result.h, true)?;
    let fit_right = local_linear(x, y, spec.cutoff, result.h, false)?;
    let half = spec.window.unwrap_or(3.0 * result.h);
    let (wy, wx): (Vec<f64>, Vec<f64>) = y
        .iter()
        .zip(x)
        .filter(|(_, xi)| (**xi - spec.cutoff).abs() <= half)
        .map(|(a, b)| (*a, *b))
        .unzip();
    Ok(RdSection {
        spec: spec.clone(),
        bins: rdd::binned_means(&wy, &wx, spec.cutoff, spec.bins)?,
        result,
        fit_left,
        fit_right,
        level,
    })
}

fn event_study(spec: &DidSpec, frame: &Frame, level: f64) -> Result<EventStudy> {
    let sel = frame.select(&[&spec.y, &spec.time, &spec.group], &[&spec.id])?;
    let panel = Panel {
        id: Factor::from_labels(sel.lab(&spec.id)),
        time: sel.num(&spec.time).to_vec(),
        first_treat: sel.num(&spec.group).to_vec(),
        y: sel.num(&spec.y).to_vec(),
    };
    let r = did::callaway_santanna(
        &panel,
        &CsOptions {
            control: spec.control,
            alpha: 1.0 - level,
            bootstrap: None,
        },
    )?;
    Ok(EventStudy {
        label: spec.label.clone().unwrap_or_else(|| spec.y.clone()),
        dynamic: r.dynamic,
        n_units: r.n_units,
        level,
    })
}

/// HTML-escape user text (also safe inside attribute values).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Number as shown in the tables: precision adapted to magnitude, so rates,
/// z-scores and dirham amounts all read naturally. Non-finite values are "–".
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let a = v.abs();
    let s = if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    // "-0.000" reads as a sign error.
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// p-values and q-values: three decimals, "<0.001" below.
pub fn pval(p: f64) -> String {
    if !p.is_finite() {
        "–".into()
    } else if p < 0.001 {
        "<0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// Report in one call: numbers then the standalone document.
pub fn render(
    spec: &ReportSpec,
    main: &Frame,
    rd: Option<&Frame>,
    panel: Option<&Frame>,
    lang: Lang,
) -> Result<String> {
    Ok(standalone_html(&analyse(spec, main, rd, panel)?, lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_numbers() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(num(0.10234), "0.102");
        assert_eq!(num(-0.0001), "0.000");
        assert_eq!(num(152.345), "152.3");
        assert_eq!(num(2345.6), "2346");
        assert_eq!(num(f64::NAN), "–");
        assert_eq!(pval(0.0004), "<0.001");
    }

    #[test]
    fn local_linear_recovers_a_line() {
        let x: Vec<f64> = (0..40).map(|i| f64::from(i) / 10.0 - 2.0).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|v| 1.0 + 2.0 * v + if *v >= 0.0 { 0.5 } else { 0.0 })
            .collect();
        let l = local_linear(&x, &y, 0.0, 1.5, true).unwrap();
        let r = local_linear(&x, &y, 0.0, 1.5, false).unwrap();
        assert!((l.intercept - 1.0).abs() < 1e-12 && (l.slope - 2.0).abs() < 1e-12);
        assert!((r.intercept - 1.5).abs() < 1e-12);
    }
}

//! Difference-in-differences: the canonical 2×2 regression and
//! Callaway & Sant'Anna (2021) group-time effects for staggered adoption.
//!
//! # Callaway–Sant'Anna, unconditional, balanced panel
//!
//! Matches R `did::att_gt(..., xformla = ~1, base_period = "varying")` and
//! the Python `csdid` port (where the doubly robust estimator without
//! covariates reduces to the difference of mean changes):
//!
//! * `ATT(g,t) = E[Y_t − Y_b | G = g] − E[Y_t − Y_b | C]`, base period
//!   `b = t − 1` before treatment (t < g) and `b` = last period before `g`
//!   afterwards. `C` = never treated (`G = 0`), or not yet treated
//!   (`G = 0` or `G > max(t, b)`, `G ≠ g`).
//! * Influence function on the cell's subsample (n₁ units, share p treated):
//!   `ψᵢ = Dᵢ(ΔYᵢ − m₁)/p − (1 − Dᵢ)(ΔYᵢ − m₀)/(1 − p)`, scaled by `n/n₁` to
//!   the full sample; `se = sqrt(Σ IF²)/n`.
//! * Aggregations (did's `aggte`): *simple* weights post-treatment cells by
//!   group shares `P(G = g)`; *dynamic* averages cells with the same event
//!   time `e = t − g` by group shares, and its overall effect is the plain
//!   mean over `e ≥ 0`; *group* averages each group's post-treatment cells,
//!   then weights groups by their shares. Influence functions include the
//!   estimated-weights term (`wif`), so the SEs equal did's analytic ones.
//! * Uniform confidence bands: multiplier bootstrap of the influence
//!   functions (Mammen or Rademacher weights from a seeded SplitMix64),
//!   robust scale `(q75 − q25)/(z75 − z25)` and the `1 − α` quantile of the
//!   max-t statistic, as did's `mboot` (type-1 quantiles).
//!
//! Units first treated in or before the first period are dropped, and
//! units first treated after the last period count as never treated (as did).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::data::Factor;
use crate::dist;
use crate::error::{EvalError, Result, invalid};
use crate::ols::{OlsInput, RegResult, Vcov, ols};

/// Comparison units for `ATT(g,t)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ControlGroup {
    #[serde(alias = "nevertreated")]
    Never,
    #[serde(alias = "notyettreated")]
    NotYet,
}

impl std::str::FromStr for ControlGroup {
    type Err = EvalError;
    fn from_str(s: &str) -> Result<ControlGroup> {
        match s.to_ascii_lowercase().as_str() {
            "never" | "nevertreated" => Ok(ControlGroup::Never),
            "notyet" | "notyettreated" => Ok(ControlGroup::NotYet),
            other => invalid(format!("unknown control group '{other}' (never, notyet)")),
        }
    }
}

/// Multiplier-bootstrap weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BootWeights {
    Mammen,
    Rademacher,
}

/// Settings of the uniform-band bootstrap.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub iterations: usize,
    pub seed: u64,
    pub weights: BootWeights,
}

/// Long-format balanced panel.
#[derive(Debug, Clone)]
pub struct Panel {
    pub id: Factor,
    pub time: Vec<f64>,
    /// First treatment period; 0 (or any value ≤ 0) for never treated.
    pub first_treat: Vec<f64>,
    pub y: Vec<f64>,
}

/// Options of [`callaway_santanna`].
#[derive(Debug, Clone)]
pub struct CsOptions {
    pub control: ControlGroup,
    pub alpha: f64,
    pub bootstrap: Option<Bootstrap>,
}

impl Default for CsOptions {
    fn default() -> Self {
        CsOptions {
            control: ControlGroup::Never,
            alpha: 0.05,
            bootstrap: None,
        }
    }
}

/// One group-time effect.
#[derive(Debug, Clone, Serialize)]
pub struct AttGt {
    pub group: f64,
    pub time: f64,
    pub base: f64,
    pub att: f64,
    pub se: f64,
    pub n_treated: usize,
    pub n_control: usize,
    /// Uniform band (bootstrap) when requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band: Option<(f64, f64)>,
}

/// One aggregated effect (event time `e` or group `g` in `key`).
#[derive(Debug, Clone, Serialize)]
pub struct AggEffect {
    pub key: f64,
    pub att: f64,
    pub se: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band: Option<(f64, f64)>,
}

/// An aggregation with its overall summary.
#[derive(Debug, Clone, Serialize)]
pub struct Aggregation {
    pub overall_att: f64,
    pub overall_se: f64,
    pub effects: Vec<AggEffect>,
    /// Bootstrap critical value of the uniform band, when requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uniform_critical_value: Option<f64>,
}

/// Callaway–Sant'Anna output.
#[derive(Debug, Clone, Serialize)]
pub struct CsResult {
    pub n_units: usize,
    pub periods: Vec<f64>,
    pub groups: Vec<f64>,
    pub control: ControlGroup,
    pub att_gt: Vec<AttGt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub att_gt_critical_value: Option<f64>,
    pub simple: Aggregation,
    pub dynamic: Aggregation,
    pub group: Aggregation,
}

/// Wide balanced panel: `y[i][t]`, one group per unit.
struct Wide {
    y: Vec<Vec<f64>>,
    g: Vec<f64>,
    periods: Vec<f64>,
}

fn to_wide(p: &Panel) -> Result<Wide> {
    let n_obs = p.y.len();
    if p.time.len() != n_obs || p.first_treat.len() != n_obs || p.id.codes.len() != n_obs {
        return invalid("did: id, time, first_treat and y must have equal length");
    }
    let periods: Vec<f64> = p
        .time
        .iter()
        .map(|t| OrdF(*t))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|o| o.0)
        .collect();
    let t_index: HashMap<u64, usize> = periods
        .iter()
        .enumerate()
        .map(|(i, t)| (t.to_bits(), i))
        .collect();
    let n = p.id.n_levels();
    let mut y = vec![vec![f64::NAN; periods.len()]; n];
    let mut g = vec![f64::NAN; n];
    for r in 0..n_obs {
        let i = p.id.codes[r] as usize;
        let t = t_index[&p.time[r].to_bits()];
        if !y[i][t].is_nan() {
            return invalid(format!(
                "did: unit '{}' has two rows for period {}",
                p.id.levels[i], p.time[r]
            ));
        }
        y[i][t] = p.y[r];
        let gi = p.first_treat[r].max(0.0);
        if !g[i].is_nan() && g[i] != gi {
            return invalid(format!(
                "did: first-treatment period varies within unit '{}'",
                p.id.levels[i]
            ));
        }
        g[i] = gi;
    }
    if let Some(i) = y.iter().position(|row| row.iter().any(|v| v.is_nan())) {
        return invalid(format!(
            "did: unbalanced panel (unit '{}' misses a period)",
            p.id.levels[i]
        ));
    }
    let (first, last) = (periods[0], periods[periods.len() - 1]);
    // did's conventions: already-treated units are dropped, late ones are never treated.
    let keep: Vec<usize> = (0..n).filter(|&i| !(g[i] > 0.0 && g[i] <= first)).collect();
    let g: Vec<f64> = keep
        .iter()
        .map(|&i| if g[i] > last { 0.0 } else { g[i] })
        .collect();
    let y = keep
        .into_iter()
        .map(|i| std::mem::take(&mut y[i]))
        .collect();
    Ok(Wide { y, g, periods })
}

/// Total order on periods / groups so they can live in ordered sets.
#[derive(PartialEq, Clone, Copy)]
struct OrdF(f64);
impl Eq for OrdF {}
impl PartialOrd for OrdF {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for OrdF {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

/// One cell: estimate and full-sample influence function.
struct Cell {
    out: AttGt,
    inf: Vec<f64>,
}

fn cell(w: &Wide, gv: f64, t: usize, b: usize, control: ControlGroup) -> Option<Cell> {
    let n = w.g.len();
    let later = w.periods[t].max(w.periods[b]);
    let is_control = |gi: f64| match control {
        ControlGroup::Never => gi == 0.0,
        ControlGroup::NotYet => gi == 0.0 || (gi > later && gi != gv),
    };
    let (mut n1, mut n0, mut s1, mut s0) = (0usize, 0usize, 0.0, 0.0);
    for i in 0..n {
        let d = w.y[i][t] - w.y[i][b];
        if w.g[i] == gv {
            n1 += 1;
            s1 += d;
        } else if is_control(w.g[i]) {
            n0 += 1;
            s0 += d;
        }
    }
    if n1 == 0 || n0 == 0 {
        return None;
    }
    let (m1, m0) = (s1 / n1 as f64, s0 / n0 as f64);
    let nsub = (n1 + n0) as f64;
    let p = n1 as f64 / nsub;
    let scale = n as f64 / nsub;
    let inf: Vec<f64> = (0..n)
        .map(|i| {
            let d = w.y[i][t] - w.y[i][b];
            if w.g[i] == gv {
                scale * (d - m1) / p
            } else if is_control(w.g[i]) {
                -scale * (d - m0) / (1.0 - p)
            } else {
                0.0
            }
        })
        .collect();
    let se = inf.iter().map(|v| v * v).sum::<f64>().sqrt() / n as f64;
    Some(Cell {
        out: AttGt {
            group: gv,
            time: w.periods[t],
            base: w.periods[b],
            att: m1 - m0,
            se,
            n_treated: n1,
            n_control: n0,
            band: None,
        },
        inf,
    })
}

/// Weighted combination of cells with did's estimated-weights correction.
/// `pg[k]` is the population share of the group of `cells[k]`.
fn combine(
    cells: &[&Cell],
    pg: &[f64],
    groups_of_units: &[f64],
    with_wif: bool,
) -> (f64, Vec<f64>) {
    let n = groups_of_units.len();
    let total: f64 = pg.iter().sum();
    let w: Vec<f64> = pg.iter().map(|p| p / total).collect();
    let att: f64 = cells.iter().zip(&w).map(|(c, wk)| wk * c.out.att).sum();
    let mut inf = vec![0.0; n];
    for (c, wk) in cells.iter().zip(&w) {
        for (a, v) in inf.iter_mut().zip(&c.inf) {
            *a += wk * v;
        }
    }
    if with_wif {
        for (i, a) in inf.iter_mut().enumerate() {
            let ind = |k: usize| f64::from(u8::from(groups_of_units[i] == cells[k].out.group));
            let row_sum: f64 = (0..cells.len()).map(|k| ind(k) - pg[k]).sum();
            for k in 0..cells.len() {
                let wif = (ind(k) - pg[k]) / total - row_sum * pg[k] / (total * total);
                *a += wif * cells[k].out.att;
            }
        }
    }
    (att, inf)
}

fn se_of(inf: &[f64]) -> f64 {
    let n = inf.len() as f64;
    (inf.iter().map(|v| v * v).sum::<f64>() / n / n).sqrt()
}

/// SplitMix64: tiny, seedable and fully specified, so bootstrap draws are
/// reproducible across platforms and versions.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform on [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn type1_quantile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let k = ((n as f64 * p).ceil() as usize).clamp(1, n);
    sorted[k - 1]
}

/// Multiplier bootstrap of several influence functions: returns the uniform
/// critical value and the bootstrap standard errors (did's `mboot`).
pub fn multiplier_bootstrap(infs: &[Vec<f64>], boot: &Bootstrap, alpha: f64) -> (f64, Vec<f64>) {
    let k = infs.len();
    let n = infs.first().map_or(0, Vec::len);
    let root_n = (n as f64).sqrt();
    let mut rng = SplitMix64(boot.seed);
    let s5 = 5f64.sqrt();
    let (lo, hi, p_lo) = ((1.0 - s5) / 2.0, (1.0 + s5) / 2.0, (s5 + 1.0) / (2.0 * s5));
    // draws[b][j] = n^(-1/2) Σ_i v_i IF_ij
    let mut draws = vec![vec![0.0; k]; boot.iterations];
    let mut v = vec![0.0; n];
    for row in draws.iter_mut() {
        for vi in v.iter_mut() {
            let u = rng.next_f64();
            *vi = match boot.weights {
                BootWeights::Mammen => {
                    if u < p_lo {
                        lo
                    } else {
                        hi
                    }
                }
                BootWeights::Rademacher => {
                    if u < 0.5 {
                        -1.0
                    } else {
                        1.0
                    }
                }
            };
        }
        for (j, inf) in infs.iter().enumerate() {
            row[j] = inf.iter().zip(&v).map(|(a, w)| a * w).sum::<f64>() / root_n;
        }
    }
    let zq = dist::normal_quantile(0.75) - dist::normal_quantile(0.25);
    let sigma: Vec<f64> = (0..k)
        .map(|j| {
            let mut col: Vec<f64> = draws.iter().map(|r| r[j]).collect();
            col.sort_by(f64::total_cmp);
            (type1_quantile(&col, 0.75) - type1_quantile(&col, 0.25)) / zq
        })
        .collect();
    let mut tmax: Vec<f64> = draws
        .iter()
        .map(|r| {
            r.iter()
                .zip(&sigma)
                .filter(|(_, s)| **s > 0.0)
                .map(|(x, s)| (x / s).abs())
                .fold(0.0, f64::max)
        })
        .collect();
    tmax.sort_by(f64::total_cmp);
    let crit = if tmax.is_empty() {
        f64::NAN
    } else {
        type1_quantile(&tmax, 1.0 - alpha)
    };
    (crit, sigma.iter().map(|s| s / root_n).collect())
}

fn effect(key: f64, att: f64, inf: &[f64], z: f64) -> AggEffect {
    let se = se_of(inf);
    AggEffect {
        key,
        att,
        se,
        ci_low: att - z * se,
        ci_high: att + z * se,
        band: None,
    }
}

/// Attach bootstrap uniform bands to a list of effects.
fn add_bands(effects: &mut [AggEffect], infs: &[Vec<f64>], opts: &CsOptions) -> Option<f64> {
    let boot = opts.bootstrap.as_ref()?;
    let (crit, se) = multiplier_bootstrap(infs, boot, opts.alpha);
    for (e, s) in effects.iter_mut().zip(se) {
        e.band = Some((e.att - crit * s, e.att + crit * s));
    }
    Some(crit)
}

/// Group-time ATTs and their aggregations.
pub fn callaway_santanna(panel: &Panel, opts: &CsOptions) -> Result<CsResult> {
    let w = to_wide(panel)?;
    let n = w.g.len();
    let nt = w.periods.len();
    if nt < 2 {
        return invalid("did: need at least two periods");
    }
    let groups: Vec<f64> =
        w.g.iter()
            .filter(|g| **g > 0.0)
            .map(|g| OrdF(*g))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|o| o.0)
            .collect();
    if groups.is_empty() {
        return Err(EvalError::Insufficient("did: no treated group".into()));
    }
    let share = |g: f64| w.g.iter().filter(|x| **x == g).count() as f64 / n as f64;
    let mut cells = Vec::new();
    for &g in &groups {
        let last_pre = (0..nt)
            .rev()
            .find(|&i| w.periods[i] < g)
            .expect("g > first period");
        for t in 1..nt {
            let b = if w.periods[t] < g { t - 1 } else { last_pre };
            if let Some(c) = cell(&w, g, t, b, opts.control) {
                cells.push(c);
            }
        }
    }
    let z = dist::normal_quantile(1.0 - opts.alpha / 2.0);
    let post: Vec<&Cell> = cells.iter().filter(|c| c.out.time >= c.out.group).collect();
    if post.is_empty() {
        return Err(EvalError::Insufficient(
            "did: no post-treatment cell".into(),
        ));
    }
    let pg = |cs: &[&Cell]| cs.iter().map(|c| share(c.out.group)).collect::<Vec<f64>>();
    let (simple_att, simple_inf) = combine(&post, &pg(&post), &w.g, true);
    let simple = Aggregation {
        overall_att: simple_att,
        overall_se: se_of(&simple_inf),
        effects: vec![],
        uniform_critical_value: None,
    };
    // Dynamic: by event time.
    let mut by_e: BTreeMap<i64, Vec<&Cell>> = BTreeMap::new();
    for c in &cells {
        by_e.entry((c.out.time - c.out.group).round() as i64)
            .or_default()
            .push(c);
    }
    let mut dyn_effects = Vec::new();
    let mut dyn_infs = Vec::new();
    for (e, cs) in &by_e {
        let (att, inf) = combine(cs, &pg(cs), &w.g, true);
        dyn_effects.push(effect(*e as f64, att, &inf, z));
        dyn_infs.push(inf);
    }
    let pos: Vec<usize> = (0..dyn_effects.len())
        .filter(|&i| dyn_effects[i].key >= 0.0)
        .collect();
    let mut dyn_inf = vec![0.0; n];
    for &i in &pos {
        for (a, v) in dyn_inf.iter_mut().zip(&dyn_infs[i]) {
            *a += v / pos.len() as f64;
        }
    }
    let dyn_att = pos.iter().map(|&i| dyn_effects[i].att).sum::<f64>() / pos.len() as f64;
    let dyn_crit = add_bands(&mut dyn_effects, &dyn_infs, opts);
    let dynamic = Aggregation {
        overall_att: dyn_att,
        overall_se: se_of(&dyn_inf),
        effects: dyn_effects,
        uniform_critical_value: dyn_crit,
    };
    // Group: mean over each group's post periods, then group shares.
    let mut grp_cells = Vec::new();
    let mut grp_effects = Vec::new();
    let mut grp_infs = Vec::new();
    for &g in &groups {
        let cs: Vec<&Cell> = post.iter().copied().filter(|c| c.out.group == g).collect();
        if cs.is_empty() {
            continue;
        }
        let (att, inf) = combine(&cs, &vec![1.0; cs.len()], &w.g, false);
        grp_effects.push(effect(g, att, &inf, z));
        grp_cells.push(Cell {
            out: AttGt {
                group: g,
                att,
                ..cs[0].out.clone()
            },
            inf: inf.clone(),
        });
        grp_infs.push(inf);
    }
    let grp_refs: Vec<&Cell> = grp_cells.iter().collect();
    let (grp_att, grp_inf) = combine(&grp_refs, &pg(&grp_refs), &w.g, true);
    let grp_crit = add_bands(&mut grp_effects, &grp_infs, opts);
    let group = Aggregation {
        overall_att: grp_att,
        overall_se: se_of(&grp_inf),
        effects: grp_effects,
        uniform_critical_value: grp_crit,
    };
    let mut att_gt: Vec<AttGt> = cells.iter().map(|c| c.out.clone()).collect();
    let mut gt_crit = None;
    if let Some(boot) = &opts.bootstrap {
        let infs: Vec<Vec<f64>> = cells.iter().map(|c| c.inf.clone()).collect();
        let (crit, se) = multiplier_bootstrap(&infs, boot, opts.alpha);
        for (a, s) in att_gt.iter_mut().zip(se) {
            a.band = Some((a.att - crit * s, a.att + crit * s));
        }
        gt_crit = Some(crit);
    }
    Ok(CsResult {
        n_units: n,
        periods: w.periods,
        groups,
        control: opts.control,
        att_gt,
        att_gt_critical_value: gt_crit,
        simple,
        dynamic,
        group,
    })
}

/// Canonical 2×2 DiD regression `y ~ treated + post + treated×post`; the
/// interaction (named `treated:post`) is the effect. Cluster by unit for panels.
pub fn did_2x2(
    y: &[f64],
    treated: &[f64],
    post: &[f64],
    cluster: Option<Factor>,
    vcov: Vcov,
) -> Result<RegResult> {
    let inter: Vec<f64> = treated.iter().zip(post).map(|(a, b)| a * b).collect();
    let mut input = OlsInput::new(
        y.to_vec(),
        vec![treated.to_vec(), post.to_vec(), inter],
        vec!["treated".into(), "post".into(), "treated:post".into()],
    );
    input.cluster = cluster;
    input.vcov = vcov;
    ols(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_by_two_is_difference_of_means() {
        let y = [1.0, 2.0, 3.0, 5.0, 2.0, 3.0, 6.0, 9.0];
        let d = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let p = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0];
        let r = did_2x2(&y, &d, &p, None, Vcov::Hc1).unwrap();
        let want = (7.5 - 2.5) - (4.0 - 1.5);
        assert!((r.coef[3] - want).abs() < 1e-12);
    }

    #[test]
    fn bootstrap_is_deterministic_and_sane() {
        let mut rng = SplitMix64(1);
        let inf: Vec<Vec<f64>> = (0..3)
            .map(|_| (0..400).map(|_| rng.next_f64() - 0.5).collect())
            .collect();
        let boot = Bootstrap {
            iterations: 999,
            seed: 42,
            weights: BootWeights::Mammen,
        };
        let (c1, s1) = multiplier_bootstrap(&inf, &boot, 0.05);
        let (c2, _) = multiplier_bootstrap(&inf, &boot, 0.05);
        assert_eq!(c1, c2);
        // Uniform band over 3 estimates is wider than pointwise, narrower than Bonferroni-ish 3.
        assert!(c1 > 1.9 && c1 < 3.0, "{c1}");
        for (j, s) in s1.iter().enumerate() {
            let analytic = se_of(&inf[j]);
            assert!((s / analytic - 1.0).abs() < 0.15, "{s} vs {analytic}");
        }
    }
}

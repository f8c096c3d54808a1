//! Sharp regression discontinuity, ported from rdrobust 2.1 (Python), for
//! the defaults `p = 1`, `q = 2`, `deriv = 0`, `vce = "nn"` (3 matches),
//! `bwselect = "mserd"`, `stdvars = TRUE`, `masspoints = "adjust"`,
//! `bwrestrict = TRUE`, `scaleregul = 1`, without covariates, clusters or weights.
//!
//! * Bandwidth (Calonico, Cattaneo & Titiunik 2014; CCF 2020): pilot
//!   `c_bw = C_K · min(1, IQR/(1.349 sd)) · M^(−1/5)` on standardised x and y
//!   (C_K = 2.576 triangular), then the three-step cascade d → b → h where
//!   each step estimates the variance `V` and the bias constant `B` on both
//!   sides with nearest-neighbour residuals and a regularisation term `R`:
//!   `bw = ((V_l + V_r) / ((B_r − B_l)² + R_l + R_r))^(1/(2o+3))`.
//! * Estimation: local polynomial of order p with kernel weights at h; the
//!   bias-corrected estimate uses the order-q fit at b; the robust variance
//!   uses the bias-corrected design `Q_q` with nn residuals.
//! * Inference: normal distribution (as rdrobust).
//!
//! A McCrary (2008) density test and evenly spaced binned means for RD plots
//! are also provided.

use serde::Serialize;

use crate::dist;
use crate::error::{EvalError, Result, invalid};
use crate::linalg;

/// Kernel of the local polynomial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kernel {
    Triangular,
    Uniform,
    Epanechnikov,
}

impl Kernel {
    fn weight(self, u: f64, h: f64) -> f64 {
        let a = u.abs();
        let k = match self {
            Kernel::Triangular => (1.0 - a) * f64::from(u8::from(a <= 1.0)),
            Kernel::Uniform => 0.5 * f64::from(u8::from(a <= 1.0)),
            Kernel::Epanechnikov => 0.75 * (1.0 - u * u) * f64::from(u8::from(a <= 1.0)),
        };
        k / h
    }

    /// rdrobust's pilot-bandwidth constant.
    fn pilot_constant(self) -> f64 {
        match self {
            Kernel::Triangular => 2.576,
            Kernel::Uniform => 1.843,
            Kernel::Epanechnikov => 2.34,
        }
    }
}

/// Options of [`rdrobust`].
#[derive(Debug, Clone)]
pub struct RdOptions {
    pub cutoff: f64,
    /// Order of the point-estimate polynomial (1 = local linear).
    pub p: usize,
    /// Order of the bias-correction polynomial (> p).
    pub q: usize,
    pub kernel: Kernel,
    /// Nearest neighbours of the variance estimator.
    pub nnmatch: usize,
    pub level: f64,
    /// Manual main bandwidth (skips selection); `b` defaults to `h`.
    pub h: Option<f64>,
    pub b: Option<f64>,
}

impl Default for RdOptions {
    fn default() -> Self {
        RdOptions {
            cutoff: 0.0,
            p: 1,
            q: 2,
            kernel: Kernel::Triangular,
            nnmatch: 3,
            level: 0.95,
            h: None,
            b: None,
        }
    }
}

/// Estimates of a sharp RD.
#[derive(Debug, Clone, Serialize)]
pub struct RdResult {
    pub h: f64,
    pub b: f64,
    pub n_left: usize,
    pub n_right: usize,
    /// Observations with positive weight at h.
    pub n_h_left: usize,
    pub n_h_right: usize,
    pub tau_conventional: f64,
    pub se_conventional: f64,
    pub p_conventional: f64,
    pub tau_bias_corrected: f64,
    pub se_robust: f64,
    pub p_robust: f64,
    pub ci_conventional_low: f64,
    pub ci_conventional_high: f64,
    pub ci_robust_low: f64,
    pub ci_robust_high: f64,
}

/// One side of the cutoff, sorted by x, with tie bookkeeping for nn residuals.
struct Side {
    x: Vec<f64>,
    y: Vec<f64>,
    /// Size of the tie block of each observation.
    dups: Vec<usize>,
    /// 1-based rank inside its tie block.
    dupsid: Vec<usize>,
}

impl Side {
    fn new(mut pairs: Vec<(f64, f64)>) -> Side {
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (x, y): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        let (dups, dupsid) = tie_blocks(&x);
        Side { x, y, dups, dupsid }
    }

    fn scaled(&self, sx: f64, sy: f64) -> Side {
        Side {
            x: self.x.iter().map(|v| v / sx).collect(),
            y: self.y.iter().map(|v| v / sy).collect(),
            dups: self.dups.clone(),
            dupsid: self.dupsid.clone(),
        }
    }

    fn n_unique(&self) -> usize {
        self.dupsid.iter().filter(|&&d| d == 1).count()
    }
}

fn tie_blocks(x: &[f64]) -> (Vec<usize>, Vec<usize>) {
    let n = x.len();
    let (mut dups, mut dupsid) = (vec![0; n], vec![0; n]);
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end < n && x[end] == x[start] {
            end += 1;
        }
        for i in start..end {
            dups[i] = end - start;
            dupsid[i] = i - start + 1;
        }
        start = end;
    }
    (dups, dupsid)
}

/// Nearest-neighbour residuals (rdrobust's `vce = "nn"`): each observation
/// minus the mean of its `matches` nearest neighbours in x (whole tie blocks),
/// scaled by sqrt(J/(J+1)). `x` must be sorted.
fn nn_residuals(
    x: &[f64],
    y: &[f64],
    dups: &[usize],
    dupsid: &[usize],
    matches: usize,
) -> Vec<f64> {
    let n = x.len();
    let tol_eps = f64::EPSILON.sqrt();
    let cap = matches.min(n.saturating_sub(1)) as isize;
    let mut res = vec![0.0; n];
    for pos in 0..n {
        let mut rpos = (dups[pos] - dupsid[pos]) as isize;
        let mut lpos = dupsid[pos] as isize - 1;
        let p = pos as isize;
        let ni = n as isize;
        while lpos + rpos < cap {
            if p - lpos - 1 < 0 {
                rpos += dups[(p + rpos + 1) as usize] as isize;
            } else if p + rpos + 1 >= ni {
                lpos += dups[(p - lpos - 1) as usize] as isize;
            } else {
                let dleft = x[pos] - x[(p - lpos - 1) as usize];
                let dright = x[(p + rpos + 1) as usize] - x[pos];
                let tol = dleft.max(dright) * tol_eps;
                if dleft - dright > tol {
                    rpos += dups[(p + rpos + 1) as usize] as isize;
                } else if dright - dleft > tol {
                    lpos += dups[(p - lpos - 1) as usize] as isize;
                } else {
                    rpos += dups[(p + rpos + 1) as usize] as isize;
                    lpos += dups[(p - lpos - 1) as usize] as isize;
                }
            }
        }
        let lo = (p - lpos) as usize;
        let hi = (p + rpos + 1) as usize;
        let ji = (hi - lo - 1) as f64;
        let sf = (ji / (ji + 1.0)).sqrt();
        let s: f64 = y[lo..hi].iter().sum::<f64>() - y[pos];
        res[pos] = sf * (y[pos] - s / ji);
    }
    res
}

/// Observations of a side with positive kernel weight at bandwidth `h`.
struct Window {
    x: Vec<f64>,
    y: Vec<f64>,
    w: Vec<f64>,
    dups: Vec<usize>,
    dupsid: Vec<usize>,
}

fn window(side: &Side, c: f64, h: f64, kernel: Kernel) -> Window {
    let mut win = Window {
        x: vec![],
        y: vec![],
        w: vec![],
        dups: vec![],
        dupsid: vec![],
    };
    for i in 0..side.x.len() {
        let w = kernel.weight((side.x[i] - c) / h, h);
        if w > 0.0 {
            win.x.push(side.x[i]);
            win.y.push(side.y[i]);
            win.w.push(w);
            win.dups.push(side.dups[i]);
            win.dupsid.push(side.dupsid[i]);
        }
    }
    win
}

/// Row `[1, d, d², …, d^o]`.
fn vander_row(d: f64, o: usize) -> Vec<f64> {
    let mut r = Vec::with_capacity(o + 1);
    let mut v = 1.0;
    for _ in 0..=o {
        r.push(v);
        v *= d;
    }
    r
}

/// Weighted polynomial fit: `(G⁻¹, β)` with `G = R'WR`, `β = G⁻¹R'Wy`.
fn poly_fit(win: &Window, c: f64, o: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let k = o + 1;
    let mut g = vec![0.0; k * k];
    let mut rwy = vec![0.0; k];
    for i in 0..win.x.len() {
        let r = vander_row(win.x[i] - c, o);
        for a in 0..k {
            rwy[a] += r[a] * win.w[i] * win.y[i];
            for b in 0..k {
                g[a * k + b] += r[a] * win.w[i] * r[b];
            }
        }
    }
    let inv = linalg::spd_inverse(&g, k)
        .map_err(|_| EvalError::Insufficient("too few distinct x values near the cutoff".into()))?;
    let beta = linalg::matmul(&inv, k, k, &rwy, 1);
    Ok((inv, beta))
}

/// `Σ eᵢ² aᵢaᵢ'` for rows `aᵢ`.
fn meat(rows: &[Vec<f64>], e: &[f64]) -> Vec<f64> {
    let k = rows.first().map_or(0, Vec::len);
    let mut m = vec![0.0; k * k];
    for (r, ei) in rows.iter().zip(e) {
        for a in 0..k {
            for b in 0..k {
                m[a * k + b] += ei * ei * r[a] * r[b];
            }
        }
    }
    m
}

/// Diagonal element `[j,j]` of `G⁻¹ M G⁻¹`.
fn sandwich_jj(inv: &[f64], m: &[f64], k: usize, j: usize) -> f64 {
    linalg::sandwich(inv, m, k)[j * k + j]
}

fn nn_variance(win: &Window, c: f64, o: usize, inv: &[f64], nnmatch: usize, j: usize) -> f64 {
    let res = nn_residuals(&win.x, &win.y, &win.dups, &win.dupsid, nnmatch);
    let rows: Vec<Vec<f64>> = (0..win.x.len())
        .map(|i| {
            vander_row(win.x[i] - c, o)
                .iter()
                .map(|v| v * win.w[i])
                .collect()
        })
        .collect();
    sandwich_jj(inv, &meat(&rows, &res), o + 1, j)
}

/// Output of one `rdrobust_bw` call: variance, bias and regularisation terms.
struct BwTerms {
    v: f64,
    b: f64,
    r: f64,
    rate: f64,
}

#[derive(Clone, Copy)]
struct BwCall {
    o: usize,
    nu: usize,
    o_b: usize,
    h_v: f64,
    h_b: f64,
    scale: f64,
}

/// Port of rdrobust's `rdrobust_bw` (sharp, no covariates, nn variance).
fn bw_terms(side: &Side, c: f64, call: &BwCall, kernel: Kernel, nnmatch: usize) -> Result<BwTerms> {
    let BwCall {
        o,
        nu,
        o_b,
        h_v,
        h_b,
        scale,
    } = *call;
    let wv = window(side, c, h_v, kernel);
    let (inv_v, _) = poly_fit(&wv, c, o)?;
    let v_v = nn_variance(&wv, c, o, &inv_v, nnmatch, nu);
    let k = o + 1;
    let mut v = vec![0.0; k];
    for i in 0..wv.x.len() {
        let u = ((wv.x[i] - c) / h_v).powi(o as i32 + 1);
        for (a, r) in vander_row(wv.x[i] - c, o).iter().enumerate() {
            v[a] += r * wv.w[i] * u;
        }
    }
    let bconst = h_v.powi(nu as i32) * linalg::matmul(&inv_v, k, k, &v, 1)[nu];
    let wb = window(side, c, h_b, kernel);
    let (inv_b, beta_b) = poly_fit(&wb, c, o_b)?;
    let mut bwreg = 0.0;
    if scale > 0.0 {
        let v_b = nn_variance(&wb, c, o_b, &inv_b, nnmatch, o_b);
        bwreg = 3.0 * bconst * bconst * v_b;
    }
    let two_o = 2.0 * (o + 1 - nu) as f64;
    Ok(BwTerms {
        v: (2 * nu + 1) as f64 * h_v.powi(2 * nu as i32 + 1) * v_v,
        b: two_o.sqrt() * bconst * beta_b[o_b],
        r: scale * two_o * bwreg,
        rate: 1.0 / (2 * o + 3) as f64,
    })
}

/// Type-2 quantile (R's `quantile(type = 2)`), used by rdrobust for the IQR.
fn quantile_type2(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let h = n as f64 * p;
    let j = h.floor() as usize;
    if p <= 0.0 {
        sorted[0]
    } else if p >= 1.0 {
        sorted[n - 1]
    } else if h == j as f64 {
        0.5 * (sorted[j - 1] + sorted[j])
    } else {
        sorted[j]
    }
}

fn sd(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// MSE-optimal common bandwidths `(h, b)` (rdrobust's `mserd`).
pub fn mserd_bandwidth(y: &[f64], x: &[f64], opts: &RdOptions) -> Result<(f64, f64)> {
    let (left, right) = split(y, x, opts.cutoff)?;
    mserd(&left, &right, x, y, opts)
}

fn mserd(left: &Side, right: &Side, x: &[f64], y: &[f64], opts: &RdOptions) -> Result<(f64, f64)> {
    let (p, q, kernel, nn) = (opts.p, opts.q, opts.kernel, opts.nnmatch);
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let iqr = quantile_type2(&sorted, 0.75) - quantile_type2(&sorted, 0.25);
    let (x_sd, y_sd) = (sd(x), sd(y));
    let bwp = (iqr / x_sd / 1.349).min(1.0);
    let c = opts.cutoff / x_sd;
    let (l, r) = (left.scaled(x_sd, y_sd), right.scaled(x_sd, y_sd));
    let (m_l, m_r) = (l.n_unique(), r.n_unique());
    let mass = (1.0 - m_l as f64 / l.x.len() as f64).max(1.0 - m_r as f64 / r.x.len() as f64);
    let x_min = sorted[0] / x_sd;
    let x_max = sorted[sorted.len() - 1] / x_sd;
    let bw_max = (c - x_min).abs().max((c - x_max).abs());
    let mut c_bw = (kernel.pilot_constant() * bwp * ((m_l + m_r) as f64).powf(-0.2)).min(bw_max);
    // With ≥ 20% repeated x values rdrobust enlarges pilots to cover 10 unique points.
    let pad = 1.0 + f64::EPSILON.sqrt();
    let bw_min = (mass >= 0.2).then(|| {
        let uniq = |s: &Side, rev: bool| {
            let mut u: Vec<f64> =
                s.x.iter()
                    .zip(&s.dupsid)
                    .filter(|(_, d)| **d == 1)
                    .map(|(v, _)| *v)
                    .collect();
            if rev {
                u.reverse();
            }
            (u[10.min(u.len()) - 1] - c).abs() * pad
        };
        uniq(&l, true).max(uniq(&r, false))
    });
    if let Some(m) = bw_min {
        c_bw = c_bw.max(m);
    }
    let range_l = (c - l.x[0]).abs() * pad;
    let range_r = (c - r.x[r.x.len() - 1]).abs() * pad;
    let both = |o, nu, o_b, hb_l, hb_r, scale| -> Result<(BwTerms, BwTerms)> {
        let cl = BwCall {
            o,
            nu,
            o_b,
            h_v: c_bw,
            h_b: hb_l,
            scale,
        };
        let cr = BwCall { h_b: hb_r, ..cl };
        Ok((
            bw_terms(&l, c, &cl, kernel, nn)?,
            bw_terms(&r, c, &cr, kernel, nn)?,
        ))
    };
    let combine = |(a, b): &(BwTerms, BwTerms)| {
        ((a.v + b.v) / ((b.b - a.b).powi(2) + a.r + b.r)).powf(a.rate)
    };
    let dterms = both(q + 1, q + 1, q + 2, range_l, range_r, 0.0)?;
    let mut d_bw = combine(&dterms).min(bw_max);
    if let Some(m) = bw_min {
        d_bw = d_bw.max(m);
    }
    let b_bw = combine(&both(q, p + 1, q + 1, d_bw, d_bw, 1.0)?).min(bw_max);
    let h_bw = combine(&both(p, 0, q, b_bw, b_bw, 1.0)?).min(bw_max);
    if !(h_bw.is_finite() && h_bw > 0.0 && b_bw.is_finite() && b_bw > 0.0) {
        return Err(EvalError::Insufficient(
            "not enough variability in the running variable to select a bandwidth".into(),
        ));
    }
    Ok((x_sd * h_bw, x_sd * b_bw))
}

fn split(y: &[f64], x: &[f64], c: f64) -> Result<(Side, Side)> {
    if y.len() != x.len() {
        return invalid("rdd: x and y lengths differ");
    }
    let (mut l, mut r) = (Vec::new(), Vec::new());
    for (&xi, &yi) in x.iter().zip(y) {
        if xi < c {
            l.push((xi, yi))
        } else {
            r.push((xi, yi))
        }
    }
    if l.len() < 5 || r.len() < 5 {
        return Err(EvalError::Insufficient(format!(
            "{} observations left and {} right of the cutoff",
            l.len(),
            r.len()
        )));
    }
    Ok((Side::new(l), Side::new(r)))
}

/// Per-side pieces of the point estimate and its two variances.
struct SideFit {
    tau_cl: f64,
    tau_bc: f64,
    v_cl: f64,
    v_rb: f64,
    n_h: usize,
}

fn side_fit(side: &Side, c: f64, h: f64, b: f64, opts: &RdOptions) -> Result<SideFit> {
    let (p, q) = (opts.p, opts.q);
    let wide = if h > b { h } else { b };
    let win = window(side, c, wide, opts.kernel);
    let n = win.x.len();
    let wh: Vec<f64> = win
        .x
        .iter()
        .map(|&xi| opts.kernel.weight((xi - c) / h, h))
        .collect();
    let wb: Vec<f64> = win
        .x
        .iter()
        .map(|&xi| opts.kernel.weight((xi - c) / b, b))
        .collect();
    let n_h = wh.iter().filter(|w| **w > 0.0).count();
    let (kp, kq) = (p + 1, q + 1);
    let rq: Vec<Vec<f64>> = win.x.iter().map(|&xi| vander_row(xi - c, q)).collect();
    let mut gp = vec![0.0; kp * kp];
    let mut gq = vec![0.0; kq * kq];
    let mut l = vec![0.0; kp];
    for i in 0..n {
        let u = ((win.x[i] - c) / h).powi(p as i32 + 1);
        for a in 0..kq {
            for bb in 0..kq {
                gq[a * kq + bb] += rq[i][a] * wb[i] * rq[i][bb];
                if a < kp && bb < kp {
                    gp[a * kp + bb] += rq[i][a] * wh[i] * rq[i][bb];
                }
            }
            if a < kp {
                l[a] += rq[i][a] * wh[i] * u;
            }
        }
    }
    let few = |_| EvalError::Insufficient("too few distinct x values near the cutoff".into());
    let inv_p = linalg::spd_inverse(&gp, kp).map_err(few)?;
    let inv_q = linalg::spd_inverse(&gq, kq).map_err(few)?;
    let hp1 = h.powi(p as i32 + 1);
    // Rows of R_p·W_h (conventional scores) and of the bias-corrected design Q_q.
    let mut rw = Vec::with_capacity(n);
    let mut qq = Vec::with_capacity(n);
    for i in 0..n {
        let m: f64 = (0..kq)
            .map(|a| rq[i][a] * inv_q[(p + 1) * kq + a])
            .sum::<f64>()
            * wb[i];
        let row: Vec<f64> = (0..kp).map(|a| rq[i][a] * wh[i]).collect();
        qq.push(
            row.iter()
                .zip(&l)
                .map(|(r, la)| r - hp1 * m * la)
                .collect::<Vec<f64>>(),
        );
        rw.push(row);
    }
    let proj = |rows: &[Vec<f64>]| -> f64 {
        let mut xy = vec![0.0; kp];
        for (r, yi) in rows.iter().zip(&win.y) {
            for a in 0..kp {
                xy[a] += r[a] * yi;
            }
        }
        linalg::matmul(&inv_p, kp, kp, &xy, 1)[0]
    };
    let res = nn_residuals(
        &win.x,
        &win.y,
        &win.dups_local(),
        &win.dupsid_local(),
        opts.nnmatch,
    );
    Ok(SideFit {
        tau_cl: proj(&rw),
        tau_bc: proj(&qq),
        v_cl: sandwich_jj(&inv_p, &meat(&rw, &res), kp, 0),
        v_rb: sandwich_jj(&inv_p, &meat(&qq, &res), kp, 0),
        n_h,
    })
}

impl Window {
    // rdrobust recomputes tie blocks on the estimation window; since windows
    // are intervals of sorted x, whole tie blocks are kept and these equal
    // the side's values, but recomputing keeps the port literal.
    fn dups_local(&self) -> Vec<usize> {
        tie_blocks(&self.x).0
    }
    fn dupsid_local(&self) -> Vec<usize> {
        tie_blocks(&self.x).1
    }
}

/// Sharp RD estimate with MSE-optimal bandwidth and robust bias-corrected inference.
pub fn rdrobust(y: &[f64], x: &[f64], opts: &RdOptions) -> Result<RdResult> {
    if opts.q <= opts.p {
        return invalid("rdd: q must exceed p");
    }
    let c = opts.cutoff;
    let (left, right) = split(y, x, c)?;
    let (h, b) = match (opts.h, opts.b) {
        (Some(h), b) => (h, b.unwrap_or(h)),
        (None, _) => mserd(&left, &right, x, y, opts)?,
    };
    let fl = side_fit(&left, c, h, b, opts)?;
    let fr = side_fit(&right, c, h, b, opts)?;
    let tau_cl = fr.tau_cl - fl.tau_cl;
    let tau_bc = fr.tau_bc - fl.tau_bc;
    let se_cl = (fl.v_cl + fr.v_cl).sqrt();
    let se_rb = (fl.v_rb + fr.v_rb).sqrt();
    let z = dist::normal_quantile(0.5 + opts.level / 2.0);
    let pval = |t: f64, s: f64| 2.0 * dist::normal_cdf(-(t / s).abs());
    Ok(RdResult {
        h,
        b,
        n_left: left.x.len(),
        n_right: right.x.len(),
        n_h_left: fl.n_h,
        n_h_right: fr.n_h,
        tau_conventional: tau_cl,
        se_conventional: se_cl,
        p_conventional: pval(tau_cl, se_cl),
        tau_bias_corrected: tau_bc,
        se_robust: se_rb,
        p_robust: pval(tau_bc, se_rb),
        ci_conventional_low: tau_cl - z * se_cl,
        ci_conventional_high: tau_cl + z * se_cl,
        ci_robust_low: tau_bc - z * se_rb,
        ci_robust_high: tau_bc + z * se_rb,
    })
}

/// Weighted least squares on small designs: returns `(β, Σ w e²)`.
fn wls(rows: &[Vec<f64>], y: &[f64], w: &[f64]) -> Result<(Vec<f64>, f64)> {
    let k = rows.first().map_or(0, Vec::len);
    let mut g = vec![0.0; k * k];
    let mut xy = vec![0.0; k];
    for ((r, yi), wi) in rows.iter().zip(y).zip(w) {
        for a in 0..k {
            xy[a] += r[a] * wi * yi;
            for b in 0..k {
                g[a * k + b] += r[a] * wi * r[b];
            }
        }
    }
    let beta = linalg::spd_solve(&g, k, &xy)?;
    let ssr = rows
        .iter()
        .zip(y)
        .zip(w)
        .map(|((r, yi), wi)| {
            wi * (yi - r.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>()).powi(2)
        })
        .sum();
    Ok((beta, ssr))
}

/// Result of the McCrary density test.
#[derive(Debug, Clone, Serialize)]
pub struct DensityTest {
    pub bin_width: f64,
    pub bandwidth: f64,
    /// Estimated density just left / right of the cutoff.
    pub f_left: f64,
    pub f_right: f64,
    /// `ln f_right − ln f_left`.
    pub theta: f64,
    pub se: f64,
    pub z: f64,
    pub p: f64,
}

/// McCrary (2008) manipulation test, as R's `rdd::DCdensity`: a histogram
/// with bins of width `2·sd·n^(−1/2)` whose edges include the cutoff, then a
/// triangular-kernel local linear fit of the normalised bin heights on each
/// side; `θ = ln f̂⁺ − ln f̂⁻`, `se = sqrt((24/5)/(n h) · (1/f̂⁺ + 1/f̂⁻))`.
/// The default bandwidth averages McCrary's per-side rule
/// `3.348 (σ̃²(range)/Σ f̃''²)^(1/5)` from global quartic fits.
///
/// Limitations: the asymptotics assume a continuous running variable and a
/// bandwidth small relative to the support; with heaped or discrete x the
/// binning creates artificial jumps. It is not the rddensity (CJM 2020)
/// estimator, whose robust bias correction it lacks.
pub fn mccrary(x: &[f64], cutoff: f64, bin: Option<f64>, bw: Option<f64>) -> Result<DensityTest> {
    let n = x.len();
    if n < 20 {
        return Err(EvalError::Insufficient(
            "density test needs at least 20 observations".into(),
        ));
    }
    let nf = n as f64;
    let b = bin.unwrap_or(2.0 * sd(x) * nf.powf(-0.5));
    let (xmin, xmax) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, z), &v| {
            (a.min(v), z.max(v))
        });
    let mid = |v: f64| ((v - cutoff) / b).floor() * b + b / 2.0 + cutoff;
    let l = mid(xmin);
    let r = mid(xmax);
    let j = ((r - l) / b).round() as usize + 1;
    let mut cells = vec![0.0; j];
    for &v in x {
        let idx = ((mid(v) - l) / b).round() as usize;
        cells[idx.min(j - 1)] += 1.0;
    }
    let mp: Vec<f64> = (0..j).map(|i| l + i as f64 * b).collect();
    let height: Vec<f64> = cells.iter().map(|c| c / nf / b).collect();
    let left: Vec<usize> = (0..j).filter(|&i| mp[i] < cutoff).collect();
    let right: Vec<usize> = (0..j).filter(|&i| mp[i] >= cutoff).collect();
    if left.len() < 6 || right.len() < 6 {
        return Err(EvalError::Insufficient(
            "too few bins on one side of the cutoff".into(),
        ));
    }
    let h = match bw {
        Some(h) => h,
        None => {
            let side_h = |idx: &[usize], range: f64| -> Result<f64> {
                let rows: Vec<Vec<f64>> = idx.iter().map(|&i| vander_row(mp[i], 4)).collect();
                let y: Vec<f64> = idx.iter().map(|&i| height[i]).collect();
                let (beta, ssr) = wls(&rows, &y, &vec![1.0; idx.len()])?;
                let mse = ssr / (idx.len() as f64 - 5.0);
                let f2: f64 = idx
                    .iter()
                    .map(|&i| {
                        (2.0 * beta[2] + 6.0 * beta[3] * mp[i] + 12.0 * beta[4] * mp[i] * mp[i])
                            .powi(2)
                    })
                    .sum();
                Ok(3.348 * (mse * range / f2).powf(0.2))
            };
            0.5 * (side_h(&left, cutoff - l)? + side_h(&right, r - cutoff)?)
        }
    };
    let fit_side = |idx: &[usize]| -> Result<f64> {
        let sel: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|&i| (mp[i] - cutoff).abs() < h)
            .collect();
        if sel.len() < 2 {
            return Err(EvalError::Insufficient(
                "bandwidth covers fewer than 2 bins".into(),
            ));
        }
        let rows: Vec<Vec<f64>> = sel.iter().map(|&i| vec![1.0, mp[i] - cutoff]).collect();
        let y: Vec<f64> = sel.iter().map(|&i| height[i]).collect();
        let w: Vec<f64> = sel
            .iter()
            .map(|&i| 1.0 - (mp[i] - cutoff).abs() / h)
            .collect();
        Ok(wls(&rows, &y, &w)?.0[0])
    };
    let (fl, fr) = (fit_side(&left)?, fit_side(&right)?);
    if fl <= 0.0 || fr <= 0.0 {
        return Err(EvalError::Insufficient(
            "estimated density is not positive at the cutoff".into(),
        ));
    }
    let theta = fr.ln() - fl.ln();
    let se = ((24.0 / 5.0) / (nf * h) * (1.0 / fr + 1.0 / fl)).sqrt();
    let z = theta / se;
    Ok(DensityTest {
        bin_width: b,
        bandwidth: h,
        f_left: fl,
        f_right: fr,
        theta,
        se,
        z,
        p: 2.0 * dist::normal_cdf(-z.abs()),
    })
}

/// One bin of an RD plot.
#[derive(Debug, Clone, Serialize)]
pub struct Bin {
    /// `"left"` or `"right"` of the cutoff.
    pub side: &'static str,
    pub lower: f64,
    pub upper: f64,
    pub n: usize,
    pub mean_x: f64,
    pub mean_y: f64,
}

/// Evenly spaced bins on each side of the cutoff (`bins` per side; default
/// `ceil(sqrt(n_side))` capped at 50, a simple rule rather than rdplot's
/// IMSE / mimicking-variance choice). The right side includes the cutoff.
pub fn binned_means(y: &[f64], x: &[f64], cutoff: f64, bins: Option<usize>) -> Result<Vec<Bin>> {
    let (left, right) = split(y, x, cutoff)?;
    let mut out = Vec::new();
    for (side, s) in [("left", &left), ("right", &right)] {
        let j = bins
            .unwrap_or(((s.x.len() as f64).sqrt().ceil() as usize).min(50))
            .max(1);
        let (lo, hi) = if side == "left" {
            (s.x[0], cutoff)
        } else {
            (cutoff, s.x[s.x.len() - 1])
        };
        let width = (hi - lo) / j as f64;
        let mut acc = vec![(0usize, 0.0, 0.0); j];
        for (&xi, &yi) in s.x.iter().zip(&s.y) {
            let k = (((xi - lo) / width).floor() as usize).min(j - 1);
            acc[k].0 += 1;
            acc[k].1 += xi;
            acc[k].2 += yi;
        }
        for (k, (n, sx, sy)) in acc.into_iter().enumerate() {
            if n > 0 {
                out.push(Bin {
                    side,
                    lower: lo + k as f64 * width,
                    upper: lo + (k + 1) as f64 * width,
                    n,
                    mean_x: sx / n as f64,
                    mean_y: sy / n as f64,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-uniform draws (SplitMix64).
    fn uniforms(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = s;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
            })
            .collect()
    }

    #[test]
    fn nn_residuals_match_hand_computation() {
        // Distinct x: obs 0's 3 nearest are 1,2,3 → res = sqrt(3/4)(y0 − mean).
        let x = [0.0, 1.0, 2.0, 3.0, 10.0];
        let y = [1.0, 2.0, 4.0, 8.0, 16.0];
        let (d, id) = tie_blocks(&x);
        let r = nn_residuals(&x, &y, &d, &id, 3);
        assert!((r[0] - (0.75f64).sqrt() * (1.0 - 14.0 / 3.0)).abs() < 1e-14);
    }

    #[test]
    fn density_test_uniform_vs_manipulated() {
        let u: Vec<f64> = uniforms(4000, 7).iter().map(|v| 2.0 * v - 1.0).collect();
        let t = mccrary(&u, 0.0, None, None).unwrap();
        assert!(t.p > 0.01, "uniform flagged: {t:?}");
        // Move a third of the units just below the cutoff to just above it.
        let m: Vec<f64> = u
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                if v > -0.1 && v < 0.0 && i % 3 != 0 {
                    -v
                } else {
                    v
                }
            })
            .collect();
        let t = mccrary(&m, 0.0, None, None).unwrap();
        assert!(t.p < 1e-4 && t.theta > 0.0, "manipulation missed: {t:?}");
    }

    #[test]
    fn bins_cover_all_points() {
        let x: Vec<f64> = uniforms(500, 3).iter().map(|v| v - 0.5).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|v| if *v >= 0.0 { 1.0 + v } else { *v })
            .collect();
        let bins = binned_means(&y, &x, 0.0, Some(10)).unwrap();
        assert_eq!(bins.iter().map(|b| b.n).sum::<usize>(), 500);
        assert!(
            bins.iter()
                .all(|b| b.mean_x >= b.lower - 1e-12 && b.mean_x <= b.upper + 1e-12)
        );
    }
}

//! Probability distributions needed for inference: normal, Student t, F and
//! chi-square CDFs, plus normal and t quantiles.
//!
//! Everything is built on two special functions: the log-gamma function
//! (Lanczos, Numerical Recipes 3rd ed. coefficients, ~1e-15 relative) and
//! the regularized incomplete beta / gamma functions (continued fractions and
//! series as in Numerical Recipes). Both tails are returned together so upper
//! tails (p-values) are never computed as `1 - cdf`, which would lose all
//! precision below 1e-16.

use std::f64::consts::PI;

const EPS: f64 = 1e-16;
const FPMIN: f64 = 1e-300;
const MAX_ITER: usize = 200_000;

/// ln Γ(x) for x > 0.
// Published coefficients are kept digit for digit.
#[allow(clippy::excessive_precision)]
pub fn ln_gamma(x: f64) -> f64 {
    const COF: [f64; 14] = [
        57.156_235_665_862_923_5,
        -59.597_960_355_475_491_2,
        14.136_097_974_741_747_1,
        -0.491_913_816_097_620_199,
        0.339_946_499_848_118_887e-4,
        0.465_236_289_270_485_756e-4,
        -0.983_744_753_048_795_646e-4,
        0.158_088_703_224_912_494e-3,
        -0.210_264_441_724_104_883e-3,
        0.217_439_618_115_212_643e-3,
        -0.164_318_106_536_763_890e-3,
        0.844_182_239_838_527_433e-4,
        -0.261_908_384_015_814_087e-4,
        0.368_991_826_595_316_234e-5,
    ];
    let mut y = x;
    let tmp = x + 5.242_187_5;
    let tmp = (x + 0.5) * tmp.ln() - tmp;
    let mut ser = 0.999_999_999_999_997_092;
    for c in COF {
        y += 1.0;
        ser += c / y;
    }
    tmp + (2.506_628_274_631_000_5 * ser / x).ln()
}

/// Continued fraction for the incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < FPMIN {
        d = FPMIN;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..MAX_ITER {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < FPMIN {
            d = FPMIN;
        }
        c = 1.0 + aa / c;
        if c.abs() < FPMIN {
            c = FPMIN;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < FPMIN {
            d = FPMIN;
        }
        c = 1.0 + aa / c;
        if c.abs() < FPMIN {
            c = FPMIN;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// Regularized incomplete beta: returns `(I_x(a,b), 1 - I_x(a,b))` where the
/// caller passes both `x` and `y = 1 - x` so the complement stays accurate.
pub fn inc_beta(a: f64, b: f64, x: f64, y: f64) -> (f64, f64) {
    if x <= 0.0 {
        return (0.0, 1.0);
    }
    if y <= 0.0 {
        return (1.0, 0.0);
    }
    let ln_bt = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * y.ln();
    let bt = ln_bt.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        let lo = bt * beta_cf(a, b, x) / a;
        (lo, 1.0 - lo)
    } else {
        let up = bt * beta_cf(b, a, y) / b;
        (1.0 - up, up)
    }
}

/// Regularized incomplete gamma: `(P(a,x), Q(a,x))`.
pub fn inc_gamma(a: f64, x: f64) -> (f64, f64) {
    if x <= 0.0 {
        return (0.0, 1.0);
    }
    let gln = ln_gamma(a);
    if x < a + 1.0 {
        // Series representation.
        let mut ap = a;
        let mut del = 1.0 / a;
        let mut sum = del;
        for _ in 0..MAX_ITER {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * EPS {
                break;
            }
        }
        let p = sum * (-x + a * x.ln() - gln).exp();
        (p, 1.0 - p)
    } else {
        // Continued fraction (Lentz).
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / FPMIN;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..MAX_ITER {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < FPMIN {
                d = FPMIN;
            }
            c = b + an / c;
            if c.abs() < FPMIN {
                c = FPMIN;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < EPS {
                break;
            }
        }
        let q = (-x + a * x.ln() - gln).exp() * h;
        (1.0 - q, q)
    }
}

/// Complementary error function, via erfc(z) = Q(1/2, z²).
pub fn erfc(z: f64) -> f64 {
    if z >= 0.0 {
        inc_gamma(0.5, z * z).1
    } else {
        1.0 + inc_gamma(0.5, z * z).0
    }
}

/// Standard normal CDF.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal density.
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// Standard normal quantile: Acklam's rational start polished by Halley steps
/// against the accurate CDF (full double precision for 1e-300 < p < 1).
pub fn normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p > 0.5 {
        return -normal_quantile_lower(1.0 - p);
    }
    normal_quantile_lower(p)
}

#[allow(clippy::excessive_precision)]
fn normal_quantile_lower(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_690e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let mut x = if p < 0.024_25 {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    for _ in 0..3 {
        let e = normal_cdf(x) - p;
        let u = e * (2.0 * PI).sqrt() * (0.5 * x * x).exp();
        let step = u / (1.0 + x * u / 2.0);
        x -= step;
        if step.abs() <= 1e-16 * x.abs().max(1.0) {
            break;
        }
    }
    x
}

/// Student t CDF with `df` degrees of freedom (`df = ∞` gives the normal).
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * t_two_sided_p(t, df);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// Two-sided p-value `P(|T| ≥ |t|)`.
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if !df.is_finite() {
        return erfc(t.abs() / std::f64::consts::SQRT_2);
    }
    let t2 = t * t;
    // I_x(df/2, 1/2) with x = df/(df+t²) is exactly the two-sided tail.
    inc_beta(0.5 * df, 0.5, df / (df + t2), t2 / (df + t2)).0
}

/// Student t density.
pub fn t_pdf(t: f64, df: f64) -> f64 {
    if !df.is_finite() {
        return normal_pdf(t);
    }
    (ln_gamma(0.5 * (df + 1.0))
        - ln_gamma(0.5 * df)
        - 0.5 * (df * PI).ln()
        - 0.5 * (df + 1.0) * (1.0 + t * t / df).ln())
    .exp()
}

/// Student t quantile: safeguarded Newton on the CDF from the normal quantile.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if !df.is_finite() || df > 1e10 {
        return normal_quantile(p);
    }
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    // Upper tail target keeps precision for p close to 1.
    let target = 1.0 - p;
    let upper = |t: f64| 0.5 * t_two_sided_p(t, df);
    let (mut lo, mut hi) = (0.0, normal_quantile(p).max(1.0));
    while upper(hi) > target {
        lo = hi;
        hi *= 2.0;
    }
    let mut x = 0.5 * (lo + hi);
    for _ in 0..200 {
        let f = upper(x) - target; // decreasing in x
        if f > 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let mut next = x + f / t_pdf(x, df);
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        if (next - x).abs() <= 1e-15 * x.abs().max(1e-300) {
            return next;
        }
        x = next;
    }
    x
}

/// F distribution: upper tail `P(F ≥ f)` for (d1, d2) degrees of freedom.
pub fn f_sf(f: f64, d1: f64, d2: f64) -> f64 {
    if f <= 0.0 {
        return 1.0;
    }
    if !d2.is_finite() {
        return chi2_sf(f * d1, d1);
    }
    let denom = d1 * f + d2;
    inc_beta(0.5 * d2, 0.5 * d1, d2 / denom, d1 * f / denom).0
}

/// F distribution CDF.
pub fn f_cdf(f: f64, d1: f64, d2: f64) -> f64 {
    if f <= 0.0 {
        return 0.0;
    }
    let denom = d1 * f + d2;
    inc_beta(0.5 * d1, 0.5 * d2, d1 * f / denom, d2 / denom).0
}

/// Chi-square CDF.
pub fn chi2_cdf(x: f64, k: f64) -> f64 {
    inc_gamma(0.5 * k, 0.5 * x).0
}

/// Chi-square upper tail.
pub fn chi2_sf(x: f64, k: f64) -> f64 {
    inc_gamma(0.5 * k, 0.5 * x).1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn gamma_of_integers() {
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-14));
        assert!(close(ln_gamma(0.5), PI.sqrt().ln(), 1e-14));
    }

    #[test]
    fn normal_values() {
        assert!(close(normal_cdf(1.959_963_984_540_054), 0.975, 1e-15));
        assert!(close(normal_cdf(-8.0), 6.220_960_574_271_785e-16, 1e-12));
        assert!(close(normal_quantile(0.975), 1.959_963_984_540_054, 1e-15));
        assert!(close(normal_quantile(1e-10), -6.361_340_902_404_056, 1e-13));
    }

    #[test]
    fn t_closed_forms() {
        // df = 1 is Cauchy: F(t) = 1/2 + atan(t)/π.
        for t in [-3.0, -0.5, 0.2, 1.0, 10.0] {
            assert!(close(t_cdf(t, 1.0), 0.5 + f64::atan(t) / PI, 1e-14));
        }
        // df = 2: F(t) = 1/2 + t / (2 sqrt(2 + t²)).
        for t in [-2.0, 0.7, 4.0] {
            assert!(close(
                t_cdf(t, 2.0),
                0.5 + t / (2.0 * (2.0 + t * t).sqrt()),
                1e-14
            ));
        }
        assert!(close(t_quantile(0.975, 1.0), (PI * 0.475).tan(), 1e-12));
        assert!(close(
            t_quantile(0.975, 10.0),
            2.228_138_851_986_273_5,
            1e-13
        ));
    }

    #[test]
    fn chi2_and_f() {
        // chi2 with 2 df is exponential(1/2).
        assert!(close(chi2_sf(3.0, 2.0), (-1.5f64).exp(), 1e-14));
        // F(1, d) at t² equals the two-sided t p-value.
        assert!(close(f_sf(4.0, 1.0, 7.0), t_two_sided_p(2.0, 7.0), 1e-13));
        assert!(close(
            f_cdf(4.0, 1.0, 7.0) + f_sf(4.0, 1.0, 7.0),
            1.0,
            1e-14
        ));
    }
}

//! Small dense linear algebra for K×K problems (K = number of regressors).
//!
//! Matrices are row-major `Vec<f64>` with an explicit dimension. The large N×K
//! data never comes here: estimators accumulate cross-products first, so the
//! only work left is Cholesky factorisations of symmetric positive definite
//! matrices, which are stable enough for moment matrices and half the cost of LU.

use crate::error::{EvalError, Result};

/// Relative pivot below which a column is declared collinear with the previous ones.
const COLLINEAR_TOL: f64 = 1e-12;

/// Lower-triangular Cholesky factor `L` of an SPD matrix `a` (`a = L Lᵀ`).
///
/// The error names the first column whose pivot collapses, which is the
/// column that is (numerically) a linear combination of the ones before it.
pub fn cholesky(a: &[f64], k: usize) -> Result<Vec<f64>> {
    debug_assert_eq!(a.len(), k * k);
    let mut l = vec![0.0; k * k];
    for j in 0..k {
        let mut d = a[j * k + j];
        for p in 0..j {
            d -= l[j * k + p] * l[j * k + p];
        }
        // Compare with the original diagonal so the test is scale-free.
        if !d.is_finite() || d <= COLLINEAR_TOL * a[j * k + j].abs() {
            return Err(EvalError::Singular(format!(
                "column {j} is collinear with earlier columns (or constant)"
            )));
        }
        let djj = d.sqrt();
        l[j * k + j] = djj;
        for i in j + 1..k {
            let mut s = a[i * k + j];
            for p in 0..j {
                s -= l[i * k + p] * l[j * k + p];
            }
            l[i * k + j] = s / djj;
        }
    }
    Ok(l)
}

/// Solve `L Lᵀ x = b` given the Cholesky factor.
pub fn chol_solve(l: &[f64], k: usize, b: &[f64]) -> Vec<f64> {
    let mut y = b.to_vec();
    for i in 0..k {
        for p in 0..i {
            y[i] -= l[i * k + p] * y[p];
        }
        y[i] /= l[i * k + i];
    }
    for i in (0..k).rev() {
        for p in i + 1..k {
            y[i] -= l[p * k + i] * y[p];
        }
        y[i] /= l[i * k + i];
    }
    y
}

/// Solve `a x = b` for SPD `a`.
pub fn spd_solve(a: &[f64], k: usize, b: &[f64]) -> Result<Vec<f64>> {
    let l = cholesky(a, k)?;
    Ok(chol_solve(&l, k, b))
}

/// Inverse of an SPD matrix via its Cholesky factor.
pub fn spd_inverse(a: &[f64], k: usize) -> Result<Vec<f64>> {
    let l = cholesky(a, k)?;
    let mut inv = vec![0.0; k * k];
    let mut e = vec![0.0; k];
    for j in 0..k {
        e.iter_mut().for_each(|v| *v = 0.0);
        e[j] = 1.0;
        let col = chol_solve(&l, k, &e);
        for i in 0..k {
            inv[i * k + j] = col[i];
        }
    }
    symmetrize(&mut inv, k);
    Ok(inv)
}

/// Average `a` with its transpose to remove rounding asymmetry.
pub fn symmetrize(a: &mut [f64], k: usize) {
    for i in 0..k {
        for j in i + 1..k {
            let m = 0.5 * (a[i * k + j] + a[j * k + i]);
            a[i * k + j] = m;
            a[j * k + i] = m;
        }
    }
}

/// `a (r×m) · b (m×c)`.
pub fn matmul(a: &[f64], r: usize, m: usize, b: &[f64], c: usize) -> Vec<f64> {
    let mut out = vec![0.0; r * c];
    for i in 0..r {
        for p in 0..m {
            let aip = a[i * m + p];
            if aip == 0.0 {
                continue;
            }
            for j in 0..c {
                out[i * c + j] += aip * b[p * c + j];
            }
        }
    }
    out
}

/// Transpose of an r×c matrix.
pub fn transpose(a: &[f64], r: usize, c: usize) -> Vec<f64> {
    let mut t = vec![0.0; r * c];
    for i in 0..r {
        for j in 0..c {
            t[j * r + i] = a[i * c + j];
        }
    }
    t
}

/// Sandwich `b · m · bᵀ` for square k×k matrices.
pub fn sandwich(bread: &[f64], meat: &[f64], k: usize) -> Vec<f64> {
    let bm = matmul(bread, k, k, meat, k);
    let mut v = matmul(&bm, k, k, &transpose(bread, k, k), k);
    symmetrize(&mut v, k);
    v
}

/// Quadratic form `xᵀ a x`.
pub fn quad_form(a: &[f64], k: usize, x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..k {
        for j in 0..k {
            s += x[i] * a[i * k + j] * x[j];
        }
    }
    s
}

/// General square solve with partial pivoting (for the few non-symmetric systems).
pub fn lu_solve(a: &[f64], k: usize, b: &[f64]) -> Result<Vec<f64>> {
    let mut m = a.to_vec();
    let mut x = b.to_vec();
    let scale = a
        .iter()
        .fold(0.0_f64, |s, v| s.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    for c in 0..k {
        let piv = (c..k)
            .max_by(|&i, &j| m[i * k + c].abs().total_cmp(&m[j * k + c].abs()))
            .unwrap_or(c);
        if m[piv * k + c].abs() <= 1e-14 * scale {
            return Err(EvalError::Singular(format!("pivot {c} vanishes")));
        }
        if piv != c {
            for j in 0..k {
                m.swap(c * k + j, piv * k + j);
            }
            x.swap(c, piv);
        }
        for i in c + 1..k {
            let f = m[i * k + c] / m[c * k + c];
            if f == 0.0 {
                continue;
            }
            for j in c..k {
                m[i * k + j] -= f * m[c * k + j];
            }
            x[i] -= f * x[c];
        }
    }
    for i in (0..k).rev() {
        for j in i + 1..k {
            x[i] -= m[i * k + j] * x[j];
        }
        x[i] /= m[i * k + i];
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_known_spd() {
        // [[4,2],[2,3]]⁻¹ = 1/8 [[3,-2],[-2,4]]
        let inv = spd_inverse(&[4.0, 2.0, 2.0, 3.0], 2).unwrap();
        let want = [0.375, -0.25, -0.25, 0.5];
        for (a, b) in inv.iter().zip(want) {
            assert!((a - b).abs() < 1e-15);
        }
    }

    #[test]
    fn collinear_is_reported() {
        let err = cholesky(&[1.0, 2.0, 2.0, 4.0], 2).unwrap_err();
        assert!(err.to_string().contains("column 1"));
    }

    #[test]
    fn lu_matches_spd() {
        let a = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let b = [1.0, 2.0, 3.0];
        let x1 = spd_solve(&a, 3, &b).unwrap();
        let x2 = lu_solve(&a, 3, &b).unwrap();
        for (p, q) in x1.iter().zip(x2) {
            assert!((p - q).abs() < 1e-14);
        }
    }
}

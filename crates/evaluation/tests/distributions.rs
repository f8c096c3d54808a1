//! CDFs and quantiles against scipy.stats values.

mod common;
use common::*;

use sanad_evaluation::dist;

fn rows(name: &str) -> Vec<Vec<f64>> {
    fixture("distributions")[name]
        .as_array()
        .unwrap()
        .iter()
        .map(fv)
        .collect()
}

#[test]
fn match_scipy() {
    for r in rows("normal_cdf") {
        assert_close(dist::normal_cdf(r[0]), r[1], 1e-12, "normal_cdf");
    }
    for r in rows("normal_quantile") {
        assert_close(dist::normal_quantile(r[0]), r[1], 1e-12, "normal_quantile");
    }
    for r in rows("t_cdf") {
        assert_close(
            dist::t_cdf(r[0], r[1]),
            r[2],
            1e-10,
            &format!("t_cdf({}, {})", r[0], r[1]),
        );
    }
    for r in rows("t_quantile") {
        assert_close(
            dist::t_quantile(r[0], r[1]),
            r[2],
            1e-10,
            &format!("t_quantile({}, {})", r[0], r[1]),
        );
    }
    for r in rows("f_sf") {
        assert_close(
            dist::f_sf(r[0], r[1], r[2]),
            r[3],
            1e-10,
            &format!("f_sf{r:?}"),
        );
    }
    for r in rows("chi2_sf") {
        assert_close(
            dist::chi2_sf(r[0], r[1]),
            r[2],
            1e-10,
            &format!("chi2_sf{r:?}"),
        );
    }
}

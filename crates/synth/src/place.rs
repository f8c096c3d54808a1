//! Where a household lives: province ∝ RGPH 2024 households, then commune within the
//! province ∝ households with rural communes weighted up, so that the RSU's rural share
//! (56 %, against 35 % of households in rural communes in the census) comes out.

use std::sync::OnceLock;

use sanad_domain::geo::Commune;
use sanad_domain::{Area, Geography};

use crate::rng::Rng;

/// Share of RSU households living in rural areas (asd-rules.md §7).
pub const RURAL_SHARE: f64 = 0.56;

pub(crate) struct Places {
    /// Cumulative household counts of the provinces, in `Geography::provinces` order.
    province_cum: Vec<u64>,
    /// Per province: its communes and their cumulative (rural-weighted) weights.
    communes: Vec<(Vec<&'static Commune>, Vec<f64>)>,
}

impl Places {
    pub(crate) fn get() -> &'static Places {
        static P: OnceLock<Places> = OnceLock::new();
        P.get_or_init(Places::build)
    }

    fn build() -> Places {
        let geo = Geography::get();
        let mut groups: Vec<Vec<&'static Commune>> = vec![Vec::new(); geo.provinces.len()];
        for c in &geo.communes {
            let p = geo
                .provinces
                .iter()
                .position(|p| p.code == c.province)
                .expect("commune's province exists");
            groups[p].push(c);
        }
        let weights: Vec<u64> = geo.provinces.iter().map(|p| p.households_2024).collect();
        let w = rural_weight(&weights, &groups);
        let communes = groups
            .into_iter()
            .map(|cs| {
                let cum = cumulative(cs.iter().map(|c| commune_weight(c, w)));
                (cs, cum)
            })
            .collect();
        let province_cum = weights
            .iter()
            .scan(0u64, |acc, &h| {
                *acc += h;
                Some(*acc)
            })
            .collect();
        Places {
            province_cum,
            communes,
        }
    }

    pub(crate) fn draw(&self, rng: &mut Rng) -> &'static Commune {
        let total = *self.province_cum.last().expect("provinces");
        let x = rng.below(total);
        let p = self.province_cum.partition_point(|&c| c <= x);
        let (cs, cum) = &self.communes[p];
        let y = rng.unit() * cum.last().copied().unwrap_or(0.0);
        let i = cum.partition_point(|&c| c <= y).min(cs.len() - 1);
        cs[i]
    }
}

fn commune_weight(c: &Commune, rural_weight: f64) -> f64 {
    let h = c.households_2024 as f64;
    if c.kind == Area::Rural {
        h * rural_weight
    } else {
        h
    }
}

fn cumulative(xs: impl Iterator<Item = f64>) -> Vec<f64> {
    xs.scan(0.0, |acc, x| {
        *acc += x;
        Some(*acc)
    })
    .collect()
}

/// The rural share of households drawn when rural communes weigh `w` times their households.
fn rural_share(w: f64, provinces: &[u64], groups: &[Vec<&Commune>]) -> f64 {
    let total: u64 = provinces.iter().sum();
    let mut share = 0.0;
    for (&ph, cs) in provinces.iter().zip(groups) {
        let all: f64 = cs.iter().map(|c| commune_weight(c, w)).sum();
        let rural: f64 = cs
            .iter()
            .filter(|c| c.kind == Area::Rural)
            .map(|c| commune_weight(c, w))
            .sum();
        if all > 0.0 {
            share += ph as f64 / total as f64 * rural / all;
        }
    }
    share
}

/// Bisection for the weight giving [`RURAL_SHARE`] (about 4.5; the share rises with it).
fn rural_weight(provinces: &[u64], groups: &[Vec<&Commune>]) -> f64 {
    let (mut lo, mut hi) = (1.0, 100.0);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if rural_share(mid, provinces, groups) < RURAL_SHARE {
            lo = mid
        } else {
            hi = mid
        }
    }
    (lo + hi) / 2.0
}

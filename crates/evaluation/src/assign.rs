//! Reproducible randomised assignment (complete randomisation within strata,
//! unit or cluster level, optional stepped-wedge waves) and the frozen
//! pre-registration record.
//!
//! # Algorithm `sanad-assign-v1`
//!
//! 1. Each randomisation unit (a unit, or a cluster when `cluster` is set)
//!    gets the key `u64_be(SHA-256("sanad-assign-v1" 0 seed 0 purpose 0 id)[0..8])`
//!    where `seed` is printed in decimal, `purpose` is `arm` or `wave` and
//!    0 is a NUL byte. Units are sorted by (key, id): a uniformly random
//!    permutation that depends only on the seed and the ids, not on the file
//!    order or on the other units.
//! 2. Within each stratum of `n` units, arm `a` with share `s_a` receives
//!    `floor(n·s_a)` units (a 1e-9 tolerance absorbs binary rounding).
//! 3. The `L = n − Σ floor(n·s_a)` leftover units ("misfits", randtreat /
//!    randomizr) go one each to `L` distinct arms, chosen by sorting arms on
//!    the key `SHA-256(alg 0 seed 0 "misfit:"purpose 0 stratum 0 arm-index)`:
//!    no arm gets more than one misfit per stratum and which arms get them is
//!    random but reproducible.
//! 4. Sorted units are dealt to arms in arm order by those counts.
//! 5. Cluster assignment randomises clusters (strata must be constant within
//!    a cluster) and every unit takes its cluster's arm. Stepped-wedge waves
//!    apply the same procedure with `waves` equal shares and purpose `wave`.
//!
//! The [`Design`] is serialised canonically (compact JSON, fixed field
//! order, shares in shortest round-trip form) and its SHA-256 is the design
//! hash; the assignment list also gets a hash so a re-run can be checked.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result, invalid};
use crate::sha256::{sha256, sha256_hex};

/// Identifier of the algorithm above; stored in every design.
pub const ALGORITHM: &str = "sanad-assign-v1";

/// A treatment arm and its target share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Arm {
    pub name: String,
    pub share: f64,
}

/// The pre-registration record of a randomisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Design {
    pub algorithm: String,
    pub seed: u64,
    /// Column holding the unit id.
    pub unit: String,
    /// Column holding the cluster id (cluster randomisation), if any.
    pub cluster: Option<String>,
    /// Columns defining the strata.
    pub strata: Vec<String>,
    pub arms: Vec<Arm>,
    /// Number of stepped-wedge waves (clusters or units phased in), if any.
    pub waves: Option<usize>,
}

impl Design {
    /// Canonical serialisation: compact JSON with the struct's field order.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("design serialises")
    }

    /// SHA-256 (hex) of the canonical serialisation.
    pub fn hash(&self) -> String {
        sha256_hex(self.canonical_json().as_bytes())
    }

    /// True when `hash` is this design's hash (a frozen design is unchanged).
    pub fn verify(&self, hash: &str) -> bool {
        self.hash().eq_ignore_ascii_case(hash.trim())
    }

    /// The checks `assign` makes before drawing: known algorithm, positive shares summing to 1.
    pub fn validate(&self) -> Result<()> {
        if self.algorithm != ALGORITHM {
            return invalid(format!("unknown assignment algorithm '{}'", self.algorithm));
        }
        if self.arms.is_empty()
            || self
                .arms
                .iter()
                .any(|a| !a.share.is_finite() || a.share <= 0.0)
        {
            return invalid("at least one arm, every share positive");
        }
        let total: f64 = self.arms.iter().map(|a| a.share).sum();
        if (total - 1.0).abs() > 1e-9 {
            return invalid(format!("arm shares sum to {total}, not 1"));
        }
        if self.waves == Some(0) {
            return invalid("waves must be at least 1");
        }
        Ok(())
    }
}

/// Data for one assignment: ids and, per unit, strata values and cluster.
#[derive(Debug, Clone, Default)]
pub struct AssignInput {
    pub ids: Vec<String>,
    /// One column per strata variable (same order as `Design::strata`).
    pub strata: Vec<Vec<String>>,
    pub clusters: Option<Vec<String>>,
}

/// One assigned unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assigned {
    pub id: String,
    pub stratum: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    pub arm: String,
    /// 1-based stepped-wedge wave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wave: Option<usize>,
}

/// Output of [`assign`].
#[derive(Debug, Clone, Serialize)]
pub struct Assignment {
    pub design: Design,
    pub design_hash: String,
    /// SHA-256 of the "id,arm[,wave]" lines sorted by id.
    pub assignment_hash: String,
    /// Units per stratum and arm.
    pub counts: BTreeMap<String, BTreeMap<String, usize>>,
    pub units: Vec<Assigned>,
}

fn key(parts: &[&str]) -> u64 {
    let joined = parts.join("\0");
    let d = sha256(joined.as_bytes());
    u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// Units per arm in a stratum of size `n` (steps 2–3).
pub fn arm_counts(n: usize, shares: &[f64], seed: u64, purpose: &str, stratum: &str) -> Vec<usize> {
    let mut counts: Vec<usize> = shares
        .iter()
        .map(|s| (n as f64 * s + 1e-9).floor() as usize)
        .collect();
    let left = n - counts.iter().sum::<usize>().min(n);
    let seed_s = seed.to_string();
    let tag = format!("misfit:{purpose}");
    let mut order: Vec<(u64, usize)> = (0..shares.len())
        .map(|a| (key(&[ALGORITHM, &seed_s, &tag, stratum, &a.to_string()]), a))
        .collect();
    order.sort();
    for &(_, a) in order.iter().take(left) {
        counts[a] += 1;
    }
    counts
}

/// Assign `units` (randomisation-unit ids with their stratum) to `k` groups.
fn deal(
    units: &[(String, String)],
    shares: &[f64],
    seed: u64,
    purpose: &str,
) -> HashMap<String, usize> {
    let mut by_stratum: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, s) in units {
        by_stratum.entry(s).or_default().push(id);
    }
    let seed_s = seed.to_string();
    let mut out = HashMap::new();
    for (stratum, ids) in by_stratum {
        let mut keyed: Vec<(u64, &str)> = ids
            .iter()
            .map(|id| (key(&[ALGORITHM, &seed_s, purpose, id]), *id))
            .collect();
        keyed.sort();
        let counts = arm_counts(keyed.len(), shares, seed, purpose, stratum);
        let mut it = keyed.into_iter();
        for (arm, c) in counts.into_iter().enumerate() {
            for (_, id) in it.by_ref().take(c) {
                out.insert(id.to_string(), arm);
            }
        }
    }
    out
}

/// Randomise according to `design`.
pub fn assign(design: &Design, input: &AssignInput) -> Result<Assignment> {
    design.validate()?;
    let n = input.ids.len();
    if input.strata.len() != design.strata.len() || input.strata.iter().any(|s| s.len() != n) {
        return invalid("one strata column per design strata variable, one value per unit");
    }
    let mut seen = HashSet::new();
    if let Some(dup) = input.ids.iter().find(|id| !seen.insert(id.as_str())) {
        return invalid(format!("duplicate unit id '{dup}'"));
    }
    let stratum_of = |i: usize| {
        input
            .strata
            .iter()
            .map(|c| c[i].as_str())
            .collect::<Vec<_>>()
            .join("|")
    };
    // Randomisation units: clusters or units, each with one stratum.
    let rand_id = |i: usize| {
        input
            .clusters
            .as_ref()
            .map_or(&input.ids[i], |c| &c[i])
            .clone()
    };
    let mut rstratum: HashMap<String, String> = HashMap::new();
    for i in 0..n {
        let s = stratum_of(i);
        let prev = rstratum.entry(rand_id(i)).or_insert_with(|| s.clone());
        if *prev != s {
            return Err(EvalError::Invalid(format!(
                "cluster '{}' spans strata '{prev}' and '{s}'",
                rand_id(i)
            )));
        }
    }
    let mut runits: Vec<(String, String)> = rstratum.into_iter().collect();
    runits.sort();
    let shares: Vec<f64> = design.arms.iter().map(|a| a.share).collect();
    let arms = deal(&runits, &shares, design.seed, "arm");
    let waves = design
        .waves
        .map(|w| deal(&runits, &vec![1.0 / w as f64; w], design.seed, "wave"));
    let mut units = Vec::with_capacity(n);
    let mut counts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for i in 0..n {
        let r = rand_id(i);
        let arm = design.arms[arms[&r]].name.clone();
        let stratum = stratum_of(i);
        *counts
            .entry(stratum.clone())
            .or_default()
            .entry(arm.clone())
            .or_default() += 1;
        units.push(Assigned {
            id: input.ids[i].clone(),
            stratum,
            cluster: input.clusters.as_ref().map(|c| c[i].clone()),
            arm,
            wave: waves.as_ref().map(|w| w[&r] + 1),
        });
    }
    Ok(Assignment {
        design: design.clone(),
        design_hash: design.hash(),
        assignment_hash: assignment_hash(&units),
        counts,
        units,
    })
}

/// Hash of the assignment list, independent of input order.
pub fn assignment_hash(units: &[Assigned]) -> String {
    let mut lines: Vec<String> = units
        .iter()
        .map(|u| match u.wave {
            Some(w) => format!("{},{},{w}", u.id, u.arm),
            None => format!("{},{}", u.id, u.arm),
        })
        .collect();
    lines.sort();
    sha256_hex(lines.join("\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(arms: &[(&str, f64)]) -> Design {
        Design {
            algorithm: ALGORITHM.into(),
            seed: 20240601,
            unit: "id".into(),
            cluster: None,
            strata: vec!["region".into()],
            arms: arms
                .iter()
                .map(|(n, s)| Arm {
                    name: n.to_string(),
                    share: *s,
                })
                .collect(),
            waves: None,
        }
    }

    fn input(n: usize) -> AssignInput {
        AssignInput {
            ids: (0..n).map(|i| format!("u{i}")).collect(),
            strata: vec![
                (0..n)
                    .map(|i| ["north", "south", "east"][i % 3].to_string())
                    .collect(),
            ],
            clusters: None,
        }
    }

    #[test]
    fn counts_respect_shares_and_misfit_rule() {
        let d = design(&[
            ("control", 1.0 / 3.0),
            ("cash", 1.0 / 3.0),
            ("voucher", 1.0 / 3.0),
        ]);
        let a = assign(&d, &input(32)).unwrap();
        for (stratum, arms) in &a.counts {
            let n: usize = arms.values().sum();
            for c in arms.values() {
                assert!(*c == n / 3 || *c == n / 3 + 1, "{stratum}: {arms:?}");
            }
        }
    }

    #[test]
    fn reproducible_and_order_free() {
        let d = design(&[("control", 0.5), ("treatment", 0.5)]);
        let a = assign(&d, &input(100)).unwrap();
        let mut rev = input(100);
        rev.ids.reverse();
        rev.strata[0].reverse();
        let b = assign(&d, &rev).unwrap();
        assert_eq!(a.assignment_hash, b.assignment_hash);
        assert!(d.verify(&a.design_hash));
        let mut d2 = d.clone();
        d2.seed += 1;
        assert!(!d2.verify(&a.design_hash));
        assert_ne!(
            assign(&d2, &input(100)).unwrap().assignment_hash,
            a.assignment_hash
        );
    }

    #[test]
    fn clusters_share_arm_and_waves_are_balanced() {
        let mut d = design(&[("control", 0.5), ("treatment", 0.5)]);
        d.cluster = Some("antenna".into());
        d.strata.clear();
        d.waves = Some(4);
        let inp = AssignInput {
            ids: (0..200).map(|i| format!("u{i}")).collect(),
            strata: vec![],
            clusters: Some((0..200).map(|i| format!("a{}", i % 20)).collect()),
        };
        let a = assign(&d, &inp).unwrap();
        let mut arm_of: HashMap<String, (String, usize)> = HashMap::new();
        for u in &a.units {
            let e = arm_of
                .entry(u.cluster.clone().unwrap())
                .or_insert((u.arm.clone(), u.wave.unwrap()));
            assert_eq!(*e, (u.arm.clone(), u.wave.unwrap()));
        }
        let mut per_wave = [0; 4];
        for (_, w) in arm_of.values() {
            per_wave[w - 1] += 1;
        }
        assert_eq!(per_wave, [5, 5, 5, 5]);
    }

    #[test]
    fn frozen_hash_is_stable() {
        // Guards the canonical serialisation: changing it breaks old designs.
        let d = design(&[("control", 0.5), ("treatment", 0.5)]);
        assert_eq!(
            d.canonical_json(),
            r#"{"algorithm":"sanad-assign-v1","seed":20240601,"unit":"id","cluster":null,"strata":["region"],"arms":[{"name":"control","share":0.5},{"name":"treatment","share":0.5}],"waves":null}"#
        );
        assert_eq!(
            d.hash(),
            "f3227888b2768dd75d2c25406c62719b0be2bfa841432f09f98dce825248bf41"
        );
    }
}

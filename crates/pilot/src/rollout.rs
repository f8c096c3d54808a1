//! The rollout plan: the pilot antenna (wave 1, exactly one) and the antennas that follow,
//! wave by wave. An antenna serves one province or prefecture, named by its HCP code, as in
//! the store's `Scope::Antennas`. Shipped as `data/rollout.json`.

use chrono::NaiveDate;
use sanad_domain::{Geography, Month, ProvinceCode};
use serde::{Deserialize, Serialize};

const SHIPPED: &str = include_str!("../data/rollout.json");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedAntenna {
    pub province: ProvinceCode,
    /// 1 for the pilot, then 2, 3, …
    pub wave: u32,
    /// The first month measures may be offered there.
    pub start: Month,
}

/// A validated plan (see [`RolloutPlan::new`] for the rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RolloutPlan {
    /// The SHA-256 of the `sanad-evaluation` design that drew the wave order, when the order
    /// was randomised (a plain string, to keep this crate free of the evaluation crate).
    #[serde(skip_serializing_if = "Option::is_none")]
    evaluation_design: Option<String>,
    antennas: Vec<PlannedAntenna>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RolloutError {
    #[error("rollout plan is not valid JSON: {0}")]
    Json(String),
    #[error("unknown province code '{0}'")]
    UnknownProvince(String),
    #[error("antenna {0} appears twice")]
    Duplicate(ProvinceCode),
    #[error("wave 1 must hold exactly one antenna, the pilot; it holds {0}")]
    Pilot(usize),
    #[error("waves must be numbered 1, 2, 3… without gaps; wave {0} is missing")]
    MissingWave(u32),
    #[error(
        "antenna {province} (wave {wave}) starts in {start}, not after every antenna of wave {previous}"
    )]
    StartOrder {
        province: ProvinceCode,
        wave: u32,
        start: Month,
        previous: u32,
    },
    #[error("evaluation design '{0}' is not a SHA-256 in hexadecimal")]
    Design(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    #[serde(default)]
    evaluation_design: Option<String>,
    antennas: Vec<PlannedAntenna>,
}

impl RolloutPlan {
    /// Checks: every province exists in the embedded geography and appears once; wave 1 is one
    /// antenna; waves run 1..=n without gaps; every antenna of a wave starts strictly after
    /// every antenna of the wave before (a later wave never overtakes an earlier one).
    pub fn new(
        evaluation_design: Option<String>,
        antennas: Vec<PlannedAntenna>,
    ) -> Result<RolloutPlan, RolloutError> {
        if let Some(h) = &evaluation_design
            && !(h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(RolloutError::Design(h.clone()));
        }
        check_provinces(&antennas)?;
        check_waves(&antennas)?;
        Ok(RolloutPlan {
            evaluation_design,
            antennas,
        })
    }

    pub fn from_json(json: &str) -> Result<RolloutPlan, RolloutError> {
        let file: PlanFile =
            serde_json::from_str(json).map_err(|e| RolloutError::Json(e.to_string()))?;
        RolloutPlan::new(file.evaluation_design, file.antennas)
    }

    /// The plan shipped in `data/rollout.json` (checked by a test).
    pub fn shipped() -> RolloutPlan {
        RolloutPlan::from_json(SHIPPED).expect("the shipped rollout plan is valid")
    }

    pub fn evaluation_design(&self) -> Option<&str> {
        self.evaluation_design.as_deref()
    }

    pub fn antennas(&self) -> &[PlannedAntenna] {
        &self.antennas
    }

    pub fn pilot(&self) -> &PlannedAntenna {
        self.antennas
            .iter()
            .find(|a| a.wave == 1)
            .expect("one pilot by construction")
    }

    pub fn antenna(&self, province: &str) -> Option<&PlannedAntenna> {
        self.antennas.iter().find(|a| a.province == province)
    }

    pub fn waves(&self) -> u32 {
        self.antennas.iter().map(|a| a.wave).max().unwrap_or(0)
    }

    pub fn wave(&self, wave: u32) -> impl Iterator<Item = &PlannedAntenna> {
        self.antennas.iter().filter(move |a| a.wave == wave)
    }

    /// Whether the antenna is in the plan and its wave has started by `today`.
    pub fn started(&self, province: &str, today: NaiveDate) -> bool {
        self.antenna(province)
            .is_some_and(|a| a.start <= Month::of(today))
    }

    /// The antennas whose wave has started by `today`, in plan order.
    pub fn active(&self, today: NaiveDate) -> impl Iterator<Item = &PlannedAntenna> {
        self.antennas
            .iter()
            .filter(move |a| a.start <= Month::of(today))
    }
}

fn check_provinces(antennas: &[PlannedAntenna]) -> Result<(), RolloutError> {
    let geo = Geography::get();
    for (i, a) in antennas.iter().enumerate() {
        if geo.province(&a.province).is_none() {
            return Err(RolloutError::UnknownProvince(a.province.clone()));
        }
        if antennas[..i].iter().any(|o| o.province == a.province) {
            return Err(RolloutError::Duplicate(a.province.clone()));
        }
    }
    Ok(())
}

fn check_waves(antennas: &[PlannedAntenna]) -> Result<(), RolloutError> {
    let pilots = antennas.iter().filter(|a| a.wave == 1).count();
    if pilots != 1 {
        return Err(RolloutError::Pilot(pilots));
    }
    let last = antennas.iter().map(|a| a.wave).max().unwrap_or(1);
    for wave in 2..=last {
        if !antennas.iter().any(|a| a.wave == wave) {
            return Err(RolloutError::MissingWave(wave));
        }
        let previous_end = antennas
            .iter()
            .filter(|a| a.wave == wave - 1)
            .map(|a| a.start)
            .max();
        if let Some(a) = antennas
            .iter()
            .find(|a| a.wave == wave && Some(a.start) <= previous_end)
        {
            return Err(RolloutError::StartOrder {
                province: a.province.clone(),
                wave,
                start: a.start,
                previous: wave - 1,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::d;

    fn at(province: &str, wave: u32, start: &str) -> PlannedAntenna {
        PlannedAntenna {
            province: province.into(),
            wave,
            start: start.parse().unwrap(),
        }
    }

    #[test]
    fn the_shipped_plan_has_one_pilot_then_waves() {
        let p = RolloutPlan::shipped();
        assert_eq!(p.pilot().province, "01.511");
        assert!(p.waves() >= 2);
        assert!(p.started("01.511", d("2027-01-01")));
        assert!(
            !p.started("01.511", d("2026-12-31")),
            "before the pilot's start month"
        );
        assert!(
            !p.started("01.571", d("2027-01-15")),
            "wave 2 has not started"
        );
        assert!(!p.started("04.421", d("2030-01-01")), "not in the plan");
        assert_eq!(p.active(d("2027-01-15")).count(), 1);
    }

    #[test]
    fn provinces_are_checked_against_the_geography() {
        let e = RolloutPlan::new(
            None,
            vec![at("01.511", 1, "2027-01"), at("99.999", 2, "2027-07")],
        );
        assert_eq!(
            e.unwrap_err(),
            RolloutError::UnknownProvince("99.999".into())
        );
        let e = RolloutPlan::new(
            None,
            vec![at("01.511", 1, "2027-01"), at("01.511", 2, "2027-07")],
        );
        assert_eq!(e.unwrap_err(), RolloutError::Duplicate("01.511".into()));
    }

    #[test]
    fn waves_are_one_pilot_then_contiguous_and_in_order() {
        let two_pilots = RolloutPlan::new(
            None,
            vec![at("01.511", 1, "2027-01"), at("01.571", 1, "2027-01")],
        );
        assert_eq!(two_pilots.unwrap_err(), RolloutError::Pilot(2));
        let gap = RolloutPlan::new(
            None,
            vec![at("01.511", 1, "2027-01"), at("01.571", 3, "2027-07")],
        );
        assert_eq!(gap.unwrap_err(), RolloutError::MissingWave(2));
        let overtakes = RolloutPlan::new(
            None,
            vec![at("01.511", 1, "2027-01"), at("01.571", 2, "2027-01")],
        );
        assert!(matches!(
            overtakes.unwrap_err(),
            RolloutError::StartOrder { wave: 2, .. }
        ));
        assert!(
            RolloutPlan::new(None, vec![at("01.511", 1, "2027-01")]).is_ok(),
            "a pilot alone is a plan"
        );
    }

    #[test]
    fn an_evaluation_design_is_a_sha256() {
        let ok = "a".repeat(64);
        assert_eq!(
            RolloutPlan::new(Some(ok.clone()), vec![at("01.511", 1, "2027-01")])
                .unwrap()
                .evaluation_design(),
            Some(ok.as_str())
        );
        assert!(matches!(
            RolloutPlan::new(Some("abc".into()), vec![at("01.511", 1, "2027-01")]),
            Err(RolloutError::Design(_))
        ));
    }

    #[test]
    fn the_plan_round_trips_through_json() {
        let p = RolloutPlan::shipped();
        assert_eq!(
            RolloutPlan::from_json(&serde_json::to_string(&p).unwrap()).unwrap(),
            p
        );
    }
}

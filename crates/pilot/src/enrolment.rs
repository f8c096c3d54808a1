//! Enrolling households into measures and exiting them. The [`Register`] is the pilot's
//! enrolment book; the caller loads it, calls [`Register::enrol`] or [`Register::exit`], and
//! stores the result (with an audit record) in the same transaction.

use chrono::NaiveDate;
use sanad_domain::{Household, HouseholdStatus, Money, Month, ProvinceCode, RsuId};
use serde::{Deserialize, Serialize};

use crate::Pilot;
use crate::measures::{Catalogue, Measure, MeasureId};
use crate::rule::{Facts, Verdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// The measure ran its course.
    Completed,
    /// The household left the target group (child back in school, job found, …).
    NoLongerEligible,
    Withdrew,
    Moved,
    Deceased,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    pub on: NaiveDate,
    pub reason: ExitReason,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub household: RsuId,
    pub measure: MeasureId,
    /// The antenna (province code) the household lived in when enrolled: its place counts there.
    pub antenna: ProvinceCode,
    pub enrolled_on: NaiveDate,
    pub exit: Option<Exit>,
}

impl Enrolment {
    pub fn is_active(&self) -> bool {
        self.exit.is_none()
    }
}

/// Why an enrolment was refused. Checked in this order; the first that applies is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no measure '{0}' in the catalogue")]
    UnknownMeasure(MeasureId),
    #[error("antenna {antenna} is not in the rollout plan")]
    NotInPlan { antenna: ProvinceCode },
    #[error("antenna {antenna} starts in {start}")]
    WaveNotStarted { antenna: ProvinceCode, start: Month },
    #[error("the household is not active in the RSU")]
    HouseholdNotActive,
    #[error("already enrolled since {since}")]
    AlreadyEnrolled { since: NaiveDate },
    #[error("the household is not in the measure's target group")]
    NotInTargetGroup(Verdict),
    #[error("all {capacity} places of antenna {antenna} are taken")]
    CapacityFull {
        antenna: ProvinceCode,
        capacity: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExitError {
    #[error("the household is not enrolled in this measure")]
    NotEnrolled,
    #[error("the exit date is before the enrolment on {enrolled_on}")]
    BeforeEnrolment { enrolled_on: NaiveDate },
}

/// Active and exited enrolments of one measure in one antenna.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentCount {
    pub measure: MeasureId,
    pub antenna: ProvinceCode,
    pub active: u32,
    pub exited: u32,
}

/// Committed budget of one measure in one antenna: active enrolments × cost per household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetLine {
    pub measure: MeasureId,
    pub antenna: ProvinceCode,
    pub active: u32,
    pub cost_per_household: Money,
    pub committed: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub lines: Vec<BudgetLine>,
    pub total: Money,
}

/// Serialised as the plain list of enrolments; deserialising checks it like
/// [`Register::from_enrolments`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Enrolment>", into = "Vec<Enrolment>")]
pub struct Register {
    enrolments: Vec<Enrolment>,
}

impl TryFrom<Vec<Enrolment>> for Register {
    type Error = String;
    fn try_from(enrolments: Vec<Enrolment>) -> Result<Register, String> {
        Register::from_enrolments(enrolments)
    }
}

impl From<Register> for Vec<Enrolment> {
    fn from(r: Register) -> Vec<Enrolment> {
        r.enrolments
    }
}

impl Register {
    pub fn new() -> Register {
        Register::default()
    }

    /// A register loaded from storage; refuses two active enrolments of one household in one
    /// measure, which [`Register::enrol`] can never produce.
    pub fn from_enrolments(enrolments: Vec<Enrolment>) -> Result<Register, String> {
        for (i, e) in enrolments.iter().enumerate() {
            let twice = enrolments[..i].iter().any(|o| {
                o.is_active()
                    && e.is_active()
                    && o.household == e.household
                    && o.measure == e.measure
            });
            if twice {
                return Err(format!(
                    "{} is enrolled twice in {}",
                    e.household, e.measure
                ));
            }
        }
        Ok(Register { enrolments })
    }

    pub fn enrolments(&self) -> &[Enrolment] {
        &self.enrolments
    }

    /// Every check of [`Register::enrol`] without enrolling: what a page offering measures shows.
    pub fn check(
        &self,
        pilot: &Pilot,
        household: &Household,
        facts: &Facts,
        measure: &MeasureId,
        today: NaiveDate,
    ) -> Result<Verdict, Refusal> {
        let m = pilot
            .catalogue
            .measure(measure)
            .ok_or_else(|| Refusal::UnknownMeasure(measure.clone()))?;
        let antenna = &household.residence.province;
        let planned = pilot
            .plan
            .antenna(antenna)
            .ok_or_else(|| Refusal::NotInPlan {
                antenna: antenna.clone(),
            })?;
        if planned.start > Month::of(today) {
            return Err(Refusal::WaveNotStarted {
                antenna: antenna.clone(),
                start: planned.start,
            });
        }
        if household.status != HouseholdStatus::Active {
            return Err(Refusal::HouseholdNotActive);
        }
        if let Some(e) = self.active(&household.rsu_id, measure) {
            return Err(Refusal::AlreadyEnrolled {
                since: e.enrolled_on,
            });
        }
        let verdict = m.target.evaluate(household, facts, today);
        if !verdict.eligible() {
            return Err(Refusal::NotInTargetGroup(verdict));
        }
        self.check_capacity(m, antenna)?;
        Ok(verdict)
    }

    fn check_capacity(&self, m: &Measure, antenna: &str) -> Result<(), Refusal> {
        if self.active_count(&m.id, antenna) >= m.capacity_per_antenna {
            return Err(Refusal::CapacityFull {
                antenna: antenna.to_owned(),
                capacity: m.capacity_per_antenna,
            });
        }
        Ok(())
    }

    /// Enrol the household on `today`, or say why not.
    pub fn enrol(
        &mut self,
        pilot: &Pilot,
        household: &Household,
        facts: &Facts,
        measure: &MeasureId,
        today: NaiveDate,
    ) -> Result<&Enrolment, Refusal> {
        self.check(pilot, household, facts, measure, today)?;
        self.enrolments.push(Enrolment {
            household: household.rsu_id.clone(),
            measure: measure.clone(),
            antenna: household.residence.province.clone(),
            enrolled_on: today,
            exit: None,
        });
        Ok(self.enrolments.last().expect("just pushed"))
    }

    /// End the household's active enrolment in the measure; its place is freed.
    pub fn exit(
        &mut self,
        household: &RsuId,
        measure: &MeasureId,
        exit: Exit,
    ) -> Result<&Enrolment, ExitError> {
        let e = self
            .enrolments
            .iter_mut()
            .find(|e| e.is_active() && &e.household == household && &e.measure == measure)
            .ok_or(ExitError::NotEnrolled)?;
        if exit.on < e.enrolled_on {
            return Err(ExitError::BeforeEnrolment {
                enrolled_on: e.enrolled_on,
            });
        }
        e.exit = Some(exit);
        Ok(e)
    }

    pub fn active(&self, household: &RsuId, measure: &MeasureId) -> Option<&Enrolment> {
        self.enrolments
            .iter()
            .find(|e| e.is_active() && &e.household == household && &e.measure == measure)
    }

    /// Every enrolment of a household, active or not, in the order made.
    pub fn of_household<'a>(&'a self, household: &'a RsuId) -> impl Iterator<Item = &'a Enrolment> {
        self.enrolments
            .iter()
            .filter(move |e| &e.household == household)
    }

    pub fn active_count(&self, measure: &MeasureId, antenna: &str) -> u32 {
        let n = self
            .enrolments
            .iter()
            .filter(|e| e.is_active() && &e.measure == measure && e.antenna == antenna)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Counts by measure and antenna, sorted, for every pair with at least one enrolment.
    pub fn counts(&self) -> Vec<EnrolmentCount> {
        let mut rows: Vec<EnrolmentCount> = Vec::new();
        for e in &self.enrolments {
            let i = match rows
                .iter()
                .position(|r| r.measure == e.measure && r.antenna == e.antenna)
            {
                Some(i) => i,
                None => {
                    rows.push(EnrolmentCount {
                        measure: e.measure.clone(),
                        antenna: e.antenna.clone(),
                        active: 0,
                        exited: 0,
                    });
                    rows.len() - 1
                }
            };
            if e.is_active() {
                rows[i].active += 1
            } else {
                rows[i].exited += 1
            }
        }
        rows.sort_by(|a, b| (&a.measure, &a.antenna).cmp(&(&b.measure, &b.antenna)));
        rows
    }

    /// Budget committed: active enrolments × the measure's cost per household. Assumption: an
    /// exit releases the commitment (the catalogue cost is per enrolled household, not spent).
    /// Measures no longer in the catalogue are skipped.
    pub fn budget(&self, catalogue: &Catalogue) -> Budget {
        let lines: Vec<BudgetLine> = self
            .counts()
            .into_iter()
            .filter_map(|c| {
                let cost = catalogue.measure(&c.measure)?.cost_per_household;
                let committed = Money::from_centimes(cost.centimes() * i64::from(c.active));
                Some(BudgetLine {
                    measure: c.measure,
                    antenna: c.antenna,
                    active: c.active,
                    cost_per_household: cost,
                    committed,
                })
            })
            .collect();
        let total = lines.iter().map(|l| l.committed).sum();
        Budget { lines, total }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use sanad_domain::{Relation, Schooling};

    fn school() -> MeasureId {
        MeasureId::parse("school-return").unwrap()
    }

    fn small_pilot(capacity: u32) -> Pilot {
        let mut p = Pilot::shipped();
        let mut ms = p.catalogue.measures().to_vec();
        ms.iter_mut()
            .for_each(|m| m.capacity_per_antenna = capacity);
        p.catalogue = Catalogue::new("test".into(), ms).unwrap();
        p
    }

    const TODAY: &str = "2027-03-01";

    #[test]
    fn an_eligible_household_in_the_pilot_antenna_is_enrolled() {
        let mut r = Register::new();
        let e = r
            .enrol(
                &Pilot::shipped(),
                &schooling_case("100000000001"),
                &asd(true),
                &school(),
                d(TODAY),
            )
            .unwrap();
        assert_eq!((e.antenna.as_str(), e.enrolled_on), ("01.511", d(TODAY)));
        assert_eq!(r.active_count(&school(), "01.511"), 1);
    }

    #[test]
    fn capacity_full_is_refused_and_an_exit_frees_the_place() {
        let pilot = small_pilot(1);
        let mut r = Register::new();
        r.enrol(
            &pilot,
            &schooling_case("100000000001"),
            &asd(true),
            &school(),
            d(TODAY),
        )
        .unwrap();
        let refused = r.enrol(
            &pilot,
            &schooling_case("100000000002"),
            &asd(true),
            &school(),
            d(TODAY),
        );
        assert_eq!(
            refused.unwrap_err(),
            Refusal::CapacityFull {
                antenna: "01.511".into(),
                capacity: 1
            }
        );
        let exit = Exit {
            on: d("2027-06-30"),
            reason: ExitReason::NoLongerEligible,
            note: "back in school".into(),
        };
        r.exit(&rsu("100000000001"), &school(), exit).unwrap();
        assert!(
            r.enrol(
                &pilot,
                &schooling_case("100000000002"),
                &asd(true),
                &school(),
                d("2027-07-01")
            )
            .is_ok()
        );
    }

    #[test]
    fn a_household_is_not_enrolled_twice_while_active() {
        let mut r = Register::new();
        let h = schooling_case("100000000001");
        r.enrol(&Pilot::shipped(), &h, &asd(true), &school(), d(TODAY))
            .unwrap();
        let again = r.enrol(
            &Pilot::shipped(),
            &h,
            &asd(true),
            &school(),
            d("2027-04-01"),
        );
        assert_eq!(
            again.unwrap_err(),
            Refusal::AlreadyEnrolled { since: d(TODAY) }
        );
    }

    #[test]
    fn households_outside_the_target_group_are_refused_with_the_verdict() {
        let h = household(
            "100000000001",
            vec![
                adult(1, Relation::Head),
                kid(2, "2015-02-01", Schooling::PublicPrimary),
            ],
        );
        let Err(Refusal::NotInTargetGroup(v)) =
            Register::new().enrol(&Pilot::shipped(), &h, &asd(true), &school(), d(TODAY))
        else {
            panic!("expected a target-group refusal")
        };
        assert_eq!(v.checks.len(), 2);
        let not_asd = Register::new()
            .enrol(
                &Pilot::shipped(),
                &schooling_case("100000000001"),
                &asd(false),
                &school(),
                d(TODAY),
            )
            .map(|_| ());
        assert!(matches!(not_asd, Err(Refusal::NotInTargetGroup(_))));
    }

    #[test]
    fn antennas_outside_the_plan_or_before_their_wave_are_refused() {
        let kids = || {
            vec![
                adult(1, Relation::Head),
                kid(2, "2015-02-01", Schooling::None),
            ]
        };
        let rabat = household_in("100000000001", kids(), "04", "04.421", "04.421.01.0");
        let r = Register::new()
            .enrol(&Pilot::shipped(), &rabat, &asd(true), &school(), d(TODAY))
            .map(|_| ());
        assert_eq!(
            r.unwrap_err(),
            Refusal::NotInPlan {
                antenna: "04.421".into()
            }
        );
        let tetouan = household_in("100000000002", kids(), "01", "01.571", "01.571.01.11");
        let r = Register::new()
            .enrol(&Pilot::shipped(), &tetouan, &asd(true), &school(), d(TODAY))
            .map(|_| ());
        assert_eq!(
            r.unwrap_err(),
            Refusal::WaveNotStarted {
                antenna: "01.571".into(),
                start: "2027-07".parse().unwrap()
            }
        );
        assert!(
            Register::new()
                .enrol(
                    &Pilot::shipped(),
                    &tetouan,
                    &asd(true),
                    &school(),
                    d("2027-07-01")
                )
                .is_ok()
        );
    }

    #[test]
    fn unknown_measures_and_inactive_households_are_refused() {
        let other = MeasureId::parse("cash-plus").unwrap();
        let r = Register::new()
            .enrol(
                &Pilot::shipped(),
                &schooling_case("100000000001"),
                &asd(true),
                &other,
                d(TODAY),
            )
            .map(|_| ());
        assert_eq!(r.unwrap_err(), Refusal::UnknownMeasure(other));
        let mut parts = schooling_case("100000000001").into_parts();
        parts.status = HouseholdStatus::Suspended;
        let h = Household::new(parts, d("2026-11-30")).unwrap();
        let r = Register::new()
            .enrol(&Pilot::shipped(), &h, &asd(true), &school(), d(TODAY))
            .map(|_| ());
        assert_eq!(r.unwrap_err(), Refusal::HouseholdNotActive);
    }

    #[test]
    fn exits_need_an_active_enrolment_and_a_date_after_it() {
        let mut r = Register::new();
        r.enrol(
            &Pilot::shipped(),
            &schooling_case("100000000001"),
            &asd(true),
            &school(),
            d(TODAY),
        )
        .unwrap();
        let early = Exit {
            on: d("2027-02-01"),
            reason: ExitReason::Moved,
            note: String::new(),
        };
        assert_eq!(
            r.exit(&rsu("100000000001"), &school(), early).unwrap_err(),
            ExitError::BeforeEnrolment {
                enrolled_on: d(TODAY)
            }
        );
        let exit = Exit {
            on: d(TODAY),
            reason: ExitReason::Moved,
            note: String::new(),
        };
        assert_eq!(
            r.exit(&rsu("100000000009"), &school(), exit.clone())
                .unwrap_err(),
            ExitError::NotEnrolled
        );
        assert!(
            r.exit(&rsu("100000000001"), &school(), exit.clone())
                .is_ok()
        );
        assert_eq!(
            r.exit(&rsu("100000000001"), &school(), exit).unwrap_err(),
            ExitError::NotEnrolled
        );
    }

    #[test]
    fn counts_and_committed_budget_by_measure_and_antenna() {
        let pilot = Pilot::shipped();
        let mut r = Register::new();
        for id in ["100000000001", "100000000002", "100000000003"] {
            r.enrol(&pilot, &schooling_case(id), &asd(true), &school(), d(TODAY))
                .unwrap();
        }
        let nutrition = MeasureId::parse("early-nutrition").unwrap();
        let baby = household(
            "100000000004",
            vec![
                adult(1, Relation::Head),
                kid(2, "2026-01-01", Schooling::None),
            ],
        );
        r.enrol(&pilot, &baby, &asd(true), &nutrition, d(TODAY))
            .unwrap();
        r.exit(
            &rsu("100000000003"),
            &school(),
            Exit {
                on: d(TODAY),
                reason: ExitReason::Withdrew,
                note: String::new(),
            },
        )
        .unwrap();
        let counts = r.counts();
        assert_eq!(counts.len(), 2);
        assert_eq!(
            (
                counts[1].measure.as_str(),
                counts[1].active,
                counts[1].exited
            ),
            ("school-return", 2, 1)
        );
        // 2 × 1,500 MAD + 1 × 900 MAD.
        let b = r.budget(&pilot.catalogue);
        assert_eq!(b.total, Money::from_mad(3_900));
        assert_eq!(b.lines[1].committed, Money::from_mad(3_000));
    }

    #[test]
    fn a_register_from_storage_refuses_double_active_enrolments() {
        let mut r = Register::new();
        r.enrol(
            &Pilot::shipped(),
            &schooling_case("100000000001"),
            &asd(true),
            &school(),
            d(TODAY),
        )
        .unwrap();
        let mut twice = r.enrolments().to_vec();
        twice.push(twice[0].clone());
        assert!(Register::from_enrolments(twice.clone()).is_err());
        assert_eq!(
            Register::from_enrolments(r.enrolments().to_vec()).unwrap(),
            r
        );
        let json = serde_json::to_string(&twice).unwrap();
        assert!(
            serde_json::from_str::<Register>(&json).is_err(),
            "deserialising checks too"
        );
        assert_eq!(
            serde_json::from_str::<Register>(&serde_json::to_string(&r).unwrap()).unwrap(),
            r
        );
    }
}

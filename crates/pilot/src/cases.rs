//! Case management by social workers: who follows which household (caseloads), the case plan
//! (goals by domain), home visits and referrals to services.
//!
//! Fields are public for reading and storage; changes go through the methods, which keep the
//! rules below (dates not in the future nor before the case opened, closed cases frozen,
//! statuses only moving forward).

use std::fmt;

use chrono::NaiveDate;
use sanad_domain::{Household, ProvinceCode, Role, RsuId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::measures::Domain;
use crate::rollout::RolloutPlan;

/// A social worker's user name, as in the access store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkerId(String);

impl WorkerId {
    pub fn parse(s: &str) -> Result<WorkerId, String> {
        let ok = !s.trim().is_empty()
            && s.trim() == s
            && s.chars().count() <= 64
            && !s.chars().any(char::is_control);
        if ok {
            Ok(WorkerId(s.to_owned()))
        } else {
            Err(format!(
                "'{s}' is not a worker id (1–64 characters, no spaces around)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for WorkerId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for WorkerId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        WorkerId::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A member of an antenna's staff who may follow households.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worker {
    pub id: WorkerId,
    pub antenna: ProvinceCode,
    pub role: Role,
    /// False while on leave or after leaving: keeps their cases but receives no new one.
    pub active: bool,
}

impl Worker {
    /// Assumption: antenna agents and supervisors do the case work (there is no dedicated
    /// social-worker role in `access.rs` yet).
    pub fn takes_cases(&self) -> bool {
        self.active && matches!(self.role, Role::AntennaAgent | Role::AntennaSupervisor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalStatus {
    Open,
    Achieved,
    Dropped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    /// 1, 2, 3… within the case.
    pub id: u32,
    pub domain: Domain,
    pub text: String,
    pub set_on: NaiveDate,
    pub target_date: NaiveDate,
    pub status: GoalStatus,
    /// When the status last changed (None while open).
    pub status_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    Present,
    Absent,
    Refused,
    Moved,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub date: NaiveDate,
    pub attendance: Attendance,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub next_steps: String,
    pub next_visit: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    School,
    HealthCentre,
    /// The national employment agency (ANAPEC).
    Anapec,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    Sent,
    Accepted,
    Completed,
    Refused,
}

impl ReferralStatus {
    /// Sent → accepted | refused | completed; accepted → completed | refused. Completed and
    /// refused are final.
    fn may_become(self, next: ReferralStatus) -> bool {
        use ReferralStatus::*;
        matches!(
            (self, next),
            (Sent, Accepted | Refused | Completed) | (Accepted, Completed | Refused)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub id: u32,
    pub service: Service,
    /// Which school, centre or agency; required for `other`.
    #[serde(default)]
    pub detail: String,
    pub sent_on: NaiveDate,
    pub status: ReferralStatus,
    /// The date of the service's last answer (None while only sent).
    pub status_on: Option<NaiveDate>,
    #[serde(default)]
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub on: NaiveDate,
    pub reason: String,
}

/// One household followed by one worker, from opening to closure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub household: RsuId,
    pub antenna: ProvinceCode,
    pub worker: WorkerId,
    pub opened_on: NaiveDate,
    pub closure: Option<Closure>,
    pub goals: Vec<Goal>,
    /// In date order (a late entry is inserted in its place).
    pub visits: Vec<Visit>,
    pub referrals: Vec<Referral>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("antenna {0} has not started the pilot")]
    AntennaNotStarted(ProvinceCode),
    #[error("household {0} already has an open case")]
    AlreadyOpen(RsuId),
    #[error("household {0} has no open case")]
    NoOpenCase(RsuId),
    #[error("antenna {0} has no worker taking cases")]
    NoWorker(ProvinceCode),
    #[error("every worker of antenna {antenna} already follows {max} cases or more")]
    AllAtMaximum { antenna: ProvinceCode, max: usize },
    #[error("worker {0} cannot take cases in this antenna")]
    WorkerUnavailable(WorkerId),
    #[error("{0} is in the future")]
    InFuture(NaiveDate),
    #[error("{0} is before the case was opened")]
    BeforeOpening(NaiveDate),
    #[error("{0} must be after the date it follows")]
    NotAfter(NaiveDate),
    #[error("{0} must not be blank")]
    Blank(&'static str),
    #[error("no goal {0} in this case")]
    UnknownGoal(u32),
    #[error("no referral {0} in this case")]
    UnknownReferral(u32),
    #[error("status cannot change from {from} to {to}")]
    Transition { from: String, to: String },
}

impl Case {
    pub fn is_open(&self) -> bool {
        self.closure.is_none()
    }

    /// A date an event may carry: on or after opening, not after `today`.
    fn check_date(&self, date: NaiveDate, today: NaiveDate) -> Result<(), CaseError> {
        if date > today {
            return Err(CaseError::InFuture(date));
        }
        if date < self.opened_on {
            return Err(CaseError::BeforeOpening(date));
        }
        Ok(())
    }

    /// Add a goal to the case plan, set on `today`; returns its id.
    pub fn add_goal(
        &mut self,
        domain: Domain,
        text: &str,
        target_date: NaiveDate,
        today: NaiveDate,
    ) -> Result<u32, CaseError> {
        if text.trim().is_empty() {
            return Err(CaseError::Blank("goal text"));
        }
        if target_date <= today {
            return Err(CaseError::NotAfter(target_date));
        }
        let id = next_id(self.goals.iter().map(|g| g.id));
        let goal = Goal {
            id,
            domain,
            text: text.to_owned(),
            set_on: today,
            target_date,
            status: GoalStatus::Open,
            status_on: None,
        };
        self.goals.push(goal);
        Ok(id)
    }

    /// Mark an open goal achieved or dropped on `on`.
    pub fn set_goal_status(
        &mut self,
        id: u32,
        status: GoalStatus,
        on: NaiveDate,
        today: NaiveDate,
    ) -> Result<(), CaseError> {
        self.check_date(on, today)?;
        let goal = self
            .goals
            .iter_mut()
            .find(|g| g.id == id)
            .ok_or(CaseError::UnknownGoal(id))?;
        if goal.status != GoalStatus::Open || status == GoalStatus::Open {
            return Err(CaseError::Transition {
                from: format!("{:?}", goal.status),
                to: format!("{status:?}"),
            });
        }
        goal.status = status;
        goal.status_on = Some(on);
        Ok(())
    }

    /// Record a visit (late entries allowed, kept in date order).
    pub fn record_visit(&mut self, visit: Visit, today: NaiveDate) -> Result<(), CaseError> {
        self.check_date(visit.date, today)?;
        if let Some(next) = visit.next_visit
            && next <= visit.date
        {
            return Err(CaseError::NotAfter(next));
        }
        let at = self.visits.partition_point(|v| v.date <= visit.date);
        self.visits.insert(at, visit);
        Ok(())
    }

    /// Refer the household to a service on `sent_on`; returns the referral's id.
    pub fn refer(
        &mut self,
        service: Service,
        detail: &str,
        sent_on: NaiveDate,
        today: NaiveDate,
    ) -> Result<u32, CaseError> {
        self.check_date(sent_on, today)?;
        if service == Service::Other && detail.trim().is_empty() {
            return Err(CaseError::Blank("referral detail"));
        }
        let id = next_id(self.referrals.iter().map(|r| r.id));
        let referral = Referral {
            id,
            service,
            detail: detail.to_owned(),
            sent_on,
            status: ReferralStatus::Sent,
            status_on: None,
            outcome: String::new(),
        };
        self.referrals.push(referral);
        Ok(id)
    }

    /// Record the service's answer.
    pub fn update_referral(
        &mut self,
        id: u32,
        status: ReferralStatus,
        on: NaiveDate,
        outcome: &str,
        today: NaiveDate,
    ) -> Result<(), CaseError> {
        self.check_date(on, today)?;
        let r = self
            .referrals
            .iter_mut()
            .find(|r| r.id == id)
            .ok_or(CaseError::UnknownReferral(id))?;
        if !r.status.may_become(status) {
            return Err(CaseError::Transition {
                from: format!("{:?}", r.status),
                to: format!("{status:?}"),
            });
        }
        if on < r.sent_on {
            return Err(CaseError::NotAfter(on));
        }
        r.status = status;
        r.status_on = Some(on);
        r.outcome = outcome.to_owned();
        Ok(())
    }

    /// The date of the last visit, whatever its attendance.
    pub fn last_visit(&self) -> Option<&Visit> {
        self.visits.last()
    }
}

fn next_id(ids: impl Iterator<Item = u32>) -> u32 {
    ids.max().unwrap_or(0) + 1
}

/// Every case of the pilot, open and closed. Serialised as the plain list of cases;
/// deserialising checks it like [`CaseBook::from_cases`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Case>", into = "Vec<Case>")]
pub struct CaseBook {
    cases: Vec<Case>,
}

impl TryFrom<Vec<Case>> for CaseBook {
    type Error = String;
    fn try_from(cases: Vec<Case>) -> Result<CaseBook, String> {
        CaseBook::from_cases(cases)
    }
}

impl From<CaseBook> for Vec<Case> {
    fn from(b: CaseBook) -> Vec<Case> {
        b.cases
    }
}

impl CaseBook {
    pub fn new() -> CaseBook {
        CaseBook::default()
    }

    /// A case book loaded from storage; refuses two open cases for one household.
    pub fn from_cases(cases: Vec<Case>) -> Result<CaseBook, String> {
        for (i, c) in cases.iter().enumerate() {
            if c.is_open()
                && cases[..i]
                    .iter()
                    .any(|o| o.is_open() && o.household == c.household)
            {
                return Err(format!("household {} has two open cases", c.household));
            }
        }
        Ok(CaseBook { cases })
    }

    pub fn cases(&self) -> &[Case] {
        &self.cases
    }

    pub fn open_cases(&self) -> impl Iterator<Item = &Case> {
        self.cases.iter().filter(|c| c.is_open())
    }

    /// The household's open case.
    pub fn case(&self, household: &RsuId) -> Option<&Case> {
        self.open_cases().find(|c| &c.household == household)
    }

    pub fn case_mut(&mut self, household: &RsuId) -> Result<&mut Case, CaseError> {
        self.cases
            .iter_mut()
            .find(|c| c.is_open() && &c.household == household)
            .ok_or_else(|| CaseError::NoOpenCase(household.clone()))
    }

    /// Open cases followed by `worker`.
    pub fn caseload(&self, worker: &WorkerId) -> usize {
        self.open_cases().filter(|c| &c.worker == worker).count()
    }

    /// Open cases of every worker of `antenna` (zero included), by worker id: the
    /// supervisor's view of the balance.
    pub fn caseloads(&self, workers: &[Worker], antenna: &str) -> Vec<(WorkerId, usize)> {
        let mut loads: Vec<(WorkerId, usize)> = workers
            .iter()
            .filter(|w| w.antenna == antenna)
            .map(|w| (w.id.clone(), self.caseload(&w.id)))
            .collect();
        loads.sort();
        loads
    }

    /// Open a case for a household of a started antenna, given to the least-loaded worker there.
    pub fn open(
        &mut self,
        plan: &RolloutPlan,
        household: &Household,
        workers: &[Worker],
        max_caseload: usize,
        today: NaiveDate,
    ) -> Result<&Case, CaseError> {
        let antenna = &household.residence.province;
        if !plan.started(antenna, today) {
            return Err(CaseError::AntennaNotStarted(antenna.clone()));
        }
        if self.case(&household.rsu_id).is_some() {
            return Err(CaseError::AlreadyOpen(household.rsu_id.clone()));
        }
        let worker = least_loaded(self, workers, antenna, max_caseload)?
            .id
            .clone();
        self.cases.push(Case {
            household: household.rsu_id.clone(),
            antenna: antenna.clone(),
            worker,
            opened_on: today,
            closure: None,
            goals: Vec::new(),
            visits: Vec::new(),
            referrals: Vec::new(),
        });
        Ok(self.cases.last().expect("just pushed"))
    }

    /// Give an open case to another worker of its antenna. No maximum here: a supervisor may
    /// overload someone deliberately, and the caseload alert shows it.
    pub fn reassign(&mut self, household: &RsuId, to: &Worker) -> Result<(), CaseError> {
        let case = self.case_mut(household)?;
        if !to.takes_cases() || to.antenna != case.antenna {
            return Err(CaseError::WorkerUnavailable(to.id.clone()));
        }
        case.worker = to.id.clone();
        Ok(())
    }

    pub fn close(
        &mut self,
        household: &RsuId,
        on: NaiveDate,
        reason: &str,
        today: NaiveDate,
    ) -> Result<(), CaseError> {
        let case = self.case_mut(household)?;
        case.check_date(on, today)?;
        if reason.trim().is_empty() {
            return Err(CaseError::Blank("closure reason"));
        }
        case.closure = Some(Closure {
            on,
            reason: reason.to_owned(),
        });
        Ok(())
    }
}

/// The worker of `antenna` taking cases with the fewest open cases (ties: smallest id, so
/// the choice is reproducible); refused when even they are at `max_caseload`.
pub fn least_loaded<'a>(
    book: &CaseBook,
    workers: &'a [Worker],
    antenna: &str,
    max_caseload: usize,
) -> Result<&'a Worker, CaseError> {
    let best = workers
        .iter()
        .filter(|w| w.takes_cases() && w.antenna == antenna)
        .map(|w| (book.caseload(&w.id), w))
        .min_by(|(la, a), (lb, b)| la.cmp(lb).then_with(|| a.id.cmp(&b.id)));
    match best {
        None => Err(CaseError::NoWorker(antenna.to_owned())),
        Some((load, _)) if load >= max_caseload => Err(CaseError::AllAtMaximum {
            antenna: antenna.to_owned(),
            max: max_caseload,
        }),
        Some((_, w)) => Ok(w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;

    fn opened(book: &mut CaseBook, id: &str, workers: &[Worker], today: &str) -> WorkerId {
        book.open(
            &RolloutPlan::shipped(),
            &schooling_case(id),
            workers,
            40,
            d(today),
        )
        .unwrap()
        .worker
        .clone()
    }

    #[test]
    fn new_cases_go_to_the_least_loaded_worker_of_the_antenna() {
        let workers = [
            worker("samira", "01.511"),
            worker("karim", "01.511"),
            worker("omar", "01.571"),
        ];
        let mut book = CaseBook::new();
        // Ties go to the smallest id: karim, then samira, then karim again.
        let given: Vec<String> = ["100000000001", "100000000002", "100000000003"]
            .iter()
            .map(|id| opened(&mut book, id, &workers, "2027-02-01").to_string())
            .collect();
        assert_eq!(given, ["karim", "samira", "karim"]);
        assert_eq!(
            book.caseload(&WorkerId::parse("omar").unwrap()),
            0,
            "other antennas are not used"
        );
        let loads = book.caseloads(&workers, "01.511");
        assert_eq!(
            loads,
            [
                (WorkerId::parse("karim").unwrap(), 2),
                (WorkerId::parse("samira").unwrap(), 1)
            ]
        );
        let json = serde_json::to_string(&book).unwrap();
        assert_eq!(serde_json::from_str::<CaseBook>(&json).unwrap(), book);
    }

    #[test]
    fn inactive_workers_and_other_roles_receive_no_case() {
        let mut away = worker("karim", "01.511");
        away.active = false;
        let mut analyst = worker("nadia", "01.511");
        analyst.role = Role::MeAnalyst;
        let workers = [away, analyst, worker("samira", "01.511")];
        assert_eq!(
            opened(&mut CaseBook::new(), "100000000001", &workers, "2027-02-01").as_str(),
            "samira"
        );
        let r = CaseBook::new()
            .open(
                &RolloutPlan::shipped(),
                &schooling_case("100000000001"),
                &workers[..2],
                40,
                d("2027-02-01"),
            )
            .map(|_| ());
        assert_eq!(r.unwrap_err(), CaseError::NoWorker("01.511".into()));
    }

    #[test]
    fn opening_is_refused_at_the_maximum_outside_started_antennas_and_twice() {
        let workers = [worker("samira", "01.511")];
        let plan = RolloutPlan::shipped();
        let mut book = CaseBook::new();
        book.open(
            &plan,
            &schooling_case("100000000001"),
            &workers,
            1,
            d("2027-02-01"),
        )
        .unwrap();
        let full = book.open(
            &plan,
            &schooling_case("100000000002"),
            &workers,
            1,
            d("2027-02-01"),
        );
        assert_eq!(
            full.unwrap_err(),
            CaseError::AllAtMaximum {
                antenna: "01.511".into(),
                max: 1
            }
        );
        let twice = book.open(
            &plan,
            &schooling_case("100000000001"),
            &workers,
            5,
            d("2027-02-01"),
        );
        assert_eq!(
            twice.unwrap_err(),
            CaseError::AlreadyOpen(rsu("100000000001"))
        );
        let early = CaseBook::new()
            .open(
                &plan,
                &schooling_case("100000000001"),
                &workers,
                5,
                d("2026-12-31"),
            )
            .map(|_| ());
        assert_eq!(
            early.unwrap_err(),
            CaseError::AntennaNotStarted("01.511".into())
        );
    }

    #[test]
    fn a_closed_case_frees_the_worker_and_the_household_may_be_reopened() {
        let workers = [worker("samira", "01.511")];
        let plan = RolloutPlan::shipped();
        let mut book = CaseBook::new();
        book.open(
            &plan,
            &schooling_case("100000000001"),
            &workers,
            1,
            d("2027-02-01"),
        )
        .unwrap();
        assert_eq!(
            book.close(&rsu("100000000001"), d("2027-02-01"), " ", d("2027-03-01")),
            Err(CaseError::Blank("closure reason"))
        );
        book.close(
            &rsu("100000000001"),
            d("2027-03-01"),
            "goals achieved",
            d("2027-03-01"),
        )
        .unwrap();
        assert_eq!(book.caseload(&workers[0].id), 0);
        assert!(
            book.open(
                &plan,
                &schooling_case("100000000001"),
                &workers,
                1,
                d("2027-04-01")
            )
            .is_ok()
        );
        assert_eq!(book.cases().len(), 2);
        assert!(CaseBook::from_cases(book.cases().to_vec()).is_ok());
    }

    #[test]
    fn reassignment_stays_in_the_antenna_and_may_exceed_the_maximum() {
        let workers = [
            worker("samira", "01.511"),
            worker("karim", "01.511"),
            worker("omar", "01.571"),
        ];
        let mut book = CaseBook::new();
        opened(&mut book, "100000000001", &workers, "2027-02-01");
        book.reassign(&rsu("100000000001"), &workers[1]).unwrap();
        assert_eq!(
            book.case(&rsu("100000000001")).unwrap().worker.as_str(),
            "karim"
        );
        assert_eq!(
            book.reassign(&rsu("100000000001"), &workers[2]),
            Err(CaseError::WorkerUnavailable(workers[2].id.clone()))
        );
        assert_eq!(
            book.reassign(&rsu("100000000009"), &workers[0]),
            Err(CaseError::NoOpenCase(rsu("100000000009")))
        );
    }

    fn a_case() -> Case {
        let mut book = CaseBook::new();
        opened(
            &mut book,
            "100000000001",
            &[worker("samira", "01.511")],
            "2027-02-01",
        );
        book.cases()[0].clone()
    }

    fn visit(date: &str, attendance: Attendance) -> Visit {
        Visit {
            date: d(date),
            attendance,
            notes: String::new(),
            next_steps: String::new(),
            next_visit: None,
        }
    }

    #[test]
    fn visits_are_dated_between_opening_and_today_and_kept_in_order() {
        let mut c = a_case();
        c.record_visit(visit("2027-03-10", Attendance::Present), d("2027-03-10"))
            .unwrap();
        c.record_visit(visit("2027-02-15", Attendance::Absent), d("2027-03-10"))
            .unwrap();
        assert_eq!(
            c.visits.iter().map(|v| v.date).collect::<Vec<_>>(),
            [d("2027-02-15"), d("2027-03-10")]
        );
        assert_eq!(
            c.record_visit(visit("2027-03-11", Attendance::Present), d("2027-03-10")),
            Err(CaseError::InFuture(d("2027-03-11")))
        );
        assert_eq!(
            c.record_visit(visit("2027-01-31", Attendance::Present), d("2027-03-10")),
            Err(CaseError::BeforeOpening(d("2027-01-31")))
        );
        let mut v = visit("2027-03-10", Attendance::Present);
        v.next_visit = Some(d("2027-03-10"));
        assert_eq!(
            c.record_visit(v, d("2027-03-10")),
            Err(CaseError::NotAfter(d("2027-03-10")))
        );
    }

    #[test]
    fn goals_move_from_open_to_achieved_or_dropped_once() {
        let mut c = a_case();
        assert_eq!(
            c.add_goal(Domain::Schooling, "", d("2027-09-30"), d("2027-02-01")),
            Err(CaseError::Blank("goal text"))
        );
        assert_eq!(
            c.add_goal(Domain::Schooling, "x", d("2027-02-01"), d("2027-02-01")),
            Err(CaseError::NotAfter(d("2027-02-01")))
        );
        let g = c
            .add_goal(
                Domain::Schooling,
                "Réinscrire Youssef au collège",
                d("2027-09-30"),
                d("2027-02-01"),
            )
            .unwrap();
        let h = c
            .add_goal(
                Domain::Health,
                "Carte AMO",
                d("2027-06-30"),
                d("2027-02-01"),
            )
            .unwrap();
        assert_eq!((g, h), (1, 2));
        c.set_goal_status(g, GoalStatus::Achieved, d("2027-09-15"), d("2027-09-15"))
            .unwrap();
        assert!(matches!(
            c.set_goal_status(g, GoalStatus::Dropped, d("2027-09-16"), d("2027-09-16")),
            Err(CaseError::Transition { .. })
        ));
        assert!(matches!(
            c.set_goal_status(h, GoalStatus::Open, d("2027-09-16"), d("2027-09-16")),
            Err(CaseError::Transition { .. })
        ));
        assert_eq!(
            c.set_goal_status(9, GoalStatus::Dropped, d("2027-09-16"), d("2027-09-16")),
            Err(CaseError::UnknownGoal(9))
        );
        assert_eq!(c.goals[0].status_on, Some(d("2027-09-15")));
    }

    #[test]
    fn referrals_follow_their_status_machine() {
        let mut c = a_case();
        assert_eq!(
            c.refer(Service::Other, " ", d("2027-02-02"), d("2027-02-02")),
            Err(CaseError::Blank("referral detail"))
        );
        let r = c
            .refer(
                Service::Anapec,
                "ANAPEC Tanger",
                d("2027-02-02"),
                d("2027-02-02"),
            )
            .unwrap();
        c.update_referral(
            r,
            ReferralStatus::Accepted,
            d("2027-02-10"),
            "",
            d("2027-02-10"),
        )
        .unwrap();
        c.update_referral(
            r,
            ReferralStatus::Completed,
            d("2027-05-10"),
            "contrat Idmaj signé",
            d("2027-05-10"),
        )
        .unwrap();
        let again = c.update_referral(
            r,
            ReferralStatus::Refused,
            d("2027-05-11"),
            "",
            d("2027-05-11"),
        );
        assert!(matches!(again, Err(CaseError::Transition { .. })));
        assert_eq!(c.referrals[0].outcome, "contrat Idmaj signé");
        let s = c
            .refer(Service::School, "", d("2027-03-01"), d("2027-03-01"))
            .unwrap();
        assert_eq!(
            c.update_referral(
                s,
                ReferralStatus::Refused,
                d("2027-02-28"),
                "",
                d("2027-03-02")
            ),
            Err(CaseError::NotAfter(d("2027-02-28")))
        );
        assert_eq!(
            c.update_referral(
                7,
                ReferralStatus::Refused,
                d("2027-03-02"),
                "",
                d("2027-03-02")
            ),
            Err(CaseError::UnknownReferral(7))
        );
    }

    #[test]
    fn worker_ids_are_checked() {
        assert!(WorkerId::parse("samira.b").is_ok());
        assert!(WorkerId::parse(" samira").is_err());
        assert!(WorkerId::parse("").is_err());
    }
}

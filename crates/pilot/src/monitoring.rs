//! M&E indicators over the pilot data. Every indicator is an exact integer [`Ratio`]: the
//! numerator and denominator are what a reviewer recounts, and percentages are rendered only
//! at the edge (pages, reports), never stored or compared as floats.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;

use chrono::NaiveDate;
use sanad_domain::{Month, ProvinceCode};
use serde::{Deserialize, Serialize};

use crate::Pilot;
use crate::alerts::{Alert, AlertCode, AlertPolicy, Severity, alerts};
use crate::cases::{Case, CaseBook, GoalStatus, ReferralStatus, Service};
use crate::enrolment::Register;
use crate::measures::{Domain, MeasureId};

/// `num / den`, both counts. `den == 0` means "not defined" (nothing to measure yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Ratio {
    pub num: u64,
    pub den: u64,
}

impl Ratio {
    pub fn new(num: u64, den: u64) -> Ratio {
        Ratio { num, den }
    }

    pub fn is_defined(&self) -> bool {
        self.den > 0
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Active enrolments over capacity, for one measure in one started antenna.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentRate {
    pub measure: MeasureId,
    pub antenna: ProvinceCode,
    pub rate: Ratio,
}

/// Every measure × every antenna started by `today` (catalogue order, then plan order), so
/// an empty measure shows as 0/capacity rather than disappearing.
pub fn enrolment_rates(pilot: &Pilot, register: &Register, today: NaiveDate) -> Vec<EnrolmentRate> {
    let mut out = Vec::new();
    for m in pilot.catalogue.measures() {
        for a in pilot.plan.active(today) {
            let rate = Ratio::new(
                u64::from(register.active_count(&m.id, &a.province)),
                u64::from(m.capacity_per_antenna),
            );
            out.push(EnrolmentRate {
                measure: m.id.clone(),
                antenna: a.province.clone(),
                rate,
            });
        }
    }
    out
}

/// Visits made in a month over the cases open at some time in that month, for one antenna.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitRate {
    pub antenna: ProvinceCode,
    pub month: Month,
    /// All visits (any attendance) / cases open during the month.
    pub per_case: Ratio,
    /// Visits where the household was present / cases open during the month.
    pub present_per_case: Ratio,
}

fn open_during(c: &Case, month: Month) -> bool {
    c.opened_on <= month.last_day()
        && c.closure
            .as_ref()
            .is_none_or(|cl| cl.on >= month.first_day())
}

pub fn visits_per_case(book: &CaseBook, month: Month) -> Vec<VisitRate> {
    let mut by: BTreeMap<&ProvinceCode, (u64, u64, u64)> = BTreeMap::new();
    for c in book.cases().iter().filter(|c| open_during(c, month)) {
        let e = by.entry(&c.antenna).or_default();
        let in_month: Vec<_> = c
            .visits
            .iter()
            .filter(|v| Month::of(v.date) == month)
            .collect();
        e.0 += count(in_month.len());
        e.1 += count(
            in_month
                .iter()
                .filter(|v| v.attendance == crate::cases::Attendance::Present)
                .count(),
        );
        e.2 += 1;
    }
    by.into_iter()
        .map(|(a, (visits, present, cases))| VisitRate {
            antenna: a.clone(),
            month,
            per_case: Ratio::new(visits, cases),
            present_per_case: Ratio::new(present, cases),
        })
        .collect()
}

/// Goals of every case (open or closed) by antenna and domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalShare {
    pub antenna: ProvinceCode,
    pub domain: Domain,
    pub open: u64,
    pub achieved: u64,
    pub dropped: u64,
    /// Achieved over all goals set (dropped and open goals count in the denominator).
    pub achieved_share: Ratio,
}

pub fn goals_achieved(book: &CaseBook) -> Vec<GoalShare> {
    let mut by: BTreeMap<(&ProvinceCode, Domain), [u64; 3]> = BTreeMap::new();
    for c in book.cases() {
        for g in &c.goals {
            let slot = match g.status {
                GoalStatus::Open => 0,
                GoalStatus::Achieved => 1,
                GoalStatus::Dropped => 2,
            };
            by.entry((&c.antenna, g.domain)).or_default()[slot] += 1;
        }
    }
    by.into_iter()
        .map(|((a, domain), [open, achieved, dropped])| GoalShare {
            antenna: a.clone(),
            domain,
            open,
            achieved,
            dropped,
            achieved_share: Ratio::new(achieved, open + achieved + dropped),
        })
        .collect()
}

/// Referrals of every case by antenna and service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralCompletion {
    pub antenna: ProvinceCode,
    pub service: Service,
    pub sent: u64,
    pub accepted: u64,
    pub completed: u64,
    pub refused: u64,
    /// Completed over all referrals made (those still pending count in the denominator).
    pub completion: Ratio,
}

pub fn referral_completion(book: &CaseBook) -> Vec<ReferralCompletion> {
    let mut by: BTreeMap<(&ProvinceCode, Service), [u64; 4]> = BTreeMap::new();
    for c in book.cases() {
        for r in &c.referrals {
            let slot = match r.status {
                ReferralStatus::Sent => 0,
                ReferralStatus::Accepted => 1,
                ReferralStatus::Completed => 2,
                ReferralStatus::Refused => 3,
            };
            by.entry((&c.antenna, r.service)).or_default()[slot] += 1;
        }
    }
    by.into_iter()
        .map(
            |((a, service), [sent, accepted, completed, refused])| ReferralCompletion {
                antenna: a.clone(),
                service,
                sent,
                accepted,
                completed,
                refused,
                completion: Ratio::new(completed, sent + accepted + completed + refused),
            },
        )
        .collect()
}

/// Open alerts by antenna, code and severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertCount {
    pub antenna: ProvinceCode,
    pub code: AlertCode,
    pub severity: Severity,
    pub count: u64,
}

pub fn alerts_open(alerts: &[Alert]) -> Vec<AlertCount> {
    let mut by: BTreeMap<(&ProvinceCode, AlertCode, Severity), u64> = BTreeMap::new();
    for a in alerts {
        *by.entry((&a.antenna, a.code, a.severity)).or_default() += 1;
    }
    by.into_iter()
        .map(|((a, code, severity), count)| AlertCount {
            antenna: a.clone(),
            code,
            severity,
            count,
        })
        .collect()
}

/// The pilot's dashboard on `today`; visits are counted for `month`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicators {
    pub as_of: NaiveDate,
    pub enrolment: Vec<EnrolmentRate>,
    pub visits: Vec<VisitRate>,
    pub goals: Vec<GoalShare>,
    pub referrals: Vec<ReferralCompletion>,
    pub alerts: Vec<AlertCount>,
}

impl Indicators {
    pub fn compute(
        pilot: &Pilot,
        register: &Register,
        book: &CaseBook,
        policy: &AlertPolicy,
        month: Month,
        today: NaiveDate,
    ) -> Indicators {
        Indicators {
            as_of: today,
            enrolment: enrolment_rates(pilot, register, today),
            visits: visits_per_case(book, month),
            goals: goals_achieved(book),
            referrals: referral_completion(book),
            alerts: alerts_open(&alerts(book, policy, today)),
        }
    }

    /// Long-format CSV, one ratio a row: `indicator,antenna,key,numerator,denominator`.
    pub fn write_csv<W: Write>(&self, out: W) -> csv::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(["indicator", "antenna", "key", "numerator", "denominator"])?;
        let mut row = |ind: &str, antenna: &str, key: &str, r: Ratio| {
            w.write_record([ind, antenna, key, &r.num.to_string(), &r.den.to_string()])
        };
        for e in &self.enrolment {
            row("enrolment_rate", &e.antenna, e.measure.as_str(), e.rate)?;
        }
        for v in &self.visits {
            row(
                "visits_per_case",
                &v.antenna,
                &v.month.to_string(),
                v.per_case,
            )?;
            row(
                "present_visits_per_case",
                &v.antenna,
                &v.month.to_string(),
                v.present_per_case,
            )?;
        }
        for g in &self.goals {
            row(
                "goals_achieved",
                &g.antenna,
                g.domain.as_str(),
                g.achieved_share,
            )?;
        }
        for r in &self.referrals {
            row(
                "referral_completion",
                &r.antenna,
                service_key(r.service),
                r.completion,
            )?;
        }
        for a in &self.alerts {
            row(
                "alerts_open",
                &a.antenna,
                a.code.as_str(),
                Ratio::new(a.count, 1),
            )?;
        }
        w.flush()?;
        Ok(())
    }
}

fn service_key(s: Service) -> &'static str {
    match s {
        Service::School => "school",
        Service::HealthCentre => "health_centre",
        Service::Anapec => "anapec",
        Service::Other => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::{Attendance, Visit};
    use crate::testkit::*;

    const TODAY: &str = "2027-03-31";

    fn school() -> MeasureId {
        MeasureId::parse("school-return").unwrap()
    }

    fn visit(book: &mut CaseBook, id: &str, date: &str, attendance: Attendance) {
        let v = Visit {
            date: d(date),
            attendance,
            notes: String::new(),
            next_steps: String::new(),
            next_visit: None,
        };
        book.case_mut(&rsu(id))
            .unwrap()
            .record_visit(v, d(TODAY))
            .unwrap();
    }

    /// Two cases in Tanger: the first visited twice in March (once absent), the second once
    /// in February; goals and referrals in various states.
    fn pilot_data() -> (Pilot, Register, CaseBook) {
        let pilot = Pilot::shipped();
        let mut register = Register::new();
        let mut book = CaseBook::new();
        let workers = [worker("samira", "01.511")];
        for id in ["100000000001", "100000000002"] {
            register
                .enrol(
                    &pilot,
                    &schooling_case(id),
                    &asd(true),
                    &school(),
                    d("2027-02-01"),
                )
                .unwrap();
            book.open(
                &pilot.plan,
                &schooling_case(id),
                &workers,
                40,
                d("2027-02-01"),
            )
            .unwrap();
        }
        visit(&mut book, "100000000001", "2027-03-03", Attendance::Present);
        visit(&mut book, "100000000001", "2027-03-17", Attendance::Absent);
        visit(&mut book, "100000000002", "2027-02-20", Attendance::Present);
        let c = book.case_mut(&rsu("100000000001")).unwrap();
        let g = c
            .add_goal(
                Domain::Schooling,
                "Réinscription",
                d("2027-09-30"),
                d("2027-02-01"),
            )
            .unwrap();
        c.set_goal_status(g, GoalStatus::Achieved, d("2027-03-03"), d(TODAY))
            .unwrap();
        c.add_goal(
            Domain::Schooling,
            "Assiduité",
            d("2027-06-30"),
            d("2027-02-01"),
        )
        .unwrap();
        let r = c
            .refer(
                Service::School,
                "Collège Ibn Batouta",
                d("2027-02-05"),
                d(TODAY),
            )
            .unwrap();
        c.update_referral(
            r,
            ReferralStatus::Completed,
            d("2027-03-01"),
            "inscrit",
            d(TODAY),
        )
        .unwrap();
        c.refer(
            Service::School,
            "École Al Massira",
            d("2027-03-20"),
            d(TODAY),
        )
        .unwrap();
        (pilot, register, book)
    }

    #[test]
    fn enrolment_rate_is_active_over_capacity_for_every_started_antenna() {
        let (pilot, register, _) = pilot_data();
        let rates = enrolment_rates(&pilot, &register, d(TODAY));
        assert_eq!(
            rates.len(),
            pilot.catalogue.measures().len(),
            "only the pilot antenna has started"
        );
        let school_rate = rates.iter().find(|r| r.measure == school()).unwrap();
        assert_eq!(school_rate.rate, Ratio::new(2, 300));
        assert!(
            rates
                .iter()
                .filter(|r| r.measure != school())
                .all(|r| r.rate.num == 0)
        );
        assert_eq!(
            enrolment_rates(&pilot, &register, d("2027-07-01")).len(),
            3 * pilot.catalogue.measures().len()
        );
    }

    #[test]
    fn visits_per_case_per_month_count_cases_open_in_the_month() {
        let (_, _, mut book) = pilot_data();
        let march = visits_per_case(&book, "2027-03".parse().unwrap());
        assert_eq!(
            (march[0].per_case, march[0].present_per_case),
            (Ratio::new(2, 2), Ratio::new(1, 2))
        );
        book.close(&rsu("100000000002"), d("2027-02-28"), "moved", d(TODAY))
            .unwrap();
        let march = visits_per_case(&book, "2027-03".parse().unwrap());
        assert_eq!(march[0].per_case, Ratio::new(2, 1), "closed before March");
        assert!(
            visits_per_case(&book, "2027-01".parse().unwrap()).is_empty(),
            "no case open yet"
        );
    }

    #[test]
    fn shares_of_goals_achieved_and_referrals_completed() {
        let (_, _, book) = pilot_data();
        let goals = goals_achieved(&book);
        assert_eq!(
            (goals[0].domain, goals[0].achieved_share, goals[0].open),
            (Domain::Schooling, Ratio::new(1, 2), 1)
        );
        let refs = referral_completion(&book);
        assert_eq!(
            (refs[0].service, refs[0].completion, refs[0].sent),
            (Service::School, Ratio::new(1, 2), 1)
        );
    }

    #[test]
    fn the_dashboard_gathers_everything_and_exports_csv() {
        let (pilot, register, book) = pilot_data();
        let ind = Indicators::compute(
            &pilot,
            &register,
            &book,
            &AlertPolicy::default(),
            "2027-03".parse().unwrap(),
            d(TODAY),
        );
        // Case 2 was last seen on 2027-02-20: 39 days before the 31st, over the 30-day interval.
        assert_eq!(
            ind.alerts,
            [AlertCount {
                antenna: "01.511".into(),
                code: AlertCode::VisitOverdue,
                severity: Severity::Warning,
                count: 1
            }]
        );
        let mut buf = Vec::new();
        ind.write_csv(&mut buf).unwrap();
        let csv = String::from_utf8(buf).unwrap();
        assert!(csv.starts_with("indicator,antenna,key,numerator,denominator\n"));
        assert!(csv.contains("enrolment_rate,01.511,school-return,2,300\n"));
        assert!(csv.contains("visits_per_case,01.511,2027-03,2,2\n"));
        assert!(csv.contains("referral_completion,01.511,school,1,2\n"));
        assert!(csv.contains("alerts_open,01.511,visit_overdue,1,1\n"));
    }

    #[test]
    fn an_empty_ratio_is_undefined_not_zero_percent() {
        assert!(!Ratio::default().is_defined());
        assert_eq!(Ratio::new(3, 4).to_string(), "3/4");
    }
}

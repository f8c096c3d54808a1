//! An ASD application and its life: submitted, verified, decided (automatically or after a
//! review), or withdrawn. The state machine is one `match` ([`Status::can_move_to`]); every
//! change is kept with its date, and a stored application is re-validated when read back.

use chrono::{Datelike, Days, NaiveDate};
use sanad_domain::{Idcs, Month, RsuId};
use sanad_rules::ruleset::{RuleSet, StartMonth};
use serde::{Deserialize, Serialize};

use crate::reasons::ReasonCode;
use crate::receipt::ReceiptNumber;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// asd.ma, filled in by the applicant.
    Web,
    /// A partner system through the API.
    Api,
    /// At an office, entered by an agent.
    Agent,
    /// A bulk file (e.g. a campaign), one application per row.
    Bulk,
}

/// The aid applied for (asd-rules.md §4): the child allowance, the flat-rate aid, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requested {
    ChildAllowance,
    FlatRate,
}

impl Requested {
    pub const ALL: [Requested; 2] = [Requested::ChildAllowance, Requested::FlatRate];

    pub fn code(self) -> &'static str {
        match self {
            Requested::ChildAllowance => "child_allowance",
            Requested::FlatRate => "flat_rate",
        }
    }

    pub fn parse(code: &str) -> Option<Requested> {
        Requested::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The engine's components an award of this aid pays: the child allowance brings its
    /// supplements, the floor top-up and the one-off grants; the flat-rate aid is itself alone.
    pub fn covers(self, c: sanad_rules::Component) -> bool {
        use sanad_rules::Component as C;
        match self {
            Requested::ChildAllowance => !matches!(c, C::FlatRate),
            Requested::FlatRate => matches!(c, C::FlatRate),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Submitted,
    Verifying,
    InReview,
    Approved,
    Rejected,
    Withdrawn,
}

impl Status {
    /// The whole state machine.
    pub fn can_move_to(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (Submitted, Verifying | Withdrawn)
                | (Verifying, Approved | Rejected | InReview | Withdrawn)
                | (InReview, Approved | Rejected | Withdrawn)
        )
    }

    /// Not yet decided nor withdrawn: blocks another application for the same component.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Submitted | Status::Verifying | Status::InReview
        )
    }

    pub fn is_decision(self) -> bool {
        matches!(self, Status::Approved | Status::Rejected)
    }
}

/// One step of an application's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub from: Status,
    pub to: Status,
    pub on: NaiveDate,
    /// The reasons of a rejection (empty for every other change).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<ReasonCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("an application cannot go from {from:?} to {to:?}")]
    NotAllowed { from: Status, to: Status },
    #[error("a change dated {on} comes before the previous one ({last})")]
    BackInTime { on: NaiveDate, last: NaiveDate },
    #[error("a rejection needs at least one reason, and only a rejection has reasons")]
    Reasons,
}

/// The fields of an application as stored; [`Application`] checks them on the way in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRecord {
    pub receipt: ReceiptNumber,
    pub household: RsuId,
    pub applicant: Idcs,
    pub channel: Channel,
    pub requested: Vec<Requested>,
    pub submitted_on: NaiveDate,
    #[serde(default)]
    pub history: Vec<StatusChange>,
}

/// An application whose history is a valid path through the state machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ApplicationRecord", into = "ApplicationRecord")]
pub struct Application(ApplicationRecord);

impl std::ops::Deref for Application {
    type Target = ApplicationRecord;
    fn deref(&self) -> &ApplicationRecord {
        &self.0
    }
}

impl From<Application> for ApplicationRecord {
    fn from(a: Application) -> Self {
        a.0
    }
}

impl TryFrom<ApplicationRecord> for Application {
    type Error = String;
    /// Replay the stored history so that a record edited by hand cannot hold an impossible path.
    fn try_from(r: ApplicationRecord) -> Result<Self, String> {
        let history = r.history.clone();
        let mut app = Application::submit(
            r.receipt,
            r.household,
            r.applicant,
            r.channel,
            &r.requested,
            r.submitted_on,
        )?;
        if app.requested != r.requested {
            return Err("requested components must be sorted and distinct".into());
        }
        for (i, c) in history.into_iter().enumerate() {
            if c.from != app.status() {
                return Err(format!(
                    "history[{i}]: starts from {:?} but the application is {:?}",
                    c.from,
                    app.status()
                ));
            }
            app.move_to(c.to, c.on, c.reasons)
                .map_err(|e| format!("history[{i}]: {e}"))?;
        }
        Ok(app)
    }
}

impl Application {
    /// A new application in `Submitted`. At least one component; duplicates are merged.
    pub fn submit(
        receipt: ReceiptNumber,
        household: RsuId,
        applicant: Idcs,
        channel: Channel,
        requested: &[Requested],
        submitted_on: NaiveDate,
    ) -> Result<Application, String> {
        let mut requested = requested.to_vec();
        requested.sort();
        requested.dedup();
        if requested.is_empty() {
            return Err("an application requests at least one component".into());
        }
        if submitted_on.year() != receipt.year() {
            return Err(format!(
                "receipt {receipt} is not of the submission year {submitted_on}"
            ));
        }
        Ok(Application(ApplicationRecord {
            receipt,
            household,
            applicant,
            channel,
            requested,
            submitted_on,
            history: Vec::new(),
        }))
    }

    pub fn status(&self) -> Status {
        self.history.last().map_or(Status::Submitted, |c| c.to)
    }

    pub fn is_open(&self) -> bool {
        self.status().is_open()
    }

    /// The date of the latest change, or of the submission.
    pub fn last_change(&self) -> NaiveDate {
        self.history.last().map_or(self.submitted_on, |c| c.on)
    }

    /// The decision (approval or rejection), its date and reasons, once decided.
    pub fn decision(&self) -> Option<&StatusChange> {
        self.history.last().filter(|c| c.to.is_decision())
    }

    /// Move to `to` on `on`. A rejection carries its reasons; nothing else does.
    pub fn move_to(
        &mut self,
        to: Status,
        on: NaiveDate,
        reasons: Vec<ReasonCode>,
    ) -> Result<(), TransitionError> {
        let from = self.status();
        if !from.can_move_to(to) {
            return Err(TransitionError::NotAllowed { from, to });
        }
        if on < self.last_change() {
            return Err(TransitionError::BackInTime {
                on,
                last: self.last_change(),
            });
        }
        if (to == Status::Rejected) == reasons.is_empty() {
            return Err(TransitionError::Reasons);
        }
        self.0.history.push(StatusChange {
            from,
            to,
            on,
            reasons,
        });
        Ok(())
    }

    /// The last day a rejection can be appealed (asd-rules.md §6: 15 days (S)), if rejected.
    pub fn appeal_until(&self, policy: &DeadlinePolicy) -> Option<NaiveDate> {
        self.decision()
            .filter(|d| d.to == Status::Rejected)
            .map(|d| plus_days(d.on, policy.appeal_days))
    }
}

/// Another application for a component this household already has open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error(
    "household {household} already has application {existing} ({status:?}) open for {component:?}"
)]
pub struct OpenApplicationRefusal {
    pub household: RsuId,
    pub component: Requested,
    pub existing: ReceiptNumber,
    pub status: Status,
}

/// At most one open application per household and component: refuse `requested` if one of
/// `existing` (any households; others are ignored) is open for one of the same components.
pub fn check_no_open_application(
    existing: &[Application],
    household: &RsuId,
    requested: &[Requested],
) -> Result<(), OpenApplicationRefusal> {
    let clash = existing
        .iter()
        .filter(|a| &a.household == household && a.is_open())
        .find_map(|a| {
            requested
                .iter()
                .find(|c| a.requested.contains(c))
                .map(|c| (a, *c))
        });
    match clash {
        Some((a, component)) => Err(OpenApplicationRefusal {
            household: household.clone(),
            component,
            existing: a.receipt,
            status: a.status(),
        }),
        None => Ok(()),
    }
}

/// The decision deadline and the appeal window (asd-rules.md §3, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlinePolicy {
    /// Days from submission to decision: 30 (C).
    pub decision_days: u32,
    /// From this day after submission an undecided application is at risk: 25 (assumption).
    pub at_risk_from_day: u32,
    /// Days after a rejection to appeal: 15 (S).
    pub appeal_days: u32,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        DeadlinePolicy {
            decision_days: 30,
            at_risk_from_day: 25,
            appeal_days: 15,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DeadlineStatus {
    OnTrack { deadline: NaiveDate, days_left: i64 },
    AtRisk { deadline: NaiveDate, days_left: i64 },
    Overdue { deadline: NaiveDate, days_late: i64 },
}

fn plus_days(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_days(Days::new(u64::from(n)))
        .expect("dates stay far from chrono's limits")
}

/// Where an undecided application stands on `today`: the submission day is day 0, the
/// deadline is day `decision_days` (still on time), at risk from day `at_risk_from_day`.
pub fn deadline_status(
    submitted_on: NaiveDate,
    today: NaiveDate,
    policy: &DeadlinePolicy,
) -> DeadlineStatus {
    let deadline = plus_days(submitted_on, policy.decision_days);
    let day = (today - submitted_on).num_days();
    let days_left = (deadline - today).num_days();
    if days_left < 0 {
        DeadlineStatus::Overdue {
            deadline,
            days_late: -days_left,
        }
    } else if day >= i64::from(policy.at_risk_from_day) {
        DeadlineStatus::AtRisk {
            deadline,
            days_left,
        }
    } else {
        DeadlineStatus::OnTrack {
            deadline,
            days_left,
        }
    }
}

/// The first month of entitlement under the start-month rule of `rules` (the rule set in
/// force for the application month; asd-rules.md §3 (U), default: the application month).
pub fn start_month(rules: &RuleSet, submitted_on: NaiveDate, decided_on: NaiveDate) -> Month {
    match rules.payment.start_month {
        StartMonth::ApplicationMonth => Month::of(submitted_on),
        StartMonth::MonthAfterApplication => Month::of(submitted_on).next(),
        StartMonth::DecisionMonth => Month::of(decided_on),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{d, rsu};
    use Status::*;

    fn app(seq: u32, household: &str, requested: &[Requested]) -> Application {
        let r = ReceiptNumber::new(2026, seq).unwrap();
        Application::submit(
            r,
            rsu(household),
            Idcs::from_body(1),
            Channel::Web,
            requested,
            d("2026-03-02"),
        )
        .unwrap()
    }

    #[test]
    fn each_engine_component_belongs_to_exactly_one_aid() {
        for c in sanad_rules::Component::ALL {
            assert_eq!(
                Requested::ALL.iter().filter(|r| r.covers(c)).count(),
                1,
                "{c:?}"
            );
        }
        for r in Requested::ALL {
            assert_eq!(Requested::parse(r.code()), Some(r));
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                r.code(),
                "the code is the wire name"
            );
        }
    }

    #[test]
    fn the_state_machine() {
        let all = [
            Submitted, Verifying, InReview, Approved, Rejected, Withdrawn,
        ];
        let allowed: Vec<(Status, Status)> = all
            .iter()
            .flat_map(|&a| all.iter().map(move |&b| (a, b)))
            .filter(|(a, b)| a.can_move_to(*b))
            .collect();
        assert_eq!(
            allowed,
            [
                (Submitted, Verifying),
                (Submitted, Withdrawn),
                (Verifying, InReview),
                (Verifying, Approved),
                (Verifying, Rejected),
                (Verifying, Withdrawn),
                (InReview, Approved),
                (InReview, Rejected),
                (InReview, Withdrawn),
            ]
        );
    }

    #[test]
    fn review_then_rejection_with_its_appeal_window() {
        let mut a = app(1, "100000000001", &[Requested::ChildAllowance]);
        a.move_to(Verifying, d("2026-03-02"), vec![]).unwrap();
        a.move_to(InReview, d("2026-03-05"), vec![]).unwrap();
        assert_eq!(
            a.move_to(Rejected, d("2026-03-20"), vec![]),
            Err(TransitionError::Reasons)
        );
        assert_eq!(
            a.move_to(Approved, d("2026-03-04"), vec![]),
            Err(TransitionError::BackInTime {
                on: d("2026-03-04"),
                last: d("2026-03-05")
            })
        );
        a.move_to(
            Rejected,
            d("2026-03-20"),
            vec![ReasonCode::ExcludedPensioner],
        )
        .unwrap();
        assert_eq!(a.status(), Rejected);
        assert_eq!(
            a.appeal_until(&DeadlinePolicy::default()),
            Some(d("2026-04-04"))
        );
        assert_eq!(
            a.move_to(Withdrawn, d("2026-03-21"), vec![]),
            Err(TransitionError::NotAllowed {
                from: Rejected,
                to: Withdrawn
            })
        );
    }

    #[test]
    fn stored_history_is_replayed() {
        let mut a = app(
            2,
            "100000000001",
            &[Requested::FlatRate, Requested::FlatRate],
        );
        assert_eq!(a.requested, [Requested::FlatRate]);
        a.move_to(Verifying, d("2026-03-02"), vec![]).unwrap();
        a.move_to(Approved, d("2026-03-10"), vec![]).unwrap();
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Application>(&json).unwrap(), a);
        // Skipping verification in a stored record is caught on reading.
        let forged = json.replace(
            r#""from":"verifying","to":"approved""#,
            r#""from":"submitted","to":"approved""#,
        );
        assert_ne!(forged, json);
        let err = serde_json::from_str::<Application>(&forged)
            .unwrap_err()
            .to_string();
        assert!(err.contains("history[1]"), "{err}");
    }

    #[test]
    fn receipt_year_must_match_submission() {
        let r = ReceiptNumber::new(2025, 7).unwrap();
        assert!(
            Application::submit(
                r,
                rsu("100000000001"),
                Idcs::from_body(1),
                Channel::Agent,
                &[Requested::FlatRate],
                d("2026-01-01")
            )
            .is_err()
        );
        let r = ReceiptNumber::new(2026, 7).unwrap();
        assert!(
            Application::submit(
                r,
                rsu("100000000001"),
                Idcs::from_body(1),
                Channel::Agent,
                &[],
                d("2026-01-01")
            )
            .is_err()
        );
    }

    #[test]
    fn one_open_application_per_household_and_component() {
        let mut decided = app(3, "100000000001", &[Requested::ChildAllowance]);
        decided.move_to(Withdrawn, d("2026-03-03"), vec![]).unwrap();
        let open = app(4, "100000000001", &[Requested::FlatRate]);
        let other_household = app(5, "100000000002", &[Requested::ChildAllowance]);
        let existing = [decided, open, other_household];
        let h = rsu("100000000001");
        assert_eq!(
            check_no_open_application(&existing, &h, &[Requested::ChildAllowance]),
            Ok(())
        );
        let refusal = check_no_open_application(
            &existing,
            &h,
            &[Requested::ChildAllowance, Requested::FlatRate],
        )
        .unwrap_err();
        assert_eq!(refusal.component, Requested::FlatRate);
        assert_eq!(refusal.existing, ReceiptNumber::new(2026, 4).unwrap());
        assert_eq!(refusal.status, Submitted);
    }

    #[test]
    fn deadline_days() {
        let p = DeadlinePolicy::default();
        let s = d("2026-03-02");
        let deadline = d("2026-04-01");
        assert_eq!(
            deadline_status(s, d("2026-03-26"), &p),
            DeadlineStatus::OnTrack {
                deadline,
                days_left: 6
            }
        );
        assert_eq!(
            deadline_status(s, d("2026-03-27"), &p),
            DeadlineStatus::AtRisk {
                deadline,
                days_left: 5
            }
        );
        assert_eq!(
            deadline_status(s, deadline, &p),
            DeadlineStatus::AtRisk {
                deadline,
                days_left: 0
            }
        );
        assert_eq!(
            deadline_status(s, d("2026-04-03"), &p),
            DeadlineStatus::Overdue {
                deadline,
                days_late: 2
            }
        );
        let strict = DeadlinePolicy {
            decision_days: 20,
            at_risk_from_day: 10,
            appeal_days: 15,
        };
        assert!(matches!(
            deadline_status(s, d("2026-03-12"), &strict),
            DeadlineStatus::AtRisk { days_left: 10, .. }
        ));
    }

    #[test]
    fn start_month_follows_the_rule_set() {
        let book = sanad_rules::RuleBook::shipped();
        let mut rules = book.get("asd-2025-11").unwrap().clone();
        let (sub, dec) = (d("2026-03-28"), d("2026-04-15"));
        assert_eq!(start_month(&rules, sub, dec).to_string(), "2026-03");
        rules.payment.start_month = StartMonth::MonthAfterApplication;
        assert_eq!(start_month(&rules, sub, dec).to_string(), "2026-04");
        rules.payment.start_month = StartMonth::DecisionMonth;
        assert_eq!(
            start_month(&rules, d("2026-03-02"), dec).to_string(),
            "2026-04"
        );
    }
}

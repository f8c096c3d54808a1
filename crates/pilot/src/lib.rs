//! The accompanying-measures pilot of the direct social aid (ASD): ANSS tries schooling,
//! nutrition, health, socio-economic inclusion and formal-employment measures in one antenna,
//! then rolls them out wave by wave, with social workers following each household.
//!
//! Everything here is a pure function of data passed in — the catalogue, the rollout plan,
//! the enrolment register, the case book and `today` — so storage, the CLI and the pages
//! (which the lead adds) can never disagree about who is eligible or which alert is open.
//!
//! - [`measures`]: the catalogue (shipped as `data/measures.json`) and [`rule`], the
//!   target-group rule language evaluated against a [`sanad_domain::Household`];
//! - [`rollout`]: the pilot antenna and the waves that follow (`data/rollout.json`);
//! - [`enrolment`]: enrol and exit, with typed refusals, counts and committed budget;
//! - [`cases`]: caseloads, case plans, visits and referrals;
//! - [`mod@alerts`]: follow-up alerts computed from the case book and `today`;
//! - [`monitoring`]: M&E indicators as exact integer ratios.

pub mod alerts;
pub mod cases;
pub mod enrolment;
pub mod measures;
pub mod monitoring;
pub mod rollout;
pub mod rule;
pub mod text;

#[cfg(test)]
pub(crate) mod testkit;

pub use alerts::{Alert, AlertCode, AlertPolicy, Severity, alerts};
pub use cases::{
    Attendance, Case, CaseBook, CaseError, Closure, Goal, GoalStatus, Referral, ReferralStatus,
    Service, Visit, Worker, WorkerId, least_loaded,
};
pub use enrolment::{
    Budget, BudgetLine, Enrolment, EnrolmentCount, Exit, ExitError, ExitReason, Refusal, Register,
};
pub use measures::{Catalogue, CatalogueError, Domain, Measure, MeasureId};
pub use monitoring::{
    AlertCount, EnrolmentRate, GoalShare, Indicators, Ratio, ReferralCompletion, VisitRate,
};
pub use rollout::{PlannedAntenna, RolloutError, RolloutPlan};
pub use rule::{Check, Condition, Facts, MemberFilter, Rule, Truth, Verdict};
pub use text::{Lang, Text};

/// The two pieces of configuration every pilot operation reads: what is offered, and where
/// and from when.
#[derive(Debug, Clone)]
pub struct Pilot {
    pub catalogue: Catalogue,
    pub plan: RolloutPlan,
}

impl Pilot {
    /// The shipped catalogue and rollout plan (`data/measures.json`, `data/rollout.json`).
    pub fn shipped() -> Pilot {
        Pilot {
            catalogue: Catalogue::shipped(),
            plan: RolloutPlan::shipped(),
        }
    }
}

//! The verification pipeline: every check of an application, each with its outcome and the
//! evidence behind it, then the automatic decision.
//!
//! [`verify`] is a pure function of the application, the household, the lists, the duplicate
//! indexes, the rule set and the policy, so it can be re-run whenever a list or the household
//! changes; the caller stores its result. [`decide`] decides automatically only when every
//! check is conclusive.

mod checks;
pub mod index;

use chrono::NaiveDate;
use sanad_domain::{Household, HouseholdStatus, Idcs, RsuId, Score, ScoreRecord};
use sanad_rules::RuleSet;
use serde::{Deserialize, Serialize};

use crate::application::{Application, Status};
use crate::lists::{
    DeathRow, DisabilityCardRow, EnrolmentRow, FamilyAllowanceRow, ListKind, ListRef, Lists,
    PayrollRow, PensionRow,
};
use crate::reasons::ReasonCode;
pub use index::{
    ContactIndex, IdentityIndex, IndexedPerson, Indexes, MemoryIndex, PersonIndex, PersonRecord,
    account_key,
};

/// The parameters of verification. Defaults marked (assumption) are not published rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationPolicy {
    /// A list dated more than this many days before the application says nothing about it: 90 (assumption).
    pub max_list_age_days: u32,
    /// More households than this on one phone number goes to review: 3 (assumption).
    pub max_households_per_phone: u32,
    /// More households than this on one payment account goes to review: 1 (assumption).
    pub max_households_per_account: u32,
    /// Names at least this similar (Jaro–Winkler, permille) are a possible duplicate: 900 (assumption).
    pub min_name_similarity_permille: u16,
    /// Birth dates at most this many days apart are a possible duplicate: 0, equal dates (assumption).
    pub birth_date_tolerance_days: u32,
    /// First month of the school year: 9, September.
    pub school_year_start_month: u32,
}

impl Default for VerificationPolicy {
    fn default() -> Self {
        VerificationPolicy {
            max_list_age_days: 90,
            max_households_per_phone: 3,
            max_households_per_account: 1,
            min_name_similarity_permille: 900,
            birth_date_tolerance_days: 0,
            school_year_start_month: 9,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckCode {
    RsuRegistration,
    Applicant,
    Score,
    FamilyAllowance,
    PublicPayroll,
    Pension,
    DuplicateIdentity,
    SharedPhone,
    SharedAccount,
    SimilarPerson,
    Death,
    Schooling,
    Disability,
}

impl CheckCode {
    /// Every check, in the order [`verify`] runs them; [`decide`] requires all of them.
    pub const ALL: [CheckCode; 13] = [
        CheckCode::RsuRegistration,
        CheckCode::Applicant,
        CheckCode::Score,
        CheckCode::FamilyAllowance,
        CheckCode::PublicPayroll,
        CheckCode::Pension,
        CheckCode::DuplicateIdentity,
        CheckCode::SharedPhone,
        CheckCode::SharedAccount,
        CheckCode::SimilarPerson,
        CheckCode::Death,
        CheckCode::Schooling,
        CheckCode::Disability,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    Inconclusive,
}

/// A matched row of a list, as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListRow {
    FamilyAllowance(FamilyAllowanceRow),
    PublicPayroll(PayrollRow),
    Pension(PensionRow),
    Death(DeathRow),
    SchoolEnrolment(EnrolmentRow),
    DisabilityCard(DisabilityCardRow),
}

/// What a check saw. Persons are named by IDCS only; messages name members by position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    Registration {
        household: RsuId,
        status: HouseholdStatus,
    },
    Applicant {
        applicant: Idcs,
        member: bool,
        alive: bool,
        age: Option<i32>,
    },
    Score {
        on: NaiveDate,
        record: Option<ScoreRecord>,
        threshold: Score,
        rule_set: String,
    },
    /// The rule set does not apply this exclusion.
    RuleOff {
        parameter: String,
        rule_set: String,
    },
    /// A positive cross-check already recorded on the household (RSU feed).
    RegistryFlag {
        person: Idcs,
        source: String,
        date: NaiveDate,
    },
    ListMissing {
        list: ListKind,
    },
    ListStale {
        list: ListRef,
        age_days: i64,
        max_days: u32,
    },
    /// A member found in a list, with the line and the row.
    Listed {
        list: ListRef,
        person: Idcs,
        line: u64,
        row: ListRow,
    },
    /// Members searched in a list and not found.
    NotListed {
        list: ListRef,
        persons: Vec<Idcs>,
    },
    OtherHouseholds {
        person: Idcs,
        identifier: String,
        households: Vec<RsuId>,
    },
    SharedContact {
        contact: String,
        households: u32,
        limit: u32,
    },
    SimilarPerson {
        person: Idcs,
        household: RsuId,
        other: Option<Idcs>,
        similarity_permille: u16,
        days_apart: i64,
    },
    /// A declaration the check had nothing to compare with.
    Unconfirmed {
        person: Idcs,
        declared: String,
        found: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub code: CheckCode,
    pub outcome: Outcome,
    /// Why a failed check rejects (set exactly when the outcome is `Fail`).
    pub reason: Option<ReasonCode>,
    pub evidence: Vec<Evidence>,
    /// For the agent; no names or identifiers (those are in the evidence).
    pub message: String,
}

impl Check {
    fn pass(code: CheckCode, evidence: Vec<Evidence>, message: impl Into<String>) -> Check {
        Check {
            code,
            outcome: Outcome::Pass,
            reason: None,
            evidence,
            message: message.into(),
        }
    }
    fn fail(
        code: CheckCode,
        reason: ReasonCode,
        evidence: Vec<Evidence>,
        message: impl Into<String>,
    ) -> Check {
        Check {
            code,
            outcome: Outcome::Fail,
            reason: Some(reason),
            evidence,
            message: message.into(),
        }
    }
    fn open(code: CheckCode, evidence: Vec<Evidence>, message: impl Into<String>) -> Check {
        Check {
            code,
            outcome: Outcome::Inconclusive,
            reason: None,
            evidence,
            message: message.into(),
        }
    }
}

/// Run every check of `app` against `household` as of the application date. `today` only
/// tells a death before the application from one after it.
pub fn verify(
    app: &Application,
    household: &Household,
    lists: &Lists,
    indexes: Indexes,
    rules: &RuleSet,
    policy: &VerificationPolicy,
    today: NaiveDate,
) -> Vec<Check> {
    let cx = checks::Context {
        app,
        h: household,
        lists,
        rules,
        policy,
        on: app.submitted_on,
        today,
    };
    vec![
        checks::registration(&cx),
        checks::applicant(&cx),
        checks::score(&cx),
        checks::family_allowance(&cx),
        checks::public_payroll(&cx),
        checks::pension(&cx),
        checks::duplicate_identity(&cx, indexes.identity),
        checks::shared_phone(&cx, indexes.contacts),
        checks::shared_account(&cx, indexes.contacts),
        checks::similar_person(&cx, indexes.persons),
        checks::death(&cx),
        checks::schooling(&cx),
        checks::disability(&cx),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum AutoDecision {
    Approve,
    Reject {
        reasons: Vec<ReasonCode>,
    },
    /// A person decides. `failed` are the reasons already established, for the reviewer.
    Review {
        open_checks: Vec<CheckCode>,
        failed: Vec<ReasonCode>,
    },
}

impl AutoDecision {
    /// The status the application moves to from `Verifying`.
    pub fn status(&self) -> Status {
        match self {
            AutoDecision::Approve => Status::Approved,
            AutoDecision::Reject { .. } => Status::Rejected,
            AutoDecision::Review { .. } => Status::InReview,
        }
    }
}

/// Approve when every check passed, reject when every check is conclusive and some failed,
/// otherwise review. A check missing from `checks` counts as open: an empty or partial
/// result never approves.
pub fn decide(checks: &[Check]) -> AutoDecision {
    let mut failed: Vec<ReasonCode> = checks
        .iter()
        .filter_map(|c| c.reason.filter(|_| c.outcome == Outcome::Fail))
        .collect();
    failed.sort();
    failed.dedup();
    let mut open: Vec<CheckCode> = checks
        .iter()
        .filter(|c| c.outcome == Outcome::Inconclusive)
        .map(|c| c.code)
        .collect();
    open.extend(
        CheckCode::ALL
            .iter()
            .filter(|code| !checks.iter().any(|c| c.code == **code)),
    );
    open.sort();
    open.dedup();
    match (open.is_empty(), failed.is_empty()) {
        (true, true) => AutoDecision::Approve,
        (true, false) => AutoDecision::Reject { reasons: failed },
        (false, _) => AutoDecision::Review {
            open_checks: open,
            failed,
        },
    }
}

#[cfg(test)]
mod tests;

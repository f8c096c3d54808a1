//! ASD applications, from the receipt to the decision, and what happens to a household after it.
//!
//! - [`receipt`]: receipt numbers `ASD-2026-0001234-7` with a Damm check digit;
//! - [`application`]: the application, its state machine, the one-open-application rule,
//!   the 30-day deadline and the start month of entitlement;
//! - [`lists`]: the dated cross-check lists (CSV) of other administrations;
//! - [`names`]: Latin and Arabic name normalisation and Jaro–Winkler similarity;
//! - [`verification`]: the re-runnable checks with their evidence, and the automatic decision;
//! - [`events`]: life events applied to a household, the RSU score refresh;
//! - [`reevaluation`]: before/after amounts per month, arrears, overpayments, suspension;
//! - [`notify`]: FR/AR message templates, the outbox and its retry policy, the senders.
//!
//! Pure types and functions: no database, no clock (every "today" is a parameter), no async.
//! Files are read through `impl Read`; the two message senders are the only I/O. See README.md.

pub mod application;
pub mod events;
pub mod lists;
pub mod names;
pub mod notify;
pub mod reasons;
pub mod receipt;
pub mod reevaluation;
pub mod verification;

#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod worked_examples;

pub use application::{
    Application, Channel, DeadlinePolicy, DeadlineStatus, OpenApplicationRefusal, Requested,
    Status, TransitionError, check_no_open_application, deadline_status, start_month,
};
pub use events::{
    EventError, EventKind, LifeEvent, ScoreUpdates, Split, apply_event, birth_grant_claim,
    split_household,
};
pub use lists::{List, ListKind, ListRef, Lists, RowError};
pub use reasons::ReasonCode;
pub use receipt::ReceiptNumber;
pub use reevaluation::{Lifecycle, Reevaluation, ReevaluationParams, Settlement, reevaluate};
pub use verification::{
    AutoDecision, Check, CheckCode, Evidence, Outcome, VerificationPolicy, decide, verify,
};

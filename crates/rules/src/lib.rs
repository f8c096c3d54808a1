//! ASD eligibility and benefit rules.
//!
//! - [`ruleset`]: rule sets as effective-dated, versioned data (`rules/*.toml`);
//! - [`engine`]: the pure function (snapshot, rule set, month) → decision with line items;
//! - [`io`]: the stable JSON interface of `sanad entitlement` and `POST /api/v1/entitlements/compute`;
//! - [`explain`]: the decision in words, in French, Arabic and English.

pub mod diff;
pub mod engine;
pub mod explain;
pub mod io;
pub mod replay;
pub mod ruleset;

pub use engine::{
    Component, Decision, Line, Member, Reason, Snapshot, evaluate, evaluate_household,
};
pub use ruleset::{RuleBook, RuleError, RuleSet};

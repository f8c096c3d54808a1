//! Sanad's payroll: what each household is paid each month, and the books that prove it.
//!
//! - [`awards`]: who is paid (approved applications, from their start month) and late decisions' arrears;
//! - [`held`]: payments that bounced on the account itself wait for a new account;
//! - [`ledger`]: a double-entry benefit ledger; balances are folds of balanced entries;
//! - [`cycle`]: the monthly computation (dues, arrears, re-issues, recoveries) into a [`Payroll`];
//! - [`variance`](mod@variance): the payroll against the previous month's;
//! - [`budget`]: appropriation, commitment, execution, forecast, and the refusal to overspend;
//! - [`state`]: the maker-checker states of a cycle;
//! - [`replay`]: a past month's lines recomputed from the rule set and snapshot they keep.
//!
//! - [`run`]: the edge — the cycle and bank returns against a store, and the payment files.
//!
//! All but `run` is pure: no I/O, no clock, no database. Amounts are integer centimes ([`Money`]); the only
//! rounding is the recovery cap, rounded down to the centime. See README.md.
//!
//! [`Money`]: sanad_domain::Money

pub mod awards;
pub mod budget;
pub mod codes;
pub mod cycle;
mod error;
pub mod held;
pub mod ledger;
pub mod replay;
pub mod returns;
pub mod run;
pub mod state;
pub mod variance;

pub use budget::{
    Appropriation, BudgetLine, BudgetRefusal, BudgetReport, YearToDate, check_budget,
};
pub use codes::ByComponent;
pub use cycle::{Beneficiary, CycleParams, Payroll, PayrollLine, Retro, run_cycle};
pub use error::PayrollError;
pub use ledger::{Account, Entry, Kind, Ledger};
pub use state::{Cycle, Digest, Status};
pub use variance::{Threshold, VarianceReport, variance};

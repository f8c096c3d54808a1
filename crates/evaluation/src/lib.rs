//! Impact evaluation in pure Rust: randomised assignment, power, balance,
//! attrition, OLS / 2SLS with absorbed fixed effects and robust or clustered
//! variances, difference-in-differences (2×2 and Callaway–Sant'Anna),
//! regression discontinuity (rdrobust-style) and multiple-testing corrections.
//!
//! See `docs/evaluation.md` for the conventions of every estimator and
//! how they were checked against reference packages.

pub mod assign;
pub mod balance;
pub mod cli;
pub mod data;
pub mod did;
pub mod dist;
pub mod error;
pub mod iv;
pub mod linalg;
pub mod multiple;
pub mod ols;
pub mod power;
pub mod rdd;
pub mod sha256;

pub use error::{EvalError, Result};

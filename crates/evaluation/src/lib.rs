//! Impact evaluation in pure Rust: randomised assignment, power, balance,
//! attrition, OLS / 2SLS with absorbed fixed effects and robust or clustered
//! variances, difference-in-differences (2×2 and Callaway–Sant'Anna),
//! regression discontinuity (rdrobust-style) and multiple-testing corrections;
//! plus the evaluation report (HTML/SVG), survey import against a codebook,
//! a synthetic pilot with known effects and the pseudonymised export
//! (CSV / Parquet).
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
pub mod export;
pub mod iv;
pub mod linalg;
pub mod multiple;
pub mod ols;
pub mod parquet;
pub mod pilot;
pub mod power;
pub mod rdd;
pub mod report;
pub mod sha256;
pub mod survey;

pub use error::{EvalError, Result};

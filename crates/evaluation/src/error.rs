//! One error type for the whole crate, so the CLI can print a single message.

use thiserror::Error;

/// Everything that can go wrong in an evaluation computation or while loading data.
#[derive(Debug, Error)]
pub enum EvalError {
    /// A CSV cell that should be numeric is not. `line` is 1-based and counts the header.
    #[error("{file} line {line} column {column}: '{value}' is not a number")]
    NotANumber {
        file: String,
        line: u64,
        column: String,
        value: String,
    },
    /// A column requested by the caller is absent from the data.
    #[error("{file}: no column named '{column}'")]
    MissingColumn { file: String, column: String },
    /// The CSV reader itself failed (I/O, malformed quoting, ragged rows).
    #[error("{file}: {message}")]
    Csv { file: String, message: String },
    /// The regressors are linearly dependent (or a block is numerically singular).
    #[error("singular matrix: {0}")]
    Singular(String),
    /// Not enough observations, clusters, groups, ... for the requested estimate.
    #[error("insufficient data: {0}")]
    Insufficient(String),
    /// Inconsistent or out-of-range options.
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// Crate-wide result alias.
pub type Result<T> = std::result::Result<T, EvalError>;

pub(crate) fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(EvalError::Invalid(msg.into()))
}

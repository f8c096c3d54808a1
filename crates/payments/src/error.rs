//! The crate's one error type. Every message names what an operator needs to find the
//! problem: the file line and XML element for input files, the payment for output files.

use std::io;

use sanad_domain::Money;

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),

    #[error("line {line}: malformed XML: {message}")]
    Xml { line: u64, message: String },

    #[error("line {line}: <{element}>: {message}")]
    Structure {
        line: u64,
        element: String,
        message: String,
    },

    #[error(
        "line {line}: the document has no ISO 20022 namespace, so its message type and version \
         cannot be told (first element <{element}>); the bank must send a namespaced Document"
    )]
    NoNamespace { line: u64, element: String },

    #[error(
        "unsupported message {message} version {version}: Sanad reads only pain.002 (status reports) and camt.054 (debit/credit notifications)"
    )]
    Unsupported { message: String, version: String },

    #[error("line {line}: <{element}> amount '{value}': {reason}")]
    Amount {
        line: u64,
        element: String,
        value: String,
        reason: String,
    },

    #[error("payment {payment_id} (issue {issue}): {reason}")]
    InvalidPayment {
        payment_id: u64,
        issue: u16,
        reason: String,
    },

    #[error("release settings: {0}")]
    InvalidSpec(String),

    #[error(
        "payments must come in strictly increasing (payment id, issue) order, which is how \
         EndToEndIds are kept unique: {previous:?} was followed by {next:?}"
    )]
    OutOfOrder {
        previous: (u64, u16),
        next: (u64, u16),
    },

    #[error(
        "{file}: the header declares {expected_txs} transactions totalling {expected_sum} MAD but \
         {actual_txs} totalling {actual_sum} MAD were written; discard this file (the payments \
         iterator did not give the same payments twice)"
    )]
    SummaryMismatch {
        file: String,
        expected_txs: u64,
        expected_sum: Money,
        actual_txs: u64,
        actual_sum: Money,
    },
}

impl PaymentsError {
    /// Errors after which a returns reader cannot go on. An `Amount` error concerns one
    /// transaction only: the reader reports it and continues with the next one.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, PaymentsError::Amount { .. })
    }
}

pub type Result<T, E = PaymentsError> = std::result::Result<T, E>;

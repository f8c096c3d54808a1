//! ISO 20022 payment files for Sanad (see README.md in this crate):
//!
//! * out: pain.001.001.10 credit-transfer files, split per release, with a SHA-256 manifest
//!   ([`plan_release`], [`write_release`], [`Pain001Writer`]);
//! * in: pain.002 status reports and camt.054 notifications of any version, streamed into
//!   [`ReturnEvent`]s ([`ReturnsReader`], [`read_returns`]);
//! * demo/test bank responses ([`bank_sim`]).
//!
//! Pure library: files are read and written only through `BufRead`/`Write` parameters.

pub mod amount;
pub mod bank_sim;
mod check;
mod error;
pub mod ids;
mod manifest;
mod pain001;
mod returns;
pub mod text;
mod xml_out;

pub use check::{Pain001Check, check_pain001};
pub use error::{PaymentsError, Result};
pub use ids::{EndToEndRef, MsgRef};
pub use manifest::{
    HashingReader, HashingWriter, MANIFEST_FORMAT, Manifest, ManifestFile, sha256_hex,
};
pub use pain001::{
    BatchSummary, Debtor, DebtorAgent, FilePlan, PAIN001_NAMESPACE, Pain001Writer, Payment,
    ReleasePlan, ReleaseSpec, check_payment, plan_release, write_release,
};
pub use returns::{
    BatchLevel, BatchStatus, MAX_WARNINGS, MessageType, ReturnEvent, ReturnKind, ReturnsReader,
    ReturnsSummary, Warning, message_from_namespace, read_returns,
};

//! Sanad's domain: types that can only hold valid values ("parse, don't validate").
//! Nothing here does I/O; storage, files and HTTP live in other crates.

pub mod access;
pub mod fnv;
pub mod geo;
pub mod household;
pub mod ids;
pub mod money;
pub mod month;
pub mod score;
pub mod snapshot;

pub use access::{Permission, Role, mask_id};
pub use chrono::NaiveDate as Date;
pub use geo::{Area, CommuneCode, Geography, ProvinceCode, RegionCode};
pub use household::{
    CrossCheck, CrossChecks, Disability, Household, HouseholdStatus, MaritalStatus, Person,
    Relation, Residence, Schooling, Sex,
};
pub use ids::{Cnie, Idcs, PaymentInstrument, Phone, Rib, RsuId};
pub use money::Money;
pub use month::Month;
pub use score::{Score, ScoreHistory, ScoreRecord};

/// A value that failed validation: which field, and why, in words a data clerk understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error, one level deeper (`members[2].cnie`).
    pub fn within(self, prefix: &str) -> Self {
        Self {
            field: format!("{prefix}.{}", self.field),
            reason: self.reason,
        }
    }
}

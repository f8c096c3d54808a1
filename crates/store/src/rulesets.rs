//! Rule sets published into the database: proposed by one user, approved by another
//! (maker-checker), then in force from their effective date.

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::Serialize;

use crate::Result;
use crate::audit::Actor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSetStatus {
    Proposed,
    Approved,
}

impl RuleSetStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleSetStatus::Proposed => "proposed",
            RuleSetStatus::Approved => "approved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRuleSet {
    pub id: String,
    pub effective_from: NaiveDate,
    /// The rule file as published (TOML), kept verbatim so a decision can be replayed.
    pub body: String,
    pub status: RuleSetStatus,
    pub proposed_by: String,
    pub proposed_at: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
}

#[async_trait]
pub trait RuleSetStore: Send + Sync {
    /// Record a proposed rule set. Refused if the id exists. Audited.
    async fn propose_rule_set(
        &self,
        id: &str,
        effective_from: NaiveDate,
        body: &str,
        by: &Actor,
    ) -> Result<()>;
    /// Approve a proposed rule set: refused for its proposer, or if already approved. Audited.
    async fn approve_rule_set(&self, id: &str, by: &Actor) -> Result<StoredRuleSet>;
    /// Every stored rule set, by effective date.
    async fn rule_sets(&self) -> Result<Vec<StoredRuleSet>>;
}

pub mod sql {
    pub const INSERT: &str = "INSERT INTO rule_sets (id, effective_from, body, status, proposed_by, proposed_at) VALUES ($1, $2, $3, 'proposed', $4, $5)";
    pub const GET: &str = "SELECT * FROM rule_sets WHERE id = $1";
    pub const APPROVE: &str = "UPDATE rule_sets SET status = 'approved', approved_by = $2, approved_at = $3 WHERE id = $1 AND status = 'proposed' AND proposed_by <> $2";
    pub const LIST: &str = "SELECT * FROM rule_sets ORDER BY effective_from, id";
}

/// Why an approval was refused, given the row as it stands.
pub fn refusal(row: Option<&StoredRuleSet>, id: &str, by: &str) -> crate::StoreError {
    match row {
        None => crate::StoreError::NotFound(format!("rule set {id}")),
        Some(r) if r.status == RuleSetStatus::Approved => {
            crate::StoreError::Refused(format!("rule set {id} is already approved"))
        }
        Some(r) if r.proposed_by == by => crate::StoreError::Refused(format!(
            "rule set {id} was proposed by {by}: another user must approve it"
        )),
        Some(_) => crate::StoreError::Refused(format!("rule set {id} could not be approved")),
    }
}

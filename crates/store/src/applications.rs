//! Applications as stored: the applications crate decides what they mean; the store keeps
//! each as a JSON document beside the columns queries select on, and hands out receipt
//! sequence numbers that are never given twice.

use async_trait::async_trait;

use crate::audit::Actor;
use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRow {
    pub receipt: String,
    pub rsu_id: String,
    pub status: String,
    pub submitted_on: String,
    /// The application, its checks and its decision (JSON).
    pub body: String,
}

#[async_trait]
pub trait ApplicationStore: Send + Sync {
    /// The next value of a named counter (1 for a new one), atomically.
    async fn next_sequence(&self, name: &str) -> Result<i64>;
    /// Insert or replace an application; audited as `action` with its status before and after.
    async fn save_application(&self, row: &ApplicationRow, action: &str, actor: &Actor) -> Result<()>;
    async fn application(&self, receipt: &str) -> Result<Option<ApplicationRow>>;
    /// A household's applications, newest first (the caller checked the household's scope).
    async fn applications_of(&self, rsu_id: &str) -> Result<Vec<ApplicationRow>>;
    /// Applications waiting for a person's review, oldest first, for households in `scope`.
    async fn review_queue(&self, scope: &crate::Scope, limit: u32) -> Result<Vec<ApplicationRow>>;
}

pub mod sql {
    /// The review queue; the scope's condition is on the households alias `h`.
    pub fn review_queue(scope: &crate::Scope) -> String {
        format!(
            "SELECT a.receipt, a.rsu_id, a.status, a.submitted_on, a.body FROM applications a JOIN households h ON h.rsu_id = a.rsu_id \
             WHERE a.status = 'in_review' AND {} ORDER BY a.submitted_on, a.receipt LIMIT $1",
            scope.sql("h")
        )
    }
    pub const NEXT: &str = "INSERT INTO counters (name, value) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value";
    pub const GET: &str = "SELECT receipt, rsu_id, status, submitted_on, body FROM applications WHERE receipt = $1";
    pub const OF: &str = "SELECT receipt, rsu_id, status, submitted_on, body FROM applications WHERE rsu_id = $1 ORDER BY submitted_on DESC, receipt DESC";
    pub const UPSERT: &str = "INSERT INTO applications (receipt, rsu_id, status, submitted_on, body, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (receipt) DO UPDATE SET status = excluded.status, body = excluded.body, updated_at = excluded.updated_at";
}

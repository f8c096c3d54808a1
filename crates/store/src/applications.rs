//! Applications as stored: the applications crate decides what they mean; the store keeps
//! each as a JSON document beside the columns queries select on, and hands out receipt
//! sequence numbers that are never given twice.

use async_trait::async_trait;

use crate::Result;
use crate::audit::Actor;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRow {
    pub receipt: String,
    pub rsu_id: String,
    pub status: String,
    pub submitted_on: String,
    /// The application, its checks and its decision (JSON).
    pub body: String,
    /// The language of the household's notices, as asked at intake: `fr` or `ar`.
    pub language: String,
}

/// What an approved application grants: the requested components, from a start month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Award {
    pub components: Vec<String>,
    pub start_month: String,
}

/// A terminated household's awards ending at `last_month` (`YYYY-MM`), and the notice that says
/// so, queued only if this ends them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardEnd {
    pub rsu_id: String,
    pub last_month: String,
    pub notice: Option<crate::MessageRow>,
}

/// One awarded component of a household, as the payroll reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardRow {
    pub receipt: String,
    pub rsu_id: String,
    pub component: String,
    pub start_month: String,
    pub end_month: Option<String>,
}

/// A life event or declaration as recorded (see `sanad_applications::LifeEvent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Given by the store when recorded (0 before).
    pub id: i64,
    pub rsu_id: String,
    /// `birth`, `death`, `schooling_change`…
    pub kind: String,
    pub effective: String,
    pub declared_on: String,
    pub body: String,
    pub declared_by: String,
}

/// What [`ApplicationStore::save_applications_streamed`] receives: parts, then `Commit`.
#[derive(Debug)]
pub enum Streamed {
    /// Applications with their awards, and the notices that announce them.
    Part {
        batch: Vec<(ApplicationRow, Option<Award>)>,
        notices: Vec<crate::MessageRow>,
    },
    /// Every part was sent: make them durable.
    Commit,
}

/// The receiving end of a streamed save.
pub type Parts = tokio::sync::mpsc::Receiver<Streamed>;

#[async_trait]
pub trait ApplicationStore: Send + Sync {
    /// Reserve `n` (≥ 1) consecutive values of a named counter, atomically; returns the first
    /// (1 for a new counter). No value is ever handed out twice.
    async fn reserve_sequence(&self, name: &str, n: u32) -> Result<i64>;
    /// Insert or replace an application; audited as `action` with its status before and after.
    /// With an award (an approval), its rows are written in the same transaction, replacing
    /// any the application had; without one, the application's awards stay as they are.
    async fn save_application(
        &self,
        row: &ApplicationRow,
        award: Option<&Award>,
        action: &str,
        actor: &Actor,
    ) -> Result<()>;
    /// Save many applications as [`Self::save_application`] does each, in one transaction:
    /// all of them or none.
    /// With `notices` queued in the same transaction (the outbox pattern: a notice exists
    /// if and only if what it announces was saved; an id already queued is kept).
    async fn save_applications(
        &self,
        batch: &[(ApplicationRow, Option<Award>)],
        notices: &[crate::MessageRow],
        action: &str,
        actor: &Actor,
    ) -> Result<()>;
    /// [`Self::save_applications`] for a batch decided part by part: each part is written as
    /// it arrives, while the next is decided, all in one transaction committed on
    /// [`Streamed::Commit`]. If the channel closes without it (its producer failed), nothing
    /// is saved.
    async fn save_applications_streamed(
        &self,
        parts: Parts,
        action: &str,
        actor: &Actor,
    ) -> Result<()>;
    /// A household's recorded events, newest first (the caller checked the household's scope).
    async fn events_of(&self, rsu_id: &str) -> Result<Vec<EventRow>>;
    /// Households with an event effective on or after `from` (YYYY-MM-DD), with the earliest
    /// such effective date: the ones whose past months the payroll checks again.
    async fn events_since(&self, from: &str) -> Result<Vec<(String, String)>>;
    /// Every award of the households in `scope`, by household then start month.
    async fn awards(&self, scope: &crate::Scope) -> Result<Vec<AwardRow>>;
    async fn application(&self, receipt: &str) -> Result<Option<ApplicationRow>>;
    /// A household's applications, newest first (the caller checked the household's scope).
    async fn applications_of(&self, rsu_id: &str) -> Result<Vec<ApplicationRow>>;
    /// The score histories of the households of `rsu_ids` in `scope`, for a national score
    /// refresh: one entry per household found (its score rows, possibly none), in no order.
    async fn score_histories(
        &self,
        scope: &crate::Scope,
        rsu_ids: &[String],
    ) -> Result<Vec<(String, Vec<crate::rows::ScoreRow>)>>;
    /// A chunk of a score refresh, in one transaction: the new score rows (a row already held
    /// is kept, so a file applied twice changes nothing), the life events of the households it
    /// moves across the threshold with their notices, one audit record for the chunk and one
    /// per event. Returns the ids given to the events, in order.
    async fn save_score_refresh(
        &self,
        scores: &[crate::rows::ScoreRow],
        events: &[EventRow],
        notices: &[crate::MessageRow],
        ends: &[AwardEnd],
        actor: &Actor,
    ) -> Result<Vec<i64>>;
    /// The applications of many households at once, in no particular order.
    async fn applications_of_households(&self, rsu_ids: &[String]) -> Result<Vec<ApplicationRow>>;
    /// Replace a cross-check list whole (its reference as JSON, rows as (line, IDCS, JSON)),
    /// in one transaction; audited.
    async fn replace_list(
        &self,
        kind: &str,
        meta: &str,
        rows: &[(i64, String, String)],
        actor: &Actor,
    ) -> Result<()>;
    /// A list's reference (JSON), if it was imported.
    async fn list_meta(&self, kind: &str) -> Result<Option<String>>;
    /// A list's rows about these persons: (line, JSON).
    async fn list_rows(&self, kind: &str, idcs: &[String]) -> Result<Vec<(i64, String)>>;
    /// The rows of several lists about these persons, read once per person: (kind, line,
    /// JSON), by kind then line.
    async fn lists_rows(
        &self,
        kinds: &[&str],
        idcs: &[String],
    ) -> Result<Vec<(String, i64, String)>>;
    /// Applications waiting for a person's review, oldest first, for households in `scope`.
    async fn review_queue(&self, scope: &crate::Scope, limit: u32) -> Result<Vec<ApplicationRow>>;

    // Awards ended on termination.
    /// End the running awards (no `end_month` yet) of each household at its last month paid,
    /// in one transaction, with one audit record (`reason` in it) and the termination notice
    /// of each household whose awards it ended; returns how many award rows it ended.
    async fn end_awards(&self, ends: &[AwardEnd], reason: &str, actor: &Actor) -> Result<u64>;
    /// A household's awards by start month (the caller checked the household's scope).
    async fn awards_of(&self, rsu_id: &str) -> Result<Vec<AwardRow>>;
}

pub mod sql {
    pub const LIST_DELETE_ROWS: &str = "DELETE FROM cross_check_rows WHERE kind = $1";
    pub const LIST_UPSERT: &str = "INSERT INTO cross_check_lists (kind, meta, row_count, imported_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (kind) DO UPDATE SET meta = excluded.meta, row_count = excluded.row_count, imported_at = excluded.imported_at";
    pub const LIST_META: &str = "SELECT meta FROM cross_check_lists WHERE kind = $1";
    /// The review queue; the scope's condition is on the households alias `h`.
    pub fn review_queue(scope: &crate::Scope) -> String {
        format!(
            "SELECT a.receipt, a.rsu_id, a.status, a.submitted_on, a.body, a.language FROM applications a JOIN households h ON h.rsu_id = a.rsu_id \
             WHERE a.status = 'in_review' AND {} ORDER BY a.submitted_on, a.receipt LIMIT $1",
            scope.sql("h")
        )
    }
    pub const EVENTS_OF: &str = "SELECT * FROM life_events WHERE rsu_id = $1 ORDER BY id DESC";
    pub const EVENTS_SINCE: &str = "SELECT rsu_id, MIN(effective) AS effective FROM life_events WHERE effective >= $1 GROUP BY rsu_id";
    /// Awards in a scope; the scope's condition is on the households alias `h`.
    pub fn awards(scope: &crate::Scope) -> String {
        format!(
            "SELECT a.receipt, a.rsu_id, a.component, a.start_month, a.end_month FROM awards a JOIN households h ON h.rsu_id = a.rsu_id \
             WHERE {} ORDER BY a.rsu_id, a.start_month, a.receipt, a.component",
            scope.sql("h")
        )
    }
    // Awards ended on termination.
    pub const AWARDS_OF: &str = "SELECT receipt, rsu_id, component, start_month, end_month FROM awards WHERE rsu_id = $1 ORDER BY start_month, receipt, component";
    pub const AWARDS_END: &str = "UPDATE awards SET end_month = $2 WHERE rsu_id = $1 AND end_month IS NULL RETURNING receipt";
    /// Adds `$2` to the counter and returns its new value, the last one reserved.
    pub const RESERVE: &str = "INSERT INTO counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value RETURNING value";
    pub const GET: &str = "SELECT receipt, rsu_id, status, submitted_on, body, language FROM applications WHERE receipt = $1";
    pub const OF: &str = "SELECT receipt, rsu_id, status, submitted_on, body, language FROM applications WHERE rsu_id = $1 ORDER BY submitted_on DESC, receipt DESC";
    pub const COLUMNS: [&str; 7] = [
        "receipt",
        "rsu_id",
        "status",
        "submitted_on",
        "body",
        "updated_at",
        "language",
    ];
    /// Saving an application again replaces its status and body.
    pub const UPSERT_TAIL: &str = " ON CONFLICT (receipt) DO UPDATE SET status = excluded.status, body = excluded.body, updated_at = excluded.updated_at, language = excluded.language";
}

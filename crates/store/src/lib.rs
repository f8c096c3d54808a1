//! What Sanad asks of a database, independent of which one.
//!
//! Two adapters implement [`RegistryStore`]: `sanad-store-sqlite` (the default, a file) and
//! `sanad-store-postgres`. Both run the same [`conformance`] suite. Region scoping is a
//! parameter of every query that lists or finds households, so a caller cannot forget it.

pub mod access;
pub mod applications;
pub mod audit;
pub mod conformance;
pub mod generic;
pub mod migrations;
pub mod outbox;
pub mod payroll;
pub mod plan;
pub mod population;
pub mod rows;
pub mod rulesets;
pub mod scope;
pub mod sql;
// pilot (issue 7)
pub mod pilot;

use async_trait::async_trait;
use sanad_domain::{Cnie, Household, Idcs, Phone, RegionCode, RsuId, Score};
use serde::Serialize;

pub use access::{AccessStore, ApiToken, LoginAttempt, Session, User};
pub use applications::{ApplicationRow, ApplicationStore, Award, AwardEnd, AwardRow, EventRow};
pub use audit::{Actor, AuditFilter, AuditRecord, AuditStore, Change};
pub use outbox::{MessageRow, OutboxStore};
pub use payroll::PayrollStore;
pub use plan::{BatchPlan, Encoded, Format, Outcome};
pub use population::Population;
pub use rulesets::{RuleSetStatus, RuleSetStore, StoredRuleSet};
pub use scope::Scope;
// pilot (issue 7)
pub use pilot::PilotStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("cannot open database '{url}': {reason}")]
    Open { url: String, reason: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("refused: {0}")]
    Refused(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A household key a caller can search by.
#[derive(Debug, Clone)]
pub enum FindKey {
    RsuId(RsuId),
    Idcs(Idcs),
    Cnie(Cnie),
    Phone(Phone),
    /// A family name, in Latin or Arabic script, as written or in capitals.
    Name(String),
}

impl FindKey {
    /// The key's value as stored.
    pub fn value(&self) -> String {
        match self {
            FindKey::RsuId(v) => v.to_string(),
            FindKey::Idcs(v) => v.to_string(),
            FindKey::Cnie(v) => v.to_string(),
            FindKey::Phone(v) => v.to_string(),
            FindKey::Name(v) => v.clone(),
        }
    }

    /// The query parameters, in order: a name is tried as typed, in capitals and capitalised.
    pub fn params(&self) -> Vec<String> {
        match self {
            FindKey::Name(v) => {
                let mut chars = v.chars();
                let title = chars
                    .next()
                    .map(|c| {
                        c.to_uppercase()
                            .chain(chars.flat_map(char::to_lowercase))
                            .collect()
                    })
                    .unwrap_or_default();
                vec![v.clone(), v.to_uppercase(), title]
            }
            other => vec![other.value()],
        }
    }

    /// Recognise what a person typed into a search box.
    pub fn guess(input: &str) -> Option<FindKey> {
        let s = input.trim();
        RsuId::parse(s)
            .map(FindKey::RsuId)
            .or_else(|_| Idcs::parse(s).map(FindKey::Idcs))
            .or_else(|_| Cnie::parse(&s.to_uppercase()).map(FindKey::Cnie))
            .or_else(|_| Phone::parse(s).map(FindKey::Phone))
            .ok()
            .or_else(|| {
                let name = s.chars().count() >= 2
                    && s.chars().all(|c| c.is_alphabetic() || " -'".contains(c));
                name.then(|| FindKey::Name(s.to_owned()))
            })
    }
}

/// One line of a search result: enough to pick the right household, nothing more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HouseholdSummary {
    pub rsu_id: RsuId,
    pub region: RegionCode,
    pub province: String,
    pub commune: String,
    pub status: String,
    pub head_name: String,
    pub members: i64,
    pub score: Option<Score>,
}

/// Households and persons per region, within a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionCount {
    pub region: RegionCode,
    pub households: i64,
    pub persons: i64,
}

/// Whether a batch is written or only checked (`--dry-run`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Apply,
    DryRun,
    /// A load into a registry that was empty when it began, whose rows never repeat an id
    /// (the import rejects in-file duplicates): nothing can exist yet, so the store skips
    /// the look-ups of existing households and persons.
    Load,
}

/// Registry-wide answers for a batch's duplicate checks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DuplicateEvidence {
    /// (CNIE, household) for every household holding one of the batch's CNIEs.
    pub cnie_holders: Vec<(String, String)>,
    /// How many households are registered with each of the batch's phones.
    pub phones: Vec<(String, i64)>,
    /// How many households are paid on each of the batch's payment accounts.
    pub accounts: Vec<(sanad_domain::PaymentInstrument, i64)>,
    /// Persons with a batch member's last name (Latin script) born on the same day: the
    /// blocking key of the fuzzy name match, so it reads a few rows per member. A member with
    /// a CNIE is matched only with persons without one (two identity cards are two persons).
    pub namesakes: Vec<rows::Namesake>,
}

#[async_trait]
pub trait RegistryStore: Send + Sync {
    /// Upsert a batch of households by RSU id and their members by IDCS, in one transaction.
    /// Each household is applied whole or not at all; the outcome of each is returned in order.
    async fn upsert_households(&self, batch: &[Household], write: Write) -> Result<Vec<Outcome>>;

    /// Record a life event and the household as it is after it, in one transaction, audited;
    /// returns the event's id.
    async fn record_event(
        &self,
        household: &Household,
        event: &EventRow,
        actor: &Actor,
    ) -> Result<i64>;

    /// A household split. The household left behind and the new one (which must not
    /// exist: `Conflict`), with an event on each, in one transaction, audited; returns the
    /// events' ids.
    async fn record_split(
        &self,
        remaining: &Household,
        new: &Household,
        events: &[EventRow; 2],
        actor: &Actor,
    ) -> Result<(i64, i64)>;

    /// A household with its members and full score history, if it is in `scope`.
    async fn household(&self, scope: &Scope, id: &RsuId) -> Result<Option<Household>>;
    /// The households of `ids` found in `scope`, in no particular order: a batch's reads in
    /// a few queries rather than three per household.
    async fn households(&self, scope: &Scope, ids: &[RsuId]) -> Result<Vec<Household>>;
    /// What the whole registry holds that may duplicate these households' members and
    /// contacts (see [`DuplicateEvidence`]).
    async fn duplicate_evidence(&self, households: &[Household]) -> Result<DuplicateEvidence>;

    /// Households matching a key, in `scope`.
    async fn find_households(&self, scope: &Scope, key: &FindKey) -> Result<Vec<HouseholdSummary>>;

    /// Prepare a bulk load: if the registry is empty and no other load holds the store's
    /// claim, take it and drop the secondary indexes so the load only appends; returns
    /// whether it did. Lookups are slow until [`Self::bulk_load_end`].
    async fn bulk_load_begin(&self) -> Result<bool>;

    /// Build any missing secondary index and let the claim go (also done when a store opens
    /// after a crash, unless another process holds the claim).
    async fn bulk_load_end(&self) -> Result<()>;

    /// Households in `scope`, ordered by RSU id, after `after` (keyset pagination).
    async fn list_households(
        &self,
        scope: &Scope,
        after: Option<&RsuId>,
        limit: u32,
    ) -> Result<Vec<HouseholdSummary>>;

    /// The payment instrument of every household that has one, in `scope`, by RSU id.
    async fn payment_instruments(
        &self,
        scope: &Scope,
    ) -> Result<Vec<(RsuId, sanad_domain::PaymentInstrument)>>;

    /// Households and persons per region, in `scope`.
    async fn count_by_region(&self, scope: &Scope) -> Result<Vec<RegionCount>>;

    /// Every household in `scope` with its members and scores, in compact form.
    /// `progress` receives the number of rows read so far.
    async fn load_population(
        &self,
        scope: &Scope,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<Population>;
    /// The households with `after < rsu_id <= upto`, with their members and scores, in the
    /// same compact form (the streamed payroll reads a page of households at a time).
    async fn population_between(&self, after: &str, upto: &str) -> Result<Population>;
}

/// Everything Sanad stores, as one object a server or command can hold.
pub trait Store:
    RegistryStore
    + RuleSetStore
    + AccessStore
    + AuditStore
    + PayrollStore
    + ApplicationStore
    + OutboxStore
    + PilotStore
{
}
impl<
    T: RegistryStore
        + RuleSetStore
        + AccessStore
        + AuditStore
        + PayrollStore
        + ApplicationStore
        + OutboxStore
        + PilotStore,
> Store for T
{
}

/// Implements the traits whose every method is the shared [`generic::Sql`] code, for an
/// adapter type with a `fn sql(&self) -> generic::Sql<'_, DB>`, its own bulk write of a
/// payroll page, `write_prepared` (SQL literals on SQLite, COPY on PostgreSQL), and its own
/// way to run one large transaction, `large_transaction` (SQLite checkpoints it afterwards).
#[macro_export]
macro_rules! delegate_to_generic {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::RuleSetStore for $t {
            async fn propose_rule_set(
                &self,
                id: &str,
                effective_from: chrono::NaiveDate,
                body: &str,
                by: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql()
                    .propose_rule_set(id, effective_from, body, by)
                    .await
            }
            async fn approve_rule_set(
                &self,
                id: &str,
                by: &$crate::Actor,
            ) -> $crate::Result<$crate::StoredRuleSet> {
                self.sql().approve_rule_set(id, by).await
            }
            async fn rule_sets(&self) -> $crate::Result<Vec<$crate::StoredRuleSet>> {
                self.sql().rule_sets().await
            }
        }

        #[async_trait::async_trait]
        impl $crate::AccessStore for $t {
            async fn create_user(
                &self,
                user: &$crate::User,
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql().create_user(user, actor).await
            }
            async fn user(&self, username: &str) -> $crate::Result<Option<$crate::User>> {
                self.sql().user(username).await
            }
            async fn users(&self) -> $crate::Result<Vec<$crate::User>> {
                self.sql().users().await
            }
            async fn update_user(
                &self,
                user: &$crate::User,
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql().update_user(user, actor).await
            }
            async fn record_login(
                &self,
                username: &str,
                attempt: $crate::LoginAttempt,
            ) -> $crate::Result<()> {
                self.sql().record_login(username, attempt).await
            }
            async fn create_session(&self, s: &$crate::Session) -> $crate::Result<()> {
                self.sql().create_session(s).await
            }
            async fn session(&self, id_hash: &str) -> $crate::Result<Option<$crate::Session>> {
                self.sql().session(id_hash).await
            }
            async fn session_user(
                &self,
                id_hash: &str,
            ) -> $crate::Result<Option<($crate::Session, $crate::User)>> {
                self.sql().session_user(id_hash).await
            }
            async fn touch_session(&self, id_hash: &str, now: i64) -> $crate::Result<()> {
                self.sql().touch_session(id_hash, now).await
            }
            async fn delete_session(&self, id_hash: &str) -> $crate::Result<()> {
                self.sql()
                    .exec_keyed($crate::access::sql::SESSION_DELETE, id_hash)
                    .await
            }
            async fn delete_sessions_of(&self, username: &str) -> $crate::Result<()> {
                self.sql()
                    .exec_keyed($crate::access::sql::SESSIONS_OF_DELETE, username)
                    .await
            }
            async fn create_token(
                &self,
                t: &$crate::ApiToken,
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql().create_token(t, actor).await
            }
            async fn token(&self, id: &str) -> $crate::Result<Option<$crate::ApiToken>> {
                self.sql().token(id).await
            }
            async fn tokens(&self) -> $crate::Result<Vec<$crate::ApiToken>> {
                self.sql().tokens().await
            }
            async fn revoke_token(&self, id: &str, actor: &$crate::Actor) -> $crate::Result<()> {
                self.sql().revoke_token(id, actor).await
            }
        }

        #[async_trait::async_trait]
        impl $crate::PayrollStore for $t {
            async fn cycle(&self, month: &str) -> $crate::Result<Option<String>> {
                self.sql().cycle(month).await
            }
            async fn save_prepared(
                &self,
                month: &str,
                cycle: &str,
                lines: &[$crate::payroll::LineRow],
                entries: &[$crate::payroll::EntryRow],
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql()
                    .save_prepared(month, cycle, lines, entries, actor)
                    .await
            }
            async fn save_cycle(
                &self,
                month: &str,
                status: &str,
                cycle: &str,
                action: &str,
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql()
                    .save_cycle(month, status, cycle, action, actor)
                    .await
            }
            async fn payroll_lines(
                &self,
                month: &str,
            ) -> $crate::Result<Vec<$crate::payroll::LineRow>> {
                self.sql().payroll_lines(month).await
            }
            async fn pending_entries(&self, month: &str) -> $crate::Result<Vec<String>> {
                self.sql().pending_entries(month).await
            }
            async fn save_release(
                &self,
                month: &str,
                cycle: &str,
                entries: &[$crate::payroll::EntryRow],
                payments: &[$crate::payroll::PaymentRow],
                files: &[$crate::payroll::FileRow],
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql()
                    .save_release(month, cycle, entries, payments, files, actor)
                    .await
            }
            async fn ledger_entries(
                &self,
                after_seq: i64,
                limit: u32,
            ) -> $crate::Result<Vec<(i64, String)>> {
                self.sql().ledger_entries(after_seq, limit).await
            }
            async fn payments(
                &self,
                month: &str,
            ) -> $crate::Result<Vec<$crate::payroll::PaymentRow>> {
                self.sql().payments(month).await
            }
            async fn payment(
                &self,
                end_to_end_id: &str,
            ) -> $crate::Result<Option<$crate::payroll::PaymentRow>> {
                self.sql().payment(end_to_end_id).await
            }
            async fn payments_of(
                &self,
                rsu_id: &str,
            ) -> $crate::Result<Vec<$crate::payroll::PaymentRow>> {
                self.sql().payments_of(rsu_id).await
            }
            async fn bounced_payments(&self) -> $crate::Result<Vec<$crate::payroll::PaymentRow>> {
                self.sql().bounced_payments().await
            }
            async fn ledger_of(&self, rsu_id: &str) -> $crate::Result<Vec<String>> {
                self.sql().ledger_of(rsu_id).await
            }
            async fn payment_files(
                &self,
                month: &str,
            ) -> $crate::Result<Vec<$crate::payroll::FileRow>> {
                self.sql().payment_files(month).await
            }
            async fn appropriations(&self, year: i32) -> $crate::Result<Vec<(String, i64)>> {
                self.sql().appropriations(year).await
            }
            async fn set_appropriation(
                &self,
                year: i32,
                component: &str,
                amount: i64,
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql()
                    .set_appropriation(year, component, amount, actor)
                    .await
            }
            async fn returns_imported(&self, sha256: &str) -> $crate::Result<bool> {
                self.sql().returns_imported(sha256).await
            }
            async fn sent_payments(
                &self,
                end_to_end_ids: &[String],
            ) -> $crate::Result<Vec<$crate::payroll::SentPayment>> {
                self.sql().sent_payments(end_to_end_ids).await
            }
            async fn returns_progress(
                &self,
                sha256: &str,
            ) -> $crate::Result<Option<(i64, String)>> {
                self.sql().returns_progress(sha256).await
            }
            async fn save_returns_batch(
                &self,
                sha256: &str,
                file_name: &str,
                lines_done: i64,
                report: &str,
                updates: &[$crate::payroll::StatusUpdate],
                entries: &[$crate::payroll::EntryRow],
            ) -> $crate::Result<()> {
                self.sql()
                    .save_returns_batch(sha256, file_name, lines_done, report, updates, entries)
                    .await
            }
            async fn save_returns(
                &self,
                sha256: &str,
                file_name: &str,
                summary: &str,
                updates: &[$crate::payroll::StatusUpdate],
                entries: &[$crate::payroll::EntryRow],
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql()
                    .save_returns(sha256, file_name, summary, updates, entries, actor)
                    .await
            }

            // --- The streamed cycle (issue 6) ---
            async fn payroll_keys(&self, after: &str, limit: u32) -> $crate::Result<Vec<String>> {
                self.sql().payroll_keys(after, limit).await
            }
            async fn awards_between(
                &self,
                after: &str,
                upto: &str,
            ) -> $crate::Result<Vec<$crate::AwardRow>> {
                self.sql().awards_between(after, upto).await
            }
            async fn ledger_between(
                &self,
                after: &str,
                upto: &str,
            ) -> $crate::Result<Vec<$crate::payroll::LedgerRow>> {
                self.sql().ledger_between(after, upto).await
            }
            async fn save_books(&self, books: &[$crate::payroll::BookRow]) -> $crate::Result<()> {
                self.sql().save_books(books).await
            }
            async fn clear_books(&self) -> $crate::Result<()> {
                self.sql().clear_books().await
            }
            async fn bounced_between(
                &self,
                after: &str,
                upto: &str,
            ) -> $crate::Result<Vec<$crate::payroll::PaymentRow>> {
                self.sql().bounced_between(after, upto).await
            }
            async fn payees_between(
                &self,
                after: &str,
                upto: &str,
            ) -> $crate::Result<Vec<$crate::payroll::Payee>> {
                self.sql().payees_between(after, upto).await
            }
            async fn clear_prepared(&self, month: &str) -> $crate::Result<()> {
                self.sql().clear_prepared(month).await
            }
            async fn add_prepared(
                &self,
                month: &str,
                lines: &[$crate::payroll::LineRow],
                entries: &[(i64, $crate::payroll::EntryRow)],
            ) -> $crate::Result<()> {
                // Each adapter's own bulk format (SQL literals, COPY).
                self.write_prepared(month, lines, entries).await
            }
            async fn finish_prepared(
                &self,
                month: &str,
                cycle: &str,
                households: u64,
                total: i64,
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql()
                    .finish_prepared(month, cycle, households, total, actor)
                    .await
            }
            async fn payroll_lines_page(
                &self,
                month: &str,
                after: &str,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::payroll::LineRow>> {
                self.sql().payroll_lines_page(month, after, limit).await
            }
            async fn pending_entries_page(
                &self,
                month: &str,
                after_seq: i64,
                limit: u32,
            ) -> $crate::Result<Vec<(i64, String)>> {
                self.sql()
                    .pending_entries_page(month, after_seq, limit)
                    .await
            }
            async fn post_payments(
                &self,
                payments: &[$crate::payroll::PaymentRow],
            ) -> $crate::Result<()> {
                self.sql().post_payments(payments).await
            }
            async fn post_pending(
                &self,
                month: &str,
                after_seq: i64,
                limit: u32,
            ) -> $crate::Result<Option<i64>> {
                self.sql().post_pending(month, after_seq, limit).await
            }
            async fn finish_release(
                &self,
                month: &str,
                cycle: &str,
                payments: u64,
                files: &[$crate::payroll::FileRow],
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql()
                    .finish_release(month, cycle, payments, files, actor)
                    .await
            }
            async fn payment_count(&self, month: &str) -> $crate::Result<u64> {
                self.sql().payment_count(month).await
            }
            async fn payroll_line_counts(
                &self,
                month: &str,
            ) -> $crate::Result<Vec<$crate::payroll::Tally>> {
                self.sql().payroll_line_counts(month).await
            }
            async fn payment_counts(
                &self,
                month: &str,
            ) -> $crate::Result<Vec<$crate::payroll::Tally>> {
                self.sql().payment_counts(month).await
            }
        }

        #[async_trait::async_trait]
        impl $crate::ApplicationStore for $t {
            async fn reserve_sequence(&self, name: &str, n: u32) -> $crate::Result<i64> {
                self.sql().reserve_sequence(name, n).await
            }
            async fn save_application(
                &self,
                row: &$crate::ApplicationRow,
                award: Option<&$crate::Award>,
                action: &str,
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql().save_application(row, award, action, actor).await
            }
            async fn save_applications(
                &self,
                batch: &[($crate::ApplicationRow, Option<$crate::Award>)],
                notices: &[$crate::MessageRow],
                action: &str,
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql()
                    .save_applications(batch, notices, action, actor)
                    .await
            }
            async fn save_applications_streamed(
                &self,
                parts: $crate::applications::Parts,
                action: &str,
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.large_transaction(self.sql().save_applications_streamed(parts, action, actor))
                    .await
            }
            async fn events_of(&self, rsu_id: &str) -> $crate::Result<Vec<$crate::EventRow>> {
                self.sql().events_of(rsu_id).await
            }
            async fn events_since(&self, from: &str) -> $crate::Result<Vec<(String, String)>> {
                self.sql().events_since(from).await
            }
            async fn awards(&self, scope: &$crate::Scope) -> $crate::Result<Vec<$crate::AwardRow>> {
                self.sql().awards(scope).await
            }
            async fn application(
                &self,
                receipt: &str,
            ) -> $crate::Result<Option<$crate::ApplicationRow>> {
                self.sql().application(receipt).await
            }
            async fn score_histories(
                &self,
                scope: &$crate::Scope,
                rsu_ids: &[String],
            ) -> $crate::Result<Vec<(String, Vec<$crate::rows::ScoreRow>)>> {
                self.sql().score_histories(scope, rsu_ids).await
            }
            async fn save_score_refresh(
                &self,
                scores: &[$crate::rows::ScoreRow],
                events: &[$crate::EventRow],
                notices: &[$crate::MessageRow],
                ends: &[$crate::AwardEnd],
                actor: &$crate::Actor,
            ) -> $crate::Result<Vec<i64>> {
                self.sql()
                    .save_score_refresh(scores, events, notices, ends, actor)
                    .await
            }
            async fn applications_of_households(
                &self,
                rsu_ids: &[String],
            ) -> $crate::Result<Vec<$crate::ApplicationRow>> {
                self.sql().applications_of_households(rsu_ids).await
            }
            async fn applications_of(
                &self,
                rsu_id: &str,
            ) -> $crate::Result<Vec<$crate::ApplicationRow>> {
                self.sql().applications_of(rsu_id).await
            }
            async fn replace_list(
                &self,
                kind: &str,
                meta: &str,
                rows: &[(i64, String, String)],
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql().replace_list(kind, meta, rows, actor).await
            }
            async fn list_meta(&self, kind: &str) -> $crate::Result<Option<String>> {
                self.sql().list_meta(kind).await
            }
            async fn list_rows(
                &self,
                kind: &str,
                idcs: &[String],
            ) -> $crate::Result<Vec<(i64, String)>> {
                self.sql().list_rows(kind, idcs).await
            }
            async fn lists_rows(
                &self,
                kinds: &[&str],
                idcs: &[String],
            ) -> $crate::Result<Vec<(String, i64, String)>> {
                self.sql().lists_rows(kinds, idcs).await
            }
            async fn review_queue(
                &self,
                scope: &$crate::Scope,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::ApplicationRow>> {
                self.sql().review_queue(scope, limit).await
            }
            // Awards ended on termination.
            async fn end_awards(
                &self,
                ends: &[$crate::AwardEnd],
                reason: &str,
                actor: &$crate::Actor,
            ) -> $crate::Result<u64> {
                self.sql().end_awards(ends, reason, actor).await
            }
            async fn awards_of(&self, rsu_id: &str) -> $crate::Result<Vec<$crate::AwardRow>> {
                self.sql().awards_of(rsu_id).await
            }
        }

        // notify branch: the outbox.
        #[async_trait::async_trait]
        impl $crate::OutboxStore for $t {
            async fn enqueue(&self, m: &$crate::MessageRow) -> $crate::Result<bool> {
                self.sql().enqueue(m).await
            }
            async fn claim_due(
                &self,
                now: chrono::NaiveDateTime,
                lease_until: chrono::NaiveDateTime,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::MessageRow>> {
                self.sql().claim_due(now, lease_until, limit).await
            }
            async fn mark_sent(
                &self,
                id: &str,
                delivery_id: &str,
                at: chrono::NaiveDateTime,
            ) -> $crate::Result<()> {
                self.sql().mark_sent(id, delivery_id, at).await
            }
            async fn mark_failed(
                &self,
                id: &str,
                error: &str,
                retry_at: Option<chrono::NaiveDateTime>,
            ) -> $crate::Result<()> {
                self.sql().mark_failed(id, error, retry_at).await
            }
            async fn retry_message(
                &self,
                scope: &$crate::Scope,
                id: &str,
                now: chrono::NaiveDateTime,
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql().retry_message(scope, id, now, actor).await
            }
            async fn messages(
                &self,
                scope: &$crate::Scope,
                status: Option<&str>,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::MessageRow>> {
                self.sql().messages(scope, status, limit).await
            }
            async fn message_counts(
                &self,
                scope: &$crate::Scope,
            ) -> $crate::Result<Vec<(String, i64)>> {
                self.sql().message_counts(scope).await
            }
            async fn messages_of(
                &self,
                scope: &$crate::Scope,
                rsu_id: &str,
            ) -> $crate::Result<Vec<$crate::MessageRow>> {
                self.sql().messages_of(scope, rsu_id).await
            }
            // Payment notices and delivery reports.
            async fn enqueue_many(&self, messages: &[$crate::MessageRow]) -> $crate::Result<u64> {
                self.sql().enqueue_many(messages).await
            }
            async fn payment_notice_targets(
                &self,
                month: &str,
                after: &str,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::outbox::PaymentNoticeRow>> {
                self.sql().payment_notice_targets(month, after, limit).await
            }
            async fn notice_contacts(
                &self,
                rsu_ids: &[String],
            ) -> $crate::Result<Vec<$crate::outbox::NoticeContact>> {
                self.sql().notice_contacts(rsu_ids).await
            }
            async fn message_by_delivery(
                &self,
                scope: &$crate::Scope,
                delivery_id: &str,
            ) -> $crate::Result<Option<$crate::MessageRow>> {
                self.sql().message_by_delivery(scope, delivery_id).await
            }
            async fn record_delivery(
                &self,
                id: &str,
                delivery_id: &str,
                update: &$crate::outbox::DeliveryUpdate,
            ) -> $crate::Result<bool> {
                self.sql().record_delivery(id, delivery_id, update).await
            }
        }

        #[async_trait::async_trait]
        impl $crate::AuditStore for $t {
            async fn audit(
                &self,
                actor: &$crate::Actor,
                change: &$crate::Change,
            ) -> $crate::Result<$crate::AuditRecord> {
                self.sql().audit(actor, change).await
            }
            async fn audit_records(
                &self,
                filter: &$crate::AuditFilter,
                before_seq: Option<i64>,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::AuditRecord>> {
                self.sql().audit_records(filter, before_seq, limit).await
            }
            async fn audit_chain(
                &self,
                after_seq: i64,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::AuditRecord>> {
                self.sql().audit_chain(after_seq, limit).await
            }
        }
        // pilot (issue 7)
        #[async_trait::async_trait]
        impl $crate::PilotStore for $t {
            async fn save_pilot_config(
                &self,
                measures: &[$crate::pilot::MeasureRow],
                antennas: &[$crate::pilot::AntennaRow],
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql()
                    .save_pilot_config(measures, antennas, actor)
                    .await
            }
            async fn measures(&self) -> $crate::Result<Vec<$crate::pilot::MeasureRow>> {
                self.sql().pilot_measures().await
            }
            async fn antennas(&self) -> $crate::Result<Vec<$crate::pilot::AntennaRow>> {
                self.sql().pilot_antennas().await
            }
            async fn enrol(
                &self,
                e: &$crate::pilot::EnrolmentRow,
                capacity: i64,
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql().enrol(e, capacity, actor).await
            }
            async fn exit_enrolment(
                &self,
                rsu_id: &str,
                measure_id: &str,
                exit: &$crate::pilot::ExitRow,
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql()
                    .exit_enrolment(rsu_id, measure_id, exit, actor)
                    .await
            }
            async fn enrolments(
                &self,
                scope: &$crate::Scope,
            ) -> $crate::Result<Vec<$crate::pilot::EnrolmentRow>> {
                self.sql().enrolments(scope).await
            }
            async fn enrolments_of(
                &self,
                scope: &$crate::Scope,
                rsu_id: &str,
            ) -> $crate::Result<Vec<$crate::pilot::EnrolmentRow>> {
                self.sql().enrolments_of(scope, rsu_id).await
            }
            async fn places(
                &self,
                scope: &$crate::Scope,
            ) -> $crate::Result<Vec<$crate::pilot::PlacesRow>> {
                self.sql().places(scope).await
            }
            async fn save_case(
                &self,
                case: &$crate::pilot::CaseRow,
                action: &str,
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql().save_case(case, action, actor).await
            }
            async fn open_cases(
                &self,
                scope: &$crate::Scope,
                worker: Option<&str>,
            ) -> $crate::Result<Vec<$crate::pilot::CaseRow>> {
                self.sql().open_cases(scope, worker).await
            }
            async fn open_case(
                &self,
                scope: &$crate::Scope,
                rsu_id: &str,
            ) -> $crate::Result<Option<$crate::pilot::CaseRow>> {
                self.sql().open_case(scope, rsu_id).await
            }
            async fn cases(
                &self,
                scope: &$crate::Scope,
            ) -> $crate::Result<Vec<$crate::pilot::CaseRow>> {
                self.sql().cases(scope).await
            }
            async fn register_design(
                &self,
                id: &str,
                body: &str,
                actor: &$crate::Actor,
            ) -> $crate::Result<$crate::pilot::DesignRow> {
                self.sql().register_design(id, body, actor).await
            }
            async fn designs(&self) -> $crate::Result<Vec<$crate::pilot::DesignRow>> {
                self.sql().designs().await
            }
            async fn save_assignment(
                &self,
                design_id: &str,
                units: &[$crate::pilot::AssignmentRow],
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql().save_assignment(design_id, units, actor).await
            }
            async fn assignment_counts(
                &self,
                design_id: &str,
            ) -> $crate::Result<Vec<(String, i64)>> {
                self.sql().assignment_counts(design_id).await
            }
            async fn assignments(
                &self,
                scope: &$crate::Scope,
                design_id: &str,
            ) -> $crate::Result<Vec<$crate::pilot::AssignmentRow>> {
                self.sql().assignments(scope, design_id).await
            }
            async fn save_outcomes(
                &self,
                round: &$crate::pilot::OutcomeRound,
                rows: &[$crate::pilot::OutcomeRow],
                actor: &$crate::Actor,
            ) -> $crate::Result<()> {
                self.sql().save_outcomes(round, rows, actor).await
            }
            async fn outcome_rounds(&self) -> $crate::Result<Vec<$crate::pilot::OutcomeRound>> {
                self.sql().outcome_rounds().await
            }
            async fn outcomes(
                &self,
                scope: &$crate::Scope,
            ) -> $crate::Result<Vec<$crate::pilot::OutcomeRow>> {
                self.sql().outcomes(scope).await
            }
            async fn payments_received(
                &self,
                scope: &$crate::Scope,
            ) -> $crate::Result<Vec<$crate::pilot::ReceivedRow>> {
                self.sql().payments_received(scope).await
            }
        }
    };
}

//! The payroll's rows. The payroll crate decides what they mean; the store keeps them, with
//! the few columns queries select on beside each JSON body, and makes each step of a cycle
//! one transaction, audited, so a step is either done or not at all.

use async_trait::async_trait;
use serde::Serialize;

use crate::Result;
use crate::audit::Actor;

/// One household's line of a prepared payroll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    pub rsu_id: String,
    pub region: String,
    pub status: String,
    pub amount: i64,
    pub body: String,
}

/// A payment sent in a payment file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentRow {
    pub end_to_end_id: String,
    pub month: String,
    pub rsu_id: String,
    /// The ledger's payment reference.
    pub reference: String,
    pub provider: String,
    pub amount: i64,
    /// `sent`, `accepted`, `rejected`, `settled` or `returned`.
    pub status: String,
    pub reason: Option<String>,
    pub file_name: String,
    /// Where it was sent (see `sanad_payroll::held::account_key`); unknown for older rows.
    pub account: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRow {
    pub file_name: String,
    pub month: String,
    pub provider: String,
    pub msg_id: String,
    pub txs: i64,
    pub ctrl_sum: i64,
    pub sha256: String,
}

/// A ledger entry to post: its household, kind and reference make it unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRow {
    pub household: String,
    pub kind: String,
    pub reference: String,
    pub body: String,
}

/// A household's ledger book as folded up to its entry `upto_seq` (JSON), stored so that a
/// cycle reads only the entries posted since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookRow {
    pub household: String,
    pub upto_seq: i64,
    pub body: String,
}

/// A household's ledger as a cycle reads it: its stored book, if any, then the entries
/// posted since (`book` false), each with its sequence (the book's: its last entry's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub household: String,
    pub seq: i64,
    pub book: bool,
    pub body: String,
}

/// The columns of a pending entry: its cycle, its posting order, then its ledger row.
pub const PENDING_COLUMNS: [&str; 6] = ["month", "seq", "household", "kind", "reference", "body"];

/// The columns of a payment as a release writes it, its time of writing (`updated_at`) last
/// but one.
pub const PAYMENT_COLUMNS: [&str; 11] = [
    "end_to_end_id",
    "month",
    "rsu_id",
    "reference",
    "provider",
    "amount",
    "status",
    "reason",
    "file_name",
    "updated_at",
    "account",
];

/// A household as the payroll pays it: where to, and the name on the transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payee {
    pub rsu_id: String,
    pub instrument: Option<sanad_domain::PaymentInstrument>,
    /// The head's name (first and last), empty when the household has no head.
    pub head_name: String,
}

/// A payment's new status from a bank return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub end_to_end_id: String,
    pub status: String,
    pub reason: Option<String>,
}

/// A payment as a bank's answer needs it: its keys, its status, and its own ledger entries
/// (those that issued, re-issued or settled it, in posting order), not its household's book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentPayment {
    pub end_to_end_id: String,
    pub rsu_id: String,
    pub reference: String,
    pub status: String,
    /// The entries' JSON bodies.
    pub entries: Vec<String>,
}

#[async_trait]
pub trait PayrollStore: Send + Sync {
    /// The cycle's state document (`Cycle` as JSON), if the cycle exists.
    async fn cycle(&self, month: &str) -> Result<Option<String>>;
    /// Replace the month's lines and pending entries and save the cycle as prepared.
    async fn save_prepared(
        &self,
        month: &str,
        cycle: &str,
        lines: &[LineRow],
        entries: &[EntryRow],
        actor: &Actor,
    ) -> Result<()>;
    /// Save a new state of the cycle (approval, lock), audited as `action`.
    async fn save_cycle(
        &self,
        month: &str,
        status: &str,
        cycle: &str,
        action: &str,
        actor: &Actor,
    ) -> Result<()>;
    async fn payroll_lines(&self, month: &str) -> Result<Vec<LineRow>>;
    async fn pending_entries(&self, month: &str) -> Result<Vec<String>>;
    /// Release: post the pending entries to the ledger, record the payments and files, save
    /// the cycle as released, in one transaction.
    async fn save_release(
        &self,
        month: &str,
        cycle: &str,
        entries: &[EntryRow],
        payments: &[PaymentRow],
        files: &[FileRow],
        actor: &Actor,
    ) -> Result<()>;
    /// Every ledger entry (JSON), in posting order, after `after_seq`, a page at a time.
    async fn ledger_entries(&self, after_seq: i64, limit: u32) -> Result<Vec<(i64, String)>>;
    async fn payments(&self, month: &str) -> Result<Vec<PaymentRow>>;
    async fn payment(&self, end_to_end_id: &str) -> Result<Option<PaymentRow>>;
    /// A household's payments, newest first (the caller has checked the household's scope).
    async fn payments_of(&self, rsu_id: &str) -> Result<Vec<PaymentRow>>;
    /// Every payment the banks rejected or returned, oldest month first.
    async fn bounced_payments(&self) -> Result<Vec<PaymentRow>>;
    /// A household's ledger entries (JSON), in posting order.
    async fn ledger_of(&self, rsu_id: &str) -> Result<Vec<String>>;
    async fn payment_files(&self, month: &str) -> Result<Vec<FileRow>>;
    /// The year's appropriation per component code, in centimes.
    async fn appropriations(&self, year: i32) -> Result<Vec<(String, i64)>>;
    /// Set one component's appropriation for a year. Audited with the amounts before and after.
    async fn set_appropriation(
        &self,
        year: i32,
        component: &str,
        amount: i64,
        actor: &Actor,
    ) -> Result<()>;
    /// Whether a return file (by its SHA-256) was already applied.
    async fn returns_imported(&self, sha256: &str) -> Result<bool>;
    /// The payments with these EndToEndIds, those that exist, in no particular order, each
    /// with its own ledger entries.
    async fn sent_payments(&self, end_to_end_ids: &[String]) -> Result<Vec<SentPayment>>;
    /// How far an interrupted import of a return file got: the last line applied and the
    /// report (JSON) so far.
    async fn returns_progress(&self, sha256: &str) -> Result<Option<(i64, String)>>;
    /// Apply a batch of a return file in one transaction: statuses, ledger entries, and how
    /// far the file got (`lines_done`, the report so far). Entries already posted are skipped.
    async fn save_returns_batch(
        &self,
        sha256: &str,
        file_name: &str,
        lines_done: i64,
        report: &str,
        updates: &[StatusUpdate],
        entries: &[EntryRow],
    ) -> Result<()>;
    /// Apply a return file: statuses, ledger entries, and the file's record, in one
    /// transaction (its batches' progress is cleared). Entries already posted are skipped
    /// (same household, kind, reference).
    async fn save_returns(
        &self,
        sha256: &str,
        file_name: &str,
        summary: &str,
        updates: &[StatusUpdate],
        entries: &[EntryRow],
        actor: &Actor,
    ) -> Result<()>;

    // --- The streamed cycle (issue 6): a page of households, lines or entries at a time. ---

    /// The next RSU ids after `after` (ascending, at most `limit`) with an award or a ledger
    /// entry: the households a cycle looks at.
    async fn payroll_keys(&self, after: &str, limit: u32) -> Result<Vec<String>>;
    /// The awards of the households with `after < rsu_id <= upto`, in `awards`' order.
    async fn awards_between(&self, after: &str, upto: &str) -> Result<Vec<crate::AwardRow>>;
    /// The ledgers of the households in `(after, upto]`, by household: each one's stored book,
    /// if any, then its entries posted since, in posting order. One statement, so the books
    /// and the entries are of the same moment.
    async fn ledger_between(&self, after: &str, upto: &str) -> Result<Vec<LedgerRow>>;
    /// Store households' books, each replacing an older one (by `upto_seq`) and kept where the
    /// stored one is as new or newer.
    async fn save_books(&self, books: &[BookRow]) -> Result<()>;
    /// Forget every stored book: the next cycles fold the books from the entries again.
    async fn clear_books(&self) -> Result<()>;
    /// The rejected or returned payments of the households in `(after, upto]`, oldest month first.
    async fn bounced_between(&self, after: &str, upto: &str) -> Result<Vec<PaymentRow>>;
    /// The registry's households in `(after, upto]`: payment instrument and head's name.
    async fn payees_between(&self, after: &str, upto: &str) -> Result<Vec<Payee>>;
    /// Remove a month's prepared lines and pending entries: a prepare starts over.
    async fn clear_prepared(&self, month: &str) -> Result<()>;
    /// Add a page of prepared lines and pending entries (sequence number, ledger row), in one
    /// transaction. The cycle is saved prepared only by [`finish_prepared`](Self::finish_prepared).
    async fn add_prepared(
        &self,
        month: &str,
        lines: &[LineRow],
        entries: &[(i64, EntryRow)],
    ) -> Result<()>;
    /// Save the cycle as prepared once every page is stored; audited with its summary.
    async fn finish_prepared(
        &self,
        month: &str,
        cycle: &str,
        households: u64,
        total: i64,
        actor: &Actor,
    ) -> Result<()>;
    /// The month's lines after `after` in RSU id order, at most `limit`.
    async fn payroll_lines_page(
        &self,
        month: &str,
        after: &str,
        limit: u32,
    ) -> Result<Vec<LineRow>>;
    /// The month's pending entries (sequence number, JSON) after `after_seq`, at most `limit`.
    async fn pending_entries_page(
        &self,
        month: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<(i64, String)>>;
    /// Record a chunk of a release's payments, each skipped if already there (a release killed
    /// midway and run again records nothing twice).
    async fn post_payments(&self, payments: &[PaymentRow]) -> Result<()>;
    /// Post the month's pending entries after `after_seq` to the ledger, at most `limit`, in
    /// one transaction and inside the database (nothing read out and written back); an entry
    /// already posted (same household, kind, reference) is skipped. Returns the last sequence
    /// number covered, `None` when none is left after `after_seq`.
    async fn post_pending(&self, month: &str, after_seq: i64, limit: u32) -> Result<Option<i64>>;
    /// Record the release's files and save the cycle released, in one transaction, audited.
    async fn finish_release(
        &self,
        month: &str,
        cycle: &str,
        payments: u64,
        files: &[FileRow],
        actor: &Actor,
    ) -> Result<()>;
    /// How many payments a month sent.
    async fn payment_count(&self, month: &str) -> Result<u64>;
    /// The month's lines counted and summed by (status, region), in that order.
    async fn payroll_line_counts(&self, month: &str) -> Result<Vec<Tally>>;
    /// The month's payments counted and summed by (provider, status), in that order.
    async fn payment_counts(&self, month: &str) -> Result<Vec<Tally>>;
}

/// Rows counted and their amounts summed, by two keys (e.g. status and region).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub a: String,
    pub b: String,
    pub count: i64,
    pub amount: i64,
}

pub mod sql {
    pub const CYCLE_GET: &str = "SELECT body FROM payroll_cycles WHERE month = $1";
    pub const CYCLE_UPSERT: &str = "INSERT INTO payroll_cycles (month, status, body, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (month) DO UPDATE SET status = excluded.status, body = excluded.body, updated_at = excluded.updated_at";
    pub const LINES_DELETE: &str = "DELETE FROM payroll_lines WHERE month = $1";
    pub const PENDING_DELETE: &str = "DELETE FROM payroll_pending_entries WHERE month = $1";
    pub const LINES: &str = "SELECT rsu_id, region, status, amount, body FROM payroll_lines WHERE month = $1 ORDER BY rsu_id";
    pub const PENDING: &str =
        "SELECT body FROM payroll_pending_entries WHERE month = $1 ORDER BY seq";
    pub const LEDGER_NEXT_SEQ: &str = "SELECT coalesce(max(seq), 0) AS seq FROM ledger_entries";
    pub const LEDGER: &str =
        "SELECT seq, body FROM ledger_entries WHERE seq > $1 ORDER BY seq LIMIT $2";
    pub const PAYMENTS: &str = "SELECT * FROM payments WHERE month = $1 ORDER BY end_to_end_id";
    pub const PAYMENT: &str = "SELECT * FROM payments WHERE end_to_end_id = $1";
    pub const BOUNCED: &str = "SELECT * FROM payments WHERE status IN ('rejected', 'returned') ORDER BY month, end_to_end_id";
    pub const PAYMENTS_OF: &str =
        "SELECT * FROM payments WHERE rsu_id = $1 ORDER BY month DESC, end_to_end_id";
    pub const LEDGER_OF: &str = "SELECT body FROM ledger_entries WHERE household = $1 ORDER BY seq";
    /// Completed with `IN ($4, …)` by the store.
    pub const PAYMENT_STATUS_PREFIX: &str =
        "UPDATE payments SET status = $1, reason = $2, updated_at = $3 WHERE end_to_end_id";
    pub const FILES: &str = "SELECT * FROM payment_files WHERE month = $1 ORDER BY file_name";
    pub const APPROPRIATIONS: &str =
        "SELECT component, amount FROM appropriations WHERE year = $1 ORDER BY component";
    pub const APPROPRIATION_GET: &str =
        "SELECT amount FROM appropriations WHERE year = $1 AND component = $2";
    pub const APPROPRIATION_SET: &str = "INSERT INTO appropriations (year, component, amount) VALUES ($1, $2, $3) ON CONFLICT (year, component) DO UPDATE SET amount = excluded.amount";
    pub const RETURNS_GET: &str = "SELECT sha256 FROM imported_returns WHERE sha256 = $1";
    pub const RETURNS_PROGRESS: &str =
        "SELECT lines_done, report FROM returns_progress WHERE sha256 = $1";
    pub const RETURNS_PROGRESS_SET: &str = "INSERT INTO returns_progress \
         (sha256, file_name, lines_done, report) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) \
         DO UPDATE SET lines_done = excluded.lines_done, report = excluded.report";
    pub const RETURNS_PROGRESS_DONE: &str = "DELETE FROM returns_progress WHERE sha256 = $1";
    pub const KEYS_AWARDS: &str =
        "SELECT DISTINCT rsu_id FROM awards WHERE rsu_id > $1 ORDER BY rsu_id LIMIT $2";
    pub const KEYS_LEDGER: &str = "SELECT DISTINCT household FROM ledger_entries WHERE household > $1 ORDER BY household LIMIT $2";
    pub const AWARDS_BETWEEN: &str = "SELECT receipt, rsu_id, component, start_month, end_month FROM awards \
         WHERE rsu_id > $1 AND rsu_id <= $2 ORDER BY rsu_id, start_month, receipt, component";
    pub const LEDGER_BETWEEN: &str = "SELECT household, upto_seq AS seq, CAST(1 AS BIGINT) AS book, body \
        FROM ledger_books WHERE household > $1 AND household <= $2 \
        UNION ALL SELECT e.household, e.seq, 0, e.body FROM ledger_entries e \
        LEFT JOIN ledger_books b ON b.household = e.household \
        WHERE e.household > $1 AND e.household <= $2 AND e.seq > coalesce(b.upto_seq, 0) \
        ORDER BY 1, 2";
    pub const BOOKS_UPSERT_TAIL: &str = " ON CONFLICT (household) DO UPDATE SET \
        upto_seq = excluded.upto_seq, body = excluded.body \
        WHERE excluded.upto_seq > ledger_books.upto_seq";
    pub const BOOKS_CLEAR: &str = "DELETE FROM ledger_books";
    pub const BOUNCED_BETWEEN: &str = "SELECT * FROM payments WHERE rsu_id > $1 AND rsu_id <= $2 \
         AND status IN ('rejected', 'returned') ORDER BY month, end_to_end_id";
    pub const PAYEES_BETWEEN: &str = "SELECT h.rsu_id, h.instrument_kind, h.instrument_provider, h.instrument_ref, \
         (SELECT p.first_name || ' ' || p.last_name FROM persons p WHERE p.household_id = h.rsu_id AND p.relation = 'head') AS head_name \
         FROM households h WHERE h.rsu_id > $1 AND h.rsu_id <= $2 ORDER BY h.rsu_id";
    pub const LINES_PAGE: &str = "SELECT rsu_id, region, status, amount, body FROM payroll_lines WHERE month = $1 AND rsu_id > $2 ORDER BY rsu_id LIMIT $3";
    pub const PENDING_PAGE: &str = "SELECT seq, body FROM payroll_pending_entries WHERE month = $1 AND seq > $2 ORDER BY seq LIMIT $3";
    /// The last of the next `$3` pending entries after `$2`, or -1.
    pub const PENDING_UPTO: &str = "SELECT coalesce(max(seq), -1) AS seq FROM (SELECT seq FROM payroll_pending_entries \
         WHERE month = $1 AND seq > $2 ORDER BY seq LIMIT $3) t";
    /// Post pending entries `($3, $4]` in their order, numbered from the ledger's last + 1
    /// (`$1` is that last minus `$3`). The `WHERE` keeps SQLite from reading `ON` as a join's.
    pub const PENDING_POST: &str = "INSERT INTO ledger_entries (seq, household, kind, reference, body) \
         SELECT $1 + seq, household, kind, reference, body FROM payroll_pending_entries \
         WHERE month = $2 AND seq > $3 AND seq <= $4 ORDER BY seq \
         ON CONFLICT (household, kind, reference) DO NOTHING";
    pub const LINE_COUNTS: &str = "SELECT status AS a, region AS b, count(*) AS n, CAST(coalesce(sum(amount), 0) AS BIGINT) AS amount \
         FROM payroll_lines WHERE month = $1 GROUP BY status, region ORDER BY status, region";
    pub const PAYMENT_COUNTS: &str = "SELECT provider AS a, status AS b, count(*) AS n, CAST(coalesce(sum(amount), 0) AS BIGINT) AS amount \
         FROM payments WHERE month = $1 GROUP BY provider, status ORDER BY provider, status";
    pub const PAYMENT_COUNT: &str = "SELECT count(*) AS n FROM payments WHERE month = $1";
    pub const RETURNS_INSERT: &str = "INSERT INTO imported_returns (sha256, file_name, imported_at, summary) VALUES ($1, $2, $3, $4)";
}

//! The store operations whose SQL and decoding are the same on both backends, written once
//! over any sqlx pool that decodes Sanad's column types. Each adapter keeps only what
//! differs: opening, migrations, and its bulk write path.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use sanad_domain::{Household, RsuId};
use sqlx::{AssertSqlSafe, ColumnIndex, Database, Encode, Executor, IntoArguments, Pool, Type};

use crate::access::{self, ApiToken, LoginAttempt, Session, User};
use crate::audit::{self, Actor, AuditFilter, AuditRecord, Change};
use crate::outbox::{self, MessageRow, stamp};
use crate::payroll::{
    self as pay, BookRow, EntryRow, FileRow, LedgerRow, LineRow, PaymentRow, SentPayment,
    StatusUpdate,
};
use crate::pilot;
use crate::rows::{self, decode, decode::SanadRow};
use crate::rulesets::{self, StoredRuleSet};
use crate::{FindKey, HouseholdSummary, RegionCount, Result, Scope, StoreError, sql};

/// Timestamps as stored: UTC, RFC 3339, milliseconds (sorts as text).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// A backend's readers and its writer (the same pool on PostgreSQL).
pub struct Sql<'a, DB: Database> {
    pub read: &'a Pool<DB>,
    pub write: &'a Pool<DB>,
    /// Run before building indexes in the same transaction (PostgreSQL: more sort memory).
    pub index_prelude: Option<&'static str>,
    /// Run before appending to the audit chain, so concurrent writers queue (PostgreSQL).
    pub audit_lock: Option<&'static str>,
    /// The adapter's own bulk write of rows (PostgreSQL: COPY), instead of a multi-row
    /// `INSERT` of SQL literals, which the server must parse: a launch wave's part of 10,000
    /// applications is 34 MB of them.
    pub write_rows: Option<&'static dyn WriteRows<DB>>,
}

/// Rows written into `table` in the caller's transaction. `tail` says what becomes of a row
/// already there (` ON CONFLICT …`); with none, every row must be new. Returns the rows
/// added if `tail` ends in `RETURNING …`.
#[async_trait::async_trait]
pub trait WriteRows<DB: Database>: Send + Sync {
    async fn write_rows(
        &self,
        conn: &mut DB::Connection,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Cell>>,
        tail: &str,
    ) -> Result<u64>;
}

impl<DB> Sql<'_, DB>
where
    DB: Database + sqlx::database::HasStatementCache,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Row: SanadRow,
    for<'a> &'a str: ColumnIndex<DB::Row>,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
{
    pub async fn household(&self, scope: &Scope, id: &RsuId) -> Result<Option<Household>> {
        Ok(self
            .households(scope, std::slice::from_ref(id))
            .await?
            .pop())
    }

    /// Households with their members and scores, as text lines (`rows::text`): a batch is
    /// three statements of one value each, whatever its size.
    pub async fn households(&self, scope: &Scope, ids: &[RsuId]) -> Result<Vec<Household>> {
        let d = crate::population::Dialect::of::<DB>();
        let today = chrono::Local::now().date_naive();
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(KEYS_PER_STATEMENT) {
            let keys: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            let text = self
                .lines_in(
                    &format!(
                        "SELECT {} AS line FROM households h WHERE {} AND h.rsu_id",
                        rows::text::household_line(),
                        scope.sql("h")
                    ),
                    keys,
                )
                .await?;
            let found = lines(&text)
                .map(rows::text::household)
                .collect::<Result<Vec<_>>>()?;
            let keys: Vec<String> = found.iter().map(|h| h.rsu_id.clone()).collect();
            let text = self
                .lines_in(
                    &format!(
                        "SELECT {} AS line FROM persons p WHERE p.household_id",
                        rows::text::person_line(&d)
                    ),
                    keys.clone(),
                )
                .await?;
            let mut persons: HashMap<String, Vec<rows::PersonRow>> = HashMap::new();
            for line in lines(&text) {
                let p = rows::text::person(line)?;
                persons.entry(p.household_id.clone()).or_default().push(p);
            }
            let text = self
                .lines_in(
                    &format!(
                        "SELECT {} AS line FROM score_history s WHERE s.household_id",
                        crate::population::sql::score_line(&d, "s.household_id")
                    ),
                    keys,
                )
                .await?;
            let mut scores: HashMap<String, Vec<rows::ScoreRow>> = HashMap::new();
            for line in lines(&text) {
                let s = score_row(line)?;
                scores.entry(s.household_id.clone()).or_default().push(s);
            }
            for h in found {
                let mut p = persons.remove(&h.rsu_id).unwrap_or_default();
                p.sort_by_key(|p| p.position);
                let s = scores.remove(&h.rsu_id).unwrap_or_default();
                out.push(rows::from_rows(h, p, s, today)?);
            }
        }
        Ok(out)
    }

    /// The lines (column `line`) of `prefix IN (keys)`, one aggregated text per chunk of keys.
    async fn lines_in(&self, prefix: &str, keys: Vec<String>) -> Result<String> {
        let d = crate::population::Dialect::of::<DB>();
        let prefix = format!("SELECT {} AS lines FROM ({prefix}", d.lines("t.line"));
        let mut text = String::new();
        for r in self.fetch_in_chunks(&prefix, keys, ") t").await? {
            if let Some(lines) = r.opt_text("lines").map_err(db)? {
                text.push_str(&lines);
                text.push('\n');
            }
        }
        Ok(text)
    }

    /// `prefix IN (keys)tail`, with `$1` bound to `first` when given (the keys are then `$2`).
    async fn fetch_in_after(
        &self,
        prefix: &str,
        first: Option<&str>,
        keys: &[String],
        tail: &str,
    ) -> Result<Vec<DB::Row>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let json = serde_json::to_string(keys).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let n = if first.is_some() { 2 } else { 1 };
        let mut q = sqlx::query::<DB>(AssertSqlSafe(format!(
            "{prefix} {}{tail}",
            in_keys::<DB>(n)
        )));
        if let Some(first) = first {
            q = q.bind(first.to_owned());
        }
        q.bind(json).fetch_all(self.read).await.map_err(db)
    }

    /// `prefix IN (…)tail` over any number of distinct keys, a bounded chunk per statement.
    async fn fetch_in_chunks(
        &self,
        prefix: &str,
        keys: impl IntoIterator<Item = String>,
        tail: &str,
    ) -> Result<Vec<DB::Row>> {
        self.fetch_in_chunks_after(prefix, None, keys, tail).await
    }

    /// `fetch_in_chunks` with `$1` bound to `first` when given.
    async fn fetch_in_chunks_after(
        &self,
        prefix: &str,
        first: Option<&str>,
        keys: impl IntoIterator<Item = String>,
        tail: &str,
    ) -> Result<Vec<DB::Row>> {
        let keys: Vec<String> = keys
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut out = Vec::new();
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            out.extend(self.fetch_in_after(prefix, first, chunk, tail).await?);
        }
        Ok(out)
    }

    /// The registry's answers about a batch's members and contacts, its four reads at once.
    pub async fn duplicate_evidence(
        &self,
        households: &[Household],
    ) -> Result<crate::DuplicateEvidence> {
        let (cnie_holders, phones, accounts, namesakes) = tokio::try_join!(
            self.cnie_holders(households),
            self.phone_counts(households),
            self.account_counts(households),
            self.namesakes(households),
        )?;
        Ok(crate::DuplicateEvidence {
            cnie_holders,
            phones,
            accounts,
            namesakes,
        })
    }

    /// (CNIE, household) of every registered holder of a member's CNIE.
    async fn cnie_holders(&self, households: &[Household]) -> Result<Vec<(String, String)>> {
        let cnies = households
            .iter()
            .flat_map(|h| &h.members)
            .filter_map(|m| m.cnie.as_ref().map(ToString::to_string));
        let rows = self
            .fetch_in_chunks(
                "SELECT cnie, household_id FROM persons WHERE household_id IS NOT NULL AND cnie",
                cnies,
                "",
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.text("cnie")?, r.text("household_id")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    /// How many households give each of the batch's phones.
    async fn phone_counts(&self, households: &[Household]) -> Result<Vec<(String, i64)>> {
        let phones = households
            .iter()
            .filter_map(|h| h.phone.as_ref().map(|p| p.as_str().to_owned()));
        let rows = self
            .fetch_in_chunks(
                "SELECT phone, count(*) AS n FROM households WHERE phone",
                phones,
                " GROUP BY phone",
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.text("phone")?, r.int("n")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    /// How many households give each of the batch's payment accounts.
    async fn account_counts(
        &self,
        households: &[Household],
    ) -> Result<Vec<(sanad_domain::PaymentInstrument, i64)>> {
        let refs = households
            .iter()
            .filter_map(|h| h.instrument.as_ref().map(rows::to_instrument_ref));
        let rows = self
            .fetch_in_chunks("SELECT instrument_kind, instrument_provider, instrument_ref, count(*) AS n FROM households WHERE instrument_ref", refs, " GROUP BY instrument_kind, instrument_provider, instrument_ref")
            .await?;
        let mut accounts = Vec::with_capacity(rows.len());
        for r in &rows {
            let account = rows::instrument(
                r.opt_text("instrument_kind").map_err(db)?.as_deref(),
                r.opt_text("instrument_provider").map_err(db)?,
                r.opt_text("instrument_ref").map_err(db)?,
            );
            if let Ok(Some(a)) = account {
                accounts.push((a, r.int("n").map_err(db)?));
            }
        }
        Ok(accounts)
    }

    /// Persons sharing a living member's last name and birth date, anywhere in the registry;
    /// for a key whose members all hold a CNIE, only persons without one.
    async fn namesakes(&self, households: &[Household]) -> Result<Vec<rows::Namesake>> {
        // (last name, birth date) → whether every living member with that key holds a CNIE.
        let mut keys: std::collections::BTreeMap<(&str, NaiveDate), bool> = Default::default();
        for m in households.iter().flat_map(|h| &h.members) {
            if m.death_date.is_none() {
                let all = keys.entry((&m.last_name, m.birth_date)).or_insert(true);
                *all &= m.cnie.is_some();
            }
        }
        let keys: Vec<_> = keys.into_iter().collect();
        let mut out = Vec::new();
        // Probed by (last name, birth date) through the `persons_last_name` index; `CROSS JOIN`
        // keeps SQLite's planner scanning the keys, not the persons.
        let date = if is_postgres::<DB>() {
            "(k.value->>1)::date"
        } else {
            "k.value->>1"
        };
        let d = crate::population::Dialect::of::<DB>();
        let text = format!(
            "SELECT {} AS lines FROM (SELECT {} AS line FROM {} CROSS JOIN persons p \
             WHERE p.last_name = k.value->>0 AND p.birth_date = {date} \
             AND p.household_id IS NOT NULL AND (k.value->>2 = '0' OR p.cnie IS NULL)) t",
            d.lines("t.line"),
            rows::text::namesake_line(&d),
            json_elements::<DB>(1)
        );
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            let keys: Vec<(&str, String, &str)> = chunk
                .iter()
                .map(|((name, d), all)| (*name, d.to_string(), if *all { "1" } else { "0" }))
                .collect();
            let json =
                serde_json::to_string(&keys).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let row = sqlx::query::<DB>(AssertSqlSafe(text.clone()))
                .bind(json)
                .fetch_one(self.read)
                .await
                .map_err(db)?;
            for line in lines(&row.opt_text("lines").map_err(db)?.unwrap_or_default()) {
                out.push(rows::text::namesake(line)?);
            }
        }
        Ok(out)
    }

    pub async fn find(&self, scope: &Scope, key: &FindKey) -> Result<Vec<HouseholdSummary>> {
        let mut q = sqlx::query::<DB>(AssertSqlSafe(sql::find(scope, key)));
        for p in key.params() {
            q = q.bind(p);
        }
        let rows = q.fetch_all(self.read).await.map_err(db)?;
        rows.iter()
            .map(decode::summary)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn list(
        &self,
        scope: &Scope,
        after: Option<&RsuId>,
        limit: u32,
    ) -> Result<Vec<HouseholdSummary>> {
        let after = after.map(ToString::to_string).unwrap_or_default();
        let rows = sqlx::query::<DB>(AssertSqlSafe(sql::list(scope)))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(decode::summary)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn instruments(
        &self,
        scope: &Scope,
    ) -> Result<Vec<(RsuId, sanad_domain::PaymentInstrument)>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(sql::instruments(scope)))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = r.text("rsu_id").map_err(db)?;
            let found = rows::instrument(
                r.opt_text("instrument_kind").map_err(db)?.as_deref(),
                r.opt_text("instrument_provider").map_err(db)?,
                r.opt_text("instrument_ref").map_err(db)?,
            );
            let bad = |e: String| StoreError::Corrupt(format!("household {id}: {e}"));
            if let Some(i) = found.map_err(bad)? {
                out.push((RsuId::parse(&id).map_err(bad)?, i));
            }
        }
        Ok(out)
    }

    pub async fn count_by_region(&self, scope: &Scope) -> Result<Vec<RegionCount>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(sql::count_by_region(scope)))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(decode::region_count)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    /// Drop the secondary indexes if the registry is empty (see `RegistryStore::bulk_load_begin`).
    pub async fn bulk_load_begin(&self) -> Result<bool> {
        let row = sqlx::query::<DB>(sql::IS_EMPTY)
            .fetch_one(self.write)
            .await
            .map_err(db)?;
        let empty = row.flag("empty").map_err(db)?;
        if empty {
            for (name, _) in sql::SECONDARY_INDEXES {
                sqlx::query::<DB>(AssertSqlSafe(format!("DROP INDEX IF EXISTS {name}")))
                    .execute(self.write)
                    .await
                    .map_err(db)?;
            }
        }
        Ok(empty)
    }

    /// Build the missing secondary indexes, each in its own transaction: a load killed
    /// here resumes at the next missing one.
    pub async fn bulk_load_end(&self) -> Result<()> {
        for (_, create) in sql::SECONDARY_INDEXES {
            let mut tx = self.write.begin().await.map_err(db)?;
            if let Some(prelude) = self.index_prelude {
                sqlx::query::<DB>(prelude)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
            sqlx::query::<DB>(*create)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)?;
        }
        Ok(())
    }

    pub async fn propose_rule_set(
        &self,
        id: &str,
        effective_from: NaiveDate,
        body: &str,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let res = sqlx::query::<DB>(rulesets::sql::INSERT)
            .bind(id.to_owned())
            .bind(effective_from)
            .bind(body.to_owned())
            .bind(actor.user.clone())
            .bind(now())
            .execute(&mut *tx)
            .await;
        match res {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(format!("rule set {id}")));
            }
            other => other.map_err(db)?,
        };
        let state =
            serde_json::json!({"id": id, "effective_from": effective_from, "status": "proposed"});
        self.append(
            &mut tx,
            actor,
            &Change::new("propose", "rule_set", id).after(&state),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn approve_rule_set(&self, id: &str, actor: &Actor) -> Result<StoredRuleSet> {
        let by = actor.user.as_str();
        let mut tx = self.write.begin().await.map_err(db)?;
        let res = sqlx::query::<DB>(rulesets::sql::APPROVE)
            .bind(id.to_owned())
            .bind(by.to_owned())
            .bind(now())
            .execute(&mut *tx)
            .await;
        match res {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Refused(format!(
                    "another approved rule set takes effect on the same date as {id}"
                )));
            }
            other => other.map_err(db)?,
        };
        let row = sqlx::query::<DB>(rulesets::sql::GET)
            .bind(id.to_owned())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        let row = row.as_ref().map(decode::rule_set).transpose().map_err(db)?;
        // Approved by this user now (or already, which is the same outcome): done.
        let done = row
            .as_ref()
            .is_some_and(|r| r.approved_by.as_deref() == Some(by));
        let row = match row {
            Some(row) if done => row,
            other => return Err(rulesets::refusal(other.as_ref(), id, by)),
        };
        let state = |status: &str| serde_json::json!({"id": id, "effective_from": row.effective_from, "status": status});
        self.append(
            &mut tx,
            actor,
            &Change::new("approve", "rule_set", id)
                .before(&state("proposed"))
                .after(&state("approved")),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(row)
    }

    pub async fn rule_sets(&self) -> Result<Vec<StoredRuleSet>> {
        let rows = sqlx::query::<DB>(rulesets::sql::LIST)
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(decode::rule_set)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    /// Append `change` to the audit chain inside `tx`, so the record and the change it
    /// describes commit together or not at all.
    pub async fn append(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        actor: &Actor,
        change: &Change,
    ) -> Result<AuditRecord> {
        let mut recs = self
            .append_many(tx, actor, std::slice::from_ref(change))
            .await?;
        Ok(recs.pop().expect("one record per change"))
    }

    /// Take the audit chain's lock in `tx` (PostgreSQL; SQLite has one writer). Audit records
    /// and the ledger's sequence are both numbered under it.
    async fn lock_audit(&self, tx: &mut sqlx::Transaction<'_, DB>) -> Result<()> {
        if let Some(lock) = self.audit_lock {
            sqlx::query::<DB>(lock)
                .execute(&mut **tx)
                .await
                .map_err(db)?;
        }
        Ok(())
    }

    /// Rows into `table` ([`WriteRows`]): the adapter's own way if it has one, else a
    /// multi-row `INSERT` of SQL literals.
    async fn write_rows(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Cell>>,
        tail: &str,
    ) -> Result<u64> {
        match self.write_rows {
            Some(w) => w.write_rows(&mut **tx, table, columns, rows, tail).await,
            None => insert_many(tx, table, columns, rows, tail).await,
        }
    }

    /// Queue messages in `tx`, keeping any id already queued; how many were added.
    async fn enqueue_in(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        messages: &[MessageRow],
    ) -> Result<u64> {
        let rows = messages.iter().map(outbox::sql::insert_cells).collect();
        let tail = " ON CONFLICT (id) DO NOTHING RETURNING id";
        self.write_rows(tx, "outbox", &outbox::sql::INSERT_COLUMNS, rows, tail)
            .await
    }

    /// Insert payments in `tx` (`tail` e.g. ` ON CONFLICT DO NOTHING`).
    async fn insert_payments(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        payments: &[PaymentRow],
        tail: &str,
    ) -> Result<()> {
        let at = now();
        let rows = payments.iter().map(|p| payment_cells(p, &at)).collect();
        self.write_rows(tx, "payments", &pay::PAYMENT_COLUMNS, rows, tail)
            .await
            .map(drop)
    }

    /// Insert a release's file records in `tx`.
    async fn insert_files(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        files: &[FileRow],
    ) -> Result<()> {
        let rows = files
            .iter()
            .map(|f| {
                vec![
                    Cell::Text(f.file_name.clone()),
                    Cell::Text(f.month.clone()),
                    Cell::Text(f.provider.clone()),
                    Cell::Text(f.msg_id.clone()),
                    Cell::Int(f.txs),
                    Cell::Int(f.ctrl_sum),
                    Cell::Text(f.sha256.clone()),
                ]
            })
            .collect();
        let columns = [
            "file_name",
            "month",
            "provider",
            "msg_id",
            "txs",
            "ctrl_sum",
            "sha256",
        ];
        self.write_rows(tx, "payment_files", &columns, rows, "")
            .await
            .map(drop)
    }

    /// A prepared payroll's lines and its numbered pending entries for `month`, in `tx`.
    async fn insert_prepared(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        month: &str,
        lines: &[LineRow],
        entries: &[(i64, EntryRow)],
    ) -> Result<()> {
        let m = || Cell::Text(month.to_owned());
        let line_rows = lines
            .iter()
            .map(|l| {
                vec![
                    m(),
                    Cell::Text(l.rsu_id.clone()),
                    Cell::Text(l.region.clone()),
                    Cell::Text(l.status.clone()),
                    Cell::Int(l.amount),
                    Cell::Text(l.body.clone()),
                ]
            })
            .collect();
        let columns = ["month", "rsu_id", "region", "status", "amount", "body"];
        self.write_rows(tx, "payroll_lines", &columns, line_rows, "")
            .await?;
        let entry_rows = entries
            .iter()
            .map(|(seq, e)| {
                vec![
                    m(),
                    Cell::Int(*seq),
                    Cell::Text(e.household.clone()),
                    Cell::Text(e.kind.clone()),
                    Cell::Text(e.reference.clone()),
                    Cell::Text(e.body.clone()),
                ]
            })
            .collect();
        let columns = pay::PENDING_COLUMNS;
        self.write_rows(tx, "payroll_pending_entries", &columns, entry_rows, "")
            .await
            .map(drop)
    }

    /// Append `changes` in order, reading the chain's head once: a batch's records cost a
    /// few bulk writes, and chain exactly as if appended one by one.
    pub async fn append_many(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        actor: &Actor,
        changes: &[Change],
    ) -> Result<Vec<AuditRecord>> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        self.lock_audit(tx).await?;
        let last = sqlx::query::<DB>(audit::sql::LAST)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?;
        let mut prev = last
            .map(|r| Ok::<_, sqlx::Error>((r.int("seq")?, r.text("hash")?)))
            .transpose()
            .map_err(db)?;
        let at = now();
        let mut recs = Vec::with_capacity(changes.len());
        for c in changes {
            let rec = audit::next_record(
                prev.as_ref().map(|(s, h)| (*s, h.as_str())),
                at.clone(),
                actor,
                c,
            );
            prev = Some((rec.seq, rec.hash.clone()));
            recs.push(rec);
        }
        let cells = recs
            .iter()
            .map(|r| {
                let t = |v: &String| Cell::Text(v.clone());
                vec![
                    Cell::Int(r.seq),
                    t(&r.at),
                    t(&r.actor),
                    t(&r.action),
                    t(&r.entity),
                    t(&r.entity_id),
                    Cell::OptText(r.region.clone()),
                    Cell::OptText(r.before.clone()),
                    Cell::OptText(r.after.clone()),
                    t(&r.request_id),
                    t(&r.prev_hash),
                    t(&r.hash),
                ]
            })
            .collect();
        self.write_rows(tx, "audit_log", &audit::sql::COLUMNS, cells, "")
            .await?;
        Ok(recs)
    }

    pub async fn audit(&self, actor: &Actor, change: &Change) -> Result<AuditRecord> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let rec = self.append(&mut tx, actor, change).await?;
        tx.commit().await.map_err(db)?;
        Ok(rec)
    }

    pub async fn audit_records(
        &self,
        f: &AuditFilter,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        // `to` is inclusive of the whole day or second it names.
        let to = f.to.as_ref().map(|t| format!("{t}~")).unwrap_or_default();
        let rows = sqlx::query::<DB>(audit::sql::LIST)
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(opt(&f.actor))
            .bind(opt(&f.action))
            .bind(opt(&f.entity))
            .bind(opt(&f.entity_id))
            .bind(opt(&f.from))
            .bind(to)
            .bind(i64::from(limit))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(decode::audit)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn audit_chain(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query::<DB>(audit::sql::CHAIN)
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(decode::audit)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn create_user(&self, u: &User, actor: &Actor) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let res = bind_user(sqlx::query::<DB>(access::sql::USER_INSERT), u)
            .bind(u.created_at.clone())
            .execute(&mut *tx)
            .await;
        match res {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(format!("user {}", u.username)));
            }
            other => other.map_err(db)?,
        };
        self.append(
            &mut tx,
            actor,
            &Change::new("create", "user", &u.username).after(&u.view()),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn user(&self, username: &str) -> Result<Option<User>> {
        let row = sqlx::query::<DB>(access::sql::USER_GET)
            .bind(username.to_owned())
            .fetch_optional(self.read)
            .await
            .map_err(db)?;
        row.as_ref().map(decode::user).transpose().map_err(db)
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query::<DB>(access::sql::USERS)
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(decode::user)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn update_user(&self, u: &User, actor: &Actor) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let before = sqlx::query::<DB>(access::sql::USER_GET)
            .bind(u.username.clone())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        let before = before
            .as_ref()
            .map(decode::user)
            .transpose()
            .map_err(db)?
            .ok_or_else(|| StoreError::NotFound(format!("user {}", u.username)))?;
        bind_user(sqlx::query::<DB>(access::sql::USER_UPDATE), u)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let mut change = Change::new("update", "user", &u.username)
            .before(&before.view())
            .after(&u.view());
        if before.password_hash != u.password_hash {
            change.action = "update_password".into();
        }
        self.append(&mut tx, actor, &change).await?;
        tx.commit().await.map_err(db)
    }

    pub async fn record_login(&self, username: &str, attempt: LoginAttempt) -> Result<()> {
        let q = match attempt {
            LoginAttempt::Succeeded => {
                sqlx::query::<DB>(access::sql::LOGIN_OK).bind(username.to_owned())
            }
            LoginAttempt::Failed {
                max_failures,
                lock_until,
                ..
            } => sqlx::query::<DB>(access::sql::LOGIN_FAILED)
                .bind(username.to_owned())
                .bind(max_failures)
                .bind(lock_until),
        };
        q.execute(self.write).await.map_err(db).map(|_| ())
    }

    pub async fn create_session(&self, s: &Session) -> Result<()> {
        sqlx::query::<DB>(access::sql::SESSION_INSERT)
            .bind(s.id_hash.clone())
            .bind(s.username.clone())
            .bind(s.csrf.clone())
            .bind(s.created_at)
            .bind(s.last_seen)
            .execute(self.write)
            .await
            .map_err(db)
            .map(|_| ())
    }

    pub async fn session(&self, id_hash: &str) -> Result<Option<Session>> {
        let row = sqlx::query::<DB>(access::sql::SESSION_GET)
            .bind(id_hash.to_owned())
            .fetch_optional(self.read)
            .await
            .map_err(db)?;
        row.as_ref().map(decode::session).transpose().map_err(db)
    }

    pub async fn session_user(&self, id_hash: &str) -> Result<Option<(Session, User)>> {
        let row = sqlx::query::<DB>(access::sql::SESSION_USER)
            .bind(id_hash.to_owned())
            .fetch_optional(self.read)
            .await
            .map_err(db)?;
        let Some(r) = row else { return Ok(None) };
        let user = decode::user(&r).map_err(db)?;
        let session = Session {
            id_hash: r.text("id_hash").map_err(db)?,
            username: user.username.clone(),
            csrf: r.text("csrf").map_err(db)?,
            created_at: r.int("session_created_at").map_err(db)?,
            last_seen: r.int("last_seen").map_err(db)?,
        };
        Ok(Some((session, user)))
    }

    /// Run one statement whose only parameter is a key.
    pub async fn exec_keyed(&self, sql: &'static str, key: &str) -> Result<()> {
        sqlx::query::<DB>(sql)
            .bind(key.to_owned())
            .execute(self.write)
            .await
            .map_err(db)
            .map(|_| ())
    }

    pub async fn touch_session(&self, id_hash: &str, now: i64) -> Result<()> {
        sqlx::query::<DB>(access::sql::SESSION_TOUCH)
            .bind(id_hash.to_owned())
            .bind(now)
            .execute(self.write)
            .await
            .map_err(db)
            .map(|_| ())
    }

    pub async fn create_token(&self, t: &ApiToken, actor: &Actor) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        sqlx::query::<DB>(access::sql::TOKEN_INSERT)
            .bind(t.id.clone())
            .bind(t.secret_hash.clone())
            .bind(t.name.clone())
            .bind(t.username.clone())
            .bind(t.scopes.join(" "))
            .bind(t.created_at.clone())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        self.append(
            &mut tx,
            actor,
            &Change::new("create", "api_token", &t.id).after(t),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn token(&self, id: &str) -> Result<Option<ApiToken>> {
        let row = sqlx::query::<DB>(access::sql::TOKEN_GET)
            .bind(id.to_owned())
            .fetch_optional(self.read)
            .await
            .map_err(db)?;
        row.as_ref().map(decode::token).transpose().map_err(db)
    }

    pub async fn tokens(&self) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query::<DB>(access::sql::TOKENS)
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(decode::token)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn revoke_token(&self, id: &str, actor: &Actor) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        sqlx::query::<DB>(access::sql::TOKEN_REVOKE)
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        self.append(&mut tx, actor, &Change::new("revoke", "api_token", id))
            .await?;
        tx.commit().await.map_err(db)
    }

    // --- the payroll ---

    pub async fn cycle(&self, month: &str) -> Result<Option<String>> {
        let row = sqlx::query::<DB>(pay::sql::CYCLE_GET)
            .bind(month.to_owned())
            .fetch_optional(self.read)
            .await
            .map_err(db)?;
        row.map(|r| r.text("body")).transpose().map_err(db)
    }

    async fn put_cycle(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        month: &str,
        status: &str,
        body: &str,
    ) -> Result<()> {
        sqlx::query::<DB>(pay::sql::CYCLE_UPSERT)
            .bind(month.to_owned())
            .bind(status.to_owned())
            .bind(body.to_owned())
            .bind(now())
            .execute(&mut **tx)
            .await
            .map_err(db)
            .map(|_| ())
    }

    pub async fn save_prepared(
        &self,
        month: &str,
        cycle: &str,
        lines: &[LineRow],
        entries: &[EntryRow],
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        for q in [pay::sql::LINES_DELETE, pay::sql::PENDING_DELETE] {
            sqlx::query::<DB>(q)
                .bind(month.to_owned())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        let numbered: Vec<(i64, EntryRow)> = (0..).zip(entries.iter().cloned()).collect();
        self.insert_prepared(&mut tx, month, lines, &numbered)
            .await?;
        self.put_cycle(&mut tx, month, "prepared", cycle).await?;
        let total: i64 = lines.iter().map(|l| l.amount).sum();
        let summary = serde_json::json!({"month": month, "status": "prepared", "households": lines.len(), "total_centimes": total});
        self.append(
            &mut tx,
            actor,
            &Change::new("prepare", "payroll_cycle", month).after(&summary),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn save_cycle(
        &self,
        month: &str,
        status: &str,
        cycle: &str,
        action: &str,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        self.put_cycle(&mut tx, month, status, cycle).await?;
        self.append(
            &mut tx,
            actor,
            &Change::new(action, "payroll_cycle", month)
                .after(&serde_json::json!({"status": status})),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn payroll_lines(&self, month: &str) -> Result<Vec<LineRow>> {
        let rows = sqlx::query::<DB>(pay::sql::LINES)
            .bind(month.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(line_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn pending_entries(&self, month: &str) -> Result<Vec<String>> {
        let rows = sqlx::query::<DB>(pay::sql::PENDING)
            .bind(month.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| r.text("body"))
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    /// Post entries after the ledger's last sequence number; an entry already posted is skipped.
    async fn post_entries(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        entries: &[EntryRow],
    ) -> Result<()> {
        let row = sqlx::query::<DB>(pay::sql::LEDGER_NEXT_SEQ)
            .fetch_one(&mut **tx)
            .await
            .map_err(db)?;
        let first = row.int("seq").map_err(db)? + 1;
        let rows = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                vec![
                    Cell::Int(first + i as i64),
                    Cell::Text(e.household.clone()),
                    Cell::Text(e.kind.clone()),
                    Cell::Text(e.reference.clone()),
                    Cell::Text(e.body.clone()),
                ]
            })
            .collect();
        self.write_rows(
            tx,
            "ledger_entries",
            &["seq", "household", "kind", "reference", "body"],
            rows,
            " ON CONFLICT (household, kind, reference) DO NOTHING",
        )
        .await
        .map(|_| ())
    }

    pub async fn save_release(
        &self,
        month: &str,
        cycle: &str,
        entries: &[EntryRow],
        payments: &[PaymentRow],
        files: &[FileRow],
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        self.lock_audit(&mut tx).await?;
        self.post_entries(&mut tx, entries).await?;
        self.insert_payments(&mut tx, payments, "").await?;
        self.insert_files(&mut tx, files).await?;
        self.put_cycle(&mut tx, month, "released", cycle).await?;
        let summary = serde_json::json!({"month": month, "status": "released", "payments": payments.len(), "files": files});
        self.append(
            &mut tx,
            actor,
            &Change::new("release", "payroll_cycle", month).after(&summary),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn ledger_entries(&self, after_seq: i64, limit: u32) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query::<DB>(pay::sql::LEDGER)
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| Ok((r.int("seq")?, r.text("body")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    fn payment_row(r: &DB::Row) -> Result<PaymentRow, sqlx::Error> {
        Ok(PaymentRow {
            end_to_end_id: r.text("end_to_end_id")?,
            month: r.text("month")?,
            rsu_id: r.text("rsu_id")?,
            reference: r.text("reference")?,
            provider: r.text("provider")?,
            amount: r.int("amount")?,
            status: r.text("status")?,
            reason: r.opt_text("reason")?,
            file_name: r.text("file_name")?,
            account: r.opt_text("account")?,
        })
    }

    pub async fn bounced_payments(&self) -> Result<Vec<PaymentRow>> {
        let rows = sqlx::query::<DB>(pay::sql::BOUNCED)
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(Self::payment_row)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn payments(&self, month: &str) -> Result<Vec<PaymentRow>> {
        let rows = sqlx::query::<DB>(pay::sql::PAYMENTS)
            .bind(month.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(Self::payment_row)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn payment(&self, e2e: &str) -> Result<Option<PaymentRow>> {
        let row = sqlx::query::<DB>(pay::sql::PAYMENT)
            .bind(e2e.to_owned())
            .fetch_optional(self.read)
            .await
            .map_err(db)?;
        row.as_ref().map(Self::payment_row).transpose().map_err(db)
    }

    pub async fn payments_of(&self, rsu_id: &str) -> Result<Vec<PaymentRow>> {
        let rows = sqlx::query::<DB>(pay::sql::PAYMENTS_OF)
            .bind(rsu_id.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(Self::payment_row)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn ledger_of(&self, rsu_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query::<DB>(pay::sql::LEDGER_OF)
            .bind(rsu_id.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| r.text("body"))
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    /// Rows of a range query `(after, upto]` (two text parameters).
    async fn between(&self, q: &'static str, after: &str, upto: &str) -> Result<Vec<DB::Row>> {
        sqlx::query::<DB>(q)
            .bind(after.to_owned())
            .bind(upto.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)
    }

    pub async fn payroll_keys(&self, after: &str, limit: u32) -> Result<Vec<String>> {
        let mut keys = std::collections::BTreeSet::new();
        for (q, col) in [
            (pay::sql::KEYS_AWARDS, "rsu_id"),
            (pay::sql::KEYS_LEDGER, "household"),
        ] {
            let rows = sqlx::query::<DB>(q)
                .bind(after.to_owned())
                .bind(i64::from(limit))
                .fetch_all(self.read)
                .await
                .map_err(db)?;
            for r in &rows {
                keys.insert(r.text(col).map_err(db)?);
            }
        }
        Ok(keys.into_iter().take(limit as usize).collect())
    }

    pub async fn awards_between(&self, after: &str, upto: &str) -> Result<Vec<crate::AwardRow>> {
        let rows = self.between(pay::sql::AWARDS_BETWEEN, after, upto).await?;
        Self::award_rows(&rows)
    }

    pub async fn ledger_between(&self, after: &str, upto: &str) -> Result<Vec<LedgerRow>> {
        let rows = self.between(pay::sql::LEDGER_BETWEEN, after, upto).await?;
        rows.iter()
            .map(|r| {
                Ok(LedgerRow {
                    household: r.text("household")?,
                    seq: r.int("seq")?,
                    book: r.int("book")? == 1,
                    body: r.text("body")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn save_books(&self, books: &[BookRow]) -> Result<()> {
        let rows = (books.iter())
            .map(|b| {
                vec![
                    Cell::Text(b.household.clone()),
                    Cell::Int(b.upto_seq),
                    Cell::Text(b.body.clone()),
                ]
            })
            .collect();
        let mut tx = self.write.begin().await.map_err(db)?;
        self.write_rows(
            &mut tx,
            "ledger_books",
            &["household", "upto_seq", "body"],
            rows,
            pay::sql::BOOKS_UPSERT_TAIL,
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn clear_books(&self) -> Result<()> {
        sqlx::query::<DB>(pay::sql::BOOKS_CLEAR)
            .execute(self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    pub async fn bounced_between(&self, after: &str, upto: &str) -> Result<Vec<PaymentRow>> {
        let rows = self.between(pay::sql::BOUNCED_BETWEEN, after, upto).await?;
        rows.iter()
            .map(Self::payment_row)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn payees_between(&self, after: &str, upto: &str) -> Result<Vec<pay::Payee>> {
        let rows = self.between(pay::sql::PAYEES_BETWEEN, after, upto).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let rsu_id = r.text("rsu_id").map_err(db)?;
            let instrument = rows::instrument(
                r.opt_text("instrument_kind").map_err(db)?.as_deref(),
                r.opt_text("instrument_provider").map_err(db)?,
                r.opt_text("instrument_ref").map_err(db)?,
            )
            .map_err(|e| StoreError::Corrupt(format!("household {rsu_id}: {e}")))?;
            let head_name = r.opt_text("head_name").map_err(db)?.unwrap_or_default();
            out.push(pay::Payee {
                rsu_id,
                instrument,
                head_name,
            });
        }
        Ok(out)
    }

    pub async fn clear_prepared(&self, month: &str) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        for q in [pay::sql::LINES_DELETE, pay::sql::PENDING_DELETE] {
            sqlx::query::<DB>(q)
                .bind(month.to_owned())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    pub async fn add_prepared(
        &self,
        month: &str,
        lines: &[LineRow],
        entries: &[(i64, EntryRow)],
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        self.insert_prepared(&mut tx, month, lines, entries).await?;
        tx.commit().await.map_err(db)
    }

    pub async fn finish_prepared(
        &self,
        month: &str,
        cycle: &str,
        households: u64,
        total: i64,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        self.put_cycle(&mut tx, month, "prepared", cycle).await?;
        let summary = serde_json::json!({"month": month, "status": "prepared", "households": households, "total_centimes": total});
        self.append(
            &mut tx,
            actor,
            &Change::new("prepare", "payroll_cycle", month).after(&summary),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn payroll_lines_page(
        &self,
        month: &str,
        after: &str,
        limit: u32,
    ) -> Result<Vec<LineRow>> {
        let rows = sqlx::query::<DB>(pay::sql::LINES_PAGE)
            .bind(month.to_owned())
            .bind(after.to_owned())
            .bind(i64::from(limit))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(line_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn pending_entries_page(
        &self,
        month: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query::<DB>(pay::sql::PENDING_PAGE)
            .bind(month.to_owned())
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| Ok((r.int("seq")?, r.text("body")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn post_payments(&self, payments: &[PaymentRow]) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        self.insert_payments(&mut tx, payments, " ON CONFLICT DO NOTHING")
            .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn post_pending(
        &self,
        month: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Option<i64>> {
        let mut tx = self.write.begin().await.map_err(db)?;
        self.lock_audit(&mut tx).await?;
        let upto = sqlx::query::<DB>(pay::sql::PENDING_UPTO)
            .bind(month.to_owned())
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_one(&mut *tx)
            .await
            .and_then(|r| r.int("seq"))
            .map_err(db)?;
        if upto <= after_seq {
            return Ok(None);
        }
        let last = sqlx::query::<DB>(pay::sql::LEDGER_NEXT_SEQ)
            .fetch_one(&mut *tx)
            .await
            .and_then(|r| r.int("seq"))
            .map_err(db)?;
        sqlx::query::<DB>(pay::sql::PENDING_POST)
            .bind(last - after_seq)
            .bind(month.to_owned())
            .bind(after_seq)
            .bind(upto)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(Some(upto))
    }

    pub async fn finish_release(
        &self,
        month: &str,
        cycle: &str,
        payments: u64,
        files: &[FileRow],
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        self.insert_files(&mut tx, files).await?;
        self.put_cycle(&mut tx, month, "released", cycle).await?;
        let summary = serde_json::json!({"month": month, "status": "released", "payments": payments, "files": files});
        self.append(
            &mut tx,
            actor,
            &Change::new("release", "payroll_cycle", month).after(&summary),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn payment_count(&self, month: &str) -> Result<u64> {
        let row = sqlx::query::<DB>(pay::sql::PAYMENT_COUNT)
            .bind(month.to_owned())
            .fetch_one(self.read)
            .await
            .map_err(db)?;
        Ok(row.int("n").map_err(db)? as u64)
    }

    async fn tallies(&self, q: &'static str, month: &str) -> Result<Vec<pay::Tally>> {
        let rows = sqlx::query::<DB>(q)
            .bind(month.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(pay::Tally {
                    a: r.text("a")?,
                    b: r.text("b")?,
                    count: r.int("n")?,
                    amount: r.int("amount")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn payroll_line_counts(&self, month: &str) -> Result<Vec<pay::Tally>> {
        self.tallies(pay::sql::LINE_COUNTS, month).await
    }

    pub async fn payment_counts(&self, month: &str) -> Result<Vec<pay::Tally>> {
        self.tallies(pay::sql::PAYMENT_COUNTS, month).await
    }

    pub async fn payment_files(&self, month: &str) -> Result<Vec<FileRow>> {
        let rows = sqlx::query::<DB>(pay::sql::FILES)
            .bind(month.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(FileRow {
                    file_name: r.text("file_name")?,
                    month: r.text("month")?,
                    provider: r.text("provider")?,
                    msg_id: r.text("msg_id")?,
                    txs: r.int("txs")?,
                    ctrl_sum: r.int("ctrl_sum")?,
                    sha256: r.text("sha256")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn appropriations(&self, year: i32) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query::<DB>(pay::sql::APPROPRIATIONS)
            .bind(i64::from(year))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| Ok((r.text("component")?, r.int("amount")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn set_appropriation(
        &self,
        year: i32,
        component: &str,
        amount: i64,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let before = sqlx::query::<DB>(pay::sql::APPROPRIATION_GET)
            .bind(i64::from(year))
            .bind(component.to_owned())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        let before = before.map(|r| r.int("amount")).transpose().map_err(db)?;
        sqlx::query::<DB>(pay::sql::APPROPRIATION_SET)
            .bind(i64::from(year))
            .bind(component.to_owned())
            .bind(amount)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let id = format!("{year}/{component}");
        let change = Change::new("set", "appropriation", &id)
            .before(&serde_json::json!({"centimes": before}))
            .after(&serde_json::json!({"centimes": amount}));
        self.append(&mut tx, actor, &change).await?;
        tx.commit().await.map_err(db)
    }

    pub async fn reserve_sequence(&self, name: &str, n: u32) -> Result<i64> {
        if n == 0 {
            return Err(StoreError::Refused(
                "a reservation takes at least one value".into(),
            ));
        }
        let row = sqlx::query::<DB>(crate::applications::sql::RESERVE)
            .bind(name.to_owned())
            .bind(i64::from(n))
            .fetch_one(self.write)
            .await
            .map_err(db)?;
        Ok(row.int("value").map_err(db)? - i64::from(n) + 1)
    }

    fn application_row(r: &DB::Row) -> Result<crate::applications::ApplicationRow, sqlx::Error> {
        Ok(crate::applications::ApplicationRow {
            receipt: r.text("receipt")?,
            rsu_id: r.text("rsu_id")?,
            status: r.text("status")?,
            submitted_on: r.text("submitted_on")?,
            body: r.text("body")?,
            language: r.text("language")?,
        })
    }

    pub async fn save_application(
        &self,
        a: &crate::applications::ApplicationRow,
        award: Option<&crate::Award>,
        action: &str,
        actor: &Actor,
    ) -> Result<()> {
        self.save_applications(&[(a.clone(), award.cloned())], &[], action, actor)
            .await
    }

    pub async fn save_applications(
        &self,
        batch: &[(crate::applications::ApplicationRow, Option<crate::Award>)],
        notices: &[MessageRow],
        action: &str,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        self.write_applications(&mut tx, batch, notices, action, actor)
            .await?;
        tx.commit().await.map_err(db)
    }

    /// Write the parts of a batch as they arrive, in one transaction committed on
    /// `Streamed::Commit`; a channel closed without it rolls everything back.
    pub async fn save_applications_streamed(
        &self,
        mut parts: crate::applications::Parts,
        action: &str,
        actor: &Actor,
    ) -> Result<()> {
        use crate::applications::Streamed;
        let mut tx = self.write.begin().await.map_err(db)?;
        loop {
            match parts.recv().await {
                Some(Streamed::Part { batch, notices }) => {
                    self.write_applications(&mut tx, &batch, &notices, action, actor)
                        .await?;
                }
                Some(Streamed::Commit) => return tx.commit().await.map_err(db),
                None => {
                    return Err(StoreError::Refused(
                        "the batch ended before it was complete: nothing was saved".into(),
                    ));
                }
            }
        }
    }

    /// Applications with their awards, audit records and notices, in the caller's transaction.
    async fn write_applications(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        batch: &[(crate::applications::ApplicationRow, Option<crate::Award>)],
        notices: &[MessageRow],
        action: &str,
        actor: &Actor,
    ) -> Result<()> {
        use crate::applications::sql as q;
        let t = std::time::Instant::now();
        let mut before = HashMap::new();
        for chunk in batch.chunks(PARAMS_PER_STATEMENT) {
            let ps: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            // Planned at each call: a plan cached while the table was small would scan it
            // whole once a batch's own rows have grown it (PostgreSQL, 1 s per statement).
            let mut query = sqlx::query::<DB>(AssertSqlSafe(format!(
                "SELECT receipt, status FROM applications WHERE receipt IN ({})",
                ps.join(", ")
            )))
            .persistent(false);
            for (a, _) in chunk {
                query = query.bind(a.receipt.clone());
            }
            for r in query.fetch_all(&mut **tx).await.map_err(db)? {
                before.insert(
                    r.text("receipt").map_err(db)?,
                    r.text("status").map_err(db)?,
                );
            }
            let ps: Vec<String> = chunk
                .iter()
                .filter(|(_, w)| w.is_some())
                .enumerate()
                .map(|(i, _)| format!("${}", i + 1))
                .collect();
            if !ps.is_empty() {
                let mut query = sqlx::query::<DB>(AssertSqlSafe(format!(
                    "DELETE FROM awards WHERE receipt IN ({})",
                    ps.join(", ")
                )))
                .persistent(false);
                for (a, _) in chunk.iter().filter(|(_, w)| w.is_some()) {
                    query = query.bind(a.receipt.clone());
                }
                query.execute(&mut **tx).await.map_err(db)?;
            }
        }
        let looked_up = t.elapsed();
        let at = now();
        let rows = batch
            .iter()
            .map(|(a, _)| {
                vec![
                    Cell::Text(a.receipt.clone()),
                    Cell::Text(a.rsu_id.clone()),
                    Cell::Text(a.status.clone()),
                    Cell::Text(a.submitted_on.clone()),
                    Cell::Text(a.body.clone()),
                    Cell::Text(at.clone()),
                    Cell::Text(a.language.clone()),
                ]
            })
            .collect();
        // A launch wave's applications are all new: no upsert, so PostgreSQL copies them
        // straight into the table.
        let tail = if before.is_empty() {
            ""
        } else {
            q::UPSERT_TAIL
        };
        self.write_rows(tx, "applications", &q::COLUMNS, rows, tail)
            .await?;
        let inserted = t.elapsed();
        let awards = batch
            .iter()
            .filter_map(|(a, w)| w.as_ref().map(|w| (a, w)))
            .flat_map(|(a, w)| {
                w.components.iter().map(|c| {
                    vec![
                        Cell::Text(a.receipt.clone()),
                        Cell::Text(c.clone()),
                        Cell::Text(a.rsu_id.clone()),
                        Cell::Text(w.start_month.clone()),
                        Cell::OptText(None),
                    ]
                })
            });
        // Any award of these receipts was deleted above.
        self.write_rows(
            tx,
            "awards",
            &["receipt", "component", "rsu_id", "start_month", "end_month"],
            awards.collect(),
            "",
        )
        .await?;
        let changes: Vec<Change> = batch
            .iter()
            .map(|(a, w)| application_change(a, w.as_ref(), before.get(&a.receipt), action))
            .collect();
        let awarded = t.elapsed();
        self.append_many(tx, actor, &changes).await?;
        let audited = t.elapsed();
        self.enqueue_in(tx, notices).await?;
        tracing::debug!(
            applications = batch.len(),
            ?looked_up,
            ?inserted,
            ?awarded,
            ?audited,
            queued = ?t.elapsed(),
            "applications written (cumulative times)"
        );
        Ok(())
    }

    /// Insert a life event in `tx` (the adapter wrote the household in it), with its audit record.
    pub async fn put_event(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        e: &crate::EventRow,
        actor: &Actor,
    ) -> Result<i64> {
        let id = self.insert_events(tx, std::slice::from_ref(e)).await?[0];
        self.append(tx, actor, &event_change("declare", id, e))
            .await?;
        Ok(id)
    }

    pub async fn events_of(&self, rsu_id: &str) -> Result<Vec<crate::EventRow>> {
        let rows = sqlx::query::<DB>(crate::applications::sql::EVENTS_OF)
            .bind(rsu_id.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        let event = |r: &DB::Row| -> Result<crate::EventRow, sqlx::Error> {
            Ok(crate::EventRow {
                id: r.int("id")?,
                rsu_id: r.text("rsu_id")?,
                kind: r.text("kind")?,
                effective: r.text("effective")?,
                declared_on: r.text("declared_on")?,
                body: r.text("body")?,
                declared_by: r.text("declared_by")?,
            })
        };
        rows.iter().map(event).collect::<Result<_, _>>().map_err(db)
    }

    pub async fn events_since(&self, from: &str) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query::<DB>(crate::applications::sql::EVENTS_SINCE)
            .bind(from.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| Ok((r.text("rsu_id")?, r.text("effective")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn awards(&self, scope: &Scope) -> Result<Vec<crate::AwardRow>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(crate::applications::sql::awards(scope)))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        Self::award_rows(&rows)
    }

    pub async fn awards_of(&self, rsu_id: &str) -> Result<Vec<crate::AwardRow>> {
        let rows = sqlx::query::<DB>(crate::applications::sql::AWARDS_OF)
            .bind(rsu_id.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        Self::award_rows(&rows)
    }

    fn award_rows(rows: &[DB::Row]) -> Result<Vec<crate::AwardRow>> {
        let award = |r: &DB::Row| -> Result<crate::AwardRow, sqlx::Error> {
            Ok(crate::AwardRow {
                receipt: r.text("receipt")?,
                rsu_id: r.text("rsu_id")?,
                component: r.text("component")?,
                start_month: r.text("start_month")?,
                end_month: r.opt_text("end_month")?,
            })
        };
        rows.iter().map(award).collect::<Result<_, _>>().map_err(db)
    }

    pub async fn application(
        &self,
        receipt: &str,
    ) -> Result<Option<crate::applications::ApplicationRow>> {
        let row = sqlx::query::<DB>(crate::applications::sql::GET)
            .bind(receipt.to_owned())
            .fetch_optional(self.read)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(Self::application_row)
            .transpose()
            .map_err(db)
    }

    pub async fn applications_of(
        &self,
        rsu_id: &str,
    ) -> Result<Vec<crate::applications::ApplicationRow>> {
        let rows = sqlx::query::<DB>(crate::applications::sql::OF)
            .bind(rsu_id.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(Self::application_row)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn score_histories(
        &self,
        scope: &Scope,
        rsu_ids: &[String],
    ) -> Result<Vec<(String, Vec<rows::ScoreRow>)>> {
        // One aggregated text per statement: a national refresh reads 10 M score records, and
        // a driver hand-off per row was most of that read.
        let d = crate::population::Dialect::of::<DB>();
        let prefix = format!(
            "SELECT {} AS line FROM households h \
             LEFT JOIN score_history s ON s.household_id = h.rsu_id WHERE {} AND h.rsu_id",
            crate::population::sql::score_line(&d, "h.rsu_id"),
            scope.sql("h")
        );
        let mut out: HashMap<String, Vec<rows::ScoreRow>> = HashMap::new();
        for line in lines(&self.lines_in(&prefix, rsu_ids.to_vec()).await?) {
            // `population`'s score line; a household with no score yet is its id alone
            // (`concat_ws` skips nulls).
            let (id, score) = line.split_once('|').unwrap_or((line, ""));
            let scores = out.entry(id.to_owned()).or_default();
            if !score.is_empty() {
                scores.push(score_row(line)?);
            }
        }
        Ok(out.into_iter().collect())
    }

    pub async fn save_score_refresh(
        &self,
        scores: &[rows::ScoreRow],
        events: &[crate::EventRow],
        notices: &[MessageRow],
        ends: &[crate::AwardEnd],
        actor: &Actor,
    ) -> Result<Vec<i64>> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let cells = scores
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.household_id.clone()),
                    Cell::Int(r.value_millionths),
                    Cell::Date(r.computed_on),
                    Cell::Date(r.valid_from),
                ]
            })
            .collect();
        self.write_rows(
            &mut tx,
            "score_history",
            &[
                "household_id",
                "value_millionths",
                "computed_on",
                "valid_from",
            ],
            cells,
            " ON CONFLICT DO NOTHING",
        )
        .await?;
        let ids = self.insert_events(&mut tx, events).await?;
        let mut changes = vec![
            Change::new("refresh", "score_history", "rsu")
                .after(&serde_json::json!({"scores": scores.len(), "life_events": events.len()})),
        ];
        changes.extend(
            ids.iter()
                .zip(events)
                .map(|(id, e)| event_change("refresh", *id, e)),
        );
        self.append_many(&mut tx, actor, &changes).await?;
        self.enqueue_in(&mut tx, notices).await?;
        self.end_awards_in(&mut tx, ends, "terminate", actor)
            .await?;
        tx.commit().await.map_err(db)?;
        Ok(ids)
    }

    /// Insert life events in `tx` with ids from the `life-event` counter, in order.
    async fn insert_events(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        events: &[crate::EventRow],
    ) -> Result<Vec<i64>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let n = i64::try_from(events.len()).map_err(|e| StoreError::Refused(e.to_string()))?;
        let last = sqlx::query::<DB>(crate::applications::sql::RESERVE)
            .bind("life-event".to_owned())
            .bind(n)
            .fetch_one(&mut **tx)
            .await
            .map_err(db)?
            .int("value")
            .map_err(db)?;
        let ids: Vec<i64> = (last - n + 1..=last).collect();
        let cells = ids
            .iter()
            .zip(events)
            .map(|(id, e)| {
                vec![
                    Cell::Int(*id),
                    Cell::Text(e.rsu_id.clone()),
                    Cell::Text(e.kind.clone()),
                    Cell::Text(e.effective.clone()),
                    Cell::Text(e.declared_on.clone()),
                    Cell::Text(e.body.clone()),
                    Cell::Text(e.declared_by.clone()),
                ]
            })
            .collect();
        self.write_rows(
            tx,
            "life_events",
            &[
                "id",
                "rsu_id",
                "kind",
                "effective",
                "declared_on",
                "body",
                "declared_by",
            ],
            cells,
            "",
        )
        .await?;
        Ok(ids)
    }

    pub async fn applications_of_households(
        &self,
        rsu_ids: &[String],
    ) -> Result<Vec<crate::applications::ApplicationRow>> {
        let rows = self
            .fetch_in_chunks(
                "SELECT receipt, rsu_id, status, submitted_on, body, language FROM applications WHERE rsu_id",
                rsu_ids.iter().cloned(),
                "",
            )
            .await?;
        rows.iter()
            .map(Self::application_row)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn replace_list(
        &self,
        kind: &str,
        meta: &str,
        rows: &[(i64, String, String)],
        actor: &Actor,
    ) -> Result<()> {
        use crate::applications::sql as q;
        let mut tx = self.write.begin().await.map_err(db)?;
        sqlx::query::<DB>(q::LIST_DELETE_ROWS)
            .bind(kind.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let cells = rows
            .iter()
            .map(|(line, idcs, body)| {
                vec![
                    Cell::Text(kind.to_owned()),
                    Cell::Int(*line),
                    Cell::Text(idcs.clone()),
                    Cell::Text(body.clone()),
                ]
            })
            .collect();
        self.write_rows(
            &mut tx,
            "cross_check_rows",
            &["kind", "line", "idcs", "body"],
            cells,
            "",
        )
        .await?;
        sqlx::query::<DB>(q::LIST_UPSERT)
            .bind(kind.to_owned())
            .bind(meta.to_owned())
            .bind(rows.len() as i64)
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let after = serde_json::json!({"reference": serde_json::from_str::<serde_json::Value>(meta).unwrap_or_default(), "rows": rows.len()});
        self.append(
            &mut tx,
            actor,
            &Change::new("import", "cross_check_list", kind).after(&after),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn list_meta(&self, kind: &str) -> Result<Option<String>> {
        let row = sqlx::query::<DB>(crate::applications::sql::LIST_META)
            .bind(kind.to_owned())
            .fetch_optional(self.read)
            .await
            .map_err(db)?;
        row.map(|r| r.text("meta")).transpose().map_err(db)
    }

    pub async fn list_rows(&self, kind: &str, idcs: &[String]) -> Result<Vec<(i64, String)>> {
        let rows = self.lists_rows(&[kind], idcs).await?;
        Ok(rows
            .into_iter()
            .map(|(_, line, body)| (line, body))
            .collect())
    }

    pub async fn lists_rows(
        &self,
        kinds: &[&str],
        idcs: &[String],
    ) -> Result<Vec<(String, i64, String)>> {
        let kinds = serde_json::to_string(kinds).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // `kind || ''` keeps SQLite on the `(idcs, kind)` index: one probe per person for
        // every kind, not one scan of each kind's rows.
        let prefix = format!(
            "SELECT kind, line, body FROM cross_check_rows WHERE kind || '' {} AND idcs",
            in_keys::<DB>(1)
        );
        let rows = self
            .fetch_in_chunks_after(&prefix, Some(&kinds), idcs.iter().cloned(), "")
            .await?;
        let mut out = rows
            .iter()
            .map(|r| Ok((r.text("kind")?, r.int("line")?, r.text("body")?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(db)?;
        out.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        Ok(out)
    }

    pub async fn review_queue(
        &self,
        scope: &Scope,
        limit: u32,
    ) -> Result<Vec<crate::applications::ApplicationRow>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(crate::applications::sql::review_queue(scope)))
            .bind(i64::from(limit))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(Self::application_row)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    // Awards ended on termination.
    pub async fn end_awards(
        &self,
        ends: &[crate::AwardEnd],
        reason: &str,
        actor: &Actor,
    ) -> Result<u64> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let ended = self.end_awards_in(&mut tx, ends, reason, actor).await?;
        tx.commit().await.map_err(db)?;
        Ok(ended)
    }

    async fn end_awards_in(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        ends: &[crate::AwardEnd],
        reason: &str,
        actor: &Actor,
    ) -> Result<u64> {
        let (mut ended, mut notices) = (0, Vec::new());
        for end in ends {
            let (rsu_id, last) = (&end.rsu_id, &end.last_month);
            let n = sqlx::query::<DB>(crate::applications::sql::AWARDS_END)
                .bind(rsu_id.clone())
                .bind(last.clone())
                .fetch_all(&mut **tx)
                .await
                .map_err(db)?
                .len() as u64;
            if n == 0 {
                continue;
            }
            let after = serde_json::json!({"household": rsu_id, "end_month": last, "awards": n, "reason": reason});
            self.append(
                tx,
                actor,
                &Change::new("end", "award", rsu_id)
                    .before(&serde_json::json!({"household": rsu_id, "end_month": null}))
                    .after(&after),
            )
            .await?;
            ended += n;
            notices.extend(end.notice.clone());
        }
        self.enqueue_in(tx, &notices).await?;
        Ok(ended)
    }

    pub async fn returns_imported(&self, sha256: &str) -> Result<bool> {
        let row = sqlx::query::<DB>(pay::sql::RETURNS_GET)
            .bind(sha256.to_owned())
            .fetch_optional(self.read)
            .await
            .map_err(db)?;
        Ok(row.is_some())
    }

    pub async fn sent_payments(&self, ids: &[String]) -> Result<Vec<SentPayment>> {
        // As text lines `e2e␟household␟reference␟status␟seq␟body`, one per entry (a national
        // return file reads millions): JSON escapes every control character, so a body holds
        // neither separator. The kinds are listed so that each payment is a few probes of the
        // ledger's key.
        let text = self
            .lines_in(
                "SELECT concat_ws('\u{1f}', p.end_to_end_id, p.rsu_id, p.reference, p.status, \
                 coalesce(e.seq, 0), coalesce(e.body, '')) AS line \
                 FROM payments p LEFT JOIN ledger_entries e ON e.household = p.rsu_id \
                 AND e.kind IN ('issued', 'reissued', 'confirmed', 'rejected', 'returned') \
                 AND e.reference = p.reference WHERE p.end_to_end_id",
                ids.to_vec(),
            )
            .await?;
        let mut rows = Vec::new();
        for line in lines(&text) {
            let f: Vec<&str> = line.splitn(6, '\u{1f}').collect();
            let [e2e, household, reference, status, seq, body] = f[..] else {
                return Err(StoreError::Corrupt(format!("payment line '{line}'")));
            };
            let seq: i64 = seq
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("ledger seq '{seq}'")))?;
            rows.push((e2e, seq, household, reference, status, body));
        }
        rows.sort_unstable_by_key(|r| (r.0, r.1));
        let mut out: Vec<SentPayment> = Vec::new();
        for (e2e, _, household, reference, status, body) in rows {
            if out.last().is_none_or(|p| p.end_to_end_id != e2e) {
                out.push(SentPayment {
                    end_to_end_id: e2e.to_owned(),
                    rsu_id: household.to_owned(),
                    reference: reference.to_owned(),
                    status: status.to_owned(),
                    entries: Vec::new(),
                });
            }
            if !body.is_empty() {
                out.last_mut()
                    .expect("pushed")
                    .entries
                    .push(body.to_owned());
            }
        }
        Ok(out)
    }

    pub async fn returns_progress(&self, sha256: &str) -> Result<Option<(i64, String)>> {
        let row = sqlx::query::<DB>(pay::sql::RETURNS_PROGRESS)
            .bind(sha256.to_owned())
            .fetch_optional(self.read)
            .await
            .map_err(db)?;
        row.map(|r| Ok((r.int("lines_done")?, r.text("report")?)))
            .transpose()
            .map_err(db)
    }

    pub async fn save_returns_batch(
        &self,
        sha256: &str,
        file_name: &str,
        lines_done: i64,
        report: &str,
        updates: &[StatusUpdate],
        entries: &[EntryRow],
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        // The batch's ledger entries are numbered under the lock a release's are.
        self.lock_audit(&mut tx).await?;
        self.apply_returns(&mut tx, updates, entries).await?;
        sqlx::query::<DB>(pay::sql::RETURNS_PROGRESS_SET)
            .bind(sha256.to_owned())
            .bind(file_name.to_owned())
            .bind(lines_done)
            .bind(report.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    /// Payment statuses and their ledger entries, in `tx`.
    async fn apply_returns(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        updates: &[StatusUpdate],
        entries: &[EntryRow],
    ) -> Result<()> {
        // One statement per (status, reason) and chunk of payments.
        let at = now();
        let mut groups: std::collections::BTreeMap<(&str, Option<&str>), Vec<&str>> =
            Default::default();
        for u in updates {
            groups
                .entry((u.status.as_str(), u.reason.as_deref()))
                .or_default()
                .push(&u.end_to_end_id);
        }
        let text = format!("{} {}", pay::sql::PAYMENT_STATUS_PREFIX, in_keys::<DB>(4));
        for ((status, reason), ids) in groups {
            for chunk in ids.chunks(KEYS_PER_STATEMENT) {
                let keys =
                    serde_json::to_string(chunk).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sqlx::query::<DB>(AssertSqlSafe(text.clone()))
                    .bind(status.to_owned())
                    .bind(reason.map(str::to_owned))
                    .bind(at.clone())
                    .bind(keys)
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
            }
        }
        self.post_entries(tx, entries).await
    }

    pub async fn save_returns(
        &self,
        sha256: &str,
        file_name: &str,
        summary: &str,
        updates: &[StatusUpdate],
        entries: &[EntryRow],
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        self.lock_audit(&mut tx).await?;
        let res = sqlx::query::<DB>(pay::sql::RETURNS_INSERT)
            .bind(sha256.to_owned())
            .bind(file_name.to_owned())
            .bind(now())
            .bind(summary.to_owned())
            .execute(&mut *tx)
            .await;
        match res {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(format!(
                    "return file {file_name} (already imported)"
                )));
            }
            other => other.map_err(db)?,
        };
        self.apply_returns(&mut tx, updates, entries).await?;
        sqlx::query::<DB>(pay::sql::RETURNS_PROGRESS_DONE)
            .bind(sha256.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let change = Change::new("import_returns", "payment_file", file_name)
            .after(&serde_json::from_str::<serde_json::Value>(summary).unwrap_or_default());
        self.append(&mut tx, actor, &change).await?;
        tx.commit().await.map_err(db)
    }

    // The notification outbox.
    fn message_row(r: &DB::Row) -> Result<MessageRow, sqlx::Error> {
        Ok(MessageRow {
            id: r.text("id")?,
            rsu_id: r.text("rsu_id")?,
            channel: r.text("channel")?,
            recipient: r.text("recipient")?,
            language: r.text("language")?,
            template: r.text("template")?,
            body: r.text("body")?,
            status: r.text("status")?,
            attempts: r.int("attempts")?,
            next_attempt_at: r.opt_text("next_attempt_at")?,
            last_error: r.opt_text("last_error")?,
            delivery_id: r.opt_text("delivery_id")?,
            created_at: r.text("created_at")?,
            sent_at: r.opt_text("sent_at")?,
            delivered_at: r.opt_text("delivered_at")?,
        })
    }

    fn message_rows(rows: &[DB::Row]) -> Result<Vec<MessageRow>> {
        rows.iter()
            .map(Self::message_row)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn enqueue(&self, m: &MessageRow) -> Result<bool> {
        Ok(self.enqueue_many(std::slice::from_ref(m)).await? == 1)
    }

    pub async fn claim_due(
        &self,
        now: NaiveDateTime,
        lease_until: NaiveDateTime,
        limit: u32,
    ) -> Result<Vec<MessageRow>> {
        let rows = sqlx::query::<DB>(outbox::sql::CLAIM)
            .bind(stamp(now))
            .bind(stamp(lease_until))
            .bind(i64::from(limit))
            .fetch_all(self.write)
            .await
            .map_err(db)?;
        let mut out = Self::message_rows(&rows)?;
        // RETURNING gives no order.
        out.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
        Ok(out)
    }

    pub async fn mark_sent(&self, id: &str, delivery_id: &str, at: NaiveDateTime) -> Result<()> {
        let done = sqlx::query::<DB>(outbox::sql::SENT)
            .bind(id.to_owned())
            .bind(delivery_id.to_owned())
            .bind(stamp(at))
            .fetch_optional(self.write)
            .await
            .map_err(db)?;
        if done.is_none() {
            Err(StoreError::NotFound(format!("message {id}")))
        } else {
            Ok(())
        }
    }

    pub async fn mark_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<NaiveDateTime>,
    ) -> Result<()> {
        let status = if retry_at.is_some() { "failed" } else { "dead" };
        let done = sqlx::query::<DB>(outbox::sql::FAILED)
            .bind(id.to_owned())
            .bind(error.to_owned())
            .bind(retry_at.map(stamp))
            .bind(status.to_owned())
            .fetch_optional(self.write)
            .await
            .map_err(db)?;
        if done.is_none() {
            Err(StoreError::NotFound(format!("message {id}")))
        } else {
            Ok(())
        }
    }

    pub async fn retry_message(
        &self,
        scope: &Scope,
        id: &str,
        now: NaiveDateTime,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let found = sqlx::query::<DB>(AssertSqlSafe(outbox::sql::get(scope)))
            .bind(id.to_owned())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        let found = found
            .as_ref()
            .map(Self::message_row)
            .transpose()
            .map_err(db)?;
        let Some(m) = found.filter(|m| m.status == "dead") else {
            return Err(StoreError::NotFound(format!("dead message {id}")));
        };
        sqlx::query::<DB>(outbox::sql::RETRY)
            .bind(id.to_owned())
            .bind(stamp(now))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let state = |status: &str, attempts: i64| serde_json::json!({"household": m.rsu_id, "status": status, "attempts": attempts});
        self.append(
            &mut tx,
            actor,
            &Change::new("retry", "message", id)
                .before(&state("dead", m.attempts))
                .after(&state("queued", 0)),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn messages(
        &self,
        scope: &Scope,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<MessageRow>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(outbox::sql::list(scope)))
            .bind(status.unwrap_or("").to_owned())
            .bind(i64::from(limit))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        Self::message_rows(&rows)
    }

    pub async fn message_counts(&self, scope: &Scope) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(outbox::sql::counts(scope)))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| Ok((r.text("status")?, r.int("n")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn messages_of(&self, scope: &Scope, rsu_id: &str) -> Result<Vec<MessageRow>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(outbox::sql::of(scope)))
            .bind(rsu_id.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        Self::message_rows(&rows)
    }

    // Payment notices and delivery reports.
    pub async fn enqueue_many(&self, messages: &[MessageRow]) -> Result<u64> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let added = self.enqueue_in(&mut tx, messages).await?;
        tx.commit().await.map_err(db)?;
        Ok(added)
    }

    pub async fn payment_notice_targets(
        &self,
        month: &str,
        after: &str,
        limit: u32,
    ) -> Result<Vec<outbox::PaymentNoticeRow>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(outbox::sql::payment_targets()))
            .bind(month.to_owned())
            .bind(after.to_owned())
            .bind(i64::from(limit))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(outbox::PaymentNoticeRow {
                    end_to_end_id: r.text("end_to_end_id")?,
                    rsu_id: r.text("rsu_id")?,
                    amount: r.int("amount")?,
                    phone: r.text("phone")?,
                    language: r.text("language")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn notice_contacts(&self, rsu_ids: &[String]) -> Result<Vec<outbox::NoticeContact>> {
        let rows = self
            .fetch_in_chunks(&outbox::sql::contacts_prefix(), rsu_ids.iter().cloned(), "")
            .await?;
        rows.iter()
            .map(|r| {
                Ok(outbox::NoticeContact {
                    rsu_id: r.text("rsu_id")?,
                    phone: r.text("phone")?,
                    language: r.text("language")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn message_by_delivery(
        &self,
        scope: &Scope,
        delivery_id: &str,
    ) -> Result<Option<MessageRow>> {
        let row = sqlx::query::<DB>(AssertSqlSafe(outbox::sql::by_delivery(scope)))
            .bind(delivery_id.to_owned())
            .fetch_optional(self.read)
            .await
            .map_err(db)?;
        row.as_ref().map(Self::message_row).transpose().map_err(db)
    }

    pub async fn record_delivery(
        &self,
        id: &str,
        delivery_id: &str,
        u: &outbox::DeliveryUpdate,
    ) -> Result<bool> {
        let q = if u.status == "delivered" {
            sqlx::query::<DB>(outbox::sql::DELIVERED)
                .bind(id.to_owned())
                .bind(delivery_id.to_owned())
                .bind(stamp(u.at))
        } else {
            sqlx::query::<DB>(outbox::sql::DELIVERY_FAILED)
                .bind(id.to_owned())
                .bind(delivery_id.to_owned())
                .bind(u.status.clone())
                .bind(u.error.clone())
                .bind(u.retry_at.map(stamp))
        };
        Ok(q.fetch_optional(self.write).await.map_err(db)?.is_some())
    }

    // The accompanying-measures pilot (`crate::pilot`).
    pub async fn save_pilot_config(
        &self,
        measures: &[pilot::MeasureRow],
        antennas: &[pilot::AntennaRow],
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let at = now();
        for m in measures {
            sqlx::query::<DB>(pilot::sql::MEASURE_UPSERT)
                .bind(m.id.clone())
                .bind(m.catalogue_version.clone())
                .bind(m.domain.clone())
                .bind(m.capacity)
                .bind(m.cost_centimes)
                .bind(m.body.clone())
                .bind(at.clone())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        sqlx::query::<DB>(pilot::sql::ANTENNAS_DELETE)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        for a in antennas {
            sqlx::query::<DB>(pilot::sql::ANTENNA_INSERT)
                .bind(a.province.clone())
                .bind(a.wave)
                .bind(a.start_month.clone())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        let version = measures
            .first()
            .map(|m| m.catalogue_version.clone())
            .unwrap_or_default();
        let after = serde_json::json!({"measures": measures.iter().map(|m| (&m.id, m.capacity, m.cost_centimes)).collect::<Vec<_>>(), "antennas": antennas});
        self.append(
            &mut tx,
            actor,
            &Change::new("save", "pilot_catalogue", &version).after(&after),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn pilot_measures(&self) -> Result<Vec<pilot::MeasureRow>> {
        let rows = sqlx::query::<DB>(pilot::sql::MEASURES)
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(pilot::MeasureRow {
                    id: r.text("id")?,
                    catalogue_version: r.text("catalogue_version")?,
                    domain: r.text("domain")?,
                    capacity: r.int("capacity")?,
                    cost_centimes: r.int("cost_centimes")?,
                    body: r.text("body")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn pilot_antennas(&self) -> Result<Vec<pilot::AntennaRow>> {
        let rows = sqlx::query::<DB>(pilot::sql::ANTENNAS)
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(pilot::AntennaRow {
                    province: r.text("province")?,
                    wave: r.int("wave")?,
                    start_month: r.text("start_month")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    /// Capacity is checked inside the transaction, behind the audit lock on PostgreSQL (the
    /// single writer on SQLite), so two agents can never take the last place together.
    pub async fn enrol(&self, e: &pilot::EnrolmentRow, capacity: i64, actor: &Actor) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        self.lock_audit(&mut tx).await?;
        let active = sqlx::query::<DB>(pilot::sql::ACTIVE_OF)
            .bind(e.rsu_id.clone())
            .bind(e.measure_id.clone())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        if let Some(r) = active {
            let since = r.text("enrolled_on").map_err(db)?;
            return Err(StoreError::Conflict(format!(
                "household {} is enrolled in {} since {since}",
                e.rsu_id, e.measure_id
            )));
        }
        let taken = sqlx::query::<DB>(pilot::sql::PLACES_TAKEN)
            .bind(e.measure_id.clone())
            .bind(e.antenna.clone())
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        if taken.int("n").map_err(db)? >= capacity {
            return Err(StoreError::Refused(format!(
                "all {capacity} places of {} in antenna {} are taken",
                e.measure_id, e.antenna
            )));
        }
        sqlx::query::<DB>(pilot::sql::ENROL)
            .bind(e.rsu_id.clone())
            .bind(e.measure_id.clone())
            .bind(e.antenna.clone())
            .bind(e.enrolled_on.clone())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let after = serde_json::json!({"household": e.rsu_id, "measure": e.measure_id, "antenna": e.antenna, "enrolled_on": e.enrolled_on, "status": "active"});
        let mut change = Change::new(
            "enrol",
            "pilot_enrolment",
            &format!("{}/{}", e.rsu_id, e.measure_id),
        )
        .after(&after);
        change.region = Some(e.antenna.clone());
        self.append(&mut tx, actor, &change).await?;
        tx.commit().await.map_err(db)
    }

    pub async fn exit_enrolment(
        &self,
        rsu_id: &str,
        measure_id: &str,
        exit: &pilot::ExitRow,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let active = sqlx::query::<DB>(pilot::sql::ACTIVE_OF)
            .bind(rsu_id.to_owned())
            .bind(measure_id.to_owned())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        if active.is_none() {
            return Err(StoreError::NotFound(format!(
                "active enrolment of {rsu_id} in {measure_id}"
            )));
        }
        sqlx::query::<DB>(pilot::sql::EXIT)
            .bind(rsu_id.to_owned())
            .bind(measure_id.to_owned())
            .bind(exit.on.clone())
            .bind(exit.reason.clone())
            .bind(exit.note.clone())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let id = format!("{rsu_id}/{measure_id}");
        let change = Change::new("exit", "pilot_enrolment", &id)
            .before(&serde_json::json!({"status": "active"}))
            .after(&serde_json::json!({"status": "exited", "on": exit.on, "reason": exit.reason}));
        self.append(&mut tx, actor, &change).await?;
        tx.commit().await.map_err(db)
    }

    fn enrolment_row(r: &DB::Row) -> Result<pilot::EnrolmentRow, sqlx::Error> {
        let exit = match r.opt_text("exited_on")? {
            Some(on) => Some(pilot::ExitRow {
                on,
                reason: r.opt_text("exit_reason")?.unwrap_or_default(),
                note: r.text("exit_note")?,
            }),
            None => None,
        };
        Ok(pilot::EnrolmentRow {
            rsu_id: r.text("rsu_id")?,
            measure_id: r.text("measure_id")?,
            antenna: r.text("antenna")?,
            enrolled_on: r.text("enrolled_on")?,
            exit,
        })
    }

    pub async fn enrolments(&self, scope: &Scope) -> Result<Vec<pilot::EnrolmentRow>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(pilot::sql::enrolments(scope)))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(Self::enrolment_row)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn enrolments_of(
        &self,
        scope: &Scope,
        rsu_id: &str,
    ) -> Result<Vec<pilot::EnrolmentRow>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(pilot::sql::enrolments_of(scope)))
            .bind(rsu_id.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(Self::enrolment_row)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    pub async fn places(&self, scope: &Scope) -> Result<Vec<pilot::PlacesRow>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(pilot::sql::places(scope)))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(pilot::PlacesRow {
                    measure_id: r.text("measure_id")?,
                    antenna: r.text("antenna")?,
                    active: r.int("n")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn save_case(&self, c: &pilot::CaseRow, action: &str, actor: &Actor) -> Result<()> {
        let id = c.id();
        let mut tx = self.write.begin().await.map_err(db)?;
        let before = sqlx::query::<DB>(pilot::sql::CASE_GET)
            .bind(id.clone())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        let existed = before.is_some();
        let (closed_on, reason) = c.closure.clone().unzip();
        let res = sqlx::query::<DB>(pilot::sql::CASE_UPSERT)
            .bind(id.clone())
            .bind(c.rsu_id.clone())
            .bind(c.antenna.clone())
            .bind(c.worker.clone())
            .bind(c.opened_on.clone())
            .bind(closed_on)
            .bind(reason)
            .bind(c.goals.clone())
            .bind(now())
            .execute(&mut *tx)
            .await;
        match res {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(format!(
                    "household {} already has an open case",
                    c.rsu_id
                )));
            }
            other => other.map_err(db)?,
        };
        for q in [pilot::sql::VISITS_DELETE, pilot::sql::REFERRALS_DELETE] {
            sqlx::query::<DB>(q)
                .bind(id.clone())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        let visits = c
            .visits
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let seq = i64::try_from(i).unwrap_or(i64::MAX);
                vec![
                    Cell::Text(id.clone()),
                    Cell::Int(seq),
                    Cell::Text(v.date.clone()),
                    Cell::Text(v.attendance.clone()),
                    Cell::Text(v.notes.clone()),
                    Cell::Text(v.next_steps.clone()),
                    Cell::OptText(v.next_visit.clone()),
                ]
            })
            .collect();
        self.write_rows(
            &mut tx,
            "pilot_visits",
            &[
                "case_id",
                "seq",
                "visit_date",
                "attendance",
                "notes",
                "next_steps",
                "next_visit",
            ],
            visits,
            "",
        )
        .await?;
        let referrals = c
            .referrals
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(id.clone()),
                    Cell::Int(r.id),
                    Cell::Text(r.service.clone()),
                    Cell::Text(r.detail.clone()),
                    Cell::Text(r.sent_on.clone()),
                    Cell::Text(r.status.clone()),
                    Cell::OptText(r.status_on.clone()),
                    Cell::Text(r.outcome.clone()),
                ]
            })
            .collect();
        self.write_rows(
            &mut tx,
            "pilot_referrals",
            &[
                "case_id",
                "id",
                "service",
                "detail",
                "sent_on",
                "status",
                "status_on",
                "outcome",
            ],
            referrals,
            "",
        )
        .await?;
        // The audit keeps the case's shape, not the social worker's notes.
        let summary = serde_json::json!({
            "household": c.rsu_id, "worker": c.worker, "open": c.closure.is_none(), "visits": c.visits.len(),
            "referrals": c.referrals.iter().map(|r| (r.id, &r.service, &r.status)).collect::<Vec<_>>(),
        });
        let mut change = Change::new(action, "pilot_case", &id).after(&summary);
        change.region = Some(c.antenna.clone());
        if existed {
            change = change.before(&serde_json::json!({"existed": true}));
        }
        self.append(&mut tx, actor, &change).await?;
        tx.commit().await.map_err(db)
    }

    async fn case_rows(&self, rows: Vec<DB::Row>) -> Result<Vec<pilot::CaseRow>> {
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = r.text("id").map_err(db)?;
            let visits = sqlx::query::<DB>(pilot::sql::VISITS_OF)
                .bind(id.clone())
                .fetch_all(self.read)
                .await
                .map_err(db)?;
            let referrals = sqlx::query::<DB>(pilot::sql::REFERRALS_OF)
                .bind(id)
                .fetch_all(self.read)
                .await
                .map_err(db)?;
            let visits = visits
                .iter()
                .map(|v| {
                    Ok(pilot::VisitRow {
                        date: v.text("visit_date")?,
                        attendance: v.text("attendance")?,
                        notes: v.text("notes")?,
                        next_steps: v.text("next_steps")?,
                        next_visit: v.opt_text("next_visit")?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(db)?;
            let referrals = referrals
                .iter()
                .map(|x| {
                    Ok(pilot::ReferralRow {
                        id: x.int("id")?,
                        service: x.text("service")?,
                        detail: x.text("detail")?,
                        sent_on: x.text("sent_on")?,
                        status: x.text("status")?,
                        status_on: x.opt_text("status_on")?,
                        outcome: x.text("outcome")?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(db)?;
            let closure = match r.opt_text("closed_on").map_err(db)? {
                Some(on) => Some((
                    on,
                    r.opt_text("close_reason").map_err(db)?.unwrap_or_default(),
                )),
                None => None,
            };
            out.push(pilot::CaseRow {
                rsu_id: r.text("rsu_id").map_err(db)?,
                antenna: r.text("antenna").map_err(db)?,
                worker: r.text("worker").map_err(db)?,
                opened_on: r.text("opened_on").map_err(db)?,
                closure,
                goals: r.text("goals").map_err(db)?,
                visits,
                referrals,
            });
        }
        Ok(out)
    }

    pub async fn open_cases(
        &self,
        scope: &Scope,
        worker: Option<&str>,
    ) -> Result<Vec<pilot::CaseRow>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(pilot::sql::open_cases(scope)))
            .bind(worker.unwrap_or_default().to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        self.case_rows(rows).await
    }

    pub async fn open_case(&self, scope: &Scope, rsu_id: &str) -> Result<Option<pilot::CaseRow>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(pilot::sql::open_case(scope)))
            .bind(rsu_id.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        Ok(self.case_rows(rows).await?.pop())
    }

    pub async fn cases(&self, scope: &Scope) -> Result<Vec<pilot::CaseRow>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(pilot::sql::cases(scope)))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        self.case_rows(rows).await
    }

    pub async fn register_design(
        &self,
        id: &str,
        body: &str,
        actor: &Actor,
    ) -> Result<pilot::DesignRow> {
        let row = pilot::DesignRow {
            id: id.to_owned(),
            body: body.to_owned(),
            hash: pilot::design_hash(body),
            registered_at: now(),
            registered_by: actor.user.clone(),
        };
        let mut tx = self.write.begin().await.map_err(db)?;
        let res = sqlx::query::<DB>(pilot::sql::DESIGN_INSERT)
            .bind(row.id.clone())
            .bind(row.body.clone())
            .bind(row.hash.clone())
            .bind(row.registered_at.clone())
            .bind(row.registered_by.clone())
            .execute(&mut *tx)
            .await;
        match res {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(format!(
                    "design {id} is registered and cannot change"
                )));
            }
            other => other.map_err(db)?,
        };
        self.append(
            &mut tx,
            actor,
            &Change::new("register", "pilot_design", id)
                .after(&serde_json::json!({"sha256": row.hash})),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(row)
    }

    pub async fn designs(&self) -> Result<Vec<pilot::DesignRow>> {
        let rows = sqlx::query::<DB>(pilot::sql::DESIGNS)
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        let rows: Vec<pilot::DesignRow> = rows
            .iter()
            .map(|r| {
                Ok(pilot::DesignRow {
                    id: r.text("id")?,
                    body: r.text("body")?,
                    hash: r.text("hash")?,
                    registered_at: r.text("registered_at")?,
                    registered_by: r.text("registered_by")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)?;
        match rows.iter().find(|d| pilot::design_hash(&d.body) != d.hash) {
            Some(d) => Err(StoreError::Corrupt(format!(
                "design {} no longer matches its registered hash",
                d.id
            ))),
            None => Ok(rows),
        }
    }

    pub async fn save_assignment(
        &self,
        design_id: &str,
        units: &[pilot::AssignmentRow],
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        if sqlx::query::<DB>(pilot::sql::DESIGN_EXISTS)
            .bind(design_id.to_owned())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .is_none()
        {
            return Err(StoreError::NotFound(format!("design {design_id}")));
        }
        let n = sqlx::query::<DB>(pilot::sql::ASSIGNED)
            .bind(design_id.to_owned())
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?
            .int("n")
            .map_err(db)?;
        if n > 0 {
            return Err(StoreError::Conflict(format!(
                "design {design_id} already has its assignment"
            )));
        }
        let rows = units
            .iter()
            .map(|u| {
                vec![
                    Cell::Text(design_id.to_owned()),
                    Cell::Text(u.unit.clone()),
                    Cell::Text(u.arm.clone()),
                    Cell::Text(u.stratum.clone()),
                    Cell::OptInt(u.wave),
                ]
            })
            .collect();
        self.write_rows(
            &mut tx,
            "pilot_assignments",
            &["design_id", "unit", "arm", "stratum", "wave"],
            rows,
            "",
        )
        .await?;
        self.append(
            &mut tx,
            actor,
            &Change::new("assign", "pilot_design", design_id)
                .after(&serde_json::json!({"units": units.len()})),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn save_outcomes(
        &self,
        round: &pilot::OutcomeRound,
        rows: &[pilot::OutcomeRow],
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let mut households: Vec<&str> = rows.iter().map(|r| r.rsu_id.as_str()).collect();
        households.sort_unstable();
        households.dedup();
        for h in &households {
            if sqlx::query::<DB>(pilot::sql::HOUSEHOLD_EXISTS)
                .bind((*h).to_owned())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
                .is_none()
            {
                return Err(StoreError::NotFound(format!("household {h}")));
            }
        }
        for q in [
            pilot::sql::OUTCOMES_DELETE,
            pilot::sql::OUTCOME_ROUND_DELETE,
        ] {
            sqlx::query::<DB>(q)
                .bind(round.round.clone())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        sqlx::query::<DB>(pilot::sql::OUTCOME_ROUND_INSERT)
            .bind(round.round.clone())
            .bind(round.source.clone())
            .bind(round.sha256.clone())
            .bind(round.codebook.clone())
            .bind(round.households)
            .bind(now())
            .bind(actor.user.clone())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let cells = rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(round.round.clone()),
                    Cell::Text(r.rsu_id.clone()),
                    Cell::Text(r.variable.clone()),
                    Cell::OptText(r.value.clone()),
                    Cell::OptText(r.missing_code.clone()),
                ]
            })
            .collect();
        self.write_rows(
            &mut tx,
            "pilot_outcomes",
            &["round", "rsu_id", "variable", "value", "missing_code"],
            cells,
            "",
        )
        .await?;
        let after = serde_json::json!({"source": round.source, "sha256": round.sha256, "households": households.len(), "cells": rows.len()});
        self.append(
            &mut tx,
            actor,
            &Change::new("import", "pilot_outcomes", &round.round).after(&after),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    pub async fn outcome_rounds(&self) -> Result<Vec<pilot::OutcomeRound>> {
        let rows = sqlx::query::<DB>(pilot::sql::OUTCOME_ROUNDS)
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(pilot::OutcomeRound {
                    round: r.text("round")?,
                    source: r.text("source")?,
                    sha256: r.text("sha256")?,
                    codebook: r.text("codebook")?,
                    households: r.int("households")?,
                    imported_at: r.text("imported_at")?,
                    imported_by: r.text("imported_by")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn outcomes(&self, scope: &Scope) -> Result<Vec<pilot::OutcomeRow>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(pilot::sql::outcomes(scope)))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(pilot::OutcomeRow {
                    round: r.text("round")?,
                    rsu_id: r.text("rsu_id")?,
                    variable: r.text("variable")?,
                    value: r.opt_text("value")?,
                    missing_code: r.opt_text("missing_code")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn payments_received(&self, scope: &Scope) -> Result<Vec<pilot::ReceivedRow>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(pilot::sql::payments_received(scope)))
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(pilot::ReceivedRow {
                    rsu_id: r.text("rsu_id")?,
                    payments: r.int("n")?,
                    centimes: r.int("centimes")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn assignment_counts(&self, design_id: &str) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query::<DB>(pilot::sql::ASSIGNMENT_COUNTS)
            .bind(design_id.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| Ok((r.text("arm")?, r.int("n")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    pub async fn assignments(
        &self,
        scope: &Scope,
        design_id: &str,
    ) -> Result<Vec<pilot::AssignmentRow>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(pilot::sql::assignments(scope)))
            .bind(design_id.to_owned())
            .fetch_all(self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(pilot::AssignmentRow {
                    unit: r.text("unit")?,
                    arm: r.text("arm")?,
                    stratum: r.text("stratum")?,
                    wave: r.opt_int("wave")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }
}

/// The audit record of a life event: it names the event, not its content (personal data).
fn event_change(action: &str, id: i64, e: &crate::EventRow) -> Change {
    let after =
        serde_json::json!({"household": e.rsu_id, "kind": e.kind, "effective": e.effective});
    Change::new(action, "life_event", &id.to_string()).after(&after)
}

/// The audit record of saving an application: its status before and after, and the award.
fn application_change(
    a: &crate::applications::ApplicationRow,
    award: Option<&crate::Award>,
    before: Option<&String>,
    action: &str,
) -> Change {
    let mut after = serde_json::json!({"household": a.rsu_id, "status": a.status});
    if let Some(w) = award {
        after["award"] =
            serde_json::json!({"components": w.components, "start_month": w.start_month});
    }
    let change = Change::new(action, "application", &a.receipt).after(&after);
    match before {
        Some(b) => change.before(&serde_json::json!({"household": a.rsu_id, "status": b})),
        None => change,
    }
}

/// A value of a multi-row statement.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Int(i64),
    OptText(Option<String>),
    OptInt(Option<i64>),
    Date(NaiveDate),
}

/// Keys per statement where a list of keys is bound as one JSON array ([`in_keys`]).
const KEYS_PER_STATEMENT: usize = 10_000;

/// A payroll line as stored (`pay::sql::LINES`, `LINES_PAGE`).
fn line_row<R: SanadRow>(r: &R) -> Result<LineRow, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    Ok(LineRow {
        rsu_id: r.text("rsu_id")?,
        region: r.text("region")?,
        status: r.text("status")?,
        amount: r.int("amount")?,
        body: r.text("body")?,
    })
}

pub(crate) fn is_postgres<DB: Database>() -> bool {
    DB::NAME == "PostgreSQL"
}

/// The elements of the JSON array bound as `$n`, as a table `k` with one column `value`.
fn json_elements<DB: Database>(n: usize) -> String {
    if is_postgres::<DB>() {
        format!("json_array_elements(${n}::json) AS k(value)")
    } else {
        format!("json_each(${n}) AS k")
    }
}

/// A score record from its `population` score line.
fn score_row(line: &str) -> Result<rows::ScoreRow> {
    let (id, value, valid_from, computed_on) = crate::population::parse_score(line)?;
    Ok(rows::ScoreRow {
        household_id: id.to_owned(),
        value_millionths: value,
        computed_on,
        valid_from,
    })
}

/// The non-empty lines of an aggregated text.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').filter(|l| !l.is_empty())
}

/// `IN (…)` over the JSON array of strings bound as `$n`. One parameter instead of one per key:
/// no statement text or binding work that grows with the keys, and on SQLite one temporary
/// index per statement instead of one per few hundred keys.
fn in_keys<DB: Database>(n: usize) -> String {
    if is_postgres::<DB>() {
        format!("IN (SELECT json_array_elements_text(${n}::json))")
    } else {
        format!("IN (SELECT value FROM json_each(${n}))")
    }
}

/// Parameters per multi-row statement. Small on purpose: sqlx-sqlite resolves each `$n` by
/// scanning the statement's parameter names, so binding costs grow with the square of it.
const PARAMS_PER_STATEMENT: usize = 240;

/// A payment's cells in [`pay::PAYMENT_COLUMNS`]' order, written `at`.
fn payment_cells(p: &PaymentRow, at: &str) -> Vec<Cell> {
    vec![
        Cell::Text(p.end_to_end_id.clone()),
        Cell::Text(p.month.clone()),
        Cell::Text(p.rsu_id.clone()),
        Cell::Text(p.reference.clone()),
        Cell::Text(p.provider.clone()),
        Cell::Int(p.amount),
        Cell::Text(p.status.clone()),
        Cell::OptText(p.reason.clone()),
        Cell::Text(p.file_name.clone()),
        Cell::Text(at.to_owned()),
        Cell::OptText(p.account.clone()),
    ]
}

/// `INSERT INTO table (columns) VALUES … tail`, a chunk of rows per statement as SQL literals
/// (a chunk holding a NUL goes as one JSON array); returns the rows a `RETURNING` tail gave
/// back (0 without one).
async fn insert_many<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Cell>>,
    tail: &str,
) -> Result<u64>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    let Some(first) = rows.first() else {
        return Ok(0);
    };
    let text = format!(
        "INSERT INTO {table} ({}) {}{tail}",
        columns.join(", "),
        json_rows::<DB>(first)
    );
    // Rows go as SQL literals: no JSON encoding and parsing of every cell (PostgreSQL's `->>`
    // on a `json` row parses it again for each column, long bodies included). A text holding
    // a NUL, which SQL text cannot carry, sends its chunk the JSON way (PostgreSQL then
    // refuses it, as it refuses any NUL in text).
    let literal = |chunk: &[Vec<Cell>]| {
        chunk.iter().flatten().all(Cell::literal_ok).then(|| {
            let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
            for (i, row) in chunk.iter().enumerate() {
                sql.push_str(if i == 0 { "(" } else { ",(" });
                for (j, cell) in row.iter().enumerate() {
                    if j > 0 {
                        sql.push(',');
                    }
                    cell.put_literal(&mut sql);
                }
                sql.push(')');
            }
            sql + tail
        })
    };
    let mut added = 0;
    // Rows written are counted only through a `RETURNING` tail (no generic rows-affected).
    let returning = tail.contains("RETURNING");
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        if let Some(sql) = literal(chunk) {
            // Run once and not prepared: its text never enters the statement cache.
            let raw = sqlx::raw_sql(AssertSqlSafe(sql));
            if returning {
                added += raw.fetch_all(&mut **tx).await.map_err(db)?.len() as u64;
            } else {
                raw.execute(&mut **tx).await.map_err(db)?;
            }
            continue;
        }
        let json = serde_json::Value::Array(
            chunk
                .iter()
                .map(|r| serde_json::Value::Array(r.iter().map(Cell::json).collect()))
                .collect(),
        );
        let q = sqlx::query::<DB>(AssertSqlSafe(text.clone())).bind(json.to_string());
        if returning {
            added += q.fetch_all(&mut **tx).await.map_err(db)?.len() as u64;
        } else {
            q.execute(&mut **tx).await.map_err(db)?;
        }
    }
    Ok(added)
}

/// Rows per `INSERT` of [`insert_many`].
const ROWS_PER_INSERT: usize = 2_000;

/// The `SELECT` of the rows of a JSON array bound as `$1`, each an array of cells shaped like
/// `first`, in the array's order. SQLite needs the `WHERE` before an `ON CONFLICT` tail (an
/// upsert's `ON` would otherwise read as a join's); PostgreSQL casts each cell to its type.
fn json_rows<DB: Database>(first: &[Cell]) -> String {
    let cells = |cast: &dyn Fn(usize, &Cell) -> String| -> String {
        let cs: Vec<String> = first.iter().enumerate().map(|(i, c)| cast(i, c)).collect();
        cs.join(", ")
    };
    if is_postgres::<DB>() {
        format!(
            "SELECT {} FROM json_array_elements($1::json) WITH ORDINALITY AS r(value, i) ORDER BY r.i",
            cells(&|i, c| format!("(r.value->>{i})::{}", c.pg_type()))
        )
    } else {
        format!(
            "SELECT {} FROM json_each($1) AS r WHERE true ORDER BY r.key",
            cells(&|i, _| format!("r.value->>{i}"))
        )
    }
}

/// `s` as an SQL string literal: quoted, each quote doubled.
pub fn quote_sql(s: &str, out: &mut String) {
    out.push('\'');
    let mut parts = s.split('\'');
    out.push_str(parts.next().unwrap_or_default());
    for part in parts {
        out.push_str("''");
        out.push_str(part);
    }
    out.push('\'');
}

impl Cell {
    fn literal_ok(&self) -> bool {
        match self {
            Cell::Text(v) | Cell::OptText(Some(v)) => !v.contains('\0'),
            _ => true,
        }
    }

    fn put_literal(&self, out: &mut String) {
        use std::fmt::Write as _;
        match self {
            Cell::Text(v) | Cell::OptText(Some(v)) => quote_sql(v, out),
            Cell::Int(v) | Cell::OptInt(Some(v)) => {
                let _ = write!(out, "{v}");
            }
            Cell::OptText(None) | Cell::OptInt(None) => out.push_str("NULL"),
            Cell::Date(d) => {
                let _ = write!(out, "'{d}'");
            }
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Cell::Text(v) => v.as_str().into(),
            Cell::Int(v) => (*v).into(),
            Cell::OptText(v) => v.as_deref().into(),
            Cell::OptInt(v) => (*v).into(),
            Cell::Date(v) => v.to_string().into(),
        }
    }

    /// The PostgreSQL type of the column the cell goes to.
    fn pg_type(&self) -> &'static str {
        match self {
            Cell::Text(_) | Cell::OptText(_) => "text",
            Cell::Int(_) | Cell::OptInt(_) => "bigint",
            Cell::Date(_) => "date",
        }
    }
}

/// The user columns shared by insert and update, in their parameter order ($1–$9).
fn bind_user<'q, DB: Database>(
    q: sqlx::query::Query<'q, DB, <DB as Database>::Arguments>,
    u: &User,
) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB>,
{
    q.bind(u.username.clone())
        .bind(u.display_name.clone())
        .bind(u.role.as_str().to_owned())
        .bind(u.scope.to_string())
        .bind(u.locale.clone())
        .bind(u.password_hash.clone())
        .bind(u.failed_logins)
        .bind(u.locked_until)
        .bind(i64::from(u.active))
}

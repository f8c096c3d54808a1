//! The PostgreSQL adapter. Bulk writes go through `COPY … FROM STDIN`: straight into the
//! tables when a batch holds only new households and persons (a national load), through
//! temporary staging tables and `INSERT … ON CONFLICT` otherwise.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::NaiveDate;
use sanad_domain::{Household, RsuId};
use sanad_store::generic::{Cell, Sql, WriteRows};
use sanad_store::migrations::{self, Migration};
use sanad_store::payroll::{EntryRow, LineRow, PENDING_COLUMNS};
use sanad_store::rows::{
    HOUSEHOLD_COLUMNS, HouseholdRow, PERSON_COLUMNS, PersonRow, SCORE_COLUMNS, ScoreRow,
};
use sanad_store::{
    BatchPlan, Encoded, FindKey, Format, HouseholdSummary, Outcome, Population, RegionCount,
    RegistryStore, Result, Scope, StoreError, Write, sql,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Row};

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "registry",
        sql: include_str!("../migrations/0001_registry.sql"),
    },
    Migration {
        version: 2,
        name: "rule_sets",
        sql: include_str!("../migrations/0002_rule_sets.sql"),
    },
    Migration {
        version: 3,
        name: "access_audit",
        sql: include_str!("../migrations/0003_access_audit.sql"),
    },
    Migration {
        version: 4,
        name: "audit_append_only",
        sql: include_str!("../migrations/0004_audit_append_only.sql"),
    },
    // Issue 7: runs after the shared 0011 that creates the tables it protects.
    Migration {
        version: 19,
        name: "pilot_frozen",
        sql: include_str!("../migrations/0019_pilot_frozen.sql"),
    },
    // Issue 2: family names compared byte for byte, as SQLite does.
    Migration {
        version: 25,
        name: "names_in_code_point_order",
        sql: include_str!("../migrations/0025_names_in_code_point_order.sql"),
    },
    // Issue 2: household and person ids and the look-up keys too.
    Migration {
        version: 26,
        name: "keys_in_code_point_order",
        sql: include_str!("../migrations/0026_keys_in_code_point_order.sql"),
    },
    // Issue 6: a release posts its pending entries inside the database (JSON read per dialect).
    Migration {
        version: 27,
        name: "pending_entry_keys",
        sql: include_str!("../migrations/0027_pending_entry_keys.sql"),
    },
    // Issue 6: books stored between cycles, so that a prepare reads only the entries since.
    Migration {
        version: 28,
        name: "ledger_books",
        sql: include_str!("../migrations/0028_ledger_books.sql"),
    },
    // Issue 5: application bodies compressed by lz4 rather than pglz.
    Migration {
        version: 29,
        name: "application_bodies_lz4",
        sql: include_str!("../migrations/0029_application_bodies_lz4.sql"),
    },
];

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    claim: LoadClaim,
}

/// A first load's claim on the registry (as in the SQLite adapter): a session advisory lock
/// per schema, held on a connection of its own from `bulk_load_begin` to `bulk_load_end`;
/// the server releases it when a killed loader's connection closes. While another session
/// holds it, opening the store leaves the end of the load to that load, and a second import
/// writes with upserts instead of loading.
#[derive(Clone, Default)]
struct LoadClaim(std::sync::Arc<std::sync::Mutex<Option<PgConnection>>>);

impl LoadClaim {
    /// Take the claim, waiting at most `wait` (a PostgreSQL interval) for another session
    /// to let it go; without `wait`, only if it is free.
    async fn take(&self, pool: &PgPool, wait: Option<&str>) -> Result<bool> {
        use sqlx::Connection as _;
        let mut conn = pool.acquire().await.map_err(db)?.detach();
        let taken = match wait {
            None => sqlx::query_scalar::<_, bool>(
                "SELECT pg_try_advisory_lock(5345, hashtext(current_schema()))",
            )
            .fetch_one(&mut conn)
            .await
            .map_err(db)?,
            Some(wait) => {
                sqlx::query(AssertSqlSafe(format!("SET lock_timeout = '{wait}'")))
                    .execute(&mut conn)
                    .await
                    .map_err(db)?;
                match sqlx::query("SELECT pg_advisory_lock(5345, hashtext(current_schema()))")
                    .execute(&mut conn)
                    .await
                {
                    Ok(_) => true,
                    Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => false,
                    Err(e) => return Err(db(e)),
                }
            }
        };
        if taken {
            *self.0.lock().expect("claim lock") = Some(conn);
        } else {
            let _ = conn.close().await;
        }
        Ok(taken)
    }

    /// Let the lock go, then close the claim's connection. Closing alone would end the lock
    /// only once the server's backend has exited, after `close` returns: a load started just
    /// after an open could then find the claim still taken.
    async fn release(&self) {
        use sqlx::Connection as _;
        let conn = self.0.lock().expect("claim lock").take();
        if let Some(mut conn) = conn {
            let _ = sqlx::query("SELECT pg_advisory_unlock_all()")
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}

/// Sort memory for an index build, for its transaction only (the server's default, 64 MB,
/// spills the national persons to disk in many runs).
const INDEX_PRELUDE: &str = "SET LOCAL maintenance_work_mem = '512MB'";

/// Constraints a load into an empty registry drops and adds back at its end, so that
/// PostgreSQL checks each in one pass instead of once per inserted row (24 M rows
/// nationally):
/// - the primary keys of persons and scores, which no foreign key references: rebuilt by one
///   sort instead of a B-tree insert per row. The reader has refused duplicate ids within the
///   file, and the registry was empty, so the rebuild cannot meet one;
/// - their foreign keys to households, checked in one join instead of a trigger call per row.
///   The load writes each household with its members and scores, and the final check would
///   refuse an orphan. They are added `NOT VALID`, then validated side by side: each check is
///   one process (a core), and validation, unlike adding, does not lock `households` against
///   the other.
///
/// The end also runs when the store opens, so a load killed half-way gets its constraints
/// back on the next start, before anything upserts by those keys.
const LOAD_CONSTRAINTS: &[(&str, &str, &str)] = &[
    ("persons", "persons_pkey", "PRIMARY KEY (idcs)"),
    (
        "score_history",
        "score_history_pkey",
        "PRIMARY KEY (household_id, valid_from, computed_on, value_millionths)",
    ),
    (
        "persons",
        "persons_household_id_fkey",
        "FOREIGN KEY (household_id) REFERENCES households (rsu_id)",
    ),
    (
        "score_history",
        "score_history_household_id_fkey",
        "FOREIGN KEY (household_id) REFERENCES households (rsu_id)",
    ),
];

/// Tables a load into an empty registry writes. Autovacuum is off on them until the load's
/// end: it would start on the new rows, and each index build, whose lock conflicts with
/// vacuum's, would cancel it and waste its scan (22 cancellations in one national load). The
/// end analyses them once, before the keys are checked, and gives them back to autovacuum.
const LOADED_TABLES: &[&str] = &["households", "persons", "score_history"];

fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

impl PgStore {
    /// Connect to `postgres://…` and apply pending migrations.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_in_schema(url, None).await
    }

    /// Connect with every session's `search_path` set to `schema` (created if missing):
    /// isolated databases for tests, several tenants on one server.
    pub async fn open_in_schema(url: &str, schema: Option<&str>) -> Result<Self> {
        let open_err = |e: sqlx::Error| StoreError::Open {
            url: redact(url),
            reason: e.to_string(),
        };
        let mut opts = PgConnectOptions::from_str(url).map_err(open_err)?;
        // Sanad's statements are short and many; PostgreSQL compiles any whose estimated cost
        // is high, which cost the intake's namesake query 0.3 s for a 0.5 s plan (a third of
        // a batch). A `jit` setting in the URL's `options` is the operator's and wins.
        if !opts.get_options().is_some_and(|o| o.contains("jit")) {
            opts = opts.options([("jit", "off")]);
        }
        // Multi-row inserts send texts as SQL literals, quotes doubled and backslashes as
        // they are: whatever the server's or the URL's setting, a backslash stays a backslash.
        opts = opts.options([("standard_conforming_strings", "on")]);
        if let Some(s) = schema {
            if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(StoreError::Open {
                    url: redact(url),
                    reason: format!("bad schema name '{s}'"),
                });
            }
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await
                .map_err(open_err)?;
            sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {s}")))
                .execute(&pool)
                .await
                .map_err(db)?;
            pool.close().await;
            opts = opts.options([("search_path", s)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(opts)
            .await
            .map_err(open_err)?;
        let store = PgStore {
            pool,
            claim: LoadClaim::default(),
        };
        store.migrate().await?;
        // The end of a load killed half-way, unless a load is running elsewhere. A killed
        // loader's session may take a moment to end.
        if store.claim.take(&store.pool, Some("2s")).await? {
            store.bulk_load_end().await?;
        }
        Ok(store)
    }

    fn sql(&self) -> Sql<'_, sqlx::Postgres> {
        Sql {
            read: &self.pool,
            write: &self.pool,
            index_prelude: Some(INDEX_PRELUDE),
            audit_lock: Some("LOCK TABLE audit_log IN EXCLUSIVE MODE"),
            write_rows: Some(&CopyRows),
        }
    }

    /// Build the missing indexes, analyse the tables a load paused autovacuum on, add back
    /// the constraints it dropped, and resume autovacuum.
    async fn end_load(&self) -> Result<()> {
        self.sql().bulk_load_end().await?;
        let paused: Vec<String> = sqlx::query_scalar(
            "SELECT t FROM unnest($1::text[]) t JOIN pg_class c ON c.oid = to_regclass(t) \
             WHERE c.reloptions @> '{autovacuum_enabled=false}'",
        )
        .bind(LOADED_TABLES)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        for table in &paused {
            self.run(format!("ANALYZE {table}")).await?;
        }
        self.add_load_constraints().await?;
        for table in &paused {
            self.run(format!("ALTER TABLE {table} RESET (autovacuum_enabled)"))
                .await?;
        }
        Ok(())
    }

    /// Add back the missing `LOAD_CONSTRAINTS`, the foreign keys `NOT VALID`, then validate
    /// those not yet checked, at once.
    async fn add_load_constraints(&self) -> Result<()> {
        for (table, name, definition) in LOAD_CONSTRAINTS {
            let later = if definition.starts_with("FOREIGN KEY") {
                " NOT VALID"
            } else {
                ""
            };
            self.run(format!(
                "{INDEX_PRELUDE}; DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint \
                 WHERE conname = '{name}' AND conrelid = '{table}'::regclass) THEN \
                 ALTER TABLE {table} ADD CONSTRAINT {name} {definition}{later}; END IF; END $$"
            ))
            .await?;
        }
        let validations = LOAD_CONSTRAINTS.iter().map(|(table, name, _)| {
            self.run(format!(
                "{INDEX_PRELUDE}; DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_constraint \
                 WHERE conname = '{name}' AND conrelid = '{table}'::regclass \
                 AND NOT convalidated) THEN ALTER TABLE {table} VALIDATE CONSTRAINT {name}; \
                 END IF; END $$"
            ))
        });
        futures_util::future::try_join_all(validations).await?;
        Ok(())
    }

    /// Run a statement built from this module's constants.
    async fn run(&self, statement: String) -> Result<()> {
        sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// `work` as it is: the server checkpoints on its own schedule.
    async fn large_transaction<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        work.await
    }

    /// A page of the prepared payroll, with COPY: the JSON bodies go in as they are.
    async fn write_prepared(
        &self,
        month: &str,
        lines: &[LineRow],
        entries: &[(i64, EntryRow)],
    ) -> Result<()> {
        let month = month.to_owned();
        let mut text = String::with_capacity(lines.len() * 512);
        for l in lines {
            let fields: [&dyn CopyField; 6] =
                [&month, &l.rsu_id, &l.region, &l.status, &l.amount, &l.body];
            line(&mut text, &fields);
        }
        let mut tx = self.pool.begin().await.map_err(db)?;
        let columns = ["month", "rsu_id", "region", "status", "amount", "body"];
        copy(&mut tx, "payroll_lines", &columns, text).await?;
        let mut text = String::with_capacity(entries.len() * 384);
        for (seq, e) in entries {
            line(
                &mut text,
                &[&month, seq, &e.household, &e.kind, &e.reference, &e.body],
            );
        }
        copy(&mut tx, "payroll_pending_entries", &PENDING_COLUMNS, text).await?;
        tx.commit().await.map_err(db)
    }

    async fn migrate(&self) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // One migrator at a time, even with several processes starting together.
        sqlx::query("SELECT pg_advisory_xact_lock(7337001)")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(migrations::CREATE_TABLE)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM sanad_migrations")
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        for m in migrations::pending(MIGRATIONS, &applied) {
            sqlx::raw_sql(AssertSqlSafe(m.sql))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            sqlx::query(
                "INSERT INTO sanad_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }
}

/// The URL without its password, for error messages and logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].find(':') {
            Some(c) => format!("{}:***{}", &url[..s + 3 + c], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

/// Text-format COPY encoding of one field.
trait CopyField {
    fn put(&self, out: &mut String);
}

impl CopyField for str {
    fn put(&self, out: &mut String) {
        // The escaped bytes are ASCII, so every cut falls on a character boundary.
        let mut from = 0;
        for (i, b) in self.bytes().enumerate() {
            let escaped = match b {
                b'\\' => "\\\\",
                b'\t' => "\\t",
                b'\n' => "\\n",
                b'\r' => "\\r",
                _ => continue,
            };
            out.push_str(&self[from..i]);
            out.push_str(escaped);
            from = i + 1;
        }
        out.push_str(&self[from..]);
    }
}
impl CopyField for String {
    fn put(&self, out: &mut String) {
        self.as_str().put(out)
    }
}
impl<T: CopyField + ?Sized> CopyField for &T {
    fn put(&self, out: &mut String) {
        (**self).put(out)
    }
}
impl CopyField for i64 {
    fn put(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}
impl CopyField for i32 {
    fn put(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}
impl CopyField for bool {
    fn put(&self, out: &mut String) {
        out.push(if *self { 't' } else { 'f' });
    }
}
impl CopyField for NaiveDate {
    fn put(&self, out: &mut String) {
        let mut buf = [0u8; 10];
        match sanad_store::rows::iso_date(*self, &mut buf) {
            Some(text) => out.push_str(text),
            None => {
                let _ = write!(out, "{}", self.format("%Y-%m-%d"));
            }
        }
    }
}
impl CopyField for Cell {
    fn put(&self, out: &mut String) {
        match self {
            Cell::Text(t) => t.put(out),
            Cell::Int(n) => n.put(out),
            Cell::OptText(t) => t.put(out),
            Cell::OptInt(n) => n.put(out),
            Cell::Date(d) => d.put(out),
        }
    }
}
impl<T: CopyField> CopyField for Option<T> {
    fn put(&self, out: &mut String) {
        match self {
            Some(v) => v.put(out),
            None => out.push_str("\\N"),
        }
    }
}

/// Append one COPY line made of `fields`.
fn line(out: &mut String, fields: &[&dyn CopyField]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        f.put(out);
    }
    out.push('\n');
}

fn household_line(out: &mut String, h: &HouseholdRow<&str>) {
    line(out, &sanad_store::household_values!(h));
}

fn person_line(out: &mut String, p: &PersonRow<&str>) {
    line(out, &sanad_store::person_values!(p));
}

fn score_line(out: &mut String, s: &ScoreRow<&str>) {
    line(out, &sanad_store::score_values!(s));
}

const FORMAT: Format = Format {
    household: household_line,
    person: person_line,
    score: score_line,
};

/// COPY pre-encoded lines into `table`.
async fn copy(conn: &mut PgConnection, table: &str, columns: &[&str], lines: String) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut copy = conn
        .copy_in_raw(&format!("COPY {table} ({}) FROM STDIN", columns.join(", ")))
        .await
        .map_err(db)?;
    copy.send(lines.into_bytes()).await.map_err(db)?;
    copy.finish().await.map_err(db)?;
    Ok(())
}

/// The shared code's bulk writes, with COPY: the server parses no SQL literals. New rows go
/// straight into their table; with a `tail`, through a staging table.
struct CopyRows;

#[async_trait]
impl WriteRows<sqlx::Postgres> for CopyRows {
    async fn write_rows(
        &self,
        conn: &mut PgConnection,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Cell>>,
        tail: &str,
    ) -> Result<u64> {
        let n = rows.len() as u64;
        let lines = cell_lines(rows.into_iter());
        if tail.is_empty() {
            copy(conn, table, columns, lines).await.map(|()| n)
        } else {
            copy_upsert(conn, table, columns, tail, lines).await
        }
    }
}

/// COPY into a staging copy of `table`, then upsert from it with `tail`; the rows added.
async fn copy_upsert(
    conn: &mut PgConnection,
    table: &str,
    columns: &[&str],
    tail: &str,
    lines: String,
) -> Result<u64> {
    if lines.is_empty() {
        return Ok(0);
    }
    let stage = format!("stage_{table}");
    sqlx::query(AssertSqlSafe(format!(
        "CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DELETE ROWS"
    )))
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    copy(conn, &stage, columns, lines).await?;
    let cols = columns.join(", ");
    let done = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage}{tail}"
    )))
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    // Emptied at once, not at the commit: a streamed batch stages a table once per part.
    sqlx::query(AssertSqlSafe(format!("TRUNCATE {stage}")))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(done.rows_affected())
}

/// COPY lines of rows of the store's generic cells.
fn cell_lines(rows: impl Iterator<Item = Vec<Cell>>) -> String {
    let mut text = String::new();
    for row in rows {
        let fields: Vec<&dyn CopyField> = row.iter().map(|c| c as &dyn CopyField).collect();
        line(&mut text, &fields);
    }
    text
}

async fn pairs<T>(
    conn: &mut PgConnection,
    prefix: &str,
    keys: Vec<String>,
) -> Result<Vec<(String, T)>>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let rows = sqlx::query(AssertSqlSafe(format!("{prefix} = ANY($1)")))
        .bind(keys)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    rows.iter()
        .map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?)))
        .collect()
}

#[async_trait]
impl RegistryStore for PgStore {
    async fn upsert_households(&self, batch: &[Household], write: Write) -> Result<Vec<Outcome>> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let outcomes = upsert_in(&mut tx, batch, write).await?;
        if write == Write::DryRun {
            tx.rollback().await.map_err(db)?;
        } else {
            tx.commit().await.map_err(db)?;
        }
        Ok(outcomes)
    }

    async fn record_event(
        &self,
        household: &Household,
        event: &sanad_store::EventRow,
        actor: &sanad_store::Actor,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        for outcome in upsert_in(&mut tx, std::slice::from_ref(household), Write::Apply).await? {
            outcome.applied()?;
        }
        let id = self.sql().put_event(&mut tx, event, actor).await?;
        tx.commit().await.map_err(db)?;
        Ok(id)
    }

    async fn record_split(
        &self,
        remaining: &Household,
        new: &Household,
        events: &[sanad_store::EventRow; 2],
        actor: &sanad_store::Actor,
    ) -> Result<(i64, i64)> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // The members leaving are detached from the old household first, so the new one may take them.
        for outcome in upsert_in(&mut tx, std::slice::from_ref(remaining), Write::Apply).await? {
            outcome.applied()?;
        }
        match upsert_in(&mut tx, std::slice::from_ref(new), Write::Apply)
            .await?
            .pop()
        {
            Some(Outcome::Inserted) => {}
            Some(Outcome::Rejected(e)) => {
                return Err(sanad_store::StoreError::Refused(e.to_string()));
            }
            _ => {
                return Err(sanad_store::StoreError::Conflict(format!(
                    "household {}",
                    new.rsu_id
                )));
            }
        }
        let old_event = self.sql().put_event(&mut tx, &events[0], actor).await?;
        let new_event = self.sql().put_event(&mut tx, &events[1], actor).await?;
        tx.commit().await.map_err(db)?;
        Ok((old_event, new_event))
    }

    async fn bulk_load_begin(&self) -> Result<bool> {
        if !self.claim.take(&self.pool, None).await? {
            return Ok(false);
        }
        let empty = self.sql().bulk_load_begin().await;
        if !matches!(empty, Ok(true)) {
            self.claim.release().await;
        } else {
            for (table, name, _) in LOAD_CONSTRAINTS {
                self.run(format!(
                    "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"
                ))
                .await?;
            }
            for table in LOADED_TABLES {
                self.run(format!(
                    "ALTER TABLE {table} SET (autovacuum_enabled = false)"
                ))
                .await?;
            }
        }
        empty
    }

    async fn bulk_load_end(&self) -> Result<()> {
        let ended = self.end_load().await;
        self.claim.release().await;
        ended
    }

    async fn household(&self, scope: &Scope, id: &RsuId) -> Result<Option<Household>> {
        self.sql().household(scope, id).await
    }

    async fn households(&self, scope: &Scope, ids: &[RsuId]) -> Result<Vec<Household>> {
        self.sql().households(scope, ids).await
    }

    async fn duplicate_evidence(
        &self,
        households: &[Household],
    ) -> Result<sanad_store::DuplicateEvidence> {
        self.sql().duplicate_evidence(households).await
    }

    async fn find_households(&self, scope: &Scope, key: &FindKey) -> Result<Vec<HouseholdSummary>> {
        self.sql().find(scope, key).await
    }

    async fn list_households(
        &self,
        scope: &Scope,
        after: Option<&RsuId>,
        limit: u32,
    ) -> Result<Vec<HouseholdSummary>> {
        self.sql().list(scope, after, limit).await
    }

    async fn payment_instruments(
        &self,
        scope: &Scope,
    ) -> Result<Vec<(RsuId, sanad_domain::PaymentInstrument)>> {
        self.sql().instruments(scope).await
    }

    async fn count_by_region(&self, scope: &Scope) -> Result<Vec<RegionCount>> {
        self.sql().count_by_region(scope).await
    }

    async fn load_population(
        &self,
        scope: &Scope,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<Population> {
        sanad_store::population::load(&self.pool, scope, progress).await
    }

    async fn population_between(&self, after: &str, upto: &str) -> Result<Population> {
        sanad_store::population::load_between(&self.pool, after, upto).await
    }
}

sanad_store::delegate_to_generic!(PgStore);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_escapes_and_nulls() {
        let mut out = String::new();
        line(
            &mut out,
            &[
                &"a\tb\\c\nd".to_string(),
                &None::<String>,
                &true,
                &NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            ],
        );
        assert_eq!(out, "a\\tb\\\\c\\nd\t\\N\tt\t2024-02-29\n");
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://sanad:secret@localhost/db"),
            "postgres://sanad:***@localhost/db"
        );
        assert_eq!(redact("postgres://localhost/db"), "postgres://localhost/db");
    }
}

/// Write a batch of households in `tx` (the caller commits): new ones appended, changed ones
/// replaced, unchanged ones left alone.
type TX = sqlx::Transaction<'static, sqlx::Postgres>;

async fn upsert_in(tx: &mut TX, batch: &[Household], write: Write) -> Result<Vec<Outcome>> {
    let encoded = FORMAT.encode(batch);
    let hashes: Vec<i64> = encoded.iter().map(|e| e.hash).collect();
    // A load into an empty registry has nothing to look up (19 M ids not formatted).
    let (existing, owners): (HashMap<String, i64>, HashMap<String, String>) = match write {
        Write::Load => Default::default(),
        _ => {
            let ids = batch.iter().map(|h| h.rsu_id.to_string()).collect();
            let idcs = batch
                .iter()
                .flat_map(|h| h.members.iter().map(|m| m.idcs.to_string()))
                .collect();
            (
                pairs(tx, sql::EXISTING_HASHES, ids)
                    .await?
                    .into_iter()
                    .collect(),
                pairs(tx, sql::OWNERS, idcs).await?.into_iter().collect(),
            )
        }
    };
    let plan = BatchPlan::new(batch, &hashes, &existing, &owners);
    if write == Write::DryRun || plan.to_write.is_empty() {
        return Ok(plan.outcomes);
    }
    let lines = |part: fn(&Encoded) -> &str| FORMAT.gather(&encoded, &plan, part);
    if existing.is_empty() && owners.is_empty() {
        copy(tx, "households", HOUSEHOLD_COLUMNS, lines(|e| &e.household)).await?;
        copy(tx, "persons", PERSON_COLUMNS, lines(|e| &e.persons)).await?;
        copy(tx, "score_history", SCORE_COLUMNS, lines(|e| &e.scores)).await?;
    } else {
        for &(i, _) in plan
            .to_write
            .iter()
            .filter(|(i, _)| plan.outcomes[*i] == Outcome::Updated)
        {
            sqlx::query(sql::DETACH_MISSING)
                .bind(batch[i].rsu_id.to_string())
                .execute(&mut **tx)
                .await
                .map_err(db)?;
        }
        copy_upsert(
            tx,
            "households",
            HOUSEHOLD_COLUMNS,
            &sql::upsert_tail("rsu_id", HOUSEHOLD_COLUMNS),
            lines(|e| &e.household),
        )
        .await?;
        copy_upsert(
            tx,
            "persons",
            PERSON_COLUMNS,
            &sql::upsert_tail("idcs", PERSON_COLUMNS),
            lines(|e| &e.persons),
        )
        .await?;
        copy_upsert(
            tx,
            "score_history",
            SCORE_COLUMNS,
            " ON CONFLICT DO NOTHING",
            lines(|e| &e.scores),
        )
        .await?;
    }
    Ok(plan.outcomes)
}

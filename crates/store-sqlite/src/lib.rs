//! The SQLite adapter: one file, WAL journal, `synchronous=NORMAL`, foreign keys on.
//! A batch of households is one transaction; its rows are bound to one prepared statement
//! per table (`bound`).

mod bound;

use std::collections::HashMap;
use std::ptr::NonNull;
use std::str::FromStr;

use async_trait::async_trait;
use bound::Bind;
use sanad_domain::{Household, RsuId};
use sanad_store::generic::Sql;
use sanad_store::migrations::{self, Migration};
use sanad_store::payroll::{EntryRow, LineRow};
use sanad_store::rows::{
    HOUSEHOLD_COLUMNS, HouseholdRow, PERSON_COLUMNS, PersonRow, SCORE_COLUMNS, ScoreRow,
};
use sanad_store::{
    BatchPlan, FindKey, HouseholdSummary, Outcome, Population, RegionCount, RegistryStore, Result,
    Scope, StoreError, Write, sql,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, SqlitePool, Transaction};

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
];

/// The machine's cores, for SQLite's sorter threads.
fn cores() -> String {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .to_string()
}

/// Pages of WAL after which the writer's commit copies them into the file (64 MB).
const WAL_AUTOCHECKPOINT: &str = "16384";

/// The writer's page cache (256 MB), which keeps a load's B-tree pages from batch to batch.
const WRITER_CACHE: &str = "-262144";

/// The writer's page cache while it builds a load's indexes (4 MB). SQLite's sorter cuts its
/// runs at the page cache's size and sorts each as a linked list, which a 256 MB run makes a
/// walk of cache misses: `persons_last_name_ar` builds in 10 s with 4 MB runs against 20 s.
const SORT_CACHE: &str = "-4096";

/// SQLite allows 32,766 bound parameters per statement; stay well under it.
const MAX_PARAMS: usize = 30_000;

#[derive(Clone)]
pub struct SqliteStore {
    /// Readers.
    pool: SqlitePool,
    /// The single writer.
    writer: SqlitePool,
    claim: LoadClaim,
}

/// A first load's claim on the database, held from `bulk_load_begin` to `bulk_load_end`: a
/// lock on the file `<db>-load`, which the OS releases with a killed process. While another
/// process holds it, opening the database leaves the end of the load to that load (index
/// builds would hold the writer's lock for longer than the loader waits for it), and a
/// second import writes with upserts instead of loading.
#[derive(Clone)]
struct LoadClaim {
    path: Option<std::path::PathBuf>,
    held: std::sync::Arc<std::sync::Mutex<Option<std::fs::File>>>,
}

impl LoadClaim {
    fn for_database(path: &str) -> LoadClaim {
        let file = !path.is_empty() && !path.contains(":memory:") && !path.contains('?');
        LoadClaim {
            path: file.then(|| format!("{path}-load").into()),
            held: Default::default(),
        }
    }

    /// Take the claim unless another process (or store) holds it. Where the file cannot be
    /// created or locked, the claim is taken: loads then work as they did without it.
    fn try_take(&self) -> bool {
        let Some(path) = &self.path else { return true };
        let Ok(file) = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
        else {
            return true;
        };
        match file.try_lock() {
            Ok(()) => {
                *self.held.lock().expect("claim lock") = Some(file);
                true
            }
            Err(std::fs::TryLockError::WouldBlock) => false,
            Err(std::fs::TryLockError::Error(_)) => true,
        }
    }

    fn release(&self) {
        self.held.lock().expect("claim lock").take();
    }
}

fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

impl SqliteStore {
    /// Open (creating if needed) `sqlite://path` or a plain path, and apply pending migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        let open_err = |e: sqlx::Error| StoreError::Open {
            url: url.into(),
            reason: e.to_string(),
        };
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(open_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Statement journals of multi-row upserts stay in memory, not in temp files.
            .pragma("temp_store", "memory")
            .busy_timeout(std::time::Duration::from_secs(30))
            // Rows cross from the SQLite worker thread in a channel: a deep one lets national
            // reads stream without a thread wake-up per row.
            .row_buffer_size(16_384);
        // SQLite has one writer at a time. One connection for writes keeps its page cache warm
        // from batch to batch (a write by another connection would invalidate it).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                opts.clone()
                    .pragma("cache_size", WRITER_CACHE)
                    .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT)
                    // SQLite's sorter may use every core: building the national indexes
                    // after a load sorts 18.6 M persons (100 s → 39 s for the widest).
                    .pragma("threads", cores()),
            )
            .await
            .map_err(open_err)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            // Readers map the file: national reads copy no pages through `pread`.
            .connect_with(
                opts.pragma("cache_size", "-65536")
                    .pragma("mmap_size", "1099511627776"),
            )
            .await
            .map_err(open_err)?;
        let store = SqliteStore {
            pool,
            writer,
            claim: LoadClaim::for_database(path),
        };
        store.migrate().await?;
        // The end of a load killed half-way, unless a load is running elsewhere.
        if store.claim.try_take() {
            store.bulk_load_end().await?;
        }
        Ok(store)
    }

    fn sql(&self) -> Sql<'_, Sqlite> {
        Sql {
            read: &self.pool,
            write: &self.writer,
            index_prelude: None,
            audit_lock: None,
            write_rows: None,
        }
    }

    /// Build the missing indexes, and give the writer back its settings.
    async fn end_load(&self) -> Result<()> {
        let built = if self.indexes_missing().await? {
            // The index builds sort on temporary files, which the OS caches, rather than in
            // this process's memory: 2.5 GB for the national persons. Outside a transaction,
            // where SQLite allows the change.
            self.pragma("temp_store", "FILE").await?;
            self.pragma("wal_autocheckpoint", "0").await?;
            self.pragma("cache_size", SORT_CACHE).await?;
            let built = self.checkpointing_aside(self.sql().bulk_load_end()).await;
            self.pragma("cache_size", WRITER_CACHE).await?;
            self.pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT)
                .await?;
            self.pragma("temp_store", "MEMORY").await?;
            built
        } else {
            Ok(())
        };
        self.pragma("foreign_keys", "ON").await?;
        built
    }

    /// Whether a load left secondary indexes to build (checked at every open).
    async fn indexes_missing(&self) -> Result<bool> {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'index'")
                .fetch_all(&self.writer)
                .await
                .map_err(db)?;
        Ok(sql::SECONDARY_INDEXES
            .iter()
            .any(|(name, _)| !names.iter().any(|n| n == name)))
    }

    /// Run `work` on the writer while a reader connection checkpoints the WAL every second.
    /// The index builds of a load leave a core idle while they sort; the writer's own
    /// checkpoint after each build (1.7 GB for the widest) would stall it, 12 s in all.
    async fn checkpointing_aside<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        let (done, mut stop) = tokio::sync::oneshot::channel::<()>();
        let work = async {
            let out = work.await;
            let _ = done.send(());
            out
        };
        let aside = async {
            loop {
                tokio::select! {
                    _ = &mut stop => break,
                    () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                }
                if let Err(e) = sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&self.pool)
                    .await
                {
                    // The writer's next commit checkpoints instead.
                    tracing::debug!(error = %e, "checkpoint beside the writer");
                    break;
                }
            }
        };
        let (out, ()) = tokio::join!(work, aside);
        // What the last build wrote, and the log back to nothing.
        self.pragma("wal_checkpoint", "TRUNCATE").await?;
        out
    }

    /// Run `work`, a transaction larger than the writer's checkpoint threshold, without the
    /// checkpoint at its commit: the commit returns once the WAL holds it, and a reader
    /// connection copies it into the database afterwards, beside what the writer does next.
    /// A national launch wave's WAL is 2.8 GB; its checkpoint held the commit 8–10 s.
    async fn large_transaction<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        self.pragma("wal_autocheckpoint", "0").await?;
        let out = work.await;
        // The work's own outcome stands: a failed restore must not report a committed batch
        // as failed. The writer then checkpoints only when asked, until the next open.
        if let Err(e) = self.pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT).await {
            tracing::warn!(error = %e, "the writer's checkpoint threshold was not restored");
        }
        if out.is_err() {
            // Rolled back: nothing was committed to copy.
            return out;
        }
        let readers = self.pool.clone();
        tokio::spawn(async move {
            let t = std::time::Instant::now();
            // Cut short (the process ends), the writer's next commit checkpoints instead.
            let done = sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&readers)
                .await;
            tracing::debug!(took = ?t.elapsed(), ok = done.is_ok(), "checkpoint after a large transaction");
        });
        out
    }

    /// Set a pragma on the writer's connection, outside a transaction.
    async fn pragma(&self, name: &str, value: &str) -> Result<()> {
        sqlx::raw_sql(AssertSqlSafe(format!("PRAGMA {name} = {value}")))
            .execute(&self.writer)
            .await
            .map(drop)
            .map_err(db)
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A page of the prepared payroll: the shared multi-row INSERTs, which SQLite takes as
    /// SQL literals (PostgreSQL's adapter uses COPY).
    async fn write_prepared(
        &self,
        month: &str,
        lines: &[LineRow],
        entries: &[(i64, EntryRow)],
    ) -> Result<()> {
        self.sql().add_prepared(month, lines, entries).await
    }

    async fn migrate(&self) -> Result<()> {
        sqlx::query(migrations::CREATE_TABLE)
            .execute(&self.writer)
            .await
            .map_err(db)?;
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM sanad_migrations")
            .fetch_all(&self.writer)
            .await
            .map_err(db)?;
        for m in migrations::pending(MIGRATIONS, &applied) {
            let mut tx = self.writer.begin().await.map_err(db)?;
            sqlx::raw_sql(m.sql).execute(&mut *tx).await.map_err(db)?;
            sqlx::query(
                "INSERT INTO sanad_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            tx.commit().await.map_err(db)?;
        }
        Ok(())
    }
}

/// `<prefix> IN (keys…)`, in chunks under the parameter limit; pairs of the first two columns.
async fn lookup<T: for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite> + Send + Unpin>(
    tx: &mut Transaction<'_, Sqlite>,
    prefix: &str,
    keys: &[String],
) -> Result<Vec<(String, T)>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(MAX_PARAMS) {
        let mut qb = QueryBuilder::<Sqlite>::new(format!("{prefix} IN ("));
        let mut sep = qb.separated(", ");
        for k in chunk {
            sep.push_bind(k.clone());
        }
        qb.push(")");
        for r in qb.build().fetch_all(&mut **tx).await.map_err(db)? {
            out.push((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?));
        }
    }
    Ok(out)
}

/// The values of one row of each registry table, in the order of its `*_COLUMNS`.
fn household_values<'r>(h: &'r HouseholdRow<&str>) -> [&'r dyn Bind; 12] {
    sanad_store::household_values!(h)
}

fn person_values<'r>(p: &'r PersonRow<&str>) -> [&'r dyn Bind; 22] {
    sanad_store::person_values!(p)
}

fn score_values<'r>(s: &'r ScoreRow<&str>) -> [&'r dyn Bind; 4] {
    sanad_store::score_values!(s)
}

/// A household split into its rows (its content hash in the household row): the CPU work of
/// a batch, done before the batch takes the writer, so that one batch is prepared while
/// another is written.
struct Rows<'a> {
    household: HouseholdRow<&'a str>,
    persons: Vec<PersonRow<&'a str>>,
    scores: Vec<ScoreRow<&'a str>>,
}

fn split(batch: &[Household]) -> Vec<Rows<'_>> {
    batch
        .iter()
        .map(|h| {
            let hash = sanad_store::plan::content_hash(h);
            let (household, persons, scores) = sanad_store::rows::to_rows(h, hash);
            Rows {
                household,
                persons,
                scores,
            }
        })
        .collect()
}

/// Insert `rows` into `table` through one prepared statement on the locked writer handle.
fn insert<'r, R: 'r, const N: usize>(
    handle: NonNull<libsqlite3_sys::sqlite3>,
    table: &str,
    columns: &[&str],
    tail: &str,
    rows: impl Iterator<Item = &'r R>,
    values: fn(&R) -> [&dyn Bind; N],
) -> Result<()> {
    let failed = |e: String| StoreError::Database(format!("insert into {table}: {e}"));
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({}){tail}",
        columns.join(", "),
        vec!["?"; columns.len()].join(", ")
    );
    let mut insert = bound::Insert::prepare(handle, &sql).map_err(failed)?;
    for r in rows {
        insert.row(&values(r)).map_err(failed)?;
    }
    Ok(())
}

#[async_trait]
impl RegistryStore for SqliteStore {
    async fn upsert_households(&self, batch: &[Household], write: Write) -> Result<Vec<Outcome>> {
        let rows = split(batch);
        let mut tx = self.writer.begin().await.map_err(db)?;
        let outcomes = upsert_in(&mut tx, batch, &rows, write).await?;
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
        let mut tx = self.writer.begin().await.map_err(db)?;
        upsert_one(&mut tx, household).await?.applied()?;
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
        let mut tx = self.writer.begin().await.map_err(db)?;
        // The members leaving are detached from the old household first, so the new one may take them.
        upsert_one(&mut tx, remaining).await?.applied()?;
        match upsert_one(&mut tx, new).await? {
            Outcome::Inserted => {}
            Outcome::Rejected(e) => {
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
        if !self.claim.try_take() {
            return Ok(false);
        }
        let empty = self.sql().bulk_load_begin().await;
        if !matches!(empty, Ok(true)) {
            self.claim.release();
        } else {
            // Each person and score would look its household up: 24 M look-ups on the
            // writer's path nationally. The load writes every household with its members
            // and scores, in one transaction, so none can point elsewhere. The setting
            // belongs to the writer's connection, which a killed load takes with it.
            self.pragma("foreign_keys", "OFF").await?;
        }
        empty
    }

    async fn bulk_load_end(&self) -> Result<()> {
        let ended = self.end_load().await;
        self.claim.release();
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

sanad_store::delegate_to_generic!(SqliteStore);

/// Write a batch of households in `tx` (the caller commits): new ones appended, changed ones
/// replaced, unchanged ones left alone.
type TX = Transaction<'static, Sqlite>;

/// One household written in `tx`, for the life events.
async fn upsert_one(tx: &mut TX, h: &Household) -> Result<Outcome> {
    let batch = std::slice::from_ref(h);
    let mut outcomes = upsert_in(tx, batch, &split(batch), Write::Apply).await?;
    Ok(outcomes.pop().expect("one outcome per household"))
}

async fn upsert_in(
    tx: &mut TX,
    batch: &[Household],
    rows: &[Rows<'_>],
    write: Write,
) -> Result<Vec<Outcome>> {
    let hashes: Vec<i64> = rows.iter().map(|r| r.household.content_hash).collect();
    let (existing, owners): (HashMap<String, i64>, HashMap<String, String>) = match write {
        Write::Load => Default::default(),
        _ => {
            let ids: Vec<String> = batch.iter().map(|h| h.rsu_id.to_string()).collect();
            let idcs: Vec<String> = batch
                .iter()
                .flat_map(|h| h.members.iter().map(|m| m.idcs.to_string()))
                .collect();
            (
                lookup(tx, sql::EXISTING_HASHES, &ids)
                    .await?
                    .into_iter()
                    .collect(),
                lookup(tx, sql::OWNERS, &idcs).await?.into_iter().collect(),
            )
        }
    };
    let plan = BatchPlan::new(batch, &hashes, &existing, &owners);
    if write == Write::DryRun || plan.to_write.is_empty() {
        return Ok(plan.outcomes);
    }
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
    // A batch of only new households and persons (a national load) needs no conflict clauses.
    let fresh = existing.is_empty() && owners.is_empty();
    let tail = |key: &str, cols: &[&str]| {
        if fresh {
            String::new()
        } else {
            sql::upsert_tail(key, cols)
        }
    };
    let chosen: Vec<&Rows<'_>> = plan.to_write.iter().map(|&(i, _)| &rows[i]).collect();
    let mut locked = tx.lock_handle().await.map_err(db)?;
    let handle = locked.as_raw_handle();
    insert(
        handle,
        "households",
        HOUSEHOLD_COLUMNS,
        &tail("rsu_id", HOUSEHOLD_COLUMNS),
        chosen.iter().map(|r| &r.household),
        household_values,
    )?;
    insert(
        handle,
        "persons",
        PERSON_COLUMNS,
        &tail("idcs", PERSON_COLUMNS),
        chosen.iter().flat_map(|r| &r.persons),
        person_values,
    )?;
    insert(
        handle,
        "score_history",
        SCORE_COLUMNS,
        if fresh { "" } else { " ON CONFLICT DO NOTHING" },
        chosen.iter().flat_map(|r| &r.scores),
        score_values,
    )?;
    Ok(plan.outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// While one store loads, another opening the same file neither builds the indexes nor
    /// loads: it writes with upserts, and the load's end still builds them.
    #[tokio::test]
    async fn an_open_during_a_load_leaves_its_end_to_the_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db").display().to_string();
        let loader = SqliteStore::open(&path).await.unwrap();
        assert!(loader.bulk_load_begin().await.unwrap());
        let other = SqliteStore::open(&path).await.unwrap();
        assert!(other.indexes_missing().await.unwrap());
        assert!(!other.bulk_load_begin().await.unwrap());
        let sample = sanad_store::conformance::sample;
        loader
            .upsert_households(&[sample(1, "01")], Write::Load)
            .await
            .unwrap();
        let outcomes = other
            .upsert_households(&[sample(2, "01")], Write::Apply)
            .await
            .unwrap();
        assert_eq!(outcomes, [Outcome::Inserted]);
        loader.bulk_load_end().await.unwrap();
        assert!(!other.indexes_missing().await.unwrap());
        // The claim is free again: the next load into an empty file may take it.
        drop((loader, other));
        let next = dir.path().join("u.db").display().to_string();
        let store = SqliteStore::open(&next).await.unwrap();
        assert!(store.bulk_load_begin().await.unwrap());
        store.bulk_load_end().await.unwrap();
        let reopened = SqliteStore::open(&path).await.unwrap();
        assert!(!reopened.bulk_load_begin().await.unwrap());
    }

    /// The writer connection's value of pragma `name`.
    async fn writer_setting(store: &SqliteStore, name: &str) -> i64 {
        sqlx::query_scalar(AssertSqlSafe(format!("PRAGMA {name}")))
            .fetch_one(&store.writer)
            .await
            .unwrap()
    }

    /// A streamed batch runs without the writer's checkpoint at its commit, and gives the
    /// writer its threshold back whether it committed or rolled back.
    #[tokio::test]
    async fn a_large_transaction_gives_the_writer_back_its_checkpoints() {
        use sanad_store::ApplicationStore;
        use sanad_store::applications::Streamed;
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db").display().to_string())
            .await
            .unwrap();
        let stream = |commit: bool| {
            let (tx, rx) = tokio::sync::mpsc::channel(1);
            if commit {
                tx.try_send(Streamed::Commit).unwrap();
            }
            rx
        };
        let actor = sanad_store::Actor::new("bulk", "req-1");
        for commit in [false, true] {
            let saved = store
                .save_applications_streamed(stream(commit), "submit", &actor)
                .await;
            assert_eq!(saved.is_ok(), commit);
            assert_eq!(writer_setting(&store, "wal_autocheckpoint").await, 16384);
        }
    }

    /// A load into an empty registry writes without foreign-key look-ups, and its end gives
    /// the writer back its checks, its in-memory temporary store, its own checkpoints and its
    /// page cache (the index builds sort with a small one).
    #[tokio::test]
    async fn a_load_gives_the_writer_back_its_settings() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db").display().to_string())
            .await
            .unwrap();
        let setting = async |name: &str| writer_setting(&store, name).await;
        assert_eq!(
            (setting("foreign_keys").await, setting("temp_store").await),
            (1, 2)
        );
        assert!(store.bulk_load_begin().await.unwrap());
        assert_eq!(setting("foreign_keys").await, 0);
        let batch = [sanad_store::conformance::sample(1, "01")];
        store.upsert_households(&batch, Write::Load).await.unwrap();
        store.bulk_load_end().await.unwrap();
        assert_eq!(
            (
                setting("foreign_keys").await,
                setting("temp_store").await,
                setting("wal_autocheckpoint").await,
                setting("cache_size").await
            ),
            (1, 2, 16384, -262_144)
        );
        // The indexes were built while a reader checkpointed, and the log is empty again.
        let wal = std::fs::metadata(dir.path().join("t.db-wal"))
            .unwrap()
            .len();
        assert_eq!(wal, 0);
        assert!(!store.indexes_missing().await.unwrap());
        let orphan = sqlx::query(
            "INSERT INTO score_history (household_id, value_millionths, computed_on, valid_from) \
             VALUES ('999999999', 1, '2026-01-01', '2026-01-01')",
        )
        .execute(&store.writer)
        .await
        .unwrap_err();
        assert!(orphan.to_string().contains("FOREIGN KEY"), "{orphan}");
    }
}

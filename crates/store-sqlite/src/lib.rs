//! The SQLite adapter: one file, WAL journal, `synchronous=NORMAL`, foreign keys on.
//! Bulk writes are multi-row `INSERT … VALUES` statements inside one transaction per batch.

use std::collections::HashMap;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::NaiveDate;
use sanad_domain::{Household, RsuId};
use sanad_store::migrations::{self, Migration};
use sanad_store::rows::{self, decode, HouseholdRow, PersonRow, ScoreRow, HOUSEHOLD_COLUMNS, PERSON_COLUMNS, SCORE_COLUMNS};
use sanad_store::rulesets::{self, RuleSetStore, StoredRuleSet};
use sanad_store::{sql, BatchPlan, Population, FindKey, HouseholdSummary, Outcome, RegionCount, RegistryStore, Result, Scope, StoreError, Write};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite, SqlitePool, Transaction};

const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "registry", sql: include_str!("../migrations/0001_registry.sql") },
    Migration { version: 2, name: "rule_sets", sql: include_str!("../migrations/0002_rule_sets.sql") },
];

/// SQLite allows 32,766 bound parameters per statement; stay well under it.
const MAX_PARAMS: usize = 30_000;

#[derive(Clone)]
pub struct SqliteStore {
    /// Readers.
    pool: SqlitePool,
    /// The single writer.
    writer: SqlitePool,
}

fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

impl SqliteStore {
    /// Open (creating if needed) `sqlite://path` or a plain path, and apply pending migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        let open_err = |e: sqlx::Error| StoreError::Open { url: url.into(), reason: e.to_string() };
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
            .connect_with(opts.clone().pragma("cache_size", "-524288").pragma("wal_autocheckpoint", "16384"))
            .await
            .map_err(open_err)?;
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts.pragma("cache_size", "-65536")).await.map_err(open_err)?;
        let store = SqliteStore { pool, writer };
        store.migrate().await?;
        store.bulk_load_end().await?;
        Ok(store)
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn migrate(&self) -> Result<()> {
        sqlx::query(migrations::CREATE_TABLE).execute(&self.writer).await.map_err(db)?;
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM sanad_migrations").fetch_all(&self.writer).await.map_err(db)?;
        for m in migrations::pending(MIGRATIONS, &applied) {
            let mut tx = self.writer.begin().await.map_err(db)?;
            sqlx::raw_sql(m.sql).execute(&mut *tx).await.map_err(db)?;
            sqlx::query("INSERT INTO sanad_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
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

async fn insert_rows<T>(
    tx: &mut Transaction<'_, Sqlite>,
    table: &str,
    columns: &[&str],
    tail: &str,
    rows: &[T],
    bind: impl Fn(&mut sqlx::query_builder::Separated<'_, Sqlite, &'static str>, &T),
) -> Result<()> {
    for chunk in rows.chunks(MAX_PARAMS / columns.len()) {
        let mut qb = QueryBuilder::<Sqlite>::new(format!("INSERT INTO {table} ({}) ", columns.join(", ")));
        qb.push_values(chunk, |mut b, row| bind(&mut b, row));
        qb.push(tail);
        qb.build().execute(&mut **tx).await.map_err(db)?;
    }
    Ok(())
}

fn bind_household(b: &mut sqlx::query_builder::Separated<'_, Sqlite, &'static str>, h: &HouseholdRow) {
    b.push_bind(h.rsu_id.clone())
        .push_bind(h.region.clone())
        .push_bind(h.province.clone())
        .push_bind(h.commune.clone())
        .push_bind(h.area.clone())
        .push_bind(h.registrant.clone())
        .push_bind(h.phone.clone())
        .push_bind(h.instrument_kind.clone())
        .push_bind(h.instrument_provider.clone())
        .push_bind(h.instrument_ref.clone())
        .push_bind(h.status.clone())
        .push_bind(h.content_hash);
}

fn bind_person(b: &mut sqlx::query_builder::Separated<'_, Sqlite, &'static str>, p: &PersonRow) {
    b.push_bind(p.idcs.clone())
        .push_bind(p.household_id.clone())
        .push_bind(p.position)
        .push_bind(p.cnie.clone())
        .push_bind(p.first_name.clone())
        .push_bind(p.last_name.clone())
        .push_bind(p.first_name_ar.clone())
        .push_bind(p.last_name_ar.clone())
        .push_bind(p.sex.clone())
        .push_bind(p.birth_date)
        .push_bind(p.death_date)
        .push_bind(p.relation.clone())
        .push_bind(p.marital_status.clone())
        .push_bind(p.schooling.clone())
        .push_bind(p.disability.clone())
        .push_bind(p.father_deceased)
        .push_bind(p.public_employee_source.clone())
        .push_bind(p.public_employee_date)
        .push_bind(p.pensioner_source.clone())
        .push_bind(p.pensioner_date)
        .push_bind(p.family_allowance_source.clone())
        .push_bind(p.family_allowance_date);
}

fn bind_score(b: &mut sqlx::query_builder::Separated<'_, Sqlite, &'static str>, s: &ScoreRow) {
    b.push_bind(s.household_id.clone()).push_bind(s.value_millionths).push_bind(s.computed_on).push_bind(s.valid_from);
}

#[async_trait]
impl RegistryStore for SqliteStore {
    async fn upsert_households(&self, batch: &[Household], write: Write) -> Result<Vec<Outcome>> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let ids: Vec<String> = batch.iter().map(|h| h.rsu_id.to_string()).collect();
        let idcs: Vec<String> = batch.iter().flat_map(|h| h.members.iter().map(|m| m.idcs.to_string())).collect();
        let existing: HashMap<String, i64> = lookup(&mut tx, sql::EXISTING_HASHES, &ids).await?.into_iter().collect();
        let owners: HashMap<String, String> = lookup(&mut tx, sql::OWNERS, &idcs).await?.into_iter().collect();
        let plan = BatchPlan::new(batch, &existing, &owners);
        if write == Write::DryRun || plan.to_write.is_empty() {
            tx.rollback().await.map_err(db)?;
            return Ok(plan.outcomes);
        }
        let (mut hs, mut ps, mut ss) = (Vec::new(), Vec::new(), Vec::new());
        for &(i, hash) in &plan.to_write {
            let (h, p, s) = rows::to_rows(&batch[i], hash);
            hs.push(h);
            ps.extend(p);
            ss.extend(s);
        }
        for &(i, _) in plan.to_write.iter().filter(|(i, _)| plan.outcomes[*i] == Outcome::Updated) {
            sqlx::query(sql::DETACH_MISSING).bind(batch[i].rsu_id.to_string()).execute(&mut *tx).await.map_err(db)?;
        }
        // A batch of only new households and persons (a national load) needs no conflict clauses.
        let fresh = existing.is_empty() && owners.is_empty();
        let tail = |key: &str, cols: &[&str]| if fresh { String::new() } else { sql::upsert_tail(key, cols) };
        insert_rows(&mut tx, "households", HOUSEHOLD_COLUMNS, &tail("rsu_id", HOUSEHOLD_COLUMNS), &hs, bind_household).await?;
        insert_rows(&mut tx, "persons", PERSON_COLUMNS, &tail("idcs", PERSON_COLUMNS), &ps, bind_person).await?;
        insert_rows(&mut tx, "score_history", SCORE_COLUMNS, if fresh { "" } else { " ON CONFLICT DO NOTHING" }, &ss, bind_score).await?;
        tx.commit().await.map_err(db)?;
        Ok(plan.outcomes)
    }

    async fn bulk_load_begin(&self) -> Result<bool> {
        let empty: bool = sqlx::query_scalar(sql::IS_EMPTY).fetch_one(&self.writer).await.map_err(db)?;
        if empty {
            for (name, _) in sql::SECONDARY_INDEXES {
                sqlx::query(AssertSqlSafe(format!("DROP INDEX IF EXISTS {name}"))).execute(&self.writer).await.map_err(db)?;
            }
        }
        Ok(empty)
    }

    async fn bulk_load_end(&self) -> Result<()> {
        for (_, create) in sql::SECONDARY_INDEXES {
            sqlx::query(*create).execute(&self.writer).await.map_err(db)?;
        }
        Ok(())
    }

    async fn household(&self, scope: &Scope, id: &RsuId) -> Result<Option<Household>> {
        let Some(row) = sqlx::query(AssertSqlSafe(sql::household(scope))).bind(id.to_string()).fetch_optional(&self.pool).await.map_err(db)? else {
            return Ok(None);
        };
        let h = decode::household(&row).map_err(db)?;
        let persons = sqlx::query(sql::PERSONS_OF).bind(id.to_string()).fetch_all(&self.pool).await.map_err(db)?;
        let scores = sqlx::query(sql::SCORES_OF).bind(id.to_string()).fetch_all(&self.pool).await.map_err(db)?;
        let persons = persons.iter().map(decode::person).collect::<Result<Vec<_>, _>>().map_err(db)?;
        let scores = scores.iter().map(decode::score).collect::<Result<Vec<_>, _>>().map_err(db)?;
        rows::from_rows(h, persons, scores, chrono::Local::now().date_naive()).map(Some)
    }

    async fn find_households(&self, scope: &Scope, key: &FindKey) -> Result<Vec<HouseholdSummary>> {
        let rows = sqlx::query(AssertSqlSafe(sql::find(scope, key))).bind(key.value()).fetch_all(&self.pool).await.map_err(db)?;
        rows.iter().map(decode::summary).collect::<Result<_, _>>().map_err(db)
    }

    async fn list_households(&self, scope: &Scope, after: Option<&RsuId>, limit: u32) -> Result<Vec<HouseholdSummary>> {
        let after = after.map(ToString::to_string).unwrap_or_default();
        let rows = sqlx::query(AssertSqlSafe(sql::list(scope))).bind(after).bind(i64::from(limit)).fetch_all(&self.pool).await.map_err(db)?;
        rows.iter().map(decode::summary).collect::<Result<_, _>>().map_err(db)
    }

    async fn count_by_region(&self, scope: &Scope) -> Result<Vec<RegionCount>> {
        let rows = sqlx::query(AssertSqlSafe(sql::count_by_region(scope))).fetch_all(&self.pool).await.map_err(db)?;
        rows.iter().map(decode::region_count).collect::<Result<_, _>>().map_err(db)
    }

    async fn load_population(&self, scope: &Scope, progress: &(dyn Fn(u64) + Send + Sync)) -> Result<Population> {
        sanad_store::population::load(&self.pool, scope, progress).await
    }
}

#[async_trait]
impl RuleSetStore for SqliteStore {
    async fn propose_rule_set(&self, id: &str, effective_from: NaiveDate, body: &str, by: &str) -> Result<()> {
        let res = sqlx::query(rulesets::sql::INSERT)
            .bind(id)
            .bind(effective_from)
            .bind(body)
            .bind(by)
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(&self.writer)
            .await;
        match res {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Conflict(format!("rule set {id}"))),
            other => other.map(|_| ()).map_err(db),
        }
    }

    async fn approve_rule_set(&self, id: &str, by: &str) -> Result<StoredRuleSet> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let res = sqlx::query(rulesets::sql::APPROVE).bind(id).bind(by).bind(chrono::Utc::now().to_rfc3339()).execute(&mut *tx).await;
        let updated = match res {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Refused(format!("another approved rule set takes effect on the same date as {id}")));
            }
            other => other.map_err(db)?.rows_affected(),
        };
        let row = sqlx::query(rulesets::sql::GET).bind(id).fetch_optional(&mut *tx).await.map_err(db)?;
        let row = row.as_ref().map(decode::rule_set).transpose().map_err(db)?;
        if updated != 1 {
            return Err(rulesets::refusal(row.as_ref(), id, by));
        }
        tx.commit().await.map_err(db)?;
        row.ok_or_else(|| StoreError::NotFound(format!("rule set {id}")))
    }

    async fn rule_sets(&self) -> Result<Vec<StoredRuleSet>> {
        let rows = sqlx::query(rulesets::sql::LIST).fetch_all(&self.pool).await.map_err(db)?;
        rows.iter().map(decode::rule_set).collect::<Result<_, _>>().map_err(db)
    }
}

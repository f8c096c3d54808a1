//! The store operations whose SQL and decoding are the same on both backends, written once
//! over any sqlx pool that decodes Sanad's column types. Each adapter keeps only what
//! differs: opening, migrations, and its bulk write path.

use chrono::NaiveDate;
use sanad_domain::{Household, RsuId};
use sqlx::{AssertSqlSafe, ColumnIndex, Database, Encode, Executor, IntoArguments, Pool, Type};

use crate::rows::{self, decode, decode::SanadRow};
use crate::rulesets::{self, StoredRuleSet};
use crate::{sql, FindKey, HouseholdSummary, RegionCount, Result, Scope, StoreError};

pub fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// A backend's readers and its writer (the same pool on PostgreSQL).
pub struct Sql<'a, DB: Database> {
    pub read: &'a Pool<DB>,
    pub write: &'a Pool<DB>,
    /// Run before building indexes in the same transaction (PostgreSQL: more sort memory).
    pub index_prelude: Option<&'static str>,
}

impl<DB> Sql<'_, DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Row: SanadRow,
    for<'a> &'a str: ColumnIndex<DB::Row>,
    for<'q> <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> NaiveDate: Encode<'q, DB> + Type<DB>,
{
    pub async fn household(&self, scope: &Scope, id: &RsuId) -> Result<Option<Household>> {
        let id = id.to_string();
        let Some(row) = sqlx::query::<DB>(AssertSqlSafe(sql::household(scope))).bind(id.clone()).fetch_optional(self.read).await.map_err(db)? else {
            return Ok(None);
        };
        let h = decode::household(&row).map_err(db)?;
        let persons = sqlx::query::<DB>(sql::PERSONS_OF).bind(id.clone()).fetch_all(self.read).await.map_err(db)?;
        let scores = sqlx::query::<DB>(sql::SCORES_OF).bind(id).fetch_all(self.read).await.map_err(db)?;
        let persons = persons.iter().map(decode::person).collect::<Result<Vec<_>, _>>().map_err(db)?;
        let scores = scores.iter().map(decode::score).collect::<Result<Vec<_>, _>>().map_err(db)?;
        rows::from_rows(h, persons, scores, chrono::Local::now().date_naive()).map(Some)
    }

    pub async fn find(&self, scope: &Scope, key: &FindKey) -> Result<Vec<HouseholdSummary>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(sql::find(scope, key))).bind(key.value()).fetch_all(self.read).await.map_err(db)?;
        rows.iter().map(decode::summary).collect::<Result<_, _>>().map_err(db)
    }

    pub async fn list(&self, scope: &Scope, after: Option<&RsuId>, limit: u32) -> Result<Vec<HouseholdSummary>> {
        let after = after.map(ToString::to_string).unwrap_or_default();
        let rows = sqlx::query::<DB>(AssertSqlSafe(sql::list(scope))).bind(after).bind(i64::from(limit)).fetch_all(self.read).await.map_err(db)?;
        rows.iter().map(decode::summary).collect::<Result<_, _>>().map_err(db)
    }

    pub async fn count_by_region(&self, scope: &Scope) -> Result<Vec<RegionCount>> {
        let rows = sqlx::query::<DB>(AssertSqlSafe(sql::count_by_region(scope))).fetch_all(self.read).await.map_err(db)?;
        rows.iter().map(decode::region_count).collect::<Result<_, _>>().map_err(db)
    }

    /// Drop the secondary indexes if the registry is empty (see `RegistryStore::bulk_load_begin`).
    pub async fn bulk_load_begin(&self) -> Result<bool> {
        let row = sqlx::query::<DB>(sql::IS_EMPTY).fetch_one(self.write).await.map_err(db)?;
        let empty = row.flag("empty").map_err(db)?;
        if empty {
            for (name, _) in sql::SECONDARY_INDEXES {
                sqlx::query::<DB>(AssertSqlSafe(format!("DROP INDEX IF EXISTS {name}"))).execute(self.write).await.map_err(db)?;
            }
        }
        Ok(empty)
    }

    pub async fn bulk_load_end(&self) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        if let Some(prelude) = self.index_prelude {
            sqlx::query::<DB>(prelude).execute(&mut *tx).await.map_err(db)?;
        }
        for (_, create) in sql::SECONDARY_INDEXES {
            sqlx::query::<DB>(*create).execute(&mut *tx).await.map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    pub async fn propose_rule_set(&self, id: &str, effective_from: NaiveDate, body: &str, by: &str) -> Result<()> {
        let res = sqlx::query::<DB>(rulesets::sql::INSERT)
            .bind(id.to_owned())
            .bind(effective_from)
            .bind(body.to_owned())
            .bind(by.to_owned())
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(self.write)
            .await;
        match res {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Conflict(format!("rule set {id}"))),
            other => other.map(|_| ()).map_err(db),
        }
    }

    pub async fn approve_rule_set(&self, id: &str, by: &str) -> Result<StoredRuleSet> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let res = sqlx::query::<DB>(rulesets::sql::APPROVE)
            .bind(id.to_owned())
            .bind(by.to_owned())
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await;
        match res {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Refused(format!("another approved rule set takes effect on the same date as {id}")));
            }
            other => other.map_err(db)?,
        };
        let row = sqlx::query::<DB>(rulesets::sql::GET).bind(id.to_owned()).fetch_optional(&mut *tx).await.map_err(db)?;
        let row = row.as_ref().map(decode::rule_set).transpose().map_err(db)?;
        // Approved by this user now (or already, which is the same outcome): done.
        let done = row.as_ref().is_some_and(|r| r.approved_by.as_deref() == Some(by));
        if !done {
            return Err(rulesets::refusal(row.as_ref(), id, by));
        }
        tx.commit().await.map_err(db)?;
        row.ok_or_else(|| StoreError::NotFound(format!("rule set {id}")))
    }

    pub async fn rule_sets(&self) -> Result<Vec<StoredRuleSet>> {
        let rows = sqlx::query::<DB>(rulesets::sql::LIST).fetch_all(self.read).await.map_err(db)?;
        rows.iter().map(decode::rule_set).collect::<Result<_, _>>().map_err(db)
    }
}

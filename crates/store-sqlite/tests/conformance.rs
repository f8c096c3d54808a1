//! The shared conformance suite on a fresh SQLite file per test.

use sanad_store::Store;
use sanad_store_sqlite::SqliteStore;

async fn fresh() -> Box<dyn Store> {
    let dir = tempfile::tempdir().expect("temp dir").keep();
    Box::new(
        SqliteStore::open(&format!("sqlite://{}", dir.join("test.db").display()))
            .await
            .expect("open"),
    )
}

sanad_store::conformance_tests!(fresh());

#[tokio::test]
async fn reopening_applies_no_migration_twice() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let count = |s: SqliteStore| async move {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM sanad_migrations")
            .fetch_one(s.pool())
            .await
            .unwrap();
        n
    };
    let first = count(SqliteStore::open(&url).await.unwrap()).await;
    assert!(first >= 2);
    let store = SqliteStore::open(&url).await.unwrap();
    assert_eq!(count(store.clone()).await, first);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(fk, 1);
}

#[tokio::test]
async fn audit_tampering_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&format!("sqlite://{}", dir.path().join("a.db").display()))
        .await
        .unwrap();
    let pool = store.pool().clone();
    let sql = async |q: &str| {
        sqlx::raw_sql(sqlx::AssertSqlSafe(q.to_owned()))
            .execute(&pool)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let unprotect = "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete";
    sanad_store::conformance::audit_tampering_is_detected(&store, sql, unprotect).await;
}

// pilot frozen designs (issue 7)
#[tokio::test]
async fn pilot_frozen_rows_refuse_raw_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&format!("sqlite://{}", dir.path().join("f.db").display()))
        .await
        .unwrap();
    let pool = store.pool().clone();
    let sql = async |q: &str| {
        sqlx::raw_sql(sqlx::AssertSqlSafe(q.to_owned()))
            .execute(&pool)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    sanad_store::conformance::pilot_frozen_rows_refuse_raw_changes(&store, sql).await;
}

/// Migration 27 on a database holding a prepared cycle: the pending entries' keys come from
/// their bodies.
#[tokio::test]
async fn pending_entries_prepared_before_27_get_their_keys() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    sanad_store::conformance::pending_without_keys(&store).await;
    for sql in [
        "ALTER TABLE payroll_pending_entries DROP COLUMN household",
        "ALTER TABLE payroll_pending_entries DROP COLUMN kind",
        "ALTER TABLE payroll_pending_entries DROP COLUMN reference",
        "DELETE FROM sanad_migrations WHERE version = 27",
    ] {
        sqlx::query(sql).execute(store.pool()).await.unwrap();
    }
    drop(store);
    let store = SqliteStore::open(&url).await.unwrap();
    sanad_store::conformance::pending_keys_read_from_bodies(&store).await;
}

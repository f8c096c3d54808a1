//! The shared conformance suite on PostgreSQL, one fresh schema per test.
//!
//! The server comes from `SANAD_TEST_PG_URL` (set by `scripts/test`). Without it these
//! tests fail rather than pass silently: every storage test must run on both backends.

use std::sync::atomic::{AtomicU32, Ordering};

use sanad_store::Store;
use sanad_store_postgres::PgStore;

static N: AtomicU32 = AtomicU32::new(0);

/// The test server's URL and a schema name no other test uses.
fn fresh_schema() -> (String, String) {
    let url = std::env::var("SANAD_TEST_PG_URL").expect(
        "SANAD_TEST_PG_URL is not set: run the tests with scripts/test, which starts PostgreSQL",
    );
    let schema = format!(
        "t{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        chrono_free_nanos()
    );
    (url, schema)
}

async fn fresh() -> Box<dyn Store> {
    let (url, schema) = fresh_schema();
    Box::new(
        PgStore::open_in_schema(&url, Some(&schema))
            .await
            .expect("open"),
    )
}

fn chrono_free_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000
}

sanad_store::conformance_tests!(fresh());

#[tokio::test]
async fn audit_tampering_is_detected() {
    let (url, schema) = fresh_schema();
    let store = PgStore::open_in_schema(&url, Some(&schema)).await.unwrap();
    let pool = store.pool().clone();
    let sql = async |q: &str| {
        sqlx::raw_sql(sqlx::AssertSqlSafe(q.to_owned()))
            .execute(&pool)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let unprotect = "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change";
    sanad_store::conformance::audit_tampering_is_detected(&store, sql, unprotect).await;
}

// pilot frozen designs (issue 7)
#[tokio::test]
async fn pilot_frozen_rows_refuse_raw_changes() {
    let (url, schema) = fresh_schema();
    let store = PgStore::open_in_schema(&url, Some(&schema)).await.unwrap();
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

/// Sanad's sessions run without PostgreSQL's JIT compiler, unless the URL's `options` set it.
#[tokio::test]
async fn sessions_run_without_jit_unless_the_url_says_otherwise() {
    let (url, _) = fresh_schema();
    let jit = async |url: &str| {
        let (_, schema) = fresh_schema();
        let store = PgStore::open_in_schema(url, Some(&schema)).await.unwrap();
        let (value,): (String,) = sqlx::query_as("SHOW jit")
            .fetch_one(store.pool())
            .await
            .unwrap();
        value
    };
    assert_eq!(jit(&url).await, "off");
    assert_eq!(jit(&with_setting(&url, "jit", "on")).await, "on");
}

/// `url` with a session setting in its `options`.
fn with_setting(url: &str, name: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20{name}%3D{value}")
}

/// Every column that holds a household or person id compares byte for byte (migrations 25
/// and 26), so index builds skip the C library, and a join between two such columns, all in
/// one collation, can use the index on either side. A new table whose id column forgot the
/// collation fails here.
#[tokio::test]
async fn ids_and_names_compare_byte_for_byte() {
    let (url, schema) = fresh_schema();
    let store = PgStore::open_in_schema(&url, Some(&schema)).await.unwrap();
    let columns: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT table_name || '.' || column_name, collation_name FROM information_schema.columns \
         WHERE table_schema = current_schema() AND data_type = 'text' AND (column_name IN \
         ('rsu_id', 'household_id', 'household', 'idcs', 'cnie', 'last_name', 'last_name_ar') \
         OR table_name || '.' || column_name IN ('households.registrant', 'households.phone', \
         'households.instrument_ref', 'pilot_assignments.unit')) ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(columns.len() >= 20, "{columns:?}");
    let other: Vec<_> = columns
        .iter()
        .filter(|(_, collation)| collation.as_deref() != Some("C"))
        .collect();
    assert!(other.is_empty(), "not collated \"C\": {other:?}");
}

/// An application's body, over the 2 KB at which PostgreSQL compresses a value, is compressed
/// with lz4 (migration 29), several times cheaper to write than the default pglz.
#[tokio::test]
async fn application_bodies_are_compressed_with_lz4() {
    let (url, schema) = fresh_schema();
    let store = PgStore::open_in_schema(&url, Some(&schema)).await.unwrap();
    let body = format!(
        "{{\"checks\":[{}]}}",
        vec!["{\"outcome\":\"pass\"}"; 200].join(",")
    );
    assert!(body.len() > 3000);
    sqlx::query(
        "INSERT INTO applications (receipt, rsu_id, status, submitted_on, body, updated_at) \
         VALUES ('ASD-2026-0000001-0', '100000000000', 'approved', '2026-11-20', $1, 'now')",
    )
    .bind(&body)
    .execute(store.pool())
    .await
    .unwrap();
    let (method, stored): (Option<String>, String) =
        sqlx::query_as("SELECT pg_column_compression(body), body FROM applications")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(method.as_deref(), Some("lz4"));
    assert_eq!(stored, body);
}

/// A registry migrated in place to the "C" ids (migration 26) keeps the statistics its
/// planner needs: changing a column's collation drops them, and autovacuum would not analyse
/// an unchanged table again.
#[tokio::test]
async fn ids_migrated_in_place_keep_their_statistics() {
    use sanad_store::{RegistryStore, Write};
    let (url, schema) = fresh_schema();
    let store = PgStore::open_in_schema(&url, Some(&schema)).await.unwrap();
    let batch: Vec<_> = (1..=20)
        .map(|n| sanad_store::conformance::sample(n, "01"))
        .collect();
    store.upsert_households(&batch, Write::Apply).await.unwrap();
    let stats = async |store: &PgStore| -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() \
             AND attname IN ('rsu_id', 'household_id', 'idcs') \
             AND tablename IN ('households', 'persons', 'score_history')",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
    };
    // The registry as it stood before migration 26, analysed.
    let before = "ALTER TABLE persons ALTER COLUMN household_id TYPE TEXT COLLATE \"default\"; \
                  ANALYZE households, persons, score_history; \
                  DELETE FROM sanad_migrations WHERE version = 26";
    sqlx::raw_sql(sqlx::AssertSqlSafe(before))
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(stats(&store).await, 4);
    drop(store);
    let store = PgStore::open_in_schema(&url, Some(&schema)).await.unwrap();
    assert_eq!(stats(&store).await, 4);
}

/// Migration 27 on a database holding a prepared cycle: the pending entries' keys come from
/// their bodies.
#[tokio::test]
async fn pending_entries_prepared_before_27_get_their_keys() {
    let (url, schema) = fresh_schema();
    let store = PgStore::open_in_schema(&url, Some(&schema)).await.unwrap();
    sanad_store::conformance::pending_without_keys(&store).await;
    let before = "ALTER TABLE payroll_pending_entries DROP COLUMN household, \
                  DROP COLUMN kind, DROP COLUMN reference; \
                  DELETE FROM sanad_migrations WHERE version = 27";
    sqlx::raw_sql(sqlx::AssertSqlSafe(before))
        .execute(store.pool())
        .await
        .unwrap();
    drop(store);
    let store = PgStore::open_in_schema(&url, Some(&schema)).await.unwrap();
    sanad_store::conformance::pending_keys_read_from_bodies(&store).await;
}

/// Texts go into multi-row inserts as SQL literals: a backslash stays a backslash even where
/// the URL (or the server) turns standard-conforming strings off.
#[tokio::test]
async fn literal_texts_keep_their_backslashes() {
    let (url, schema) = fresh_schema();
    let url = with_setting(&url, "standard_conforming_strings", "off");
    let store = PgStore::open_in_schema(&url, Some(&schema)).await.unwrap();
    let (setting,): (String,) = sqlx::query_as("SHOW standard_conforming_strings")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(setting, "on");
    sanad_store::conformance::literal_texts_read_back_whole(&store).await;
}

/// The constraints a load into an empty registry drops, where they are in place and checked:
/// the primary and foreign keys of persons and scores.
async fn load_keys(store: &PgStore) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_constraint WHERE contype IN ('f', 'p') AND convalidated \
         AND conrelid IN ('persons'::regclass, 'score_history'::regclass)",
    )
    .fetch_one(store.pool())
    .await
    .unwrap()
}

/// How many of the loaded tables have autovacuum turned off.
async fn autovacuum_paused(store: &PgStore) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace \
         AND relname IN ('households', 'persons', 'score_history') \
         AND reloptions @> '{autovacuum_enabled=false}'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap()
}

/// While one store loads, another opening the same schema neither adds the keys back nor
/// loads: it writes with upserts, and the load's end still adds them.
#[tokio::test]
async fn an_open_during_a_load_leaves_its_end_to_the_load() {
    use sanad_store::{Outcome, RegistryStore, Write};
    let (url, schema) = fresh_schema();
    let loader = PgStore::open_in_schema(&url, Some(&schema)).await.unwrap();
    assert!(loader.bulk_load_begin().await.unwrap());
    let other = PgStore::open_in_schema(&url, Some(&schema)).await.unwrap();
    assert_eq!(load_keys(&other).await, 0);
    assert!(!other.bulk_load_begin().await.unwrap());
    let sample = sanad_store::conformance::sample;
    loader
        .upsert_households(&[sample(1, "01")], Write::Load)
        .await
        .unwrap();
    loader.bulk_load_end().await.unwrap();
    assert_eq!(load_keys(&other).await, 4);
    let outcomes = other
        .upsert_households(&[sample(2, "01")], Write::Apply)
        .await
        .unwrap();
    assert_eq!(outcomes, [Outcome::Inserted]);
}

/// A load into an empty registry runs without the primary keys of persons and scores and
/// their foreign keys to households, and without autovacuum on the tables it fills; it gets
/// them back at its end, or at the next open if it was killed half-way.
#[tokio::test]
async fn a_bulk_load_checks_its_keys_once_at_its_end() {
    use sanad_store::{RegistryStore, Write};
    let (url, schema) = fresh_schema();
    let store = PgStore::open_in_schema(&url, Some(&schema)).await.unwrap();
    assert_eq!(load_keys(&store).await, 4);
    assert!(store.bulk_load_begin().await.unwrap());
    assert_eq!(load_keys(&store).await, 0);
    assert_eq!(autovacuum_paused(&store).await, 3);
    let batch = [sanad_store::conformance::sample(1, "01")];
    store.upsert_households(&batch, Write::Load).await.unwrap();
    // Killed here: the next open puts the keys back, and they hold for what was loaded.
    drop(store);
    let store = PgStore::open_in_schema(&url, Some(&schema)).await.unwrap();
    assert_eq!(load_keys(&store).await, 4);
    // Analysed once at the end (only ANALYZE fills pg_stats), and back to autovacuum.
    assert_eq!(autovacuum_paused(&store).await, 0);
    let analysed: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT tablename) FROM pg_stats WHERE schemaname = current_schema() \
         AND tablename IN ('households', 'persons', 'score_history')",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(analysed, 3);
    let orphan = sqlx::query(
        "INSERT INTO score_history (household_id, value_millionths, computed_on, valid_from) \
         VALUES ('999999999', 1, '2026-01-01', '2026-01-01')",
    )
    .execute(store.pool())
    .await
    .unwrap_err();
    assert!(orphan.to_string().contains("foreign key"), "{orphan}");
    let twice = sqlx::query(
        "INSERT INTO score_history (household_id, value_millionths, computed_on, valid_from) \
         SELECT household_id, value_millionths, computed_on, valid_from FROM score_history",
    )
    .execute(store.pool())
    .await
    .unwrap_err();
    assert!(twice.to_string().contains("score_history_pkey"), "{twice}");
    // A registry that is not empty is loaded with its keys in place.
    assert!(!store.bulk_load_begin().await.unwrap());
    assert_eq!(load_keys(&store).await, 4);
}

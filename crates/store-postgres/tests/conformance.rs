//! The shared conformance suite on PostgreSQL, one fresh schema per test.
//!
//! The server comes from `SANAD_TEST_PG_URL` (set by `scripts/test`). Without it these
//! tests fail rather than pass silently: every storage test must run on both backends.

use std::sync::atomic::{AtomicU32, Ordering};

use sanad_store::Store;
use sanad_store_postgres::PgStore;

static N: AtomicU32 = AtomicU32::new(0);

async fn fresh() -> Box<dyn Store> {
    let url = std::env::var("SANAD_TEST_PG_URL").expect(
        "SANAD_TEST_PG_URL is not set: run the tests with scripts/test, which starts PostgreSQL",
    );
    let schema = format!(
        "t{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        chrono_free_nanos()
    );
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
    let url = std::env::var("SANAD_TEST_PG_URL")
        .expect("SANAD_TEST_PG_URL is not set: run the tests with scripts/test");
    let schema = format!(
        "t{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        chrono_free_nanos()
    );
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
    let url = std::env::var("SANAD_TEST_PG_URL")
        .expect("SANAD_TEST_PG_URL is not set: run the tests with scripts/test");
    let schema = format!(
        "t{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        chrono_free_nanos()
    );
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
    let url = std::env::var("SANAD_TEST_PG_URL")
        .expect("SANAD_TEST_PG_URL is not set: run the tests with scripts/test");
    let jit = async |url: &str| {
        let schema = format!(
            "t{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            chrono_free_nanos()
        );
        let store = PgStore::open_in_schema(url, Some(&schema)).await.unwrap();
        let (value,): (String,) = sqlx::query_as("SHOW jit")
            .fetch_one(store.pool())
            .await
            .unwrap();
        value
    };
    assert_eq!(jit(&url).await, "off");
    let sep = if url.contains('?') { '&' } else { '?' };
    assert_eq!(jit(&format!("{url}{sep}options=-c%20jit%3Don")).await, "on");
}

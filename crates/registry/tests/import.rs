//! The import path end to end, on both backends: precise rejections, nothing half-applied,
//! re-runs that change nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sanad_domain::RsuId;
use sanad_registry::import::{
    ImportError, ImportOptions, ImportReport, Mode, Progress, import_file,
};
use sanad_store::{RegistryStore, Scope};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/rsu-feed.jsonl")
}

async fn import(store: &Arc<dyn RegistryStore>, path: &Path, mode: Mode) -> ImportReport {
    let opts = ImportOptions {
        mode,
        batch_size: 2,
        ..Default::default()
    };
    import_file(path, store.clone(), &opts, |_| {})
        .await
        .expect("import runs")
}

fn located(r: &ImportReport) -> Vec<(u64, String)> {
    r.rejected
        .iter()
        .map(|x| (x.line, x.field.clone()))
        .collect()
}

async fn count(store: &Arc<dyn RegistryStore>) -> i64 {
    store
        .count_by_region(&Scope::National)
        .await
        .unwrap()
        .iter()
        .map(|c| c.households)
        .sum()
}

pub async fn bad_rows_are_located_and_never_applied(store: &Arc<dyn RegistryStore>) {
    let r = import(store, &example(), Mode::GoodRows).await;
    assert_eq!(r.households_read, 9);
    assert_eq!((r.inserted, r.updated, r.unchanged), (3, 0, 0));
    assert_eq!(
        located(&r),
        [
            (5, "registrant".to_string()),
            (5, "members[0].idcs".to_string()),
            (6, "commune".to_string()),
            (7, "members[1].birth_date".to_string()),
            (8, "members[1].idcs".to_string()),
            (9, "rsu_id".to_string()),
            (10, "members[0].birth_date".to_string()),
        ]
    );
    let dup = r.rejected.iter().find(|x| x.line == 8).unwrap();
    assert!(dup.reason.contains("line 2"), "{}", dup.reason);
    assert!(dup.file.ends_with("rsu-feed.jsonl"));
    assert_eq!(count(store).await, 3);
    for bad in 4..=9 {
        let id = RsuId::parse(&format!("10000000000{bad}")).unwrap();
        assert!(
            store
                .household(&Scope::National, &id)
                .await
                .unwrap()
                .is_none(),
            "household {bad} must not be applied"
        );
    }
    // A re-run changes nothing and reports the same rows.
    let again = import(store, &example(), Mode::GoodRows).await;
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 3));
    assert_eq!(located(&again), located(&r));
    assert_eq!(count(store).await, 3);
}

pub async fn dry_run_and_all_or_nothing_write_nothing(store: &Arc<dyn RegistryStore>) {
    let dry = import(store, &example(), Mode::DryRun).await;
    assert_eq!(
        (dry.inserted, dry.rejected.len(), dry.applied),
        (3, 7, false)
    );
    assert_eq!(count(store).await, 0);
    let strict = import(store, &example(), Mode::AllOrNothing).await;
    assert_eq!(strict.rejected.len(), 7);
    assert_eq!(
        count(store).await,
        0,
        "one bad row keeps the whole file out"
    );
}

pub async fn a_clean_file_applies_whole_in_all_or_nothing(store: &Arc<dyn RegistryStore>) {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.jsonl");
    let text = std::fs::read_to_string(example()).unwrap();
    std::fs::write(&clean, text.lines().take(4).collect::<Vec<_>>().join("\n")).unwrap();
    let r = import(store, &clean, Mode::AllOrNothing).await;
    assert!(r.rejected.is_empty());
    assert_eq!((r.inserted, r.applied), (3, true));
    assert_eq!(count(store).await, 3);
}

pub async fn a_foreign_file_is_refused_with_its_line(store: &Arc<dyn RegistryStore>) {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.jsonl");
    std::fs::write(
        &other,
        "{\"feed\":\"cnss-af\",\"version\":1,\"as_of\":\"2026-01-01\"}\n",
    )
    .unwrap();
    let err = import_file(&other, store.clone(), &ImportOptions::default(), |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, ImportError::Header { line: 1, .. }), "{err}");
    assert!(err.to_string().contains("other.jsonl:1"), "{err}");
    let garbage = dir.path().join("garbage.jsonl");
    std::fs::write(&garbage, "not json\n{\"rsu_id\":\"1\"}\n").unwrap();
    let r = import_file(&garbage, store.clone(), &ImportOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(
        located(&r),
        [(1, "(json)".to_string()), (2, "region".to_string())]
    );
}

/// A load into an empty registry reports its bytes, then the index builds; a later import
/// into the same registry has no index to build.
pub async fn a_load_into_an_empty_registry_builds_its_indexes_last(store: &Arc<dyn RegistryStore>) {
    let opts = ImportOptions {
        batch_size: 2,
        ..Default::default()
    };
    let mut steps = Vec::new();
    import_file(&example(), store.clone(), &opts, |p| steps.push(p))
        .await
        .unwrap();
    let len = std::fs::metadata(example()).unwrap().len();
    assert_eq!(
        steps[steps.len() - 2..],
        [Progress::Bytes(len), Progress::BuildingIndexes]
    );
    assert_eq!(count(store).await, 3);
    let mut again = Vec::new();
    let r = import_file(&example(), store.clone(), &opts, |p| again.push(p))
        .await
        .unwrap();
    assert_eq!(r.unchanged, 3);
    assert!(!again.contains(&Progress::BuildingIndexes), "{again:?}");
}

macro_rules! on_backend {
    ($module:ident, $make:expr) => {
        mod $module {
            use super::*;
            #[tokio::test]
            async fn bad_rows_are_located_and_never_applied() {
                super::bad_rows_are_located_and_never_applied(&$make.await).await
            }
            #[tokio::test]
            async fn dry_run_and_all_or_nothing_write_nothing() {
                super::dry_run_and_all_or_nothing_write_nothing(&$make.await).await
            }
            #[tokio::test]
            async fn a_clean_file_applies_whole_in_all_or_nothing() {
                super::a_clean_file_applies_whole_in_all_or_nothing(&$make.await).await
            }
            #[tokio::test]
            async fn a_load_into_an_empty_registry_builds_its_indexes_last() {
                super::a_load_into_an_empty_registry_builds_its_indexes_last(&$make.await).await
            }
            #[tokio::test]
            async fn a_foreign_file_is_refused_with_its_line() {
                super::a_foreign_file_is_refused_with_its_line(&$make.await).await
            }
        }
    };
}

async fn sqlite() -> Arc<dyn RegistryStore> {
    let dir = tempfile::tempdir().unwrap().keep();
    Arc::new(
        sanad_store_sqlite::SqliteStore::open(&dir.join("t.db").display().to_string())
            .await
            .unwrap(),
    )
}

async fn postgres() -> Arc<dyn RegistryStore> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let url = std::env::var("SANAD_TEST_PG_URL")
        .expect("SANAD_TEST_PG_URL is not set: run the tests with scripts/test");
    let schema = format!(
        "imp{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    Arc::new(
        sanad_store_postgres::PgStore::open_in_schema(&url, Some(&schema))
            .await
            .unwrap(),
    )
}

on_backend!(on_sqlite, sqlite());
on_backend!(on_postgres, postgres());

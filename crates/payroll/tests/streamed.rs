//! The streamed cycle (issue 6) against a real store: a payroll prepared a few households
//! per page is the payroll prepared in one page, stored, approved and released the same.

use sanad_domain::{Household, Month, Schooling};
use sanad_payroll::run;
use sanad_store::conformance::{sample, with};
use sanad_store::{Actor, ApplicationRow, Award, PayrollStore, Store, Write};
use sanad_store_postgres::PgStore;
use sanad_store_sqlite::SqliteStore;

async fn store(dir: &std::path::Path, name: &str) -> SqliteStore {
    SqliteStore::open(&format!("sqlite://{}", dir.join(name).display()))
        .await
        .unwrap()
}

/// A fresh schema on the test server (`SANAD_TEST_PG_URL`, set by scripts/test).
async fn postgres() -> PgStore {
    let url = std::env::var("SANAD_TEST_PG_URL")
        .expect("SANAD_TEST_PG_URL is not set: run the tests with scripts/test");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    // A `t<pid>_` name: scripts/test drops those schemas on its next run.
    let schema = format!("t{}_payroll{}", std::process::id(), nanos % 1_000_000_000);
    PgStore::open_in_schema(&url, Some(&schema)).await.unwrap()
}

fn m(s: &str) -> Month {
    s.parse().unwrap()
}

/// Nine households, seven awarded from February (household 4, without children, the flat-rate
/// aid), two not; household 6 without a payment account (withheld).
fn household(n: u64) -> Household {
    with(&sample(n, if n % 2 == 0 { "04" } else { "01" }), |p| {
        p.members[1].checks.pensioner = None;
        if n == 4 {
            p.members.truncate(2);
        }
        if n == 6 {
            p.instrument = None;
        }
    })
}

async fn seed(s: &dyn Store) {
    let households: Vec<_> = (1..=9).map(household).collect();
    s.upsert_households(&households, Write::Apply)
        .await
        .unwrap();
    for n in 1..=7u64 {
        let app = ApplicationRow {
            receipt: format!("R{n}"),
            rsu_id: format!("{:012}", 500_000_000_000 + n),
            status: "approved".into(),
            submitted_on: "2026-01-05".into(),
            body: "{}".into(),
            language: "fr".into(),
        };
        let component = if n == 4 {
            "flat_rate"
        } else {
            "child_allowance"
        };
        let award = Award {
            components: vec![component.into()],
            start_month: "2026-02".into(),
        };
        s.save_application(&app, Some(&award), "submit", &Actor::new("agent", "t"))
            .await
            .unwrap();
    }
}

async fn lines(s: &dyn Store, month: Month) -> Vec<(String, String, i64, String)> {
    s.payroll_lines(&month.to_string())
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.rsu_id, l.status, l.amount, l.body))
        .collect()
}

/// Run March whole (prepare, approve, release), then prepare April with `page` households
/// per page: the ledger then has books (March's payments in transit, February's arrears).
async fn cycle(s: &dyn Store, out: &std::path::Path, page: u32) -> run::Prepared {
    let (maker, checker) = (Actor::new("maker", "t"), Actor::new("checker", "t"));
    let march = m("2026-03");
    let p = run::prepare_paged(s, march, &maker, &templates(), page)
        .await
        .unwrap();
    assert!(p.changed);
    run::approve(s, march, &checker).await.unwrap();
    let cfg = release_config(out.to_owned(), 2);
    let r = run::release(s, march, &maker, &cfg).await.unwrap();
    assert_eq!(r.payments as u64, p.totals.all.paying);
    run::prepare_paged(s, m("2026-04"), &maker, &templates(), page)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payroll_prepared_page_by_page_is_the_payroll_prepared_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (paged, whole) = (
        store(dir.path(), "paged.db").await,
        store(dir.path(), "whole.db").await,
    );
    seed(&paged).await;
    seed(&whole).await;
    let a = cycle(&paged, &dir.path().join("paged"), 2).await;
    let b = cycle(&whole, &dir.path().join("whole"), 10_000).await;
    assert!(a.totals.all.paying >= 5, "{:?}", a.totals.all);
    assert_eq!(a.totals.all.withheld, 1, "household 6 has no account");
    let march = run::stored_summary(&paged, m("2026-03")).await.unwrap();
    assert!(
        march.totals.all.arrears > sanad_domain::Money::ZERO,
        "February's"
    );
    assert_eq!(a.totals, b.totals);
    assert_eq!(a.digest, b.digest);
    for month in [m("2026-03"), m("2026-04")] {
        assert_eq!(lines(&paged, month).await, lines(&whole, month).await);
        assert_eq!(
            paged.pending_entries(&month.to_string()).await.unwrap(),
            whole.pending_entries(&month.to_string()).await.unwrap()
        );
        // What is stored is what was signed: the digest of the payroll read back whole.
        let stored = run::stored_payroll(&paged, month).await.unwrap();
        assert_eq!(
            run::stored_digest(&paged, month).await.unwrap(),
            stored.digest()
        );
        assert_eq!(
            run::stored_summary(&paged, month).await.unwrap().totals,
            stored.totals
        );
    }
    assert_eq!(
        run::stored_digest(&paged, m("2026-04")).await.unwrap(),
        a.digest
    );
    // The files of both releases are the same bytes.
    let files = |d: &str| {
        let mut v: Vec<_> = std::fs::read_dir(dir.path().join(d).join("2026-03"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.file_name(), std::fs::read(e.path()).unwrap())
            })
            .collect();
        v.sort();
        v
    };
    let (fa, fb) = (files("paged"), files("whole"));
    assert!(fa.len() >= 4, "split two payments a file, with manifests");
    assert_eq!(fa, fb);
    assert_eq!(
        paged.payments("2026-03").await.unwrap(),
        whole.payments("2026-03").await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prepare_run_again_changes_nothing_and_a_release_run_again_posts_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path(), "s.db").await;
    seed(&s).await;
    let march = m("2026-03");
    let maker = Actor::new("maker", "t");
    let first = run::prepare_paged(&s, march, &maker, &templates(), 3)
        .await
        .unwrap();
    let again = run::prepare_paged(&s, march, &maker, &templates(), 4)
        .await
        .unwrap();
    assert!(first.changed && !again.changed);
    assert_eq!(first.digest, again.digest);
    run::approve(&s, march, &Actor::new("checker", "t"))
        .await
        .unwrap();
    // A chunk posted again (what a release killed midway and run again does) adds nothing;
    // a release run again on a released cycle writes the same files and posts nothing.
    let cfg = release_config(dir.path().join("out"), 3);
    let r = run::release(&s, march, &maker, &cfg).await.unwrap();
    let payments = s.payments("2026-03").await.unwrap();
    let ledger = s.ledger_entries(0, 1000).await.unwrap();
    s.post_payments(&payments[..2]).await.unwrap();
    assert!(s.post_pending("2026-03", -1, 1000).await.unwrap().is_some());
    assert_eq!(s.payments("2026-03").await.unwrap(), payments);
    assert_eq!(r.payments, payments.len());
    let r2 = run::release(&s, march, &maker, &cfg).await.unwrap();
    assert!(!r2.changed);
    assert_eq!(r2.files, r.files);
    assert_eq!(s.ledger_entries(0, 1000).await.unwrap(), ledger);
}

/// Issue 3 item 7: a released month replays identical line by line from the registry, on
/// both backends; a household changed since is told apart from a decision that differs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_released_month_replays_identical_until_a_household_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (sqlite, pg) = (store(dir.path(), "s.db").await, postgres().await);
    for (name, s) in [("sqlite", &sqlite as &dyn Store), ("postgres", &pg)] {
        seed(s).await;
        let march = m("2026-03");
        let (maker, checker) = (Actor::new("maker", "t"), Actor::new("checker", "t"));
        let p = run::prepare_paged(s, march, &maker, &templates(), 4)
            .await
            .unwrap();
        run::approve(s, march, &checker).await.unwrap();
        let cfg = release_config(dir.path().join(name), 10);
        run::release(s, march, &maker, &cfg).await.unwrap();

        let mut seen = 0;
        let r = run::replay_month(s, march, |n| seen += n).await.unwrap();
        let n = p.totals.all.households;
        assert!(n >= 7, "{name}: {:?}", p.totals.all);
        assert_eq!((r.lines, r.identical, seen), (n, n, n), "{name}: {r:?}");
        assert_eq!(r.month, march);

        // Household 3's schoolchild leaves school: its March line was right for what was
        // known then, and is reported as changed since, not as a wrong decision.
        let left = with(&household(3), |p| p.members[2].schooling = Schooling::None);
        s.upsert_households(&[left], Write::Apply).await.unwrap();
        let r = run::replay_month(s, march, |_| {}).await.unwrap();
        assert_eq!(
            (r.identical, r.household_changed, r.differs),
            (n - 1, 1, 0),
            "{name}: {r:?}"
        );
        // A month with no payroll replays nothing.
        let none = run::replay_month(s, m("2026-09"), |_| {}).await.unwrap();
        assert_eq!(none.lines, 0);
    }
}

/// Books stored between cycles are a cache: after a few months a prepare stores the books of
/// the households with `book_after` entries since (8 to 11, by the id's last digit, so that
/// households that started together are not all rewritten in one month), and the payroll
/// prepared with them is the payroll prepared from the entries alone, on both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_books_prepare_the_payroll_the_entries_alone_prepare() {
    let dir = tempfile::tempdir().unwrap();
    let (sqlite, pg) = (store(dir.path(), "s.db").await, postgres().await);
    for (name, s) in [("sqlite", &sqlite as &dyn Store), ("postgres", &pg)] {
        seed(s).await;
        let (maker, checker) = (Actor::new("maker", "t"), Actor::new("checker", "t"));
        let cfg = release_config(dir.path().join(name), 10);
        let stored = async || {
            let ledger = s.ledger_between("", "999999999999").await.unwrap();
            ledger.iter().filter(|r| r.book).count()
        };
        let mut counts = Vec::new();
        for n in 3..=10 {
            let month = m(&format!("2026-{n:02}"));
            run::prepare_paged(s, month, &maker, &templates(), 3)
                .await
                .unwrap();
            counts.push(stored().await);
            run::approve(s, month, &checker).await.unwrap();
            run::release(s, month, &maker, &cfg).await.unwrap();
        }
        // Four months of dues and payments make eight entries: no book before July's prepare,
        // then the households' books are stored over several months.
        assert_eq!(counts[..4], [0; 4], "{name}: {counts:?}");
        assert!(counts[4] > 0 && counts[4] < counts[7], "{name}: {counts:?}");
        assert!(counts[7] >= 5, "{name}: {counts:?}");
        let november = m("2026-11");
        let with_books = run::prepare_paged(s, november, &maker, &templates(), 3)
            .await
            .unwrap();
        s.clear_books().await.unwrap();
        let from_entries = run::prepare_paged(s, november, &maker, &templates(), 3)
            .await
            .unwrap();
        assert!(with_books.totals.all.paying >= 5, "{name}");
        assert!(!from_entries.changed, "{name}: the same payroll");
        assert_eq!(with_books.digest, from_entries.digest, "{name}");
        assert_eq!(with_books.totals, from_entries.totals, "{name}");
    }
}

/// The demo debtor's release, `per_file` payments a file, written under `out`.
fn release_config(out: std::path::PathBuf, per_file: u32) -> run::ReleaseConfig {
    run::ReleaseConfig::anss(
        out,
        per_file,
        sanad_domain::Rib::parse(run::DEMO_DEBTOR_RIB).unwrap(),
        run::DEFAULT_DEBTOR_BIC,
    )
}

fn templates() -> sanad_applications::notify::Templates {
    sanad_applications::notify::Templates::defaults()
}

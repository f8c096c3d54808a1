//! `sanad bench payroll`: the national cycle of issue 6 on a loaded registry. Awards are
//! seeded first (not timed) for the households the rules in force make eligible in the month,
//! with multi-row SQL inserts straight into `awards` (a bench shortcut: no applications, no
//! audit records); then prepare, approve and release with files are timed, each with the
//! process's peak memory (VmHWM, reset before each step).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use sanad_domain::{Month, Rib};
use sanad_payroll::run;
use sanad_rules::{Component, Decision, Snapshot};
use sanad_store::Store;
use sqlx::AssertSqlSafe;

use crate::commands::cli_actor;

/// The adapter behind the URL, for the few raw statements of the bench.
enum Raw {
    Sqlite(sanad_store_sqlite::SqliteStore),
    Pg(sanad_store_postgres::PgStore),
}

impl Raw {
    async fn open(url: &str) -> anyhow::Result<Raw> {
        Ok(
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                Raw::Pg(sanad_store_postgres::PgStore::open(url).await?)
            } else {
                Raw::Sqlite(sanad_store_sqlite::SqliteStore::open(url).await?)
            },
        )
    }

    fn store(&self) -> &dyn Store {
        match self {
            Raw::Sqlite(s) => s,
            Raw::Pg(s) => s,
        }
    }

    /// Statements built by this module only (digits and fixed words: no outside text).
    async fn exec(&self, sql: String) -> anyhow::Result<()> {
        match self {
            Raw::Sqlite(s) => {
                sqlx::raw_sql(AssertSqlSafe(sql)).execute(s.pool()).await?;
            }
            Raw::Pg(s) => {
                sqlx::raw_sql(AssertSqlSafe(sql)).execute(s.pool()).await?;
            }
        }
        Ok(())
    }
}

/// A field of /proc/self/status, in kB.
fn status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let l = s.lines().find(|l| l.starts_with(field))?;
    l[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The highest anonymous resident memory (heap, stacks) seen since the last reset: VmHWM also
/// counts the SQLite file pages the readers map, which are page cache, not the process's own.
static ANON_PEAK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Sample RssAnon every 100 ms for the rest of the run.
fn watch_anon() {
    std::thread::spawn(|| {
        loop {
            if let Some(kb) = status_kb("RssAnon:") {
                ANON_PEAK.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    });
}

/// Peak resident memory since the last reset: VmHWM, and the anonymous part sampled.
fn peak() -> String {
    let hwm = status_kb("VmHWM:").map_or_else(|| "?".into(), |kb| format!("{kb} kB"));
    let anon = ANON_PEAK.load(std::sync::atomic::Ordering::Relaxed);
    format!("{hwm} (anonymous {anon} kB)")
}

/// Start a new peak (Linux: writing 5 to clear_refs resets VmHWM).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    ANON_PEAK.store(0, std::sync::atomic::Ordering::Relaxed);
}

pub struct Options {
    pub database_url: String,
    pub month: Month,
    pub out: PathBuf,
    pub max_per_file: u32,
    pub reset: bool,
}

pub async fn payroll(o: Options) -> anyhow::Result<ExitCode> {
    let raw = Raw::open(&o.database_url).await?;
    let store = raw.store();
    if o.reset {
        // Every payroll table, and the awards: the bench starts from the registry alone.
        for t in [
            "awards",
            "payroll_cycles",
            "payroll_lines",
            "payroll_pending_entries",
            "ledger_entries",
            "ledger_books",
            "payments",
            "payment_files",
        ] {
            // PostgreSQL: a table emptied by DELETE keeps its dead rows until vacuumed, and
            // the next run would walk them (`max(seq)` over 7.4 M dead ledger keys).
            raw.exec(match raw {
                Raw::Pg(_) => format!("TRUNCATE {t}"),
                Raw::Sqlite(_) => format!("DELETE FROM {t}"),
            })
            .await?;
        }
        raw.exec("DELETE FROM outbox WHERE template = 'payment_issued'".into())
            .await?;
        if let Raw::Pg(_) = raw {
            raw.exec("VACUUM ANALYZE outbox".into()).await?;
        }
        println!("payroll tables and awards emptied");
    }
    if store.payroll_keys("", 1).await?.is_empty() {
        let t = Instant::now();
        let n = seed_awards(&raw, o.month).await?;
        println!(
            "seeded {n} awards (start {}) in {:.1} s (not timed below)",
            o.month,
            t.elapsed().as_secs_f64()
        );
    }
    let (maker, checker) = (cli_actor("bench-maker"), cli_actor("bench-checker"));
    watch_anon();
    reset_peak();
    let t = Instant::now();
    let p = run::prepare(
        store,
        o.month,
        &maker,
        &sanad_applications::notify::Templates::defaults(),
    )
    .await?;
    println!(
        "prepare: {:.1} s, peak {}; {} households, {} payments, {} centimes",
        t.elapsed().as_secs_f64(),
        peak(),
        p.totals.all.households,
        p.totals.all.paying,
        p.totals.all.amount.centimes()
    );
    let total = t.elapsed();
    reset_peak();
    let t = Instant::now();
    run::approve(store, o.month, &checker).await?;
    println!(
        "approve: {:.1} s, peak {}",
        t.elapsed().as_secs_f64(),
        peak()
    );
    let total = total + t.elapsed();
    reset_peak();
    let t = Instant::now();
    let cfg = run::ReleaseConfig::anss(
        o.out.clone(),
        o.max_per_file,
        Rib::parse(run::DEMO_DEBTOR_RIB).map_err(anyhow::Error::msg)?,
        run::DEFAULT_DEBTOR_BIC,
    );
    let r = run::release(store, o.month, &maker, &cfg).await?;
    println!(
        "release: {:.1} s, peak {}; {} payments in {} files under {}, {} notices queued",
        t.elapsed().as_secs_f64(),
        peak(),
        r.payments,
        r.files.len(),
        r.dir.display(),
        r.notices
    );
    let total = total + t.elapsed();
    println!("cycle: {:.1} s", total.as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

/// Award every household the month's rules make eligible: the child allowance to one paid
/// for children (child, orphan, disability lines and the floor), the flat-rate aid to the others. Households are read by RSU id range.
async fn seed_awards(raw: &Raw, month: Month) -> anyhow::Result<u64> {
    let store = raw.store();
    let book = run::rule_book(store).await?;
    let rules = book
        .for_month(month)
        .ok_or_else(|| anyhow::anyhow!("no rule set in force in {month}"))?;
    let on = sanad_rules::engine::reference_date(rules, month);
    let ids = store
        .list_households(&sanad_store::Scope::National, None, 1)
        .await?;
    let Some(first) = ids.first() else {
        return Ok(0);
    };
    const RANGE: u64 = 20_000;
    let mut low: u64 = first.rsu_id.to_string().parse::<u64>()? - 1;
    let mut d = Decision::default();
    let (mut seeded, mut empty) = (0u64, 0u32);
    // Ranges of ids until 50 empty ranges in a row (the ids are dense in a synthetic load).
    while empty < 50 {
        let (after, upto) = (format!("{low:012}"), format!("{:012}", low + RANGE));
        low += RANGE;
        let pop = store.population_between(&after, &upto).await?;
        if pop.households.is_empty() {
            empty += 1;
            continue;
        }
        empty = 0;
        let mut values = Vec::new();
        for h in &pop.households {
            let snap = Snapshot {
                score: pop.score_at(h, on),
                resident: true,
                members: pop.members_of(h),
            };
            sanad_rules::evaluate(rules, &snap, month, &mut d);
            if d.monthly_total <= sanad_domain::Money::ZERO {
                continue;
            }
            // Any line but the flat rate is the child allowance's (with its supplements).
            let child = d.lines.iter().any(|l| l.component != Component::FlatRate);
            let component = if child {
                "child_allowance"
            } else {
                "flat_rate"
            };
            values.push(format!(
                "('BENCH-{:012}', '{component}', '{:012}', '{month}', NULL)",
                h.id, h.id
            ));
        }
        seeded += values.len() as u64;
        for chunk in values.chunks(2_000) {
            raw.exec(format!(
                "INSERT INTO awards (receipt, component, rsu_id, start_month, end_month) VALUES {}",
                chunk.join(", ")
            ))
            .await?;
        }
    }
    Ok(seeded)
}

/// The bank's camt.054 for a released month (see `Bench::Camt`): settled payments ten to an
/// entry, returned ones an entry each.
pub async fn camt(url: &str, month: Month, out: &std::path::Path) -> anyhow::Result<ExitCode> {
    use sanad_domain::Money;
    use sanad_payments::bank_sim::{self, BankResponse, Outcome, ResponseHeader};
    let store = crate::commands::open_store(url).await?;
    let payments = store.payments(&month.to_string()).await?;
    anyhow::ensure!(
        !payments.is_empty(),
        "payroll {month}: no payments released"
    );
    let booked = month.last_day() + chrono::Duration::days(2);
    let header = ResponseHeader {
        msg_id: format!("BENCHBANK-{month}"),
        created_at: booked.and_hms_opt(8, 0, 0).expect("valid time"),
        original_msg_id: format!("BENCH-{month}"),
        booking_date: booked,
        account: Rib::parse(run::DEMO_DEBTOR_RIB).map_err(anyhow::Error::msg)?,
    };
    let responses = payments.iter().enumerate().map(|(i, p)| BankResponse {
        end_to_end_id: p.end_to_end_id.clone(),
        amount: Money::from_centimes(p.amount),
        outcome: if i % 9 == 4 {
            Outcome::Returned {
                reason: "AC04".into(),
            }
        } else {
            Outcome::Settled
        },
    });
    let file = std::io::BufWriter::new(std::fs::File::create(out)?);
    let (mut file, counts) = bank_sim::write_camt054(&header, responses, 10, file)?;
    std::io::Write::flush(&mut file)?;
    println!("{}: {counts:?}", out.display());
    Ok(ExitCode::SUCCESS)
}

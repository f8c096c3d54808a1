//! Benchmarks that need a loaded database (figures in BENCHMARKS.md). The keys to look up
//! are regenerated from the synthetic population's seed, so no key list is stored.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Subcommand;
use sanad_domain::{Cnie, Idcs, Phone};
use sanad_store::{FindKey, Scope};

use crate::commands::open_store;
use crate::progress;

#[derive(Subcommand)]
pub enum Bench {
    /// Find households by CNIE, IDCS and phone; report latency percentiles per key.
    Find {
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = crate::DEFAULT_DB)]
        database_url: String,
        /// The `--households`, `--seed` and `--as-of` the database was synthesised with.
        #[arg(long)]
        households: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        as_of: chrono::NaiveDate,
        #[arg(long, default_value_t = 3_000)]
        samples: u64,
    },
    /// Take `applications` applications for the first households of a loaded registry, in
    /// batches through the intake path (lists derived from the registry first), and time it.
    Intake {
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = crate::DEFAULT_DB)]
        database_url: String,
        #[arg(long, default_value_t = 100_000)]
        applications: u64,
        /// Applications saved per transaction.
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
        /// The day they are taken (the lists are dated the same day).
        #[arg(long)]
        on: chrono::NaiveDate,
    },
    /// The national payroll cycle (issue 6) on a loaded registry: seed awards for the eligible
    /// households if there are none (not timed), then time prepare, approve and release.
    Payroll {
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = crate::DEFAULT_DB)]
        database_url: String,
        #[arg(long)]
        month: sanad_domain::Month,
        /// Where the payment files go.
        #[arg(long, default_value = "bench-payroll")]
        out: std::path::PathBuf,
        #[arg(long, default_value_t = 50_000)]
        max_per_file: u32,
        /// Empty the payroll tables and the awards first (the bench database only!).
        #[arg(long)]
        reset: bool,
    },
    /// Write the bank's camt.054 for a released month: every payment booked, one in nine
    /// returned (AC04), to time `sanad payments import` on it.
    Camt {
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = crate::DEFAULT_DB)]
        database_url: String,
        #[arg(long)]
        month: sanad_domain::Month,
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Time the entitlement engine on synthetic households (no database).
    Entitlement {
        #[arg(long, default_value_t = 100_000)]
        households: u64,
        #[arg(long, default_value = "2026-11")]
        month: sanad_domain::Month,
    },
}

pub async fn run(b: Bench) -> anyhow::Result<ExitCode> {
    match b {
        Bench::Find {
            database_url,
            households,
            seed,
            as_of,
            samples,
        } => find(&database_url, households, seed, as_of, samples).await,
        Bench::Entitlement { households, month } => entitlement(households, month),
        Bench::Camt {
            database_url,
            month,
            out,
        } => crate::bench_payroll::camt(&database_url, month, &out).await,
        Bench::Payroll {
            database_url,
            month,
            out,
            max_per_file,
            reset,
        } => {
            crate::bench_payroll::payroll(crate::bench_payroll::Options {
                database_url,
                month,
                out,
                max_per_file,
                reset,
            })
            .await
        }
        Bench::Intake {
            database_url,
            applications,
            batch,
            on,
        } => intake(&database_url, applications, batch.max(1), on).await,
    }
}

/// Load the households (not timed), import lists about them, then time verification,
/// decision and saving, batch by batch.
async fn intake(
    url: &str,
    n: u64,
    batch: usize,
    on: chrono::NaiveDate,
) -> anyhow::Result<ExitCode> {
    let store = open_store(url).await?;
    let households = crate::demo_apps::first_households(&*store, n).await?;
    crate::demo_apps::import_lists(&*store, &households, on).await?;
    let bar = progress::count(households.len() as u64, "applications");
    let t = Instant::now();
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for chunk in households.chunks(batch) {
        for (status, k) in crate::demo_apps::take_counts(&store, chunk, on).await? {
            *counts.entry(status).or_default() += k;
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} applications verified, decided and saved in {secs:.1} s ({:.0}/s): {counts:?}",
        households.len(),
        households.len() as f64 / secs
    );
    Ok(ExitCode::SUCCESS)
}

/// Evaluate synthetic households (converted once) repeatedly; report the time per household.
fn entitlement(n: u64, month: sanad_domain::Month) -> anyhow::Result<ExitCode> {
    use sanad_domain::snapshot::Member;
    use sanad_rules::engine::{Decision, Snapshot, evaluate};
    let cfg = sanad_synth::SynthConfig {
        households: n,
        seed: 7,
        as_of: month.first_day(),
        dirt_rate: 0.0,
    };
    let households: Vec<(
        Option<(sanad_domain::Score, chrono::NaiveDate)>,
        Vec<Member>,
    )> = (0..n)
        .filter_map(|i| {
            sanad_synth::household(&cfg, i)
                .into_household(cfg.as_of)
                .ok()
        })
        .map(|h| {
            (
                h.scores.latest().map(|s| (s.value, s.valid_from)),
                h.members.iter().map(Member::from).collect(),
            )
        })
        .collect();
    let rules = sanad_rules::RuleBook::shipped()
        .for_month(month)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no rule set for {month}"))?;
    let mut d = Decision::default();
    let mut total = 0i64;
    let rounds = 5;
    let t = Instant::now();
    for _ in 0..rounds {
        for (score, members) in &households {
            evaluate(
                &rules,
                &Snapshot {
                    score: *score,
                    resident: true,
                    members,
                },
                month,
                &mut d,
            );
            total += d.monthly_total.centimes();
        }
    }
    let per = t.elapsed() / (rounds * households.len() as u32);
    println!(
        "{} households × {rounds} rounds: {per:?} per household on one core (checksum {total})",
        households.len()
    );
    Ok(ExitCode::SUCCESS)
}

async fn find(
    database_url: &str,
    households: u64,
    seed: u64,
    as_of: chrono::NaiveDate,
    samples: u64,
) -> anyhow::Result<ExitCode> {
    let store = open_store(database_url).await?;
    let cfg = sanad_synth::SynthConfig {
        households,
        seed,
        as_of,
        dirt_rate: 0.0,
    };
    let mut times: [Vec<Duration>; 3] = Default::default();
    let mut misses = 0u64;
    let bar = progress::count(samples, "lookups");
    for i in 0..samples {
        // A multiplicative stride spreads the sample over the whole file.
        let index = (i.wrapping_mul(2_654_435_761) ^ seed) % households;
        let h = sanad_synth::household(&cfg, index);
        let head = &h.members[0];
        let keys = [
            head.cnie
                .as_deref()
                .and_then(|c| Cnie::parse(c).ok())
                .map(FindKey::Cnie),
            Idcs::parse(&h.members[h.members.len() - 1].idcs)
                .ok()
                .map(FindKey::Idcs),
            h.phone
                .as_deref()
                .and_then(|p| Phone::parse(p).ok())
                .map(FindKey::Phone),
        ];
        for (slot, key) in keys.iter().enumerate() {
            let Some(key) = key else { continue };
            let t = Instant::now();
            let found = store.find_households(&Scope::National, key).await?;
            times[slot].push(t.elapsed());
            misses += u64::from(found.is_empty());
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!("key    lookups      p50      p95      p99      max");
    for (name, t) in ["cnie", "idcs", "phone"].iter().zip(times.iter_mut()) {
        t.sort();
        let pct = |p: f64| {
            t.get(((t.len() as f64 * p) as usize).min(t.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        println!(
            "{name:6} {:7} {:>8.2?} {:>8.2?} {:>8.2?} {:>8.2?}",
            t.len(),
            pct(0.50),
            pct(0.95),
            pct(0.99),
            t.last().copied().unwrap_or_default()
        );
    }
    println!("{misses} lookups found nothing (households rejected at import, or a different seed)");
    Ok(ExitCode::SUCCESS)
}

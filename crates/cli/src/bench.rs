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
}

pub async fn run(b: Bench) -> anyhow::Result<ExitCode> {
    let Bench::Find { database_url, households, seed, as_of, samples } = b;
    let store = open_store(&database_url).await?;
    let cfg = sanad_synth::SynthConfig { households, seed, as_of, dirt_rate: 0.0 };
    let mut times: [Vec<Duration>; 3] = Default::default();
    let mut misses = 0u64;
    let bar = progress::count(samples, "lookups");
    for i in 0..samples {
        // A multiplicative stride spreads the sample over the whole file.
        let index = (i.wrapping_mul(2_654_435_761) ^ seed) % households;
        let h = sanad_synth::household(&cfg, index);
        let head = &h.members[0];
        let keys = [
            head.cnie.as_deref().and_then(|c| Cnie::parse(c).ok()).map(FindKey::Cnie),
            Idcs::parse(&h.members[h.members.len() - 1].idcs).ok().map(FindKey::Idcs),
            h.phone.as_deref().and_then(|p| Phone::parse(p).ok()).map(FindKey::Phone),
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
        let pct = |p: f64| t.get(((t.len() as f64 * p) as usize).min(t.len().saturating_sub(1))).copied().unwrap_or_default();
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

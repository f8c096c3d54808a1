//! A deterministic synthetic national population of RSU households, in the feed format of
//! `sanad_registry::feed` (`docs/formats.md`): a header line, then one household per line.
//!
//! Household `index` depends only on `(seed, index, as_of, dirt_rate)`: generation is parallel,
//! and any household can be regenerated alone (the benchmarks regenerate their lookup keys).
//! The random generator is SplitMix64 written here ([`rng`](crate::rng)), using only integer
//! and basic float arithmetic, so a seed gives the same bytes on every machine and release.
//!
//! # Calibration
//!
//! Sources: `/work/shared/domain/asd-rules.md` (§2 threshold, §4 allowances, §7 scale) and the
//! RGPH 2024 geography in `data/morocco/` (see its `SOURCES.md`).
//!
//! | Target | Value | Source / how |
//! |---|---|---|
//! | Province | ∝ RGPH 2024 households | `provinces.csv` |
//! | Commune in province | ∝ households, rural communes × ≈ 4.5 | `communes.csv`; weight solved so that 56 % are rural (RSU, §7) vs 35 % of census households in rural communes |
//! | Household size | mean ≈ 3.6 | RSU 18.9 M persons / 5.2 M households (§7) |
//! | Children under 21 | ≈ 1.45 per household | RSU 7.5 M / 5.2 M (§7) |
//! | Households with a child under 21 | ≈ 62 % | 2.4 of 3.9 M beneficiary households (§7) |
//! | Elderly households (head 60+, no child under 21) | ≈ 23 %, 1.3 people 60+ each: ≈ 1.2 M eligible people 60+ at national scale | 1.0–1.5 M people 60+ on the flat rate (§7) |
//! | Widow-headed households | ≈ 10.5 %, four in five without children | 431 k widows, 346 k without children, of 3.9 M (§7) |
//! | Paternal orphans | children of a widowed female head, `father_deceased` | §4.1 orphan rate |
//! | Births | children's ages uniform over 21 years: a year's births ≈ 1/21 of children, some under 6 months | birth grant (§4.3) |
//! | Schooling 6–11 / 12–14 / 15–17 / 18–20 | 97/94, 88/72, 70/45, 40/20 % urban/rural; 6 % of urban pupils under 18 private | MEN/HCP orders of magnitude; school-start grant levels (§4.3) |
//! | Disability | ≈ 5 % of persons (2.5 % under 18, 4.5 % adults, 13 % at 60+), severe + profound ≈ 1/3 | HCP national disability survey orders of magnitude |
//! | Deaths | ≈ 0.5 % of persons died in the last 2 years, mostly 60+ | assumption |
//! | Score | normal, sd 0.85, mean 8.95 rural / 9.35 urban: ≈ 75 % ≤ 9.743001; 0.2 % exactly on it | 3.9 of 5.2 M households eligible (§2, §7) |
//! | Score dates | computed 2023-01-01 … `as_of` − 10 d, valid 5–10 days later | RSU notifies in 5–10 days (§1) |
//! | Payment | 35 % bank (valid RIB), 45 % wallet, 20 % cash-out | §5 (assumption) |
//! | Cross-checks | ≈ 1 % public employee, ≈ 2 % pensioner, ≈ 1.5 % family allowance | §2 exclusions (assumption) |
//! | Status | 0.5 % suspended | assumption |
//! | Family names | ≈ 4,000 in use: 25 % one of 62 common names, 25 % a patronymic (Benali, Ait Lahcen, Ould Omar), 50 % a double name (Alaoui Idrissi); none above 1 % of persons | assumption: the commonest Moroccan names are each below 1 %; namesakes born the same day stay rare, as the fuzzy duplicate check expects |
//!
//! Identifiers: `rsu_id` = 100 000 000 000 + index; member `k` of household `index` has IDCS
//! body 100 000 000 + 16 × index + k and a CNIE derived from the same number (two letters, six
//! digits); the phone (`06`/`07` + 8 digits) and payment references are bijections of the
//! index. All are unique for up to 42 M households.
//!
//! # Dirt
//!
//! With probability `dirt_rate` a household carries exactly one [`Dirt`] item, kinds equally
//! likely: (1) a person copied from an earlier household; (2) an invalid id — IDCS check
//! digit, malformed CNIE or 11-digit RSU id; (3) an impossible date — birth after `as_of` or a
//! child born before the head; (4) the phone of an earlier household; (5) a deceased
//! registrant or an extra deceased member. Kinds 1–3 are refused by the import (kind 1 by its
//! cross-row duplicate check, 2–3 by `FeedHousehold::into_household`); kinds 4–5 are valid
//! data for later verification. Dirt draws from its own random stream, so a dirty row is its
//! clean row plus the item.

mod dirt;
mod household;
mod members;
mod names;
mod people;
mod place;
mod rng;
mod stream;

use chrono::NaiveDate;
use sanad_registry::feed::FeedHousehold;

pub use dirt::Dirt;
pub use household::THRESHOLD_MILLIONTHS;
pub use place::RURAL_SHARE;

/// The dirt rate the CLI uses unless told otherwise.
pub const DEFAULT_DIRT_RATE: f64 = 0.01;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthConfig {
    pub households: u64,
    pub seed: u64,
    /// The extract date: every date in the population is on or before it (except dirt).
    pub as_of: NaiveDate,
    /// Share of households carrying one deliberate error, in [0, 1].
    pub dirt_rate: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SynthStats {
    pub households: u64,
    pub persons: u64,
    /// Rows carrying a dirt item.
    pub dirty: u64,
}

impl SynthStats {
    fn add(&mut self, o: SynthStats) {
        self.households += o.households;
        self.persons += o.persons;
        self.dirty += o.dirty;
    }
}

/// Pure: the household at `index` (0-based) — depends only on (seed, index, as_of, dirt_rate),
/// never on other households, so generation can be parallel and a household regenerated alone.
pub fn household(cfg: &SynthConfig, index: u64) -> FeedHousehold<'static> {
    household_and_dirt(cfg, index).0
}

/// The dirt item household `index` carries, if any.
pub fn dirt(cfg: &SynthConfig, index: u64) -> Option<Dirt> {
    dirt::choose(cfg, index, &household::clean(cfg, index))
}

pub(crate) fn household_and_dirt(
    cfg: &SynthConfig,
    index: u64,
) -> (FeedHousehold<'static>, Option<Dirt>) {
    let mut h = household::clean(cfg, index);
    let d = dirt::choose(cfg, index, &h);
    if let Some(d) = &d {
        dirt::apply(cfg, index, &mut h, d);
    }
    (h, d)
}

/// Writes header + `cfg.households` lines to `out`, calling `progress(done)` every ~10_000
/// households. Streams: memory stays a few 4,096-household chunks whatever the size.
pub fn write_feed<W: std::io::Write>(
    cfg: &SynthConfig,
    out: W,
    progress: impl FnMut(u64),
) -> std::io::Result<SynthStats> {
    stream::write_feed(cfg, out, progress)
}

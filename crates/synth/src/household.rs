//! One clean household: residence, members, contact, payment instrument, score, flags.

use chrono::NaiveDate;
use sanad_domain::{Area, Relation, Rib};
use sanad_registry::feed::{FeedCheck, FeedHousehold, FeedInstrument, FeedMember, FeedScore};

use crate::SynthConfig;
use crate::members::{Context, date, days_before, member};
use crate::names::family;
use crate::people::{Draft, compose, years};
use crate::place::Places;
use crate::rng::{Key, Rng, scramble};

/// The ASD eligibility threshold (asd-rules.md §2), in millionths.
pub const THRESHOLD_MILLIONTHS: i64 = 9_743_001;

/// Stream salt of the clean data (the dirt has its own).
const CLEAN: u64 = 0x5EED_C1EA;

pub(crate) fn clean(cfg: &SynthConfig, index: u64) -> FeedHousehold<'static> {
    let mut rng = Rng::new(cfg.seed, index, CLEAN);
    let commune = Places::get().draw(&mut rng);
    let drafts = compose(&mut rng);
    // The flat-rate payee is whoever registered the household: usually the head.
    let spouse = drafts
        .get(1)
        .is_some_and(|d| d.relation == Relation::Spouse);
    let registrant = usize::from(spouse && rng.chance(0.1));
    let cx = Context {
        index,
        as_of: cfg.as_of,
        area: commune.kind,
        family: family(&mut rng),
        registrant,
    };
    let mut taken = Vec::with_capacity(drafts.len());
    let mut members: Vec<FeedMember<'static>> = drafts
        .iter()
        .enumerate()
        .map(|(k, d)| member(&mut rng, &cx, k, d, &mut taken))
        .collect();
    cross_checks(&mut rng, cfg.as_of, &drafts, &mut members);
    FeedHousehold {
        rsu_id: rsu_id(index).into(),
        region: commune.region.as_str().into(),
        province: commune.province.clone(),
        commune: commune.code.clone(),
        area: commune.kind.as_str().into(),
        registrant: members[registrant].idcs.clone(),
        phone: Some(phone(index)),
        instrument: Some(instrument(&mut rng, index)),
        status: if rng.chance(0.005) {
            "suspended"
        } else {
            "active"
        }
        .into(),
        score: Some(score(&mut rng, commune.kind, cfg.as_of)),
        members,
    }
}

pub(crate) fn rsu_id(index: u64) -> String {
    (100_000_000_000 + index).to_string()
}

/// `06`/`07` and 8 digits, a bijection of the index below 200 M households.
pub(crate) fn phone(index: u64) -> String {
    let x = scramble(index, 200_000_000, Key::Phone);
    format!("0{}{:08}", 6 + x / 100_000_000, x % 100_000_000)
}

/// ≈ 35 % bank, 45 % wallet, 20 % cash-out; Al Barid Bank weighs most among the banks.
fn instrument(rng: &mut Rng, index: u64) -> FeedInstrument {
    const BANKS: [(&str, u32); 7] = [
        ("007", 20),
        ("011", 10),
        ("021", 5),
        ("022", 5),
        ("145", 20),
        ("230", 10),
        ("350", 30),
    ];
    const CITIES: [&str; 7] = ["780", "810", "640", "450", "225", "360", "530"];
    const WALLETS: [&str; 5] = ["BARIDCASH", "WAFACASH", "CASHPLUS", "MTCASH", "CHAABICASH"];
    const CASH_OUT: [&str; 3] = ["BARIDCASH", "WAFACASH", "CASHPLUS"];
    let token = |kind: &str, provider: &str, prefix: char| FeedInstrument {
        kind: kind.into(),
        rib: None,
        provider: Some(provider.into()),
        reference: Some(format!(
            "{prefix}{:010}",
            scramble(index, 10_000_000_000, Key::Reference)
        )),
    };
    match rng.below(100) {
        0..35 => {
            let bank = BANKS[rng.weighted(&BANKS.map(|b| b.1))].0;
            let first22 = format!(
                "{bank}{}{:016}",
                rng.pick(&CITIES),
                scramble(index, 10_000_000_000_000_000, Key::Account)
            );
            let rib = Rib::with_key(&first22).expect("22 digits").to_string();
            FeedInstrument {
                kind: "bank".into(),
                rib: Some(rib),
                provider: None,
                reference: None,
            }
        }
        35..80 => token("wallet", *rng.pick(&WALLETS), 'W'),
        _ => token("cash_out", *rng.pick(&CASH_OUT), 'C'),
    }
}

/// ≈ 75 % at or under the threshold: normal, sd 0.85, mean 8.95 rural / 9.35 urban, and a
/// few exactly on it. Drawn in whole millionths so the feed carries at most 6 decimals.
fn score(rng: &mut Rng, area: Area, as_of: NaiveDate) -> FeedScore {
    let mean = if area == Area::Rural { 8.95 } else { 9.35 };
    let millionths = if rng.chance(0.002) {
        THRESHOLD_MILLIONTHS
    } else {
        ((mean + 0.85 * rng.normal()).clamp(3.0, 16.0) * 1e6).round() as i64
    };
    // Computed since 2023, notified and valid 5–10 days later, by the extract date.
    let last = days_before(as_of, 10);
    let first = NaiveDate::from_ymd_opt(2023, 1, 1).expect("date").min(last);
    let computed = days_before(last, rng.between(0, (last - first).num_days()));
    let valid = days_before(computed, -rng.between(5, 10)).min(as_of);
    FeedScore {
        value: millionths as f64 / 1e6,
        computed_on: date(computed),
        valid_from: date(valid),
    }
}

/// Positive cross-checks (valid data the eligibility rules must catch): ≈ 1 % of households
/// with a public employee, ≈ 2 % with a pensioner, ≈ 1.5 % already receiving family allowances.
fn cross_checks(rng: &mut Rng, as_of: NaiveDate, drafts: &[Draft], members: &mut [FeedMember<'_>]) {
    let check = |rng: &mut Rng, sources: &[&str]| FeedCheck {
        source: (*rng.pick(sources)).into(),
        date: date(days_before(as_of, rng.between(15, 400))),
    };
    let alive = |k: usize| members[k].death_date.is_none();
    let working = (0..drafts.len())
        .find(|&k| alive(k) && (years(20)..years(63)).contains(&drafts[k].age_days));
    if let Some(k) = working
        && rng.chance(0.013)
    {
        members[k].public_employee = Some(check(rng, &["DGI-PAYROLL"]));
    }
    if drafts[0].age_days >= years(60) && rng.chance(0.066) {
        members[0].pensioner = Some(check(rng, &["CMR", "CNSS-PENSION", "RCAR"]));
    }
    let has_child = drafts
        .iter()
        .any(|d| d.relation.is_child() && d.age_days < years(21));
    if has_child && rng.chance(0.024) {
        members[0].family_allowance = Some(check(rng, &["CNSS-AF", "CMR-AF"]));
    }
}

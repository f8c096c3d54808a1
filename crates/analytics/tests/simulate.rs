//! The simulation over a small population whose answer is known by hand.

use sanad_domain::Date as NaiveDate;
use sanad_domain::snapshot::Member;
use sanad_domain::{Disability, Month, Relation, Schooling, Sex};
use sanad_rules::RuleBook;
use sanad_store::Population;
use sanad_store::population::Builder;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn person(relation: Relation, birth: &str, schooling: Schooling) -> Member {
    Member {
        relation,
        sex: if relation == Relation::Head {
            Sex::Male
        } else {
            Sex::Female
        },
        birth_date: d(birth),
        death_date: None,
        schooling,
        disability: Disability::None,
        father_deceased: false,
        public_employee: false,
        pensioner: false,
        family_allowance: false,
    }
}

/// Three households in Tanger (01.511) and one in Rabat (04.421):
/// A: two children 2 and 8 (in school) at score 9.0 → 600;
/// B: elderly couple at 9.743001 → 500 flat rate;
/// C: one child 3, score 9.8 (above the threshold) → 0 today, 500 if the threshold rises;
/// D (Rabat): one child 10 out of school at 8.0 → 200 → floor 500.
fn population() -> Population {
    let mut b = Builder::default();
    for (id, region, province) in [
        ("100000000001", "01", "01.511"),
        ("100000000002", "01", "01.511"),
        ("100000000003", "01", "01.511"),
        ("100000000004", "04", "04.421"),
    ] {
        b.household(id, region, province).unwrap();
    }
    let mut add = |id: &str, ms: Vec<Member>, score: i64| {
        for (i, m) in ms.into_iter().enumerate() {
            b.member(id, i as i64, m).unwrap();
        }
        b.score(id, score, d("2024-01-01"), d("2023-12-15"))
            .unwrap();
    };
    add(
        "100000000001",
        vec![
            person(Relation::Head, "1985-01-01", Schooling::None),
            person(Relation::Child, "2024-06-01", Schooling::None),
            person(Relation::Child, "2018-06-01", Schooling::PublicPrimary),
        ],
        9_000_000,
    );
    add(
        "100000000002",
        vec![
            person(Relation::Head, "1950-01-01", Schooling::None),
            person(Relation::Spouse, "1952-01-01", Schooling::None),
        ],
        9_743_001,
    );
    add(
        "100000000003",
        vec![
            person(Relation::Head, "1990-01-01", Schooling::None),
            person(Relation::Child, "2023-03-01", Schooling::None),
        ],
        9_800_000,
    );
    add(
        "100000000004",
        vec![
            person(Relation::Head, "1980-01-01", Schooling::None),
            person(Relation::Child, "2016-03-01", Schooling::None),
        ],
        8_000_000,
    );
    b.finish()
}

#[test]
fn a_raised_threshold_brings_in_one_household() {
    let pop = population();
    let month: Month = "2026-11".parse().unwrap();
    let base = RuleBook::shipped().for_month(month).unwrap().clone();
    let scn = base
        .with_overrides(&[("eligibility.score_threshold".into(), "9.9".into())])
        .unwrap();
    let r = sanad_analytics::simulate(&pop, &base, &scn, month);
    assert_eq!(r.households, 4);
    assert_eq!(
        (r.baseline.eligible, r.baseline.monthly_centimes),
        (3, (600 + 500 + 500) * 100)
    );
    assert_eq!(
        (r.scenario.eligible, r.scenario.monthly_centimes),
        (4, (600 + 500 + 500 + 500) * 100)
    );
    assert_eq!(r.monthly_delta_centimes, 500 * 100);
    assert_eq!(r.annual_delta_centimes, 500 * 100 * 12);
    assert_eq!(
        (
            r.changes.newly_eligible,
            r.changes.unchanged,
            r.changes.gaining,
            r.changes.losing
        ),
        (1, 3, 0, 0)
    );
    let tanger = r.by_province.iter().find(|p| p.code == "01.511").unwrap();
    assert_eq!(
        (
            tanger.households,
            tanger.baseline.eligible,
            tanger.scenario.eligible
        ),
        (3, 2, 3)
    );
    assert_eq!(
        r.by_region
            .iter()
            .map(|x| x.code.as_str())
            .collect::<Vec<_>>(),
        ["01", "04"]
    );
    let comp = |c: &str| {
        r.by_component
            .iter()
            .find(|x| x.component == c)
            .unwrap()
            .clone()
    };
    assert_eq!(
        comp("child_allowance").baseline_centimes,
        (300 + 300 + 200) * 100
    );
    assert_eq!(comp("floor_top_up").scenario_centimes, (300 + 200) * 100);
    assert_eq!(comp("flat_rate").baseline_centimes, 500 * 100);
    // Amounts of 500 and 600 fall in the buckets [500, 600) and [600, 700).
    let bucket = |from: i64| {
        r.distribution
            .iter()
            .find(|b| b.from_mad == from)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            bucket(500).baseline,
            bucket(500).scenario,
            bucket(600).baseline
        ),
        (2, 3, 1)
    );
}

#[test]
fn a_rate_cut_makes_losers() {
    let pop = population();
    let month: Month = "2026-11".parse().unwrap();
    let base = RuleBook::shipped().for_month(month).unwrap().clone();
    let scn = base
        .with_overrides(&[("child.bands[0].young_or_in_school".into(), "250".into())])
        .unwrap();
    let r = sanad_analytics::simulate(&pop, &base, &scn, month);
    // Only A changes: 250 + 250 = 500 instead of 600.
    assert_eq!((r.changes.losing, r.changes.unchanged), (1, 3));
    assert_eq!(r.monthly_delta_centimes, -100 * 100);
}

//! The synthetic population: determinism, validity, calibration and dirt.

use std::collections::HashSet;

use chrono::{Days, NaiveDate};
use sanad_domain::{Area, Disability, Household, MaritalStatus, Relation, Sex};
use sanad_registry::feed::{FeedHeader, FeedHousehold};
use sanad_synth::{
    Dirt, SynthConfig, SynthStats, THRESHOLD_MILLIONTHS, dirt, household, write_feed,
};

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
}

fn cfg(households: u64, seed: u64, dirt_rate: f64) -> SynthConfig {
    SynthConfig {
        households,
        seed,
        as_of: as_of(),
        dirt_rate,
    }
}

fn feed(c: &SynthConfig) -> (Vec<u8>, SynthStats, Vec<u64>) {
    let mut out = Vec::new();
    let mut calls = Vec::new();
    let stats = write_feed(c, &mut out, |d| calls.push(d)).unwrap();
    (out, stats, calls)
}

fn valid(c: &SynthConfig, range: std::ops::Range<u64>) -> Vec<Household> {
    range
        .map(|i| {
            household(c, i)
                .into_household(c.as_of)
                .unwrap_or_else(|e| panic!("household {i}: {e:?}"))
        })
        .collect()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let c = cfg(10_000, 7, 0.01);
    let (a, stats, calls) = feed(&c);
    let (b, _, _) = feed(&c);
    assert!(a == b, "same seed must give identical bytes");
    let (other, _, _) = feed(&SynthConfig { seed: 8, ..c });
    assert!(a != other);
    assert_eq!(stats.households, 10_000);
    assert_eq!(calls.last(), Some(&10_000));
    assert!(calls.windows(2).all(|w| w[0] < w[1]));

    let text = String::from_utf8(a).unwrap();
    let mut lines = text.lines();
    let header: FeedHeader = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(header, FeedHeader::new(as_of()));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 10_000);
    // Lines are in index order, across chunk and worker boundaries.
    for i in [0, 1, 4_095, 4_096, 8_191, 8_192, 9_999] {
        assert_eq!(
            rows[i as usize],
            serde_json::to_string(&household(&c, i)).unwrap()
        );
    }
    let persons: u64 = rows
        .iter()
        .map(|r| {
            serde_json::from_str::<FeedHousehold>(r)
                .unwrap()
                .members
                .len() as u64
        })
        .sum();
    assert_eq!(stats.persons, persons);
}

#[test]
fn a_household_depends_only_on_its_index() {
    let small = cfg(10, 3, 0.05);
    let large = cfg(1_000_000, 3, 0.05);
    for i in 0..10 {
        assert_eq!(household(&small, i), household(&large, i));
    }
}

#[test]
fn clean_population_is_valid_and_ids_are_unique() {
    let c = cfg(5_000, 11, 0.0);
    let hs = valid(&c, 0..5_000);
    let (mut idcs, mut cnie, mut phones, mut rsu) = (
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
    );
    for h in &hs {
        assert!(rsu.insert(h.rsu_id.clone()));
        assert!(phones.insert(h.phone.clone().expect("every household has a phone")));
        assert_eq!(h.members[0].relation, Relation::Head);
        assert!(h.members[0].cnie.is_some(), "the head holds a CNIE");
        for m in &h.members {
            assert!(idcs.insert(m.idcs.clone()), "IDCS {} twice", m.idcs);
            if let Some(n) = &m.cnie {
                assert!(cnie.insert(n.clone()), "CNIE {n} twice");
                assert!(m.age_on(c.as_of) >= 18);
            }
        }
        let s = h.scores.latest().unwrap();
        assert!(
            s.valid_from <= c.as_of
                && (5..=10).contains(&(s.valid_from - s.computed_on).num_days())
        );
    }
    assert!(idcs.len() > 15_000);
}

/// Shares measured on 20,000 households (printed with `--nocapture`).
struct Measure {
    households: f64,
    persons: f64,
    rural: f64,
    eligible: f64,
    on_threshold: f64,
    children: f64,
    with_child: f64,
    born_last_year: f64,
    baby_households: f64,
    elderly_households: f64,
    people_60_in_elderly: f64,
    widow_heads: f64,
    widows_without_children: f64,
    orphans: f64,
    disabled: f64,
    severe: f64,
    deceased: f64,
    school: [[(f64, f64); 4]; 2],
    bank: f64,
    wallet: f64,
    public_employee: f64,
    pensioner: f64,
    family_allowance: f64,
    suspended: f64,
}

impl Measure {
    fn rate(&self, band: usize, area: Area) -> f64 {
        let (n, k) = self.school[usize::from(area == Area::Rural)][band];
        k / n
    }
}

fn measure(hs: &[Household], as_of: NaiveDate) -> Measure {
    let mut m = Measure {
        households: hs.len() as f64,
        persons: 0.0,
        rural: 0.0,
        eligible: 0.0,
        on_threshold: 0.0,
        children: 0.0,
        with_child: 0.0,
        born_last_year: 0.0,
        baby_households: 0.0,
        elderly_households: 0.0,
        people_60_in_elderly: 0.0,
        widow_heads: 0.0,
        widows_without_children: 0.0,
        orphans: 0.0,
        disabled: 0.0,
        severe: 0.0,
        deceased: 0.0,
        school: [[(0.0, 0.0); 4]; 2],
        bank: 0.0,
        wallet: 0.0,
        public_employee: 0.0,
        pensioner: 0.0,
        family_allowance: 0.0,
        suspended: 0.0,
    };
    let year_ago = as_of - Days::new(365);
    let half_year_ago = as_of - Days::new(182);
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    for h in hs {
        let living: Vec<_> = h.members.iter().filter(|p| p.alive_on(as_of)).collect();
        let kids: Vec<_> = living
            .iter()
            .filter(|p| p.relation.is_child() && p.age_on(as_of) < 21)
            .collect();
        let head = h.head();
        m.persons += h.members.len() as f64;
        m.rural += flag(h.residence.area == Area::Rural);
        let score = h.scores.latest().unwrap().value.millionths();
        m.eligible += flag(score <= THRESHOLD_MILLIONTHS);
        m.on_threshold += flag(score == THRESHOLD_MILLIONTHS);
        m.children += kids.len() as f64;
        m.with_child += flag(!kids.is_empty());
        m.born_last_year += kids.iter().filter(|p| p.birth_date > year_ago).count() as f64;
        m.baby_households += flag(kids.iter().any(|p| p.birth_date > half_year_ago));
        if head.age_on(as_of) >= 60 && kids.is_empty() {
            m.elderly_households += 1.0;
            m.people_60_in_elderly +=
                living.iter().filter(|p| p.age_on(as_of) >= 60).count() as f64;
        }
        let widow = head.sex == Sex::Female && head.marital_status == MaritalStatus::Widowed;
        m.widow_heads += flag(widow);
        m.widows_without_children += flag(widow && kids.is_empty());
        m.orphans += kids.iter().filter(|p| p.father_deceased).count() as f64;
        for p in &h.members {
            assert!(
                !p.father_deceased || widow,
                "orphans live with their widowed mother"
            );
            m.disabled += flag(p.disability != Disability::None);
            m.severe += flag(matches!(
                p.disability,
                Disability::Severe | Disability::Profound
            ));
            m.deceased += flag(p.death_date.is_some());
        }
        for p in &living {
            let band = match p.age_on(as_of) {
                6..=11 => 0,
                12..=14 => 1,
                15..=17 => 2,
                18..=20 => 3,
                _ => continue,
            };
            let cell = &mut m.school[usize::from(h.residence.area == Area::Rural)][band];
            cell.0 += 1.0;
            cell.1 += flag(p.schooling.in_school());
        }
        let kind = h.instrument.as_ref().map(|i| i.kind());
        m.bank += flag(kind == Some("bank"));
        m.wallet += flag(kind == Some("wallet"));
        m.public_employee += flag(h.members.iter().any(|p| p.checks.public_employee.is_some()));
        m.pensioner += flag(h.members.iter().any(|p| p.checks.pensioner.is_some()));
        m.family_allowance += flag(
            h.members
                .iter()
                .any(|p| p.checks.family_allowance.is_some()),
        );
        m.suspended += flag(h.status == sanad_domain::HouseholdStatus::Suspended);
    }
    m
}

#[test]
fn calibrated_to_the_rsu() {
    let c = cfg(20_000, 2026, 0.0);
    let m = measure(&valid(&c, 0..20_000), c.as_of);
    let n = m.households;
    let shares = [
        ("mean size", m.persons / n),
        ("rural", m.rural / n),
        ("score <= threshold", m.eligible / n),
        ("score = threshold", m.on_threshold / n),
        ("children <21 per household", m.children / n),
        ("households with a child", m.with_child / n),
        (
            "children born in last 12 months",
            m.born_last_year / m.children,
        ),
        ("households with a baby < 6 months", m.baby_households / n),
        (
            "elderly households (head 60+, no child)",
            m.elderly_households / n,
        ),
        (
            "people 60+ per elderly household",
            m.people_60_in_elderly / m.elderly_households,
        ),
        ("widow-headed households", m.widow_heads / n),
        (
            "  of which without children",
            m.widows_without_children / m.widow_heads,
        ),
        ("paternal orphans per household", m.orphans / n),
        ("disability (persons)", m.disabled / m.persons),
        ("  severe+profound among disabled", m.severe / m.disabled),
        ("deceased (persons)", m.deceased / m.persons),
        ("school 6-11 urban", m.rate(0, Area::Urban)),
        ("school 6-11 rural", m.rate(0, Area::Rural)),
        ("school 12-14 urban", m.rate(1, Area::Urban)),
        ("school 12-14 rural", m.rate(1, Area::Rural)),
        ("school 15-17 urban", m.rate(2, Area::Urban)),
        ("school 15-17 rural", m.rate(2, Area::Rural)),
        ("school 18-20 urban", m.rate(3, Area::Urban)),
        ("school 18-20 rural", m.rate(3, Area::Rural)),
        ("bank", m.bank / n),
        ("wallet", m.wallet / n),
        ("public employee households", m.public_employee / n),
        ("pensioner households", m.pensioner / n),
        ("family allowance households", m.family_allowance / n),
        ("suspended", m.suspended / n),
    ];
    for (name, v) in shares {
        println!("{name:42} {v:.4}");
    }
    let within = |name: &str, v: f64, lo: f64, hi: f64| {
        assert!((lo..=hi).contains(&v), "{name}: {v:.4} not in {lo}..={hi}")
    };
    within("mean size", m.persons / n, 3.3, 3.9);
    within("rural share", m.rural / n, 0.52, 0.60);
    within("score <= threshold", m.eligible / n, 0.72, 0.78);
    within("children per household", m.children / n, 1.3, 1.6);
    within("households with a child", m.with_child / n, 0.55, 0.68);
    within(
        "births in last year",
        m.born_last_year / m.children,
        0.035,
        0.06,
    );
    assert!(m.baby_households > 0.0 && m.orphans > 0.0 && m.on_threshold > 0.0);
    within("disability", m.disabled / m.persons, 0.03, 0.07);
    within("severe + profound", m.severe / m.disabled, 0.25, 0.42);
    within("deaths", m.deceased / m.persons, 0.003, 0.008);
    assert!(
        m.rate(0, Area::Urban) > 0.9 && m.rate(0, Area::Rural) > 0.9,
        "schooling 6-11"
    );
    assert!(
        m.rate(2, Area::Rural) < m.rate(2, Area::Urban),
        "rural drop-out at 15-17"
    );
    within("widow heads", m.widow_heads / n, 0.07, 0.13);
    within("elderly households", m.elderly_households / n, 0.15, 0.30);
    within("public employee", m.public_employee / n, 0.005, 0.02);
    within("pensioner", m.pensioner / n, 0.01, 0.03);
    within("family allowance", m.family_allowance / n, 0.008, 0.025);
}

#[test]
fn dirt_is_at_the_rate_and_where_expected() {
    let c = cfg(20_000, 5, 0.05);
    let clean = SynthConfig {
        dirt_rate: 0.0,
        ..c
    };
    let mut kinds = HashSet::new();
    let mut dirty = 0u32;
    for i in 0..c.households {
        let h = household(&c, i);
        let Some(d) = dirt(&c, i) else {
            assert!(h.into_household(c.as_of).is_ok(), "clean household {i}");
            continue;
        };
        dirty += 1;
        kinds.insert(std::mem::discriminant(&d));
        let result = h.clone().into_household(c.as_of);
        match &d {
            Dirt::DuplicatePerson { from, member, at } => {
                assert!(result.is_ok(), "{d:?}: the row alone is valid");
                let copy = &h.members[*at];
                let original = &household(&clean, *from).members[*member];
                assert!(
                    *from < i && dirt(&c, *from).is_none(),
                    "copied from an earlier clean row"
                );
                assert_eq!(
                    (
                        &copy.idcs,
                        &copy.first_name,
                        &copy.last_name,
                        &copy.birth_date
                    ),
                    (
                        &original.idcs,
                        &original.first_name,
                        &original.last_name,
                        &original.birth_date
                    )
                );
            }
            Dirt::SharedPhone { from } => {
                assert!(result.is_ok());
                assert_eq!(h.phone, household(&clean, *from).phone);
            }
            Dirt::DeceasedRegistrant | Dirt::DeceasedMember { .. } => {
                let hh = result.unwrap_or_else(|e| panic!("{d:?} is valid data: {e:?}"));
                assert!(hh.members.iter().any(|p| p.death_date.is_some()));
            }
            _ => {
                let fields: Vec<String> = result
                    .expect_err("an invalid row")
                    .into_iter()
                    .map(|e| e.field)
                    .collect();
                assert!(fields.contains(&d.field().unwrap()), "{d:?}: {fields:?}");
            }
        }
        assert_eq!(d.refused_at_import(), d.field().is_some());
    }
    let rate = f64::from(dirty) / c.households as f64;
    assert!((0.04..=0.06).contains(&rate), "dirty share {rate}");
    assert_eq!(kinds.len(), 9, "every dirt item occurs");
    let (_, stats, _) = feed(&c);
    assert_eq!(stats.dirty, u64::from(dirty));
}

/// `cargo test -p sanad-synth --release -- --ignored --nocapture speed`
#[test]
#[ignore]
fn speed() {
    let c = cfg(200_000, 1, 0.01);
    let t = std::time::Instant::now();
    let mut bytes = 0u64;
    let counter = CountingSink(&mut bytes);
    let stats = write_feed(&c, counter, |_| {}).unwrap();
    let s = t.elapsed().as_secs_f64();
    println!(
        "{} households, {} persons, {} MB in {s:.2} s: {:.0} households/s",
        stats.households,
        stats.persons,
        bytes / 1_000_000,
        stats.households as f64 / s
    );
}

struct CountingSink<'a>(&'a mut u64);

impl std::io::Write for CountingSink<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        *self.0 += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

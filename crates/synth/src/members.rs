//! Turning drafts into feed members: identifiers, names, dates, schooling, disability, deaths.

use chrono::{Datelike, Days, NaiveDate};
use sanad_domain::{Area, Disability, Idcs, Relation, Schooling, Sex};
use sanad_registry::feed::FeedMember;

use crate::names::{FEMALE, Family, MALE, Name, family};
use crate::people::Draft;
use crate::rng::{Key, Rng, scramble};

/// IDCS bodies start here so that they read as 9 significant digits.
const IDCS_BASE: u64 = 100_000_000;
/// IDCS slots per household: body = base + index × 16 + slot.
pub(crate) const SLOTS: u64 = 16;

/// The person in slot `slot` of household `index`: never the same for two (index, slot) below
/// 56 M households, so IDCS never collide.
pub(crate) fn idcs(index: u64, slot: u64) -> String {
    Idcs::from_body(IDCS_BASE + index * SLOTS + slot).to_string()
}

/// Two letters and six digits, a bijection of (index, slot) below 42 M households.
pub(crate) fn cnie(index: u64, slot: u64) -> String {
    const SPACE: u64 = 26 * 26 * 1_000_000;
    let n = scramble(index * SLOTS + slot, SPACE, Key::Cnie);
    let letters = n / 1_000_000;
    let a = char::from(b'A' + (letters / 26) as u8);
    let b = char::from(b'A' + (letters % 26) as u8);
    format!("{a}{b}{:06}", n % 1_000_000)
}

/// `YYYY-MM-DD` without going through chrono's formatting machinery (a hot path).
pub(crate) fn date(d: NaiveDate) -> String {
    let (y, m, day) = (d.year() as u32, d.month(), d.day());
    let digits = [
        y / 1000 % 10,
        y / 100 % 10,
        y / 10 % 10,
        y % 10,
        10,
        m / 10,
        m % 10,
        10,
        day / 10,
        day % 10,
    ];
    digits
        .iter()
        .map(|&x| {
            if x == 10 {
                '-'
            } else {
                char::from(b'0' + x as u8)
            }
        })
        .collect()
}

pub(crate) fn days_before(d: NaiveDate, n: i64) -> NaiveDate {
    if n >= 0 {
        d - Days::new(n as u64)
    } else {
        d + Days::new(n.unsigned_abs())
    }
}

/// Whole years on `on`, as `Person::age_on` counts them.
pub(crate) fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// What members need from their household.
pub(crate) struct Context {
    pub index: u64,
    pub as_of: NaiveDate,
    pub area: Area,
    pub family: Family,
    pub registrant: usize,
}

/// `taken`: first names already given in the household, which parents do not repeat.
pub(crate) fn member(
    rng: &mut Rng,
    cx: &Context,
    slot: usize,
    d: &Draft,
    taken: &mut Vec<&'static str>,
) -> FeedMember<'static> {
    let birth = days_before(cx.as_of, d.age_days);
    let age = age_on(birth, cx.as_of);
    let first = first_name(rng, d.sex, taken);
    let family = if d.head_family || slot == 0 {
        cx.family.clone()
    } else {
        family(rng)
    };
    let death = death(rng, cx, slot, d, birth, age);
    let schooling = if death.is_some() {
        Schooling::None
    } else {
        schooling(rng, age, cx.area)
    };
    FeedMember {
        idcs: idcs(cx.index, slot as u64).into(),
        cnie: (age >= 18).then(|| cnie(cx.index, slot as u64)),
        first_name: first.0.into(),
        last_name: family.latin,
        first_name_ar: first.1.into(),
        last_name_ar: family.arabic,
        sex: d.sex.as_str().into(),
        birth_date: date(birth).into(),
        death_date: death.map(date),
        relation: d.relation.as_str().into(),
        marital_status: d.marital.as_str().into(),
        schooling: schooling.as_str().into(),
        disability: disability(rng, age).as_str().into(),
        father_deceased: d.father_deceased,
        public_employee: None,
        pensioner: None,
        family_allowance: None,
    }
}

fn first_name(rng: &mut Rng, sex: Sex, taken: &mut Vec<&'static str>) -> Name {
    let list = if sex == Sex::Male { MALE } else { FEMALE };
    // Ends: at most 15 of some 40 names are taken.
    let mut name = *rng.pick(list);
    while taken.contains(&name.0) {
        name = *rng.pick(list);
    }
    taken.push(name.0);
    name
}

/// ≈ 0.5 % of persons died in the two years before the extract, mostly the elderly; never
/// the head or the registrant in clean data (that is a dirt item).
fn death(
    rng: &mut Rng,
    cx: &Context,
    slot: usize,
    d: &Draft,
    birth: NaiveDate,
    age: i32,
) -> Option<NaiveDate> {
    let p = if age >= 60 { 0.05 } else { 0.004 };
    if d.relation == Relation::Head || slot == cx.registrant || !rng.chance(p) {
        return None;
    }
    Some(death_after(rng, cx.as_of, birth))
}

/// A death date in the two years before `as_of`, not before the birth.
pub(crate) fn death_after(rng: &mut Rng, as_of: NaiveDate, birth: NaiveDate) -> NaiveDate {
    let lived = (as_of - birth).num_days().max(0);
    days_before(as_of, rng.between(0, lived.min(730)))
}

/// Enrolment by age and area (MEN/HCP orders of magnitude): near-universal primary, a
/// rural drop-out from collège on, a few per cent private schools in towns.
fn schooling(rng: &mut Rng, age: i32, area: Area) -> Schooling {
    use Schooling::{
        Higher, Private, PublicCollege, PublicPrimary, PublicSecondary, PublicVocational,
    };
    let urban = area == Area::Urban;
    let (urban_rate, rural_rate, levels): (f64, f64, &[Schooling]) = match age {
        6..=11 => (0.97, 0.94, &[PublicPrimary]),
        12..=14 => (0.88, 0.72, &[PublicCollege]),
        15..=17 => (
            0.70,
            0.45,
            &[
                PublicSecondary,
                PublicSecondary,
                PublicSecondary,
                PublicVocational,
            ],
        ),
        18..=20 => (
            0.40,
            0.20,
            &[PublicSecondary, PublicVocational, Higher, Higher],
        ),
        _ => return Schooling::None,
    };
    if !rng.chance(if urban { urban_rate } else { rural_rate }) {
        return Schooling::None;
    }
    if urban && age < 18 && rng.chance(0.06) {
        return Private;
    }
    *rng.pick(levels)
}

/// ≈ 5 % of persons, more among the elderly; severe and profound are a third of cases.
fn disability(rng: &mut Rng, age: i32) -> Disability {
    let p = match age {
        0..=17 => 0.025,
        18..=59 => 0.045,
        _ => 0.13,
    };
    if !rng.chance(p) {
        return Disability::None;
    }
    [
        Disability::Mild,
        Disability::Moderate,
        Disability::Severe,
        Disability::Profound,
    ][rng.weighted(&[35, 32, 22, 11])]
}

#[cfg(test)]
mod tests {
    use super::*;
    use sanad_domain::Cnie;

    #[test]
    fn identifiers_are_valid_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for index in [0, 1, 5_199_999, 41_000_000] {
            for slot in 0..SLOTS {
                assert!(Idcs::parse(&idcs(index, slot)).is_ok());
                let c = cnie(index, slot);
                assert!(Cnie::parse(&c).is_ok(), "{c}");
                assert!(seen.insert(c));
            }
        }
    }

    #[test]
    fn dates_format_like_chrono() {
        for s in ["2026-11-01", "1940-02-29", "2000-12-31", "0999-01-09"] {
            let d: NaiveDate = s.parse().unwrap();
            assert_eq!(date(d), d.to_string());
        }
    }
}

//! Who lives in a household: its kind, then each member's relation, sex, age and marital
//! status. Ages are in days before `as_of`, so relative constraints (a child is younger than
//! the head, a parent older) hold by construction whatever the calendar.

use sanad_domain::{MaritalStatus, Relation, Sex};

use crate::rng::Rng;

/// Children under 21 are uniform over the 21 years before `as_of`, so a year's births are
/// 1/21 of them; 7,665 days is 21 × 365, a little under 21 calendar years.
pub(crate) const CHILD_SPAN_DAYS: u64 = 21 * 365;

/// At most this many members, so that slot 15 of the IDCS block stays free for the dirt.
pub(crate) const MAX_MEMBERS: usize = 15;

pub(crate) fn years(y: i64) -> i64 {
    y * 36_525 / 100
}

/// An age in days, uniform between `lo` and `hi` whole years (`hi` excluded).
fn aged(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    years(lo) + rng.below((years(hi) - years(lo)) as u64) as i64
}

#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub relation: Relation,
    pub sex: Sex,
    pub age_days: i64,
    pub marital: MaritalStatus,
    pub father_deceased: bool,
    /// Takes the head's family name (children, a father) rather than a name of their own.
    pub head_family: bool,
}

impl Draft {
    fn new(relation: Relation, sex: Sex, age_days: i64, marital: MaritalStatus) -> Draft {
        Draft {
            relation,
            sex,
            age_days,
            marital,
            father_deceased: false,
            head_family: false,
        }
    }
}

/// Household kinds, per 1,000 RSU households. Tuned so that ≈ 62 % have a child under 21
/// (2.4 of 3.9 M beneficiaries), ≈ 10.5 % are headed by a widow (431 k of 3.9 M, four in five
/// without children) and ≈ 23 % have a head of 60+ and no child (1.0–1.5 M people 60+).
#[derive(Clone, Copy)]
enum Kind {
    Couple,
    WidowWithChildren,
    SingleMother,
    SingleFather,
    Elderly,
    WidowAlone,
    Adults,
}

const KINDS: [(Kind, u32); 7] = [
    (Kind::Couple, 530),
    (Kind::WidowWithChildren, 22),
    (Kind::SingleMother, 50),
    (Kind::SingleFather, 15),
    (Kind::Elderly, 175),
    (Kind::WidowAlone, 88),
    (Kind::Adults, 120),
];

/// Number of children under 21 (1..=7) in a household that has any: mean ≈ 2.3.
const CHILDREN: [u32; 7] = [30, 33, 21, 10, 4, 1, 1];

fn sex(rng: &mut Rng, p_male: f64) -> Sex {
    if rng.chance(p_male) {
        Sex::Male
    } else {
        Sex::Female
    }
}

/// The members, head first.
pub(crate) fn compose(rng: &mut Rng) -> Vec<Draft> {
    let weights: Vec<u32> = KINDS.iter().map(|k| k.1).collect();
    let mut m = match KINDS[rng.weighted(&weights)].0 {
        Kind::Couple => couple(rng),
        Kind::WidowWithChildren => lone_parent(rng, Sex::Female, MaritalStatus::Widowed),
        Kind::SingleMother => {
            let marital = *rng.pick(&[
                MaritalStatus::Divorced,
                MaritalStatus::Divorced,
                MaritalStatus::Divorced,
                MaritalStatus::Single,
                MaritalStatus::Married,
            ]);
            lone_parent(rng, Sex::Female, marital)
        }
        Kind::SingleFather => {
            let marital = *rng.pick(&[MaritalStatus::Widowed, MaritalStatus::Divorced]);
            lone_parent(rng, Sex::Male, marital)
        }
        Kind::Elderly => elderly(rng),
        Kind::WidowAlone => widow_alone(rng),
        Kind::Adults => adults(rng),
    };
    if rng.chance(0.04) {
        let marital = if rng.chance(0.8) {
            MaritalStatus::Single
        } else {
            MaritalStatus::Divorced
        };
        let s = sex(rng, 0.5);
        m.push(Draft::new(Relation::Other, s, aged(rng, 18, 60), marital));
    }
    m.truncate(MAX_MEMBERS);
    m
}

/// Ages of the children under 21, oldest first.
fn young_children(rng: &mut Rng) -> Vec<i64> {
    let n = 1 + rng.weighted(&CHILDREN);
    let mut ages: Vec<i64> = (0..n).map(|_| rng.below(CHILD_SPAN_DAYS) as i64).collect();
    ages.sort_unstable_by(|a, b| b.cmp(a));
    ages
}

/// Ages of children aged 21 or more still living at home, at most `max_age` years old.
fn adult_children(rng: &mut Rng, p: f64, max_age: i64) -> Vec<i64> {
    if max_age <= 21 || !rng.chance(p) {
        return Vec::new();
    }
    let n = if rng.chance(0.6) { 1 } else { 2 };
    let mut ages: Vec<i64> = (0..n).map(|_| aged(rng, 21, max_age)).collect();
    ages.sort_unstable_by(|a, b| b.cmp(a));
    ages
}

/// A parent's age: the oldest child's plus an age at first birth, and at least 20.
fn parent_age(rng: &mut Rng, oldest: i64, lo: i64, hi: i64) -> i64 {
    (oldest + aged(rng, lo, hi)).max(aged(rng, 20, 21))
}

fn push_children(m: &mut Vec<Draft>, rng: &mut Rng, ages: &[i64], orphans: bool, fostering: bool) {
    for &age in ages {
        // Kafala and wards are rare; they may carry another family name.
        let relation = match rng.below(1000) {
            0..8 if fostering && age < years(21) => Relation::KafalaChild,
            8..12 if fostering && age < years(21) => Relation::Ward,
            _ => Relation::Child,
        };
        let marital = if age >= years(21) && rng.chance(0.1) {
            MaritalStatus::Divorced
        } else {
            MaritalStatus::Single
        };
        let mut d = Draft::new(relation, sex(rng, 0.51), age, marital);
        d.head_family = relation == Relation::Child;
        d.father_deceased = orphans;
        m.push(d);
    }
}

/// A parent of the head, living with the household (older than the head by construction).
fn maybe_parent(m: &mut Vec<Draft>, rng: &mut Rng, p: f64) {
    let head = m[0].age_days;
    if head > years(62) || !rng.chance(p) {
        return;
    }
    let age = (head + aged(rng, 20, 32)).min(years(100));
    let s = sex(rng, 0.25);
    let marital = if rng.chance(0.8) {
        MaritalStatus::Widowed
    } else {
        MaritalStatus::Married
    };
    let mut d = Draft::new(Relation::Parent, s, age, marital);
    d.head_family = s == Sex::Male;
    m.push(d);
}

fn couple(rng: &mut Rng) -> Vec<Draft> {
    let young = young_children(rng);
    let adults = adult_children(rng, 0.25, 35);
    let oldest = adults.first().or(young.first()).copied().unwrap_or(0);
    let male_head = rng.chance(0.97);
    let (head_age, spouse_age) = if male_head {
        let h = parent_age(rng, oldest, 22, 41);
        // A wife was at least 17 at her first child's birth, and is an adult.
        let w = (h - aged(rng, 0, 9)).max(oldest + years(17)).max(years(18));
        (h, w)
    } else {
        let h = parent_age(rng, oldest, 19, 37);
        (h, h + aged(rng, 0, 9))
    };
    let head_sex = if male_head { Sex::Male } else { Sex::Female };
    let spouse_sex = if male_head { Sex::Female } else { Sex::Male };
    let mut m = vec![
        Draft::new(Relation::Head, head_sex, head_age, MaritalStatus::Married),
        Draft::new(
            Relation::Spouse,
            spouse_sex,
            spouse_age,
            MaritalStatus::Married,
        ),
    ];
    push_children(&mut m, rng, &adults, false, false);
    push_children(&mut m, rng, &young, false, true);
    maybe_parent(&mut m, rng, 0.07);
    m
}

/// A widow's children are paternal orphans; other lone parents' children are not.
fn lone_parent(rng: &mut Rng, head_sex: Sex, marital: MaritalStatus) -> Vec<Draft> {
    let young = young_children(rng);
    let adults = adult_children(rng, 0.2, 35);
    let oldest = adults.first().or(young.first()).copied().unwrap_or(0);
    let head_age = if head_sex == Sex::Male {
        parent_age(rng, oldest, 22, 41)
    } else {
        parent_age(rng, oldest, 18, 37)
    };
    let mut m = vec![Draft::new(Relation::Head, head_sex, head_age, marital)];
    let orphans = head_sex == Sex::Female && marital == MaritalStatus::Widowed;
    push_children(&mut m, rng, &adults, orphans, false);
    push_children(&mut m, rng, &young, orphans, false);
    maybe_parent(&mut m, rng, 0.1);
    m
}

/// Head aged 60–85, younger ages more frequent; no children under 21.
fn elderly(rng: &mut Rng) -> Vec<Draft> {
    let span = years(26) as u64;
    let head_age = years(60) + rng.below(span).min(rng.below(span)) as i64;
    let mut m = if rng.chance(0.65) {
        let wife = (head_age - aged(rng, 0, 11)).max(years(45));
        vec![
            Draft::new(Relation::Head, Sex::Male, head_age, MaritalStatus::Married),
            Draft::new(Relation::Spouse, Sex::Female, wife, MaritalStatus::Married),
        ]
    } else {
        let marital = *rng.pick(&[
            MaritalStatus::Widowed,
            MaritalStatus::Widowed,
            MaritalStatus::Widowed,
            MaritalStatus::Divorced,
            MaritalStatus::Single,
        ]);
        vec![Draft::new(Relation::Head, Sex::Male, head_age, marital)]
    };
    let adults = adult_children(rng, 0.35, (head_age / 365 - 20).min(45));
    push_children(&mut m, rng, &adults, false, false);
    m
}

/// A widow without children under 21 (346 k of the 431 k widows), often with grown-up ones.
fn widow_alone(rng: &mut Rng) -> Vec<Draft> {
    let head_age = aged(rng, 45, 86);
    let mut m = vec![Draft::new(
        Relation::Head,
        Sex::Female,
        head_age,
        MaritalStatus::Widowed,
    )];
    let adults = adult_children(rng, 0.5, (head_age / 365 - 18).min(45));
    push_children(&mut m, rng, &adults, true, false);
    m
}

/// People aged 20–59 without children under 21: living alone, or a couple.
fn adults(rng: &mut Rng) -> Vec<Draft> {
    let head_age = aged(rng, 20, 60);
    let mut m = if rng.chance(0.5) {
        let marital = if rng.chance(0.75) {
            MaritalStatus::Single
        } else {
            MaritalStatus::Divorced
        };
        let s = sex(rng, 0.55);
        vec![Draft::new(Relation::Head, s, head_age, marital)]
    } else {
        let wife = (head_age - aged(rng, 0, 9)).max(years(18));
        vec![
            Draft::new(Relation::Head, Sex::Male, head_age, MaritalStatus::Married),
            Draft::new(Relation::Spouse, Sex::Female, wife, MaritalStatus::Married),
        ]
    };
    if head_age >= years(45) {
        let adults = adult_children(rng, 0.4, (head_age / 365 - 22).min(35));
        push_children(&mut m, rng, &adults, false, false);
    }
    maybe_parent(&mut m, rng, 0.06);
    m
}

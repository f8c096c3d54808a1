//! The pure entitlement function: (household snapshot, rule set, month) → decision with line
//! items and reasons. It allocates nothing once the output's buffers have grown, so the
//! national simulation can call it millions of times.

use chrono::NaiveDate;
pub use sanad_domain::snapshot::Member;
use sanad_domain::{Disability, Money, Month, Relation, Schooling, Score, Sex};
use serde::Serialize;

use crate::ruleset::{AgeOn, OrphanNotInSchool, RankOrder, RuleSet};

/// What the rules need of a household for one month.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    /// The RSU score in force, and the date it took effect.
    pub score: Option<(Score, NaiveDate)>,
    pub resident: bool,
    pub members: &'a [Member],
}

impl Snapshot<'_> {
    /// A hasher fed with the snapshot's canonical form: the score in millionths and the day
    /// it took effect (little-endian; all ones for none), residence, then each member in
    /// order ([`Member::write_to`]). FNV-1a is fixed by its definition, so a hash stored with a
    /// decision can be compared with one computed years later. Callers may feed more.
    pub fn hasher(&self) -> sanad_domain::fnv::Fnv {
        use chrono::Datelike;
        use std::hash::Hasher;
        let mut h = sanad_domain::fnv::Fnv::default();
        match self.score {
            Some((s, d)) => {
                h.write(&s.millionths().to_le_bytes());
                h.write(&d.num_days_from_ce().to_le_bytes());
            }
            None => h.write(&[0xff; 12]),
        }
        h.write(&[u8::from(self.resident), b'\n']);
        self.members.iter().for_each(|m| m.write_to(&mut h));
        h
    }

    /// FNV-1a 64 of the snapshot's canonical text (see [`Snapshot::hasher`]).
    pub fn hash(&self) -> u64 {
        std::hash::Hasher::finish(&self.hasher())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    NoScore,
    ScoreAboveThreshold,
    Residence,
    ExcludedPublicEmployee,
    ExcludedPensioner,
    ExcludedFamilyAllowance,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::NoScore => "no_score",
            Reason::ScoreAboveThreshold => "score_above_threshold",
            Reason::Residence => "residence",
            Reason::ExcludedPublicEmployee => "excluded_public_employee",
            Reason::ExcludedPensioner => "excluded_pensioner",
            Reason::ExcludedFamilyAllowance => "excluded_family_allowance",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    ChildAllowance,
    OrphanAllowance,
    DisabilitySupplement,
    FloorTopUp,
    FlatRate,
    BirthGrant,
    SchoolStartGrant,
}

impl Component {
    /// Every component, monthly first, in declaration order.
    pub const ALL: [Component; 7] = [
        Component::ChildAllowance,
        Component::OrphanAllowance,
        Component::DisabilitySupplement,
        Component::FloorTopUp,
        Component::FlatRate,
        Component::BirthGrant,
        Component::SchoolStartGrant,
    ];

    pub const MONTHLY: [Component; 5] = [
        Component::ChildAllowance,
        Component::OrphanAllowance,
        Component::DisabilitySupplement,
        Component::FloorTopUp,
        Component::FlatRate,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Component::ChildAllowance => "child_allowance",
            Component::OrphanAllowance => "orphan_allowance",
            Component::DisabilitySupplement => "disability_supplement",
            Component::FloorTopUp => "floor_top_up",
            Component::FlatRate => "flat_rate",
            Component::BirthGrant => "birth_grant",
            Component::SchoolStartGrant => "school_start_grant",
        }
    }
}

/// The rule parameter a line applied, by its path in the rule file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    YoungOrInSchool(u8),
    NotInSchool(u8),
    PaternalOrphan(u8),
    DisabilitySupplement,
    Floor,
    FlatRate,
    BirthGrantFirst,
    BirthGrantSecond,
    SchoolPrimaryOrCollege,
    SchoolSecondaryOrVocational,
}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Param::YoungOrInSchool(b) => write!(f, "child.bands[{b}].young_or_in_school"),
            Param::NotInSchool(b) => write!(f, "child.bands[{b}].not_in_school"),
            Param::PaternalOrphan(b) => write!(f, "child.bands[{b}].paternal_orphan"),
            Param::DisabilitySupplement => f.write_str("disability.supplement"),
            Param::Floor => f.write_str("household.floor"),
            Param::FlatRate => f.write_str("household.flat_rate"),
            Param::BirthGrantFirst => f.write_str("birth_grant.first"),
            Param::BirthGrantSecond => f.write_str("birth_grant.second"),
            Param::SchoolPrimaryOrCollege => f.write_str("school_start_grant.primary_or_college"),
            Param::SchoolSecondaryOrVocational => {
                f.write_str("school_start_grant.secondary_or_vocational")
            }
        }
    }
}

/// One amount and why: which member, which component, which parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Index into the snapshot's members; `None` for household-level lines.
    pub member: Option<u16>,
    pub component: Component,
    pub rank: Option<u8>,
    pub amount: Money,
    pub param: Param,
    /// Age in years on the month's reference date (for explanations).
    pub age: Option<u8>,
    pub in_school: bool,
}

/// The result for one household and month. Reuse one value across calls to avoid allocation.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    pub eligible: bool,
    pub reasons: Vec<Reason>,
    pub monthly_total: Money,
    pub lines: Vec<Line>,
    pub one_off: Vec<Line>,
    /// Who is paid: index into the members.
    pub payee: Option<u16>,
    children: Vec<(NaiveDate, u16)>,
}

impl Decision {
    pub fn one_off_total(&self) -> Money {
        self.one_off.iter().map(|l| l.amount).sum()
    }

    /// Keep only the components `keep` allows (those a household was awarded); the monthly
    /// total follows its lines.
    pub fn retain(&mut self, keep: impl Fn(Component) -> bool) {
        self.lines.retain(|l| keep(l.component));
        self.one_off.retain(|l| keep(l.component));
        self.monthly_total = self.lines.iter().map(|l| l.amount).sum();
    }

    fn clear(&mut self) {
        self.eligible = false;
        self.reasons.clear();
        self.monthly_total = Money::ZERO;
        self.lines.clear();
        self.one_off.clear();
        self.payee = None;
        self.children.clear();
    }
}

/// Age in whole years on `date` (a person born on 29 February has a birthday on 1 March in common years).
pub fn age_on(birth: NaiveDate, date: NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut age = date.year() - birth.year();
    if (date.month(), date.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// The date ages and presence are taken on for `month`.
pub fn reference_date(rules: &RuleSet, month: Month) -> NaiveDate {
    match rules.child.age_on {
        AgeOn::FirstDayOfMonth => month.first_day(),
        AgeOn::LastDayOfMonth => month.last_day(),
    }
}

fn present(m: &Member, on: NaiveDate) -> bool {
    m.birth_date <= on && m.death_date.is_none_or(|d| d > on)
}

fn severity(d: Disability) -> u8 {
    Disability::ALL.iter().position(|x| *x == d).unwrap_or(0) as u8
}

/// Evaluate `h` for `month` under `rules` into `out`.
pub fn evaluate(rules: &RuleSet, h: &Snapshot, month: Month, out: &mut Decision) {
    out.clear();
    let on = reference_date(rules, month);
    eligibility(rules, h, month, on, &mut out.reasons);
    out.eligible = out.reasons.is_empty();
    if !out.eligible {
        return;
    }
    rank_children(rules, h, on, &mut out.children);
    monthly_lines(rules, h, on, out);
    out.monthly_total = out.lines.iter().map(|l| l.amount).sum();
    birth_grants(rules, h, month, out);
    school_start_grants(rules, h, month, on, out);
    out.payee = payee(h, on, !out.children.is_empty());
}

fn eligibility(
    rules: &RuleSet,
    h: &Snapshot,
    month: Month,
    on: NaiveDate,
    reasons: &mut Vec<Reason>,
) {
    match h.score {
        Some((_, valid_from)) if valid_from > month.last_day() => reasons.push(Reason::NoScore),
        None => reasons.push(Reason::NoScore),
        Some((score, _)) if score > rules.threshold() => reasons.push(Reason::ScoreAboveThreshold),
        Some(_) => {}
    }
    let e = &rules.eligibility;
    if e.require_residence && !h.resident {
        reasons.push(Reason::Residence);
    }
    let alive = || h.members.iter().filter(|m| present(m, on));
    if e.exclude_public_employee && alive().any(|m| m.public_employee) {
        reasons.push(Reason::ExcludedPublicEmployee);
    }
    if e.exclude_pensioner && alive().any(|m| m.pensioner) {
        reasons.push(Reason::ExcludedPensioner);
    }
    if e.exclude_family_allowance && alive().any(|m| m.family_allowance) {
        reasons.push(Reason::ExcludedFamilyAllowance);
    }
}

/// Children under the age limit present on `on`, in rank order (rank 1 first); ties by
/// birth date, then position.
fn rank_children(
    rules: &RuleSet,
    h: &Snapshot,
    on: NaiveDate,
    children: &mut Vec<(NaiveDate, u16)>,
) {
    children.extend(
        h.members
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                m.relation.is_child()
                    && present(m, on)
                    && age_on(m.birth_date, on) < rules.child.age_limit as i32
            })
            .map(|(i, m)| (m.birth_date, i as u16)),
    );
    match rules.child.rank_order {
        RankOrder::OldestFirst => children.sort_unstable(),
        RankOrder::HighestRateFirst => children.sort_unstable_by_key(|&(b, i)| {
            (
                std::cmp::Reverse(rank_one_rate(rules, &h.members[i as usize], on)),
                b,
                i,
            )
        }),
    }
}

/// What a child would receive at rank 1: the key of `RankOrder::HighestRateFirst`.
fn rank_one_rate(rules: &RuleSet, m: &Member, on: NaiveDate) -> Money {
    let Some(band) = rules.child.bands.first() else {
        return Money::ZERO;
    };
    let school =
        age_on(m.birth_date, on) < rules.child.young_age_limit as i32 || m.schooling.in_school();
    match (m.father_deceased, band.paternal_orphan, school) {
        (true, Some(o), true) => o.0,
        (true, Some(o), false)
            if rules.child.orphan_not_in_school == OrphanNotInSchool::OrphanRate =>
        {
            o.0
        }
        (_, _, true) => band.young_or_in_school.0,
        _ => band.not_in_school.0,
    }
}

fn monthly_lines(rules: &RuleSet, h: &Snapshot, on: NaiveDate, out: &mut Decision) {
    if out.children.is_empty() {
        out.lines.push(household_line(
            Component::FlatRate,
            rules.household.flat_rate.0,
            Param::FlatRate,
        ));
        return;
    }
    let c = &rules.child;
    for (k, &(_, idx)) in out.children.iter().enumerate() {
        let m = &h.members[idx as usize];
        let rank = k as u32 + 1;
        let age = age_on(m.birth_date, on);
        let in_school = m.schooling.in_school();
        let base = Line {
            member: Some(idx),
            component: Component::ChildAllowance,
            rank: Some(rank as u8),
            amount: Money::ZERO,
            param: Param::Floor,
            age: Some(age as u8),
            in_school,
        };
        if rank <= c.max_children
            && let Some((b, band)) = rules.band(rank)
        {
            let b = b as u8;
            let counts_as_school = age < c.young_age_limit as i32 || in_school;
            let (component, amount, param) = match (m.father_deceased, band.paternal_orphan) {
                (true, Some(orphan))
                    if counts_as_school
                        || c.orphan_not_in_school == OrphanNotInSchool::OrphanRate =>
                {
                    (
                        Component::OrphanAllowance,
                        orphan.0,
                        Param::PaternalOrphan(b),
                    )
                }
                (true, Some(_)) => (
                    Component::OrphanAllowance,
                    band.not_in_school.0,
                    Param::NotInSchool(b),
                ),
                _ if counts_as_school => (
                    Component::ChildAllowance,
                    band.young_or_in_school.0,
                    Param::YoungOrInSchool(b),
                ),
                _ => (
                    Component::ChildAllowance,
                    band.not_in_school.0,
                    Param::NotInSchool(b),
                ),
            };
            out.lines.push(Line {
                component,
                amount,
                param,
                ..base
            });
        }
        let d = &rules.disability;
        if severity(m.disability) >= severity(d.min_severity) && age < d.age_limit as i32 {
            out.lines.push(Line {
                component: Component::DisabilitySupplement,
                amount: d.supplement.0,
                param: Param::DisabilitySupplement,
                ..base
            });
        }
    }
    let sum: Money = out.lines.iter().map(|l| l.amount).sum();
    let floor = rules.household.floor.0;
    if sum < floor {
        out.lines.push(household_line(
            Component::FloorTopUp,
            floor - sum,
            Param::Floor,
        ));
    }
}

fn household_line(component: Component, amount: Money, param: Param) -> Line {
    Line {
        member: None,
        component,
        rank: None,
        amount,
        param,
        age: None,
        in_school: false,
    }
}

/// Birth grants for children born in `month`, by birth order among the household's children.
fn birth_grants(rules: &RuleSet, h: &Snapshot, month: Month, out: &mut Decision) {
    let g = &rules.birth_grant;
    for (i, m) in h.members.iter().enumerate() {
        if m.relation != Relation::Child || Month::of(m.birth_date) != month {
            continue;
        }
        let order = 1 + h
            .members
            .iter()
            .enumerate()
            .filter(|(j, o)| {
                o.relation == Relation::Child && (o.birth_date, *j) < (m.birth_date, i)
            })
            .count();
        let (amount, param) = match order {
            1 => (g.first.0, Param::BirthGrantFirst),
            2 => (g.second.0, Param::BirthGrantSecond),
            _ => continue,
        };
        if amount > Money::ZERO {
            out.one_off.push(Line {
                member: Some(i as u16),
                component: Component::BirthGrant,
                rank: Some(order as u8),
                amount,
                param,
                age: Some(0),
                in_school: false,
            });
        }
    }
}

/// The school-start grant in its month: children in public primary/collège or secondary/vocational.
fn school_start_grants(
    rules: &RuleSet,
    h: &Snapshot,
    month: Month,
    on: NaiveDate,
    out: &mut Decision,
) {
    let g = &rules.school_start_grant;
    if month.month() != g.month || month.year() < g.first_year {
        return;
    }
    let mut paid = 0;
    for (k, &(_, idx)) in out.children.iter().enumerate() {
        let m = &h.members[idx as usize];
        let (amount, param) = match m.schooling {
            Schooling::PublicPrimary | Schooling::PublicCollege => {
                (g.primary_or_college.0, Param::SchoolPrimaryOrCollege)
            }
            Schooling::PublicSecondary | Schooling::PublicVocational => (
                g.secondary_or_vocational.0,
                Param::SchoolSecondaryOrVocational,
            ),
            Schooling::Private if !g.public_only => {
                (g.primary_or_college.0, Param::SchoolPrimaryOrCollege)
            }
            _ => continue,
        };
        if paid == g.max_children {
            break;
        }
        paid += 1;
        let age = Some(age_on(m.birth_date, on) as u8);
        out.one_off.push(Line {
            member: Some(idx),
            component: Component::SchoolStartGrant,
            rank: Some(k as u8 + 1),
            amount,
            param,
            age,
            in_school: true,
        });
    }
}

/// The payee (asd-rules.md §3): for child aid the husband, else the mother or other person
/// with custody (the head, then the spouse); for the flat-rate aid the head.
fn payee(h: &Snapshot, on: NaiveDate, child_aid: bool) -> Option<u16> {
    let alive = |rel: Relation| {
        h.members
            .iter()
            .position(|m| m.relation == rel && present(m, on))
            .map(|i| i as u16)
    };
    let (head, spouse) = (alive(Relation::Head), alive(Relation::Spouse));
    if child_aid && head.is_some() && spouse.is_some() {
        let husband = [head, spouse]
            .into_iter()
            .flatten()
            .find(|&i| h.members[i as usize].sex == Sex::Male);
        if husband.is_some() {
            return husband;
        }
    }
    head.or(spouse).or_else(|| {
        h.members
            .iter()
            .position(|m| present(m, on) && age_on(m.birth_date, on) >= 18)
            .map(|i| i as u16)
    })
}

/// Evaluate a registry household for `month`: its members as they are, the score in force
/// on the reference date. Registry households reside in Morocco by construction.
pub fn evaluate_household(
    rules: &RuleSet,
    h: &sanad_domain::Household,
    month: Month,
) -> (Decision, Vec<Member>) {
    let members: Vec<Member> = h.members.iter().map(Member::from).collect();
    let on = reference_date(rules, month);
    let score = h.scores.at(on).map(|r| (r.value, r.valid_from));
    let mut d = Decision::default();
    evaluate(
        rules,
        &Snapshot {
            score,
            resident: true,
            members: &members,
        },
        month,
        &mut d,
    );
    (d, members)
}

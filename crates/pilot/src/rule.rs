//! The target-group rule language: a measure's target group as data, stored in the catalogue.
//!
//! A [`Rule`] is a tree: `all`, `any` and `not` combine leaves; the leaves are
//! `asd_eligible`, `area` and `member` (at least one living member matching a
//! [`MemberFilter`]). Evaluation is three-valued ([`Truth`]): a fact Sanad does not hold
//! (ASD eligibility not computed, pregnancy never recorded) makes a leaf `unknown`, and
//! only `yes` makes a household eligible — a social worker can then record the missing fact.

use std::collections::BTreeSet;
use std::fmt;

use chrono::NaiveDate;
use sanad_domain::{Area, Disability, Household, Idcs, Person, Relation, Sex};
use serde::{Deserialize, Serialize};

/// Kleene's three-valued logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Truth {
    Yes,
    No,
    Unknown,
}

impl Truth {
    pub fn from_bool(b: bool) -> Truth {
        if b { Truth::Yes } else { Truth::No }
    }

    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::No, _) | (_, Truth::No) => Truth::No,
            (Truth::Yes, Truth::Yes) => Truth::Yes,
            _ => Truth::Unknown,
        }
    }

    pub fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::Yes, _) | (_, Truth::Yes) => Truth::Yes,
            (Truth::No, Truth::No) => Truth::No,
            _ => Truth::Unknown,
        }
    }

    /// Whether this truth equals the wanted boolean (unknown stays unknown).
    fn is(self, want: bool) -> Truth {
        if want { self } else { !self }
    }
}

impl std::ops::Not for Truth {
    type Output = Truth;
    fn not(self) -> Truth {
        match self {
            Truth::Yes => Truth::No,
            Truth::No => Truth::Yes,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

/// Facts about a household that its RSU record does not hold, supplied by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// The ASD entitlement engine's answer for the household on the date (`None`: not computed).
    /// This crate does not depend on `sanad-rules`; the caller runs `sanad_rules::evaluate`.
    pub asd_eligible: Option<bool>,
    /// Members a social worker recorded as pregnant; `None` when nobody has asked.
    pub pregnant: Option<BTreeSet<Idcs>>,
}

/// A target-group rule. JSON: `{"all": [..]}`, `{"any": [..]}`, `{"not": ..}`,
/// `"asd_eligible"`, `{"area": "rural"}`, `{"member": {..filter..}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    All(Vec<Rule>),
    Any(Vec<Rule>),
    Not(Box<Rule>),
    /// The household is eligible to the direct social aid (from [`Facts::asd_eligible`]).
    AsdEligible,
    /// The household lives in an urban or rural area.
    Area(Area),
    /// At least one member alive on the date matches every criterion of the filter.
    Member(MemberFilter),
}

/// Criteria on one member; every criterion given must hold. Ages are completed years on the
/// evaluation date, bounds inclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_min: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_max: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    /// A child of the household (child, kafala child or ward of the head).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child: Option<bool>,
    /// Enrolled in any school (the RSU `schooling` is not `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_school: Option<bool>,
    /// Formally employed: a positive public-payroll (DGI) or CNSS family-allowance cross-check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formally_employed: Option<bool>,
    /// Any recognised disability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// Recorded pregnant ([`Facts::pregnant`]); unknown for women aged 12–50 when not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pregnant: Option<bool>,
    /// A woman, head or spouse, in a household with a living child under 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub young_mother: Option<bool>,
}

/// One leaf of a rule, as reported in a [`Verdict`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    AsdEligible,
    Area(Area),
    Member(MemberFilter),
}

/// A leaf's own truth for this household. `negated` says it sits under an odd number of
/// `not`s, so a `yes` here counts against eligibility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub condition: Condition,
    pub truth: Truth,
    pub negated: bool,
    /// For a member condition: the members that match (`yes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Idcs>,
}

/// The result of a rule: the overall truth and every leaf evaluated, in rule order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub truth: Truth,
    pub checks: Vec<Check>,
}

impl Verdict {
    pub fn eligible(&self) -> bool {
        self.truth == Truth::Yes
    }
}

/// Deeper rules are almost certainly mistakes, and the limit bounds recursion on bad input.
const MAX_DEPTH: usize = 8;

impl Rule {
    /// Evaluate against a household on `date`, with the facts the record lacks.
    pub fn evaluate(&self, household: &Household, facts: &Facts, date: NaiveDate) -> Verdict {
        let mut checks = Vec::new();
        let truth = self.eval(household, facts, date, false, &mut checks);
        Verdict { truth, checks }
    }

    fn eval(
        &self,
        h: &Household,
        facts: &Facts,
        date: NaiveDate,
        negated: bool,
        out: &mut Vec<Check>,
    ) -> Truth {
        match self {
            Rule::All(rs) => rs.iter().fold(Truth::Yes, |t, r| {
                t.and(r.eval(h, facts, date, negated, out))
            }),
            Rule::Any(rs) => rs
                .iter()
                .fold(Truth::No, |t, r| t.or(r.eval(h, facts, date, negated, out))),
            Rule::Not(r) => !r.eval(h, facts, date, !negated, out),
            Rule::AsdEligible => {
                let truth = facts.asd_eligible.map_or(Truth::Unknown, Truth::from_bool);
                leaf(out, Condition::AsdEligible, truth, negated, Vec::new())
            }
            Rule::Area(a) => leaf(
                out,
                Condition::Area(*a),
                Truth::from_bool(h.residence.area == *a),
                negated,
                Vec::new(),
            ),
            Rule::Member(f) => {
                let living = h
                    .members
                    .iter()
                    .filter(|p| p.birth_date <= date && p.alive_on(date));
                let truths: Vec<(&Person, Truth)> =
                    living.map(|p| (p, f.matches(p, h, facts, date))).collect();
                let truth = truths.iter().fold(Truth::No, |t, (_, m)| t.or(*m));
                let members = truths
                    .iter()
                    .filter(|(_, m)| *m == Truth::Yes)
                    .map(|(p, _)| p.idcs.clone())
                    .collect();
                leaf(out, Condition::Member(f.clone()), truth, negated, members)
            }
        }
    }

    /// Structural checks done when a catalogue is loaded: non-empty `all`/`any`, non-empty
    /// filters, consistent age bounds, bounded depth.
    pub fn validate(&self) -> Result<(), String> {
        self.validate_at(1)
    }

    fn validate_at(&self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("rule nested deeper than {MAX_DEPTH} levels"));
        }
        match self {
            Rule::All(rs) | Rule::Any(rs) if rs.is_empty() => {
                Err("`all` and `any` need at least one rule".into())
            }
            Rule::All(rs) | Rule::Any(rs) => rs.iter().try_for_each(|r| r.validate_at(depth + 1)),
            Rule::Not(r) => r.validate_at(depth + 1),
            Rule::AsdEligible | Rule::Area(_) => Ok(()),
            Rule::Member(f) => f.validate(),
        }
    }
}

fn leaf(
    out: &mut Vec<Check>,
    condition: Condition,
    truth: Truth,
    negated: bool,
    members: Vec<Idcs>,
) -> Truth {
    out.push(Check {
        condition,
        truth,
        negated,
        members,
    });
    truth
}

impl MemberFilter {
    fn validate(&self) -> Result<(), String> {
        if *self == MemberFilter::default() {
            return Err("a member filter needs at least one criterion".into());
        }
        match (self.age_min, self.age_max) {
            (Some(lo), Some(hi)) if lo > hi => Err(format!("age_min {lo} is above age_max {hi}")),
            _ => Ok(()),
        }
    }

    /// The conjunction of the criteria given, for one living member.
    pub fn matches(&self, p: &Person, h: &Household, facts: &Facts, date: NaiveDate) -> Truth {
        let age = p.age_on(date);
        let known = [
            self.age_min.map(|a| age >= i32::from(a)),
            self.age_max.map(|a| age <= i32::from(a)),
            self.sex.map(|s| p.sex == s),
            self.child.map(|c| p.relation.is_child() == c),
            self.in_school.map(|s| p.schooling.in_school() == s),
            self.formally_employed.map(|e| formally_employed(p) == e),
            self.disabled
                .map(|d| (p.disability != Disability::None) == d),
            self.young_mother.map(|y| young_mother(p, h, date) == y),
        ];
        let t = known
            .into_iter()
            .flatten()
            .fold(Truth::Yes, |t, c| t.and(Truth::from_bool(c)));
        match self.pregnant {
            Some(want) => t.and(pregnant(p, facts, date).is(want)),
            None => t,
        }
    }
}

/// Assumption: the RSU's cross-checks are the only employment source Sanad holds; a public
/// payroll or CNSS family-allowance entry means formal employment, no entry means none.
fn formally_employed(p: &Person) -> bool {
    p.checks.public_employee.is_some() || p.checks.family_allowance.is_some()
}

/// Assumption: the RSU records no mother–child link, so a young mother is a woman who heads
/// the household or is the head's spouse, living with a child of the household under 2.
fn young_mother(p: &Person, h: &Household, date: NaiveDate) -> bool {
    let baby = |c: &Person| {
        c.relation.is_child() && c.birth_date <= date && c.alive_on(date) && c.age_on(date) < 2
    };
    p.sex == Sex::Female
        && matches!(p.relation, Relation::Head | Relation::Spouse)
        && h.members.iter().any(baby)
}

/// Pregnancy is only known when recorded; unrecorded, it is unknown for women of 12 to 50.
fn pregnant(p: &Person, facts: &Facts, date: NaiveDate) -> Truth {
    match &facts.pregnant {
        Some(set) => Truth::from_bool(set.contains(&p.idcs)),
        None if p.sex == Sex::Female && (12..=50).contains(&p.age_on(date)) => Truth::Unknown,
        None => Truth::No,
    }
}

/// English description, for logs and tests; pages render from the structured [`Check`].
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::AsdEligible => f.write_str("eligible to the direct social aid"),
            Condition::Area(a) => write!(f, "lives in a {} area", a.as_str()),
            Condition::Member(m) => write!(f, "a member {m}"),
        }
    }
}

impl fmt::Display for MemberFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yes_no =
            |b: bool, yes: &str, no: &str| if b { yes.to_string() } else { no.to_string() };
        let parts: Vec<String> = [
            match (self.age_min, self.age_max) {
                (Some(lo), Some(hi)) => Some(format!("aged {lo}–{hi}")),
                (Some(lo), None) => Some(format!("aged {lo} or more")),
                (None, Some(hi)) => Some(format!("aged {hi} or less")),
                (None, None) => None,
            },
            self.sex.map(|s| yes_no(s == Sex::Female, "female", "male")),
            self.child.map(|c| {
                yes_no(
                    c,
                    "a child of the household",
                    "not a child of the household",
                )
            }),
            self.in_school
                .map(|s| yes_no(s, "in school", "not in school")),
            self.formally_employed
                .map(|e| yes_no(e, "formally employed", "without formal employment")),
            self.disabled
                .map(|d| yes_no(d, "with a disability", "without disability")),
            self.pregnant.map(|p| yes_no(p, "pregnant", "not pregnant")),
            self.young_mother.map(|y| {
                yes_no(
                    y,
                    "mother of a child under 2",
                    "not mother of a child under 2",
                )
            }),
        ]
        .into_iter()
        .flatten()
        .collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use sanad_domain::{CrossCheck, Schooling};

    fn member(filter: MemberFilter) -> Rule {
        Rule::Member(filter)
    }

    fn out_of_school(lo: u8, hi: u8) -> MemberFilter {
        MemberFilter {
            age_min: Some(lo),
            age_max: Some(hi),
            child: Some(true),
            in_school: Some(false),
            ..Default::default()
        }
    }

    #[test]
    fn a_twelve_year_old_out_of_school_is_in_the_schooling_target_group() {
        // Worked example: the child turns 12 on 2015-02-01 + 12 years; on 2027-03-01 they are 12.
        let h = household(
            "100000000001",
            vec![
                adult(1, Relation::Head),
                kid(2, "2015-02-01", Schooling::None),
            ],
        );
        let rule = Rule::All(vec![Rule::AsdEligible, member(out_of_school(6, 15))]);
        let v = rule.evaluate(&h, &asd(true), d("2027-03-01"));
        assert!(v.eligible());
        assert_eq!(v.checks.len(), 2);
        assert_eq!(v.checks[1].members, vec![Idcs::from_body(2)]);
    }

    #[test]
    fn a_child_in_school_or_outside_the_ages_is_not() {
        let in_school = household(
            "100000000001",
            vec![
                adult(1, Relation::Head),
                kid(2, "2015-02-01", Schooling::PublicCollege),
            ],
        );
        let rule = member(out_of_school(6, 15));
        assert_eq!(
            rule.evaluate(&in_school, &asd(true), d("2027-03-01")).truth,
            Truth::No
        );
        // 16 on 2031-02-01: above the bound, inclusive bounds stop at 15.
        let older = household(
            "100000000001",
            vec![
                adult(1, Relation::Head),
                kid(2, "2015-02-01", Schooling::None),
            ],
        );
        assert_eq!(
            rule.evaluate(&older, &asd(true), d("2031-01-31")).truth,
            Truth::Yes
        );
        assert_eq!(
            rule.evaluate(&older, &asd(true), d("2031-02-01")).truth,
            Truth::No
        );
    }

    #[test]
    fn a_child_under_five_counts_only_while_under_five_and_alive() {
        let h = household(
            "100000000001",
            vec![
                adult(1, Relation::Head),
                kid(2, "2023-05-10", Schooling::None),
            ],
        );
        let rule = member(MemberFilter {
            age_max: Some(4),
            child: Some(true),
            ..Default::default()
        });
        assert!(
            rule.evaluate(&h, &Facts::default(), d("2028-05-09"))
                .eligible()
        );
        assert!(
            !rule
                .evaluate(&h, &Facts::default(), d("2028-05-10"))
                .eligible()
        );
        let mut parts = h.into_parts();
        parts.members[1].death_date = Some(d("2026-01-01"));
        let h = Household::new(parts, d("2026-11-30")).unwrap();
        assert!(
            !rule
                .evaluate(&h, &Facts::default(), d("2027-01-01"))
                .eligible()
        );
    }

    #[test]
    fn formal_employment_comes_from_the_cross_checks() {
        let mut worker = adult(1, Relation::Head);
        worker.checks.family_allowance = Some(CrossCheck {
            source: "CNSS-AF".into(),
            date: d("2026-01-01"),
        });
        let h = household("100000000001", vec![worker, adult(3, Relation::Spouse)]);
        let unemployed = MemberFilter {
            age_min: Some(18),
            age_max: Some(45),
            formally_employed: Some(false),
            ..Default::default()
        };
        let v = member(unemployed.clone()).evaluate(&h, &Facts::default(), d("2027-01-01"));
        assert_eq!(
            v.checks[0].members,
            vec![Idcs::from_body(3)],
            "only the spouse has no formal job"
        );
        let mut only_worker = h.into_parts();
        only_worker.members.truncate(1);
        let h = Household::new(only_worker, d("2026-11-30")).unwrap();
        assert!(
            !member(unemployed)
                .evaluate(&h, &Facts::default(), d("2027-01-01"))
                .eligible()
        );
    }

    #[test]
    fn pregnancy_is_unknown_until_recorded_and_unknown_is_not_eligible() {
        let h = household("100000000001", vec![adult(1, Relation::Head)]);
        let rule = member(MemberFilter {
            pregnant: Some(true),
            ..Default::default()
        });
        let v = rule.evaluate(&h, &Facts::default(), d("2027-01-01"));
        assert_eq!(v.truth, Truth::Unknown);
        assert!(!v.eligible());
        let recorded = Facts {
            pregnant: Some([Idcs::from_body(1)].into()),
            ..Facts::default()
        };
        assert!(rule.evaluate(&h, &recorded, d("2027-01-01")).eligible());
        let asked = Facts {
            pregnant: Some(BTreeSet::new()),
            ..Facts::default()
        };
        assert_eq!(rule.evaluate(&h, &asked, d("2027-01-01")).truth, Truth::No);
    }

    #[test]
    fn a_young_mother_is_head_or_spouse_with_a_baby() {
        let h = household(
            "100000000001",
            vec![
                adult(1, Relation::Head),
                kid(2, "2026-06-01", Schooling::None),
            ],
        );
        let rule = member(MemberFilter {
            young_mother: Some(true),
            ..Default::default()
        });
        assert!(
            rule.evaluate(&h, &Facts::default(), d("2027-01-01"))
                .eligible()
        );
        assert!(
            !rule
                .evaluate(&h, &Facts::default(), d("2028-06-01"))
                .eligible(),
            "the child is 2"
        );
    }

    #[test]
    fn unknown_asd_eligibility_blocks_and_a_known_no_excludes() {
        let h = household("100000000001", vec![adult(1, Relation::Head)]);
        assert_eq!(
            Rule::AsdEligible
                .evaluate(&h, &Facts::default(), d("2027-01-01"))
                .truth,
            Truth::Unknown
        );
        assert_eq!(
            Rule::AsdEligible
                .evaluate(&h, &asd(false), d("2027-01-01"))
                .truth,
            Truth::No
        );
        // `any` is yes as soon as one branch is yes, whatever the unknowns.
        let any = Rule::Any(vec![Rule::AsdEligible, Rule::Area(Area::Urban)]);
        assert!(
            any.evaluate(&h, &Facts::default(), d("2027-01-01"))
                .eligible()
        );
    }

    #[test]
    fn not_inverts_and_marks_its_leaves() {
        let h = household("100000000001", vec![adult(1, Relation::Head)]);
        let rule = Rule::Not(Box::new(Rule::Area(Area::Rural)));
        let v = rule.evaluate(&h, &Facts::default(), d("2027-01-01"));
        assert!(v.eligible());
        assert_eq!((v.checks[0].truth, v.checks[0].negated), (Truth::No, true));
    }

    #[test]
    fn three_valued_logic_tables() {
        use Truth::*;
        assert_eq!(Unknown.and(No), No);
        assert_eq!(Unknown.and(Yes), Unknown);
        assert_eq!(Unknown.or(Yes), Yes);
        assert_eq!(Unknown.or(No), Unknown);
        assert_eq!(!Unknown, Unknown);
    }

    #[test]
    fn the_json_form_round_trips_and_bad_rules_are_refused() {
        let json = r#"{"all": ["asd_eligible", {"area": "rural"}, {"member": {"age_max": 4, "child": true}}]}"#;
        let rule: Rule = serde_json::from_str(json).unwrap();
        assert_eq!(
            serde_json::from_str::<Rule>(&serde_json::to_string(&rule).unwrap()).unwrap(),
            rule
        );
        assert!(rule.validate().is_ok());
        assert!(
            serde_json::from_str::<Rule>(r#"{"member": {"age": 4}}"#).is_err(),
            "unknown criterion"
        );
        assert!(Rule::All(vec![]).validate().is_err());
        assert!(member(MemberFilter::default()).validate().is_err());
        assert!(
            member(MemberFilter {
                age_min: Some(9),
                age_max: Some(3),
                ..Default::default()
            })
            .validate()
            .is_err()
        );
        let deep = (0..9).fold(Rule::AsdEligible, |r, _| Rule::Not(Box::new(r)));
        assert!(deep.validate().is_err());
    }

    #[test]
    fn conditions_describe_themselves() {
        let c = Condition::Member(out_of_school(6, 15));
        assert_eq!(
            c.to_string(),
            "a member aged 6–15, a child of the household, not in school"
        );
    }
}

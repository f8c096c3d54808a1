//! Properties that must hold for any household: the floor, and that more children or more
//! schooling never lowers the amount.

use chrono::NaiveDate;
use proptest::prelude::*;
use sanad_domain::{Disability, Month, Relation, Schooling, Score, Sex};
use sanad_rules::RuleBook;
use sanad_rules::engine::{Decision, Member, Snapshot, evaluate};
use sanad_rules::ruleset::RankOrder;

fn month() -> Month {
    "2026-11".parse().unwrap()
}

fn child_strategy() -> impl Strategy<Value = Member> {
    (
        0i64..21 * 365,
        prop::sample::select(Schooling::ALL.to_vec()),
        any::<bool>(),
        prop::sample::select(Disability::ALL.to_vec()),
    )
        .prop_map(|(days, schooling, orphan, disability)| Member {
            relation: Relation::Child,
            sex: Sex::Female,
            birth_date: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap()
                - chrono::Duration::days(days),
            death_date: None,
            schooling,
            disability,
            father_deceased: orphan,
            public_employee: false,
            pensioner: false,
            family_allowance: false,
        })
}

fn household(children: Vec<Member>) -> Vec<Member> {
    let head = Member {
        relation: Relation::Head,
        birth_date: NaiveDate::from_ymd_opt(1975, 1, 1).unwrap(),
        ..children.first().cloned().unwrap_or_else(|| blank())
    };
    let head = Member {
        schooling: Schooling::None,
        disability: Disability::None,
        father_deceased: false,
        ..head
    };
    std::iter::once(head).chain(children).collect()
}

fn blank() -> Member {
    Member {
        relation: Relation::Head,
        sex: Sex::Male,
        birth_date: NaiveDate::from_ymd_opt(1975, 1, 1).unwrap(),
        death_date: None,
        schooling: Schooling::None,
        disability: Disability::None,
        father_deceased: false,
        public_employee: false,
        pensioner: false,
        family_allowance: false,
    }
}

fn total(members: &[Member]) -> (bool, i64) {
    total_with(members, RankOrder::OldestFirst)
}

fn total_with(members: &[Member], order: RankOrder) -> (bool, i64) {
    let mut rules = RuleBook::shipped().for_month(month()).unwrap().clone();
    rules.child.rank_order = order;
    let snap = Snapshot {
        score: Some((
            Score::parse("7").unwrap(),
            NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        )),
        resident: true,
        members,
    };
    let mut d = Decision::default();
    evaluate(&rules, &snap, month(), &mut d);
    assert_eq!(
        d.lines.iter().map(|l| l.amount.centimes()).sum::<i64>(),
        d.monthly_total.centimes(),
        "lines add up to the total"
    );
    (d.eligible, d.monthly_total.centimes())
}

proptest! {
    #[test]
    fn an_eligible_household_never_gets_less_than_the_floor(children in prop::collection::vec(child_strategy(), 0..10)) {
        let (eligible, t) = total(&household(children));
        prop_assert!(eligible);
        prop_assert!(t >= 50_000);
    }

    /// A birth adds the youngest child: under birth-order ranks it never lowers the amount.
    #[test]
    fn a_birth_never_lowers_the_amount(children in prop::collection::vec(child_strategy(), 0..9), extra in child_strategy()) {
        let before = total(&household(children.clone())).1;
        let youngest = children.iter().map(|c| c.birth_date).max().unwrap_or(extra.birth_date);
        let newborn = Member { birth_date: youngest.max(extra.birth_date), ..extra };
        let mut more = children;
        more.push(newborn);
        prop_assert!(total(&household(more)).1 >= before);
    }

    /// Any child joining (kafala, ward, an older child): never lower under highest-rate ranks.
    #[test]
    fn adding_any_child_never_lowers_the_amount_with_highest_rate_ranks(children in prop::collection::vec(child_strategy(), 0..9), extra in child_strategy()) {
        let before = total_with(&household(children.clone()), RankOrder::HighestRateFirst).1;
        let mut more = children;
        more.push(extra);
        prop_assert!(total_with(&household(more), RankOrder::HighestRateFirst).1 >= before);
    }

    #[test]
    fn going_to_school_never_lowers_the_amount(children in prop::collection::vec(child_strategy(), 1..9), which in any::<prop::sample::Index>(), level in prop::sample::select(vec![Schooling::PublicPrimary, Schooling::PublicCollege, Schooling::PublicSecondary, Schooling::Private])) {
        let mut out = children.clone();
        let i = which.index(out.len());
        out[i].schooling = Schooling::None;
        let mut school = out.clone();
        school[i].schooling = level;
        prop_assert!(total(&household(school)).1 >= total(&household(out)).1);
    }
}

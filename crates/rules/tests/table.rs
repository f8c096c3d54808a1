//! Every row of asd-rules.md §4, its worked examples and the boundaries, against the
//! shipped schedules.

use chrono::NaiveDate;
use sanad_domain::{Disability, Month, Relation, Schooling, Score, Sex};
use sanad_rules::engine::{Component, Decision, Member, Reason, Snapshot, evaluate};
use sanad_rules::{RuleBook, RuleSet};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn m(s: &str) -> Month {
    s.parse().unwrap()
}

fn adult(relation: Relation, sex: Sex, birth: &str) -> Member {
    Member {
        relation,
        sex,
        birth_date: d(birth),
        death_date: None,
        schooling: Schooling::None,
        disability: Disability::None,
        father_deceased: false,
        public_employee: false,
        pensioner: false,
        family_allowance: false,
    }
}

fn child(birth: &str, schooling: Schooling) -> Member {
    Member {
        schooling,
        ..adult(Relation::Child, Sex::Female, birth)
    }
}

fn couple() -> Vec<Member> {
    vec![
        adult(Relation::Head, Sex::Male, "1980-01-01"),
        adult(Relation::Spouse, Sex::Female, "1982-01-01"),
    ]
}

fn rules(month: &str) -> RuleSet {
    RuleBook::shipped().for_month(m(month)).unwrap().clone()
}

fn run(members: &[Member], month: &str) -> Decision {
    run_with(&rules(month), members, month, Score::parse("8.0").unwrap())
}

fn run_with(rules: &RuleSet, members: &[Member], month: &str, score: Score) -> Decision {
    let snap = Snapshot {
        score: Some((score, d("2023-06-01"))),
        resident: true,
        members,
    };
    let mut out = Decision::default();
    evaluate(rules, &snap, m(month), &mut out);
    out
}

fn mad(d: &Decision) -> i64 {
    d.monthly_total.centimes() / 100
}

fn amounts(d: &Decision, c: Component) -> Vec<i64> {
    d.lines
        .iter()
        .filter(|l| l.component == c)
        .map(|l| l.amount.centimes() / 100)
        .collect()
}

#[test]
fn schedules_are_chosen_by_effective_date() {
    let book = RuleBook::shipped();
    assert!(book.for_month(m("2023-11")).is_none());
    assert_eq!(book.for_month(m("2023-12")).unwrap().id, "asd-2023-12");
    assert_eq!(book.for_month(m("2025-10")).unwrap().id, "asd-2023-12");
    assert_eq!(book.for_month(m("2025-11")).unwrap().id, "asd-2025-11");
    assert_eq!(book.for_month(m("2026-10")).unwrap().id, "asd-2025-11");
    assert_eq!(book.for_month(m("2026-11")).unwrap().id, "asd-2026-11");
}

/// §4.1, one row at a time, in each schedule: (rank 1–3 young/in school, not in school,
/// orphan; rank 4–6 young/in school, not in school).
#[test]
fn every_rate_of_the_child_table() {
    for (month, r13_school, r13_out, orphan) in [
        ("2024-01", 200, 150, 350),
        ("2025-11", 250, 175, 375),
        ("2026-11", 300, 200, 400),
    ] {
        // Seven children: ages 20 (out of school), 16, 12 (in school), 9 (out), 7, 4, 2.
        let mut hh = couple();
        hh.push(child("2006-01-01", Schooling::None));
        hh.push(child("2010-01-01", Schooling::PublicSecondary));
        hh.push(child("2014-01-01", Schooling::PublicCollege));
        hh.push(child("2017-01-01", Schooling::None));
        hh.push(child("2019-01-01", Schooling::PublicPrimary));
        hh.push(child("2022-01-01", Schooling::None));
        hh.push(child("2024-01-01", Schooling::None));
        // In 2024 the younger ones are not born yet; build the case per month instead.
        let on = m(month).first_day();
        hh.retain(|x| x.birth_date <= on);
        let dec = run(&hh, month);
        let got = amounts(&dec, Component::ChildAllowance);
        let ages: Vec<i32> = hh[2..]
            .iter()
            .map(|c| sanad_rules::engine::age_on(c.birth_date, on))
            .collect();
        let expect: Vec<i64> = hh[2..]
            .iter()
            .zip(&ages)
            .enumerate()
            .filter(|(k, _)| *k < 6)
            .map(|(k, (c, age))| {
                let school = *age < 6 || c.schooling != Schooling::None;
                match (k < 3, school) {
                    (true, true) => r13_school,
                    (true, false) => r13_out,
                    (false, true) => 36,
                    (false, false) => 24,
                }
            })
            .collect();
        assert_eq!(got, expect, "{month}, ages {ages:?}");
        // The same eldest child as a paternal orphan in school gets the orphan rate instead.
        let mut orphaned = vec![adult(Relation::Head, Sex::Female, "1980-01-01")];
        orphaned.push(Member {
            father_deceased: true,
            ..child("2012-01-01", Schooling::PublicCollege)
        });
        let o = run(&orphaned, month);
        assert_eq!(amounts(&o, Component::OrphanAllowance), [orphan], "{month}");
    }
}

#[test]
fn worked_examples_of_section_4_4() {
    let month = "2026-11";
    // Couple, children aged 2, 8 (in school), 15 (not in school): 300 + 300 + 200 = 800.
    let mut a = couple();
    a.extend([
        child("2024-06-01", Schooling::None),
        child("2018-06-01", Schooling::PublicPrimary),
        child("2011-06-01", Schooling::None),
    ]);
    assert_eq!(mad(&run(&a, month)), 800);
    // Widow, paternal-orphan children aged 4 and 10 (in school): 400 + 400 = 800.
    let mut b = vec![adult(Relation::Head, Sex::Female, "1985-01-01")];
    b.push(Member {
        father_deceased: true,
        ..child("2022-03-01", Schooling::None)
    });
    b.push(Member {
        father_deceased: true,
        ..child("2016-03-01", Schooling::PublicPrimary)
    });
    assert_eq!(mad(&run(&b, month)), 800);
    // One child aged 3: 300 → floor → 500.
    let mut c = couple();
    c.push(child("2023-05-01", Schooling::None));
    let dc = run(&c, month);
    assert_eq!(mad(&dc), 500);
    assert_eq!(amounts(&dc, Component::FloorTopUp), [200]);
    // Elderly couple, no children under 21: 500 flat rate.
    let e = vec![
        adult(Relation::Head, Sex::Male, "1950-01-01"),
        adult(Relation::Spouse, Sex::Female, "1952-01-01"),
    ];
    let de = run(&e, month);
    assert_eq!(
        (mad(&de), amounts(&de, Component::FlatRate)),
        (500, vec![500])
    );
    // Seven children all under 6, one disabled: 3×300 + 3×36 + 100 = 1,108.
    let mut f = couple();
    for y in [
        "2021-01-01",
        "2021-06-01",
        "2022-01-01",
        "2022-06-01",
        "2023-01-01",
        "2024-01-01",
        "2025-01-01",
    ] {
        f.push(child(y, Schooling::None));
    }
    f[8].disability = Disability::Severe; // the 7th child: outside the 6-child limit
    let df = run(&f, month);
    assert_eq!(mad(&df), 1108);
    assert_eq!(
        df.lines.iter().filter(|l| l.rank == Some(7)).count(),
        1,
        "the 7th child has only its supplement"
    );
}

#[test]
fn score_at_the_threshold_is_eligible_and_one_millionth_above_is_not() {
    let r = rules("2026-11");
    let hh = couple();
    let at = run_with(&r, &hh, "2026-11", Score::parse("9.743001").unwrap());
    assert!(at.eligible && at.reasons.is_empty());
    let above = run_with(&r, &hh, "2026-11", Score::parse("9.743002").unwrap());
    assert_eq!(
        (above.eligible, above.reasons.as_slice()),
        (false, &[Reason::ScoreAboveThreshold][..])
    );
    assert_eq!(above.monthly_total.centimes(), 0);
    assert!(above.lines.is_empty());
}

#[test]
fn exclusions_give_every_reason() {
    let mut hh = couple();
    hh[0].public_employee = true;
    hh[1].pensioner = true;
    hh[1].family_allowance = true;
    let r = rules("2026-11");
    let snap = Snapshot {
        score: Some((Score::parse("11").unwrap(), d("2024-01-01"))),
        resident: false,
        members: &hh,
    };
    let mut out = Decision::default();
    evaluate(&r, &snap, m("2026-11"), &mut out);
    assert_eq!(
        out.reasons,
        [
            Reason::ScoreAboveThreshold,
            Reason::Residence,
            Reason::ExcludedPublicEmployee,
            Reason::ExcludedPensioner,
            Reason::ExcludedFamilyAllowance
        ]
    );
    let none = Snapshot {
        score: None,
        resident: true,
        members: &hh[..0],
    };
    evaluate(&r, &none, m("2026-11"), &mut out);
    assert_eq!(out.reasons, [Reason::NoScore]);
    // A score that only takes effect after the month is not in force yet.
    let later = Snapshot {
        score: Some((Score::parse("5").unwrap(), d("2026-12-01"))),
        resident: true,
        members: &hh[..0],
    };
    evaluate(&r, &later, m("2026-11"), &mut out);
    assert_eq!(out.reasons, [Reason::NoScore]);
    // A deceased pensioner no longer excludes the household.
    let mut widow = couple();
    widow[0].pensioner = true;
    widow[0].death_date = Some(d("2026-05-02"));
    assert!(run(&widow, "2026-11").eligible);
}

#[test]
fn birthdays_on_month_edges() {
    // Ages are taken on the first day of the month (parameter child.age_on).
    let turning = |birth: &str, month: &str| {
        let mut hh = couple();
        hh.push(child(birth, Schooling::None));
        run(&hh, month)
    };
    // Turns 6 on 1 Nov 2026: from November it is 6, out of school → 200.
    assert_eq!(
        amounts(&turning("2020-11-01", "2026-11"), Component::ChildAllowance),
        [200]
    );
    // Turns 6 on 30 Nov 2026: still 5 on 1 Nov → 300 in November, 200 in December.
    assert_eq!(
        amounts(&turning("2020-11-30", "2026-11"), Component::ChildAllowance),
        [300]
    );
    assert_eq!(
        amounts(&turning("2020-11-30", "2026-12"), Component::ChildAllowance),
        [200]
    );
    // Turns 21 on 1 Dec 2026: counted in November, not in December (flat rate then).
    let nov = turning("2005-12-01", "2026-11");
    assert_eq!(amounts(&nov, Component::ChildAllowance), [200]);
    let dec = turning("2005-12-01", "2026-12");
    assert!(amounts(&dec, Component::ChildAllowance).is_empty());
    assert_eq!(amounts(&dec, Component::FlatRate), [500]);
    // Turns 21 on 31 Dec 2026: still counted in December.
    assert_eq!(
        amounts(&turning("2005-12-31", "2026-12"), Component::ChildAllowance),
        [200]
    );
}

#[test]
fn sixth_and_seventh_child_and_ranks_move_when_the_eldest_turns_21() {
    let mut hh = couple();
    for y in 2006..=2012 {
        hh.push(child(&format!("{y}-06-15"), Schooling::PublicSecondary));
    }
    let before = run(&hh, "2026-11");
    assert_eq!(
        amounts(&before, Component::ChildAllowance),
        [300, 300, 300, 36, 36, 36]
    );
    assert!(
        before.lines.iter().all(|l| l.rank != Some(7)),
        "the 7th child is not paid"
    );
    // The eldest turns 21 in June 2027: the 7th child moves up to rank 6.
    let after = run(&hh, "2027-07");
    assert_eq!(
        amounts(&after, Component::ChildAllowance),
        [300, 300, 300, 36, 36, 36]
    );
    let ranked: Vec<_> = after
        .lines
        .iter()
        .filter_map(|l| l.member.map(|m| (m, l.rank)))
        .collect();
    assert_eq!(ranked.last(), Some(&(8, Some(6))));
}

#[test]
fn orphan_with_disability_and_orphan_out_of_school() {
    let mut hh = vec![adult(Relation::Head, Sex::Female, "1980-01-01")];
    hh.push(Member {
        father_deceased: true,
        disability: Disability::Profound,
        ..child("2015-01-01", Schooling::PublicPrimary)
    });
    hh.push(Member {
        father_deceased: true,
        ..child("2010-01-01", Schooling::None)
    });
    let dec = run(&hh, "2026-11");
    // Rank 1 (born 2010), 16, out of school: the not-in-school rate (parameter [U]); rank 2: 400 + 100.
    assert_eq!(amounts(&dec, Component::OrphanAllowance), [200, 400]);
    assert_eq!(amounts(&dec, Component::DisabilitySupplement), [100]);
    assert_eq!(mad(&dec), 700);
    let params: Vec<String> = dec.lines.iter().map(|l| l.param.to_string()).collect();
    assert_eq!(
        params,
        [
            "child.bands[0].not_in_school",
            "child.bands[0].paternal_orphan",
            "disability.supplement"
        ]
    );
    // A moderate disability does not qualify under the default min_severity = severe.
    hh[1].disability = Disability::Moderate;
    assert!(amounts(&run(&hh, "2026-11"), Component::DisabilitySupplement).is_empty());
}

#[test]
fn a_deceased_child_no_longer_counts() {
    let mut hh = couple();
    hh.push(child("2015-01-01", Schooling::PublicPrimary));
    hh.push(Member {
        death_date: Some(d("2026-10-15")),
        ..child("2012-01-01", Schooling::PublicCollege)
    });
    let dec = run(&hh, "2026-11");
    assert_eq!(amounts(&dec, Component::ChildAllowance), [300]);
    assert_eq!(dec.lines[0].rank, Some(1));
    // In October it was still alive on the 1st: two children.
    assert_eq!(
        amounts(&run(&hh, "2026-10"), Component::ChildAllowance),
        [250, 250]
    );
}

#[test]
fn one_off_grants() {
    let mut hh = couple();
    hh.push(child("2019-03-01", Schooling::PublicPrimary));
    hh.push(child("2010-03-01", Schooling::PublicSecondary));
    hh.push(child("2014-03-01", Schooling::Private));
    hh.push(child("2026-11-20", Schooling::None));
    // November 2026: the newborn is the 4th birth: no birth grant.
    assert!(run(&hh, "2026-11").one_off.is_empty());
    // A first birth: 2,000; a second: 1,000.
    let mut first = couple();
    first.push(child("2026-11-20", Schooling::None));
    let g = run(&first, "2026-11");
    assert_eq!(
        g.one_off
            .iter()
            .map(|l| (l.component, l.amount.centimes()))
            .collect::<Vec<_>>(),
        [(Component::BirthGrant, 200_000)]
    );
    // The newborn does not count for the monthly amount before the month after its birth.
    assert_eq!(amounts(&g, Component::FlatRate), [500]);
    first.push(child("2027-02-03", Schooling::None));
    assert_eq!(run(&first, "2027-02").one_off[0].amount.centimes(), 100_000);
    // September 2026: 300 (secondary) + 200 (primary); private school gets nothing.
    let sept = run(&hh, "2026-09");
    let school: Vec<i64> = sept
        .one_off
        .iter()
        .map(|l| l.amount.centimes() / 100)
        .collect();
    assert_eq!(school, [300, 200]);
    assert!(run(&hh, "2026-10").one_off.is_empty());
}

#[test]
fn payee_follows_the_priority_order() {
    let mut hh = couple();
    hh.push(child("2015-01-01", Schooling::PublicPrimary));
    assert_eq!(run(&hh, "2026-11").payee, Some(0), "the husband");
    hh[0].sex = Sex::Female;
    hh[1].sex = Sex::Male;
    assert_eq!(
        run(&hh, "2026-11").payee,
        Some(1),
        "the husband, even as spouse"
    );
    hh[1].death_date = Some(d("2026-01-01"));
    assert_eq!(
        run(&hh, "2026-11").payee,
        Some(0),
        "the mother once widowed"
    );
}

/// Under birth-order ranks (the documented default) an older child joining pushes a younger
/// one to rank 4 and can lower the total; `rank_order = "highest_rate_first"` avoids it.
#[test]
fn an_older_child_joining_can_lower_the_amount_under_birth_order() {
    let mut hh = couple();
    for y in ["2021-01-01", "2022-01-01", "2023-01-01"] {
        hh.push(child(y, Schooling::None));
    }
    assert_eq!(mad(&run(&hh, "2026-11")), 900);
    hh.push(Member {
        relation: Relation::KafalaChild,
        ..child("2010-01-01", Schooling::None)
    });
    assert_eq!(mad(&run(&hh, "2026-11")), 200 + 300 + 300 + 36);
    let mut r = rules("2026-11");
    r.child.rank_order = sanad_rules::ruleset::RankOrder::HighestRateFirst;
    assert_eq!(
        mad(&run_with(&r, &hh, "2026-11", Score::parse("8").unwrap())),
        300 * 3 + 24
    );
}

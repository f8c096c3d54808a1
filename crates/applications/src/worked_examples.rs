//! The worked examples of README.md, end to end.

use sanad_domain::{Household, Money, Month, Relation, Schooling, Sex};
use sanad_rules::{RuleBook, RuleSet};

use crate::application::{Application, Channel, DeadlinePolicy, Requested, Status};
use crate::events::{EventKind, LifeEvent, apply_event};
use crate::lists::{self, Lists};
use crate::notify::{Language, Notice, Templates};
use crate::reasons::ReasonCode;
use crate::receipt::ReceiptNumber;
use crate::reevaluation::{Lifecycle, ReevaluationParams, Settlement, reevaluate};
use crate::testkit::{d, edit, family, household, person, score};
use crate::verification::{
    AutoDecision, CheckCode, Evidence, Indexes, MemoryIndex, Outcome, VerificationPolicy, decide,
    verify,
};

fn m(s: &str) -> Month {
    s.parse().unwrap()
}

fn rules_for(month: &str) -> RuleSet {
    RuleBook::shipped().for_month(m(month)).unwrap().clone()
}

/// All six lists dated 2026-02-27, the given rows added to the public payroll.
fn lists_with_payroll(rows: &str) -> Lists {
    let text = |kind: &str, cols: &str, rows: &str| {
        format!("# list={kind} as_of=2026-02-27 source=TEST\n{cols}\n{rows}")
    };
    Lists {
        family_allowance: Some(
            lists::parse_family_allowance(
                "fa.csv",
                text("family_allowance", "idcs,scheme", "").as_bytes(),
            )
            .unwrap(),
        ),
        public_payroll: Some(
            lists::parse_public_payroll(
                "payroll.csv",
                text("public_payroll", "idcs,employer_kind,employer", rows).as_bytes(),
            )
            .unwrap(),
        ),
        pensions: Some(
            lists::parse_pensions("p.csv", text("pensions", "idcs,fund,sector", "").as_bytes())
                .unwrap(),
        ),
        deaths: Some(
            lists::parse_deaths("d.csv", text("deaths", "idcs,death_date", "").as_bytes()).unwrap(),
        ),
        school_enrolment: Some(
            lists::parse_school_enrolment(
                "s.csv",
                text("school_enrolment", "idcs,school_year,level", "").as_bytes(),
            )
            .unwrap(),
        ),
        disability_cards: Some(
            lists::parse_disability_cards(
                "c.csv",
                text("disability_cards", "idcs,severity,valid_from,valid_to", "").as_bytes(),
            )
            .unwrap(),
        ),
    }
}

/// Submit on 2 March 2026, verify, decide, and move the application accordingly.
fn run(
    h: &Household,
    lists: &Lists,
    registry: &[Household],
) -> (Application, Vec<crate::verification::Check>, AutoDecision) {
    let submitted = d("2026-03-02");
    let receipt = ReceiptNumber::new(2026, 1234).unwrap();
    let mut app = Application::submit(
        receipt,
        h.rsu_id.clone(),
        h.head().idcs.clone(),
        Channel::Web,
        &[Requested::ChildAllowance],
        submitted,
    )
    .unwrap();
    app.move_to(Status::Verifying, submitted, vec![]).unwrap();
    let ix = MemoryIndex::new(registry);
    let indexes = Indexes {
        identity: &ix,
        contacts: &ix,
        persons: &ix,
    };
    let checks = verify(
        &app,
        h,
        lists,
        indexes,
        &rules_for("2026-03"),
        &VerificationPolicy::default(),
        d("2026-03-10"),
    );
    let decision = decide(&checks);
    let reasons = match &decision {
        AutoDecision::Reject { reasons } => reasons.clone(),
        _ => vec![],
    };
    app.move_to(decision.status(), d("2026-03-10"), reasons)
        .unwrap();
    (app, checks, decision)
}

#[test]
fn a_score_exactly_at_the_threshold_passes() {
    let at = edit(&family("100000000001", &["2019-05-01"]), |p| {
        p.scores = sanad_domain::ScoreHistory::new(vec![score("9.743001", "2025-01-10")])
    });
    let (app, checks, decision) = run(&at, &lists_with_payroll(""), std::slice::from_ref(&at));
    assert_eq!(decision, AutoDecision::Approve);
    assert_eq!(app.status(), Status::Approved);
    let s = checks.iter().find(|c| c.code == CheckCode::Score).unwrap();
    let Evidence::Score {
        record, threshold, ..
    } = &s.evidence[0]
    else {
        panic!()
    };
    assert_eq!(record.unwrap().value, *threshold);
    // One millionth above: rejected, for that reason only.
    let above = edit(&at, |p| {
        p.scores = sanad_domain::ScoreHistory::new(vec![score("9.743002", "2025-01-10")])
    });
    let (_, _, decision) = run(
        &above,
        &lists_with_payroll(""),
        std::slice::from_ref(&above),
    );
    assert_eq!(
        decision,
        AutoDecision::Reject {
            reasons: vec![ReasonCode::ScoreAboveThreshold]
        }
    );
}

#[test]
fn a_public_employee_spouse_rejects_with_the_reason_and_the_appeal_deadline() {
    let h = family("100000000001", &["2019-05-01"]);
    let spouse = h
        .members
        .iter()
        .find(|p| p.relation == Relation::Spouse)
        .unwrap()
        .idcs
        .clone();
    let lists = lists_with_payroll(&format!(
        "1234567897,state,Ministère de la Santé\n{spouse},public_institution,ONEE\n"
    ));
    let (app, checks, decision) = run(&h, &lists, std::slice::from_ref(&h));
    assert_eq!(
        decision,
        AutoDecision::Reject {
            reasons: vec![ReasonCode::ExcludedPublicEmployee]
        }
    );
    let c = checks
        .iter()
        .find(|c| c.code == CheckCode::PublicPayroll)
        .unwrap();
    assert_eq!(
        (c.outcome, c.message.as_str()),
        (
            Outcome::Fail,
            "member 2 (spouse): on the public_payroll list of 2026-02-27 as a public employee"
        )
    );
    let Evidence::Listed {
        list, person, line, ..
    } = &c.evidence[0]
    else {
        panic!("{:?}", c.evidence)
    };
    assert_eq!(
        (list.file.as_str(), list.as_of, person, *line),
        ("payroll.csv", d("2026-02-27"), &spouse, 4)
    );
    // The letter: decided 10 March, appeal until 25 March (15 days).
    let policy = DeadlinePolicy::default();
    assert_eq!(app.appeal_until(&policy), Some(d("2026-03-25")));
    let notice = Notice::decision(&app, m("2026-03"), Money::ZERO, &policy).unwrap();
    let text = Templates::defaults().render(&notice, Language::Fr).unwrap();
    assert!(
        text.contains("un membre du ménage est employé du secteur public")
            && text.contains("25/03/2026"),
        "{text}"
    );
}

#[test]
fn a_similar_name_with_the_same_birth_date_goes_to_review() {
    let mut head = person(1, Relation::Head, "1984-06-12");
    (head.first_name, head.last_name, head.sex) = ("Mohamed".into(), "El Amrani".into(), Sex::Male);
    (head.first_name_ar, head.last_name_ar) = ("محمد".into(), "العمراني".into());
    let h = household("100000000001", vec![head], "9.2");
    let mut other = person(300, Relation::Head, "1984-06-12");
    (other.first_name, other.last_name, other.sex) =
        ("Mohammed".into(), "Elamrani".into(), Sex::Male);
    (other.first_name_ar, other.last_name_ar) = ("مُحَمَّد".into(), "العمرانى".into());
    let elsewhere = household("100000000002", vec![other.clone()], "9.0");
    let (app, checks, decision) = run(&h, &lists_with_payroll(""), &[h.clone(), elsewhere]);
    assert_eq!(
        decision,
        AutoDecision::Review {
            open_checks: vec![CheckCode::SimilarPerson],
            failed: vec![]
        }
    );
    assert_eq!(app.status(), Status::InReview);
    let c = checks
        .iter()
        .find(|c| c.code == CheckCode::SimilarPerson)
        .unwrap();
    let Evidence::SimilarPerson {
        household: seen_in,
        other: found,
        similarity_permille,
        days_apart,
        ..
    } = &c.evidence[0]
    else {
        panic!()
    };
    assert_eq!(
        (
            seen_in.as_str(),
            found.as_ref(),
            *similarity_permille,
            *days_apart
        ),
        ("100000000002", Some(&other.idcs), 1000, 0)
    );
    // The same names a year apart are two people.
    other.birth_date = d("1985-06-12");
    let elsewhere = household("100000000002", vec![other], "9.0");
    let (_, _, decision) = run(&h, &lists_with_payroll(""), &[h.clone(), elsewhere]);
    assert_eq!(decision, AutoDecision::Approve);
}

#[test]
fn a_death_in_march_suspends_from_april_then_terminates_after_notice() {
    // A widow living alone, on the flat-rate aid (500 MAD).
    let mut widow = person(1, Relation::Head, "1950-02-01");
    widow.marital_status = sanad_domain::MaritalStatus::Widowed;
    let old = household("100000000001", vec![widow.clone()], "9.0");
    let death = LifeEvent {
        effective: d("2026-03-14"),
        declared_on: d("2026-06-10"),
        kind: EventKind::Death {
            person: widow.idcs.clone(),
        },
    };
    let new = apply_event(&old, &death).unwrap();
    let book = RuleBook::shipped();
    // April and May were paid before the death was declared.
    let r = reevaluate(
        &old,
        &new,
        &book,
        &ReevaluationParams::new(m("2026-01"), m("2026-06"), Some(m("2026-05"))),
    );
    let settlements: Vec<Settlement> = r.months.iter().map(|c| c.settlement).collect();
    let fee = Money::from_mad(500);
    assert_eq!(
        settlements,
        [
            Settlement::Unchanged,
            Settlement::Unchanged,
            Settlement::Unchanged,
            Settlement::Overpayment(fee),
            Settlement::Overpayment(fee),
            Settlement::Upcoming(-fee)
        ]
    );
    assert_eq!(r.months[3].after.reasons, [ReasonCode::NoPayee]);
    assert_eq!(
        (r.overpayment, r.arrears),
        (Money::from_mad(1000), Money::ZERO)
    );
    assert_eq!(
        r.lifecycle,
        Lifecycle::Suspend {
            from: m("2026-04"),
            terminates_from: m("2026-07")
        }
    );
    // Re-evaluated in July, the three months of notice have run out.
    let r = reevaluate(
        &old,
        &new,
        &book,
        &ReevaluationParams::new(m("2026-01"), m("2026-07"), Some(m("2026-05"))),
    );
    assert_eq!(
        r.lifecycle,
        Lifecycle::Terminate {
            from: m("2026-07"),
            notice_until: d("2026-06-30"),
            suspended_from: m("2026-04")
        }
    );
    let letter = Notice::Suspension {
        from_month: m("2026-04"),
        terminates_from: m("2026-07"),
        reasons: vec![ReasonCode::NoPayee],
    };
    assert!(
        Templates::defaults()
            .render(&letter, Language::Ar)
            .unwrap()
            .contains("04/2026")
    );
}

#[test]
fn a_birth_brings_arrears_from_the_effective_month() {
    // Two children (4, and 8 in public primary): 2 × 250 = 500 under the 2025-11 schedule.
    let old = edit(
        &family("100000000001", &["2021-06-01", "2017-09-01"]),
        |p| p.members[3].schooling = Schooling::PublicPrimary,
    );
    let born = |date: &str| {
        let baby = person(60, Relation::Child, date);
        LifeEvent {
            effective: baby.birth_date,
            declared_on: d("2026-03-10"),
            kind: EventKind::Birth {
                child: Box::new(baby),
            },
        }
    };
    let book = RuleBook::shipped();
    let params = ReevaluationParams::new(m("2026-01"), m("2026-03"), Some(m("2026-02")));
    // Born on 1 January: counted from January (ages and presence are taken on the first day).
    let new = apply_event(&old, &born("2026-01-01")).unwrap();
    let r = reevaluate(&old, &new, &book, &params);
    let third = Money::from_mad(250);
    let settlements: Vec<Settlement> = r.months.iter().map(|c| c.settlement).collect();
    assert_eq!(
        settlements,
        [
            Settlement::Arrears(third),
            Settlement::Arrears(third),
            Settlement::Upcoming(third)
        ]
    );
    assert_eq!(
        (r.arrears, r.lifecycle),
        (Money::from_mad(500), Lifecycle::Continue)
    );
    assert_eq!(
        (r.months[0].before.total, r.months[0].after.total),
        (Money::from_mad(500), Money::from_mad(750))
    );
    // Born on 10 January: under `age_on = first_day_of_month` the child counts from February.
    let new = apply_event(&old, &born("2026-01-10")).unwrap();
    let r = reevaluate(&old, &new, &book, &params);
    assert_eq!(r.months[0].settlement, Settlement::Unchanged);
    assert_eq!(r.arrears, third);
}

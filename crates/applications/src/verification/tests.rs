use super::*;
use crate::application::{Channel, Requested};
use crate::lists::{self, Lists};
use crate::receipt::ReceiptNumber;
use crate::testkit::{d, edit, family, person};
use sanad_domain::{Cnie, CrossCheck, PaymentInstrument, Phone, Relation, Rib, Schooling};

const ON: &str = "2026-03-02";

fn rules() -> RuleSet {
    sanad_rules::RuleBook::shipped()
        .get("asd-2025-11")
        .unwrap()
        .clone()
}

fn application(h: &Household) -> Application {
    let r = ReceiptNumber::new(2026, 42).unwrap();
    Application::submit(
        r,
        h.rsu_id.clone(),
        h.head().idcs.clone(),
        Channel::Web,
        &[Requested::ChildAllowance],
        d(ON),
    )
    .unwrap()
}

/// Every list, dated 2026-02-27, naming only people of no household under test.
fn clean_lists() -> Lists {
    let head =
        |kind: &str, cols: &str| format!("# list={kind} as_of=2026-02-27 source=TEST\n{cols}\n");
    Lists {
        family_allowance: Some(
            lists::parse_family_allowance(
                "fa.csv",
                (head("family_allowance", "idcs,scheme") + "1234567897,cnss\n").as_bytes(),
            )
            .unwrap(),
        ),
        public_payroll: Some(
            lists::parse_public_payroll(
                "pay.csv",
                (head("public_payroll", "idcs,employer_kind,employer") + "1234567897,state,X\n")
                    .as_bytes(),
            )
            .unwrap(),
        ),
        pensions: Some(
            lists::parse_pensions(
                "pen.csv",
                (head("pensions", "idcs,fund,sector") + "1234567897,CMR,public\n").as_bytes(),
            )
            .unwrap(),
        ),
        deaths: Some(
            lists::parse_deaths(
                "dec.csv",
                (head("deaths", "idcs,death_date") + "1234567897,2026-01-01\n").as_bytes(),
            )
            .unwrap(),
        ),
        school_enrolment: Some(
            lists::parse_school_enrolment(
                "sco.csv",
                (head("school_enrolment", "idcs,school_year,level")
                    + "1234567897,2025-2026,primary\n")
                    .as_bytes(),
            )
            .unwrap(),
        ),
        disability_cards: Some(
            lists::parse_disability_cards(
                "hand.csv",
                (head("disability_cards", "idcs,severity,valid_from,valid_to")
                    + "1234567897,severe,2020-01-01,\n")
                    .as_bytes(),
            )
            .unwrap(),
        ),
    }
}

fn with_rows(kind: &str, cols: &str, rows: &str) -> String {
    format!("# list={kind} as_of=2026-02-27 source=TEST\n{cols}\n{rows}")
}

fn run(
    h: &Household,
    lists: &Lists,
    others: &[Household],
    policy: &VerificationPolicy,
) -> Vec<Check> {
    let mut all = vec![h.clone()];
    all.extend(others.iter().cloned());
    let ix = MemoryIndex::new(&all);
    let indexes = Indexes {
        identity: &ix,
        contacts: &ix,
        persons: &ix,
    };
    verify(
        &application(h),
        h,
        lists,
        indexes,
        &rules(),
        policy,
        d("2026-03-20"),
    )
}

fn get(checks: &[Check], code: CheckCode) -> &Check {
    checks.iter().find(|c| c.code == code).unwrap()
}

fn outcomes(checks: &[Check]) -> Vec<(CheckCode, Outcome)> {
    checks
        .iter()
        .filter(|c| c.outcome != Outcome::Pass)
        .map(|c| (c.code, c.outcome))
        .collect()
}

#[test]
fn a_clean_household_is_approved_and_every_check_ran() {
    let h = family("100000000001", &["2019-05-01", "2016-02-01"]);
    let checks = run(&h, &clean_lists(), &[], &VerificationPolicy::default());
    assert_eq!(
        checks.iter().map(|c| c.code).collect::<Vec<_>>(),
        CheckCode::ALL
    );
    assert_eq!(outcomes(&checks), []);
    assert_eq!(decide(&checks), AutoDecision::Approve);
    // The exclusion evidence names the list, its date and everyone searched.
    let ev = &get(&checks, CheckCode::Pension).evidence;
    let Evidence::NotListed { list, persons } = &ev[0] else {
        panic!("{ev:?}")
    };
    assert_eq!(
        (list.source.as_str(), list.as_of, persons.len()),
        ("TEST", d("2026-02-27"), 4)
    );
}

#[test]
fn without_lists_nothing_is_decided() {
    let h = family("100000000001", &["2019-05-01"]);
    let checks = run(&h, &Lists::default(), &[], &VerificationPolicy::default());
    let open = [
        CheckCode::FamilyAllowance,
        CheckCode::PublicPayroll,
        CheckCode::Pension,
        CheckCode::Death,
    ];
    assert_eq!(outcomes(&checks), open.map(|c| (c, Outcome::Inconclusive)));
    assert_eq!(
        decide(&checks),
        AutoDecision::Review {
            open_checks: open.to_vec(),
            failed: vec![]
        }
    );
}

#[test]
fn a_stale_list_is_inconclusive_even_with_a_match() {
    let h = family("100000000001", &[]);
    let mut lists = clean_lists();
    let text =
        "# list=pensions as_of=2025-11-01 source=CMR\nidcs,fund,sector\n0000000018,CMR,public\n";
    lists.pensions = Some(lists::parse_pensions("p.csv", text.as_bytes()).unwrap());
    let c = run(&h, &lists, &[], &VerificationPolicy::default());
    let c = get(&c, CheckCode::Pension);
    assert_eq!(c.outcome, Outcome::Inconclusive);
    assert!(
        matches!(
            c.evidence.last(),
            Some(Evidence::ListStale {
                age_days: 121,
                max_days: 90,
                ..
            })
        ),
        "{:?}",
        c.evidence
    );
    let lenient = VerificationPolicy {
        max_list_age_days: 200,
        ..Default::default()
    };
    let c = run(&h, &lists, &[], &lenient);
    assert_eq!(
        get(&c, CheckCode::Pension).reason,
        Some(ReasonCode::ExcludedPensioner)
    );
}

#[test]
fn an_rsu_flag_rejects_and_a_switched_off_rule_passes() {
    let h = edit(&family("100000000001", &[]), |p| {
        p.members[0].checks.family_allowance = Some(CrossCheck {
            source: "CNSS-AF".into(),
            date: d("2026-01-31"),
        })
    });
    let checks = run(&h, &clean_lists(), &[], &VerificationPolicy::default());
    assert_eq!(
        decide(&checks),
        AutoDecision::Reject {
            reasons: vec![ReasonCode::ExcludedFamilyAllowance]
        }
    );
    let mut off = rules();
    off.eligibility.exclude_family_allowance = false;
    let ix = MemoryIndex::new([&h]);
    let indexes = Indexes {
        identity: &ix,
        contacts: &ix,
        persons: &ix,
    };
    let checks = verify(
        &application(&h),
        &h,
        &clean_lists(),
        indexes,
        &off,
        &VerificationPolicy::default(),
        d(ON),
    );
    assert!(matches!(
        &get(&checks, CheckCode::FamilyAllowance).evidence[..],
        [Evidence::RuleOff { .. }]
    ));
    assert_eq!(decide(&checks), AutoDecision::Approve);
}

#[test]
fn registration_and_applicant() {
    let h = edit(&family("100000000001", &[]), |p| {
        p.status = HouseholdStatus::Deregistered
    });
    let c = run(&h, &clean_lists(), &[], &VerificationPolicy::default());
    assert_eq!(
        get(&c, CheckCode::RsuRegistration).reason,
        Some(ReasonCode::NotRegistered)
    );
    let h = family("100000000001", &["2015-01-01"]);
    let mut app = application(&h);
    let child = h.members[2].idcs.clone();
    app = Application::submit(
        app.receipt,
        app.household.clone(),
        child,
        Channel::Agent,
        &[Requested::FlatRate],
        d(ON),
    )
    .unwrap();
    let ix = MemoryIndex::new([&h]);
    let indexes = Indexes {
        identity: &ix,
        contacts: &ix,
        persons: &ix,
    };
    let c = verify(
        &app,
        &h,
        &clean_lists(),
        indexes,
        &rules(),
        &VerificationPolicy::default(),
        d(ON),
    );
    let a = get(&c, CheckCode::Applicant);
    assert_eq!(
        (a.reason, a.message.as_str()),
        (
            Some(ReasonCode::ApplicantNotMember),
            "the applicant is a minor"
        )
    );
}

#[test]
fn a_score_not_yet_notified_is_inconclusive() {
    let h = edit(&family("100000000001", &[]), |p| {
        p.scores = sanad_domain::ScoreHistory::new(vec![crate::testkit::score("8.0", "2026-03-05")])
    });
    let c = run(&h, &clean_lists(), &[], &VerificationPolicy::default());
    assert_eq!(get(&c, CheckCode::Score).outcome, Outcome::Inconclusive);
}

#[test]
fn deaths_before_and_after_the_application() {
    let h = family("100000000001", &["2019-05-01"]);
    let child = h.members[2].idcs.clone();
    let mut lists = clean_lists();
    let text = with_rows(
        "deaths",
        "idcs,death_date",
        &format!("{child},2026-02-20\n"),
    );
    lists.deaths = Some(lists::parse_deaths("deaths.csv", text.as_bytes()).unwrap());
    let c = run(&h, &lists, &[], &VerificationPolicy::default());
    let death = get(&c, CheckCode::Death);
    assert_eq!(death.reason, Some(ReasonCode::DataInconsistency));
    let Evidence::Listed {
        list,
        person,
        line,
        row,
    } = &death.evidence[0]
    else {
        panic!()
    };
    assert_eq!(
        (list.file.as_str(), person, *line),
        ("deaths.csv", &child, 3)
    );
    assert_eq!(
        row,
        &ListRow::Death(lists::DeathRow {
            idcs: child.clone(),
            death_date: d("2026-02-20")
        })
    );
    let text = with_rows(
        "deaths",
        "idcs,death_date",
        &format!("{child},2026-02-27\n"),
    );
    lists.deaths = Some(lists::parse_deaths("deaths.csv", text.as_bytes()).unwrap());
    let late = Application::submit(
        ReceiptNumber::new(2026, 9).unwrap(),
        h.rsu_id.clone(),
        h.head().idcs.clone(),
        Channel::Web,
        &[Requested::ChildAllowance],
        d("2026-02-25"),
    )
    .unwrap();
    let ix = MemoryIndex::new([&h]);
    let indexes = Indexes {
        identity: &ix,
        contacts: &ix,
        persons: &ix,
    };
    let c = verify(
        &late,
        &h,
        &lists,
        indexes,
        &rules(),
        &VerificationPolicy::default(),
        d(ON),
    );
    assert_eq!(get(&c, CheckCode::Death).outcome, Outcome::Inconclusive);
}

#[test]
fn schooling_is_confirmed_from_the_enrolment_list() {
    let h = edit(
        &family("100000000001", &["2016-02-01", "2012-02-01"]),
        |p| {
            p.members[2].schooling = Schooling::PublicPrimary;
            p.members[3].schooling = Schooling::PublicCollege;
        },
    );
    let (a, b) = (h.members[2].idcs.clone(), h.members[3].idcs.clone());
    let mut lists = clean_lists();
    let cols = "idcs,school_year,level";
    let both = with_rows(
        "school_enrolment",
        cols,
        &format!("{a},2025-2026,primary\n{b},2025-2026,college\n"),
    );
    lists.school_enrolment = Some(lists::parse_school_enrolment("s.csv", both.as_bytes()).unwrap());
    assert_eq!(
        get(
            &run(&h, &lists, &[], &Default::default()),
            CheckCode::Schooling
        )
        .outcome,
        Outcome::Pass
    );
    // Last year's enrolment, or another level, does not confirm this year's declaration.
    let partial = with_rows(
        "school_enrolment",
        cols,
        &format!("{a},2024-2025,primary\n{b},2025-2026,secondary\n"),
    );
    lists.school_enrolment =
        Some(lists::parse_school_enrolment("s.csv", partial.as_bytes()).unwrap());
    let c = run(&h, &lists, &[], &Default::default());
    let s = get(&c, CheckCode::Schooling);
    assert_eq!(s.outcome, Outcome::Inconclusive);
    assert_eq!(
        s.message,
        "member 3 (child), member 4 (child): declared public schooling not found on the 2025-2026 enrolment list"
    );
    let Evidence::Unconfirmed { found, .. } = &s.evidence[1] else {
        panic!()
    };
    assert_eq!(found.as_deref(), Some("secondary"));
}

#[test]
fn disability_is_confirmed_from_the_cards() {
    let h = edit(&family("100000000001", &["2016-02-01"]), |p| {
        p.members[2].disability = sanad_domain::Disability::Severe
    });
    let child = h.members[2].idcs.clone();
    let cols = "idcs,severity,valid_from,valid_to";
    let case = |rows: String| {
        let mut lists = clean_lists();
        lists.disability_cards = Some(
            lists::parse_disability_cards(
                "c.csv",
                with_rows("disability_cards", cols, &rows).as_bytes(),
            )
            .unwrap(),
        );
        let c = run(&h, &lists, &[], &Default::default());
        let c = get(&c, CheckCode::Disability);
        (c.outcome, c.reason)
    };
    assert_eq!(
        case(format!("{child},profound,2024-01-01,\n")),
        (Outcome::Pass, None)
    );
    assert_eq!(
        case(format!("{child},moderate,2024-01-01,2030-01-01\n")),
        (Outcome::Fail, Some(ReasonCode::DataInconsistency))
    );
    assert_eq!(
        case(format!("{child},severe,2020-01-01,2025-12-31\n")),
        (Outcome::Inconclusive, None)
    );
}

#[test]
fn duplicates_go_to_review() {
    let h = edit(&family("100000000001", &["2016-02-01"]), |p| {
        p.members[0].cnie = Some(Cnie::parse("BE123456").unwrap())
    });
    // Another household holding the same CNIE under another IDCS.
    let mut stranger = person(500, Relation::Head, "1970-01-01");
    stranger.cnie = Some(Cnie::parse("BE123456").unwrap());
    let other = crate::testkit::household("100000000002", vec![stranger], "9.0");
    let c = run(&h, &clean_lists(), &[other], &Default::default());
    let dup = get(&c, CheckCode::DuplicateIdentity);
    assert_eq!(dup.outcome, Outcome::Inconclusive);
    assert!(
        matches!(&dup.evidence[0], Evidence::OtherHouseholds { identifier, households, .. } if identifier == "cnie" && households.len() == 1)
    );
    assert_eq!(
        get(&c, CheckCode::SharedPhone).outcome,
        Outcome::Pass,
        "two households on one phone is within the default of 3"
    );
}

#[test]
fn shared_phone_and_account_thresholds() {
    let rib = Rib::with_key("0077800000123456789012").unwrap();
    let with = |id: &str, phone: &str| {
        edit(&family(id, &[]), |p| {
            p.phone = Some(Phone::parse(phone).unwrap());
            p.instrument = Some(PaymentInstrument::Bank { rib: rib.clone() });
            for (i, m) in p.members.iter_mut().enumerate() {
                m.idcs =
                    sanad_domain::Idcs::from_body(id[8..].parse::<u64>().unwrap() * 100 + i as u64);
            }
            p.registrant = p.members[0].idcs.clone();
        })
    };
    let h = with("100000000001", "0611111111");
    let others: Vec<Household> = (2..=4)
        .map(|i| with(&format!("10000000000{i}"), "0611111111"))
        .collect();
    let c = run(&h, &clean_lists(), &others[..2], &Default::default());
    assert_eq!(get(&c, CheckCode::SharedPhone).outcome, Outcome::Pass);
    assert_eq!(
        get(&c, CheckCode::SharedAccount).outcome,
        Outcome::Inconclusive
    );
    let c = run(&h, &clean_lists(), &others, &Default::default());
    let phone = get(&c, CheckCode::SharedPhone);
    assert_eq!(
        phone.evidence,
        [Evidence::SharedContact {
            contact: "phone".into(),
            households: 4,
            limit: 3
        }]
    );
    assert_eq!(phone.outcome, Outcome::Inconclusive);
}

#[test]
fn birth_date_tolerance_for_similar_names() {
    let h = family("100000000001", &["2016-02-01"]);
    let mut twin = person(900, Relation::Head, "1985-03-03");
    twin.first_name = "Mohammed".into();
    twin.last_name = "Alaoui".into();
    let other = crate::testkit::household("100000000002", vec![twin], "9.0");
    let c = run(
        &h,
        &clean_lists(),
        std::slice::from_ref(&other),
        &Default::default(),
    );
    assert_eq!(
        get(&c, CheckCode::SimilarPerson).outcome,
        Outcome::Pass,
        "born two days apart, default tolerance 0"
    );
    let tolerant = VerificationPolicy {
        birth_date_tolerance_days: 3,
        ..Default::default()
    };
    let c = run(&h, &clean_lists(), &[other], &tolerant);
    let s = get(&c, CheckCode::SimilarPerson);
    assert_eq!(s.outcome, Outcome::Inconclusive);
    assert!(
        matches!(
            &s.evidence[0],
            Evidence::SimilarPerson {
                days_apart: 2,
                similarity_permille: 1000,
                ..
            }
        ),
        "{:?}",
        s.evidence
    );
}

#[test]
fn decide_needs_every_check() {
    let h = family("100000000001", &[]);
    let mut checks = run(&h, &clean_lists(), &[], &Default::default());
    checks.retain(|c| c.code != CheckCode::Death);
    assert_eq!(
        decide(&checks),
        AutoDecision::Review {
            open_checks: vec![CheckCode::Death],
            failed: vec![]
        }
    );
    assert_eq!(decide(&[]).status(), Status::InReview);
}

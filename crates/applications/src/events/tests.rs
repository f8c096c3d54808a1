use super::*;
use crate::testkit::{d, family, person, rsu, score};
use sanad_rules::RuleBook;

fn ev(effective: &str, kind: EventKind) -> LifeEvent {
    LifeEvent {
        effective: d(effective),
        declared_on: d("2026-06-10"),
        kind,
    }
}

fn baby(body: u64, born: &str) -> Box<Person> {
    Box::new(person(body, Relation::Child, born))
}

#[test]
fn simple_events_change_one_thing() {
    let h = family("100000000001", &["2019-05-01"]);
    let child = h.members[2].idcs.clone();
    let after = apply_event(
        &h,
        &ev(
            "2026-01-01",
            EventKind::Birth {
                child: baby(77, "2026-01-01"),
            },
        ),
    )
    .unwrap();
    assert_eq!(after.members.len(), 4);
    let after = apply_event(
        &h,
        &ev(
            "2026-03-14",
            EventKind::Death {
                person: child.clone(),
            },
        ),
    )
    .unwrap();
    assert_eq!(after.members[2].death_date, Some(d("2026-03-14")));
    assert_eq!(
        apply_event(
            &after,
            &ev(
                "2026-03-15",
                EventKind::Death {
                    person: child.clone()
                }
            )
        ),
        Err(EventError::AlreadyDeceased(child.clone()))
    );
    let after = apply_event(
        &h,
        &ev(
            "2026-05-01",
            EventKind::SchoolingChange {
                person: child.clone(),
                schooling: Schooling::PublicPrimary,
            },
        ),
    )
    .unwrap();
    assert_eq!(after.members[2].schooling, Schooling::PublicPrimary);
    let after = apply_event(
        &h,
        &ev(
            "2026-02-01",
            EventKind::DisabilityRecognised {
                person: child.clone(),
                severity: Disability::Severe,
            },
        ),
    )
    .unwrap();
    assert_eq!(after.members[2].disability, Disability::Severe);
    let after = apply_event(
        &h,
        &ev(
            "2026-05-01",
            EventKind::ScoreUpdate {
                record: score("10.1", "2026-05-01"),
            },
        ),
    )
    .unwrap();
    assert_eq!(
        after.scores.at(d("2026-05-01")).unwrap().value.to_string(),
        "10.100000"
    );
    let after = apply_event(
        &h,
        &ev("2026-05-01", EventKind::PhoneChange { phone: None }),
    )
    .unwrap();
    assert_eq!(after.phone, None);
    let stranger = Idcs::from_body(999);
    assert_eq!(
        apply_event(
            &h,
            &ev(
                "2026-03-14",
                EventKind::Death {
                    person: stranger.clone()
                }
            )
        ),
        Err(EventError::NotAMember(stranger))
    );
}

#[test]
fn events_are_checked_against_their_dates_and_the_household_rules() {
    let h = family("100000000001", &[]);
    let late = LifeEvent {
        effective: d("2026-07-01"),
        declared_on: d("2026-06-10"),
        kind: EventKind::PhoneChange { phone: None },
    };
    assert!(matches!(
        apply_event(&h, &late),
        Err(EventError::DeclaredBeforeEffective { .. })
    ));
    assert_eq!(
        apply_event(
            &h,
            &ev(
                "2026-01-02",
                EventKind::Birth {
                    child: baby(77, "2026-01-01")
                }
            )
        ),
        Err(EventError::NotABirth)
    );
    // A child born before the head is refused by Household::new, naming the field.
    let old = baby(78, "1980-01-01");
    let Err(EventError::Invalid(errs)) =
        apply_event(&h, &ev("1980-01-01", EventKind::Birth { child: old }))
    else {
        panic!()
    };
    assert_eq!(errs[0].field, "members[2].birth_date");
    let mut residence = h.residence.clone();
    residence.commune = "99.999.99.9".into();
    assert!(matches!(
        apply_event(
            &h,
            &ev("2026-04-01", EventKind::ResidenceChange { residence })
        ),
        Err(EventError::Invalid(_))
    ));
}

#[test]
fn marriage_divorce_and_the_head_leaving() {
    let head = person(1, Relation::Head, "1990-01-01");
    let h = crate::testkit::household(
        "100000000001",
        vec![head.clone(), person(3, Relation::Parent, "1960-01-01")],
        "9.1",
    );
    let spouse = Box::new(person(2, Relation::Other, "1992-01-01"));
    let married = apply_event(
        &h,
        &ev(
            "2026-02-14",
            EventKind::Marriage {
                person: head.idcs.clone(),
                joining_spouse: Some(spouse),
            },
        ),
    )
    .unwrap();
    assert_eq!(
        (
            married.members[2].relation,
            married.members[0].marital_status
        ),
        (Relation::Spouse, MaritalStatus::Married)
    );
    // The head leaves on divorce: the spouse who stays becomes head, and registrant.
    let spouse_id = married.members[2].idcs.clone();
    let divorced = apply_event(
        &married,
        &ev(
            "2026-05-01",
            EventKind::Divorce {
                person: spouse_id.clone(),
                leaving: Some(head.idcs.clone()),
            },
        ),
    )
    .unwrap();
    assert_eq!(divorced.head().idcs, spouse_id);
    assert_eq!(divorced.registrant, spouse_id);
    assert_eq!(divorced.head().marital_status, MaritalStatus::Divorced);
    let no_head = ev(
        "2026-05-01",
        EventKind::MemberLeaves {
            person: head.idcs.clone(),
            new_head: None,
        },
    );
    assert_eq!(apply_event(&h, &no_head), Err(EventError::NewHeadNeeded));
    let joins_as_head = ev(
        "2026-05-01",
        EventKind::MemberJoins {
            person: Box::new(person(9, Relation::Head, "1991-01-01")),
        },
    );
    assert_eq!(
        apply_event(&h, &joins_as_head),
        Err(EventError::JoiningAsHead)
    );
}

#[test]
fn a_household_splits_in_two() {
    let h = family("100000000001", &["2019-05-01", "2001-01-01"]);
    let (grown, head) = (h.members[3].idcs.clone(), h.head().idcs.clone());
    let split = Split {
        new_rsu_id: rsu("100000000777"),
        members: vec![(grown.clone(), Relation::Head)],
        remaining_head: None,
        residence: None,
    };
    let (old, new) = split_household(&h, &split, d("2026-04-01"), d("2026-04-10")).unwrap();
    assert_eq!(old.members.len(), 3);
    assert_eq!(
        (
            new.head().idcs.clone(),
            new.registrant.clone(),
            new.scores.latest()
        ),
        (grown, h.members[3].idcs.clone(), None)
    );
    // The head cannot leave without naming who heads the household left behind.
    let split = Split {
        new_rsu_id: rsu("100000000778"),
        members: vec![(head, Relation::Head)],
        remaining_head: None,
        residence: None,
    };
    assert_eq!(
        split_household(&h, &split, d("2026-04-01"), d("2026-04-10")),
        Err(EventError::NewHeadNeeded)
    );
}

#[test]
fn birth_grant_claims() {
    let book = RuleBook::shipped();
    let rules = book.get("asd-2025-11").unwrap();
    let couple = family("100000000001", &[]);
    let first = apply_event(
        &couple,
        &ev(
            "2026-02-10",
            EventKind::Birth {
                child: baby(50, "2026-02-10"),
            },
        ),
    )
    .unwrap();
    let claim = birth_grant_claim(&first, &Idcs::from_body(50), rules, d("2026-08-10")).unwrap();
    assert_eq!(
        (claim.order, claim.amount, claim.claim_deadline),
        (1, Money::from_mad(2000), d("2026-08-10"))
    );
    assert_eq!(
        birth_grant_claim(&first, &Idcs::from_body(50), rules, d("2026-08-11")),
        Err(ClaimRefusal::Late {
            deadline: d("2026-08-10"),
            claimed_on: d("2026-08-11")
        })
    );
    let second = apply_event(
        &family("100000000001", &["2020-01-01"]),
        &ev(
            "2026-02-10",
            EventKind::Birth {
                child: baby(50, "2026-02-10"),
            },
        ),
    )
    .unwrap();
    assert_eq!(
        birth_grant_claim(&second, &Idcs::from_body(50), rules, d("2026-03-01"))
            .unwrap()
            .amount,
        Money::from_mad(1000)
    );
    let third = apply_event(
        &family("100000000001", &["2020-01-01", "2022-01-01"]),
        &ev(
            "2026-02-10",
            EventKind::Birth {
                child: baby(50, "2026-02-10"),
            },
        ),
    )
    .unwrap();
    assert_eq!(
        birth_grant_claim(&third, &Idcs::from_body(50), rules, d("2026-03-01")),
        Err(ClaimRefusal::NoGrantForOrder { order: 3 })
    );
    let rich = crate::testkit::edit(&first, |p| {
        p.scores = ScoreHistory::new(vec![score("12.0", "2025-01-10")])
    });
    assert_eq!(
        birth_grant_claim(&rich, &Idcs::from_body(50), rules, d("2026-03-01")),
        Err(ClaimRefusal::NotEligible {
            reasons: vec![ReasonCode::ScoreAboveThreshold]
        })
    );
}

#[test]
fn a_score_row_becomes_an_event() {
    let h = family("100000000001", &[]);
    let text = "rsu_id,score,computed_on,valid_from\n100000000001,10.5,2026-05-20,2026-06-01\n";
    let u = ScoreUpdates::new("s.csv", text.as_bytes())
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let after = apply_event(&h, &u.event(d("2026-05-25"))).unwrap();
    assert_eq!(
        after.scores.at(d("2026-06-01")).unwrap().value.to_string(),
        "10.500000"
    );
    assert_eq!(after.scores.at(d("2026-05-31")), h.scores.latest());
    // Applying the same row again changes nothing.
    assert_eq!(
        apply_event(&after, &u.event(d("2026-05-25"))).unwrap(),
        after
    );
}

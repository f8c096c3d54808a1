//! The backend-conformance suite: every storage behaviour Sanad relies on, written once
//! and run against each adapter by [`conformance_tests!`](crate::conformance_tests).

use chrono::NaiveDate;
use sanad_domain::household::HouseholdParts;
use sanad_domain::{
    Area, Cnie, CrossCheck, CrossChecks, Disability, Household, HouseholdStatus, Idcs,
    MaritalStatus, PaymentInstrument, Person, Phone, RegionCode, Relation, Residence, Rib, RsuId,
    Schooling, Score, ScoreHistory, ScoreRecord, Sex,
};

use crate::audit::Verifier;
use crate::{
    Actor, ApiToken, AuditFilter, Change, FindKey, LoginAttempt, Outcome, RegistryStore,
    RuleSetStatus, Scope, Session, Store, StoreError, User, Write,
};

/// Expands to one `#[tokio::test]` per conformance case. `$make` is an async expression
/// giving a fresh, empty `Box<dyn Store>` for each test.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@cases $make;
            round_trip_and_reimport_changes_nothing,
            score_changes_build_the_history,
            person_in_another_household_rejects_only_that_household,
            dry_run_writes_nothing,
            find_by_every_key_within_scope,
            list_and_count_within_scope,
            removed_member_is_detached_not_lost,
            rule_sets_need_a_second_user,
            population_loads_within_scope,
            a_load_writes_like_an_apply,
            users_sessions_and_tokens,
            audit_chain_verifies_and_filters,
            antenna_scope_sees_only_its_province,
            payroll_steps_are_atomic_and_idempotent,
            applications_and_receipt_counters,
            // pilot outcomes (issue 7)
            pilot_outcomes_replace_a_round_whole_and_payments_are_summed,
            life_events_change_the_household_atomically,
            outbox_claims_retries_and_scopes,
            batches_read_households_and_duplicates_registry_wide,
            score_refresh_chunks_are_saved_whole_and_once,
            // pilot (issue 7)
            pilot_enrolment_respects_capacity_and_scope,
            pilot_cases_round_trip_within_scope,
            pilot_designs_are_frozen_with_their_hash,
            payment_notice_targets_and_batch_enqueue,
            delivery_reports_move_sent_messages,
            a_split_writes_both_households_or_nothing,
            ending_awards_is_audited_and_kept,
            // streamed payroll (issue 6)
            the_streamed_payroll_reads_and_writes_by_range,
            literal_texts_read_back_whole,
        );
    };
    (@cases $make:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = $make.await;
                $crate::conformance::$case(&*store).await;
            }
        )+
    };
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

const TODAY: &str = "2026-11-01";

fn r(code: &str) -> RegionCode {
    RegionCode::parse(code).unwrap()
}

/// A valid household `n` (1..=99_999): head with CNIE, spouse, two children; region 01 or 04.
pub fn sample(n: u64, region: &str) -> Household {
    let (province, commune) = match region {
        "01" => ("01.511", "01.511.01.0"),
        _ => ("04.421", "04.421.01.0"),
    };
    let person = |k: u64, relation: Relation, sex: Sex, birth: &str| Person {
        idcs: Idcs::from_body(n * 100 + k),
        cnie: None,
        first_name: format!("Prenom{k}"),
        last_name: format!("Nom{n}"),
        first_name_ar: "محمد".into(),
        last_name_ar: "العلوي".into(),
        sex,
        birth_date: d(birth),
        death_date: None,
        relation,
        marital_status: if k < 3 {
            MaritalStatus::Married
        } else {
            MaritalStatus::Single
        },
        schooling: if k == 3 {
            Schooling::PublicPrimary
        } else {
            Schooling::None
        },
        disability: if k == 4 {
            Disability::Severe
        } else {
            Disability::None
        },
        father_deceased: false,
        checks: CrossChecks::default(),
    };
    let mut head = person(1, Relation::Head, Sex::Male, "1980-02-29");
    head.cnie = Some(Cnie::parse(&format!("BE{n}")).unwrap());
    let mut spouse = person(2, Relation::Spouse, Sex::Female, "1984-07-15");
    // Quotes and backslashes must survive both bulk paths (SQL literals, COPY text).
    spouse.first_name = "M'barka \\ O''Brien".into();
    spouse.checks.pensioner = Some(CrossCheck {
        source: "CMR".into(),
        date: d("2026-06-30"),
    });
    let parts = HouseholdParts {
        rsu_id: RsuId::parse(&format!("{:012}", 500_000_000_000 + n)).unwrap(),
        residence: Residence {
            region: r(region),
            province: province.into(),
            commune: commune.into(),
            area: Area::Urban,
        },
        registrant: Idcs::from_body(n * 100 + 2),
        phone: Some(Phone::parse(&format!("06{:08}", n)).unwrap()),
        instrument: Some(PaymentInstrument::Bank {
            rib: Rib::with_key(&format!("2307800000{:012}", n)).unwrap(),
        }),
        status: HouseholdStatus::Active,
        members: vec![
            head,
            spouse,
            person(3, Relation::Child, Sex::Female, "2016-09-01"),
            person(4, Relation::KafalaChild, Sex::Male, "2021-01-31"),
        ],
        scores: ScoreHistory::new(vec![ScoreRecord {
            value: Score::parse("9.743001").unwrap(),
            computed_on: d("2024-03-01"),
            valid_from: d("2024-03-08"),
        }]),
    };
    Household::new(parts, d(TODAY)).expect("sample is valid")
}

/// `h` with a change applied, checked again.
pub fn with(h: &Household, change: impl FnOnce(&mut HouseholdParts)) -> Household {
    let mut p = h.clone().into_parts();
    change(&mut p);
    Household::new(p, d(TODAY)).expect("still valid")
}

async fn apply(store: &dyn RegistryStore, batch: &[Household]) -> Vec<Outcome> {
    store
        .upsert_households(batch, Write::Apply)
        .await
        .expect("upsert")
}

pub async fn round_trip_and_reimport_changes_nothing(store: &dyn RegistryStore) {
    let batch = vec![sample(1, "01"), sample(2, "04")];
    assert_eq!(
        apply(store, &batch).await,
        [Outcome::Inserted, Outcome::Inserted]
    );
    let back = store
        .household(&Scope::National, &batch[0].rsu_id)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(back, batch[0], "a household reads back exactly as written");
    assert_eq!(
        apply(store, &batch).await,
        [Outcome::Unchanged, Outcome::Unchanged]
    );
    let again = store
        .household(&Scope::National, &batch[0].rsu_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        again.scores.records().len(),
        1,
        "a re-import adds no history"
    );
    // Every optional field absent or present, a separator in a name, more than ten members
    // (positions sort as numbers), several scores: read back alone and in a batch.
    let odd = with(&sample(3, "01"), |p| {
        p.phone = None;
        p.instrument = Some(PaymentInstrument::Wallet {
            provider: "Wafacash".into(),
            reference: "W-0042".into(),
        });
        let spouse = &mut p.members[1];
        spouse.last_name = "Ben|Ali".into();
        spouse.last_name_ar = String::new();
        spouse.death_date = Some(d("2026-01-05"));
        let child = &mut p.members[2];
        child.father_deceased = true;
        child.checks = CrossChecks {
            public_employee: Some(CrossCheck {
                source: "DGI-PAYROLL".into(),
                date: d("2026-05-31"),
            }),
            pensioner: None,
            family_allowance: Some(CrossCheck {
                source: "CNSS-AF".into(),
                date: d("2026-04-30"),
            }),
        };
        for k in 5..=12 {
            let mut m = p.members[3].clone();
            m.idcs = Idcs::from_body(300 + k);
            m.first_name = format!("Enfant{k}");
            p.members.push(m);
        }
        p.scores = ScoreHistory::new(vec![
            ScoreRecord {
                value: Score::parse("9.743001").unwrap(),
                computed_on: d("2024-03-01"),
                valid_from: d("2024-03-08"),
            },
            ScoreRecord {
                value: Score::parse("0").unwrap(),
                computed_on: d("2025-12-20"),
                valid_from: d("2026-01-01"),
            },
        ]);
    });
    apply(store, std::slice::from_ref(&odd)).await;
    let alone = store
        .household(&Scope::National, &odd.rsu_id)
        .await
        .unwrap();
    assert_eq!(alone.as_ref(), Some(&odd), "read alone, exactly as written");
    let batch = store
        .households(
            &Scope::National,
            &[odd.rsu_id.clone(), batch[1].rsu_id.clone()],
        )
        .await
        .unwrap();
    assert!(
        batch.contains(&odd) && batch.len() == 2,
        "read in a batch, exactly as written"
    );
}

pub async fn score_changes_build_the_history(store: &dyn RegistryStore) {
    let h = sample(3, "01");
    apply(store, std::slice::from_ref(&h)).await;
    let rescored = with(&h, |p| {
        p.scores = ScoreHistory::new(vec![ScoreRecord {
            value: Score::parse("10.5").unwrap(),
            computed_on: d("2025-05-02"),
            valid_from: d("2025-05-10"),
        }]);
    });
    assert_eq!(
        apply(store, std::slice::from_ref(&rescored)).await,
        [Outcome::Updated]
    );
    let back = store
        .household(&Scope::National, &h.rsu_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.scores.records().len(), 2);
    assert_eq!(
        back.scores.at(d("2025-05-09")).unwrap().value,
        Score::parse("9.743001").unwrap()
    );
    assert_eq!(
        back.scores.at(d("2025-05-10")).unwrap().value,
        Score::parse("10.5").unwrap()
    );
    assert_eq!(
        apply(store, std::slice::from_ref(&rescored)).await,
        [Outcome::Unchanged]
    );
}

pub async fn person_in_another_household_rejects_only_that_household(store: &dyn RegistryStore) {
    let first = sample(4, "01");
    apply(store, std::slice::from_ref(&first)).await;
    let intruder = first.members[2].clone();
    let other = with(&sample(5, "01"), |p| p.members.push(intruder));
    let fine = sample(6, "04");
    let out = apply(store, &[other.clone(), fine.clone()]).await;
    match &out[0] {
        Outcome::Rejected(e) => {
            assert_eq!(e.field, "members[4].idcs");
            assert!(e.reason.contains(first.rsu_id.as_str()), "{}", e.reason);
        }
        o => panic!("expected a rejection, got {o:?}"),
    }
    assert_eq!(out[1], Outcome::Inserted);
    assert!(
        store
            .household(&Scope::National, &other.rsu_id)
            .await
            .unwrap()
            .is_none(),
        "nothing of a rejected household is applied"
    );
    assert!(
        store
            .household(&Scope::National, &fine.rsu_id)
            .await
            .unwrap()
            .is_some()
    );
    let key = FindKey::Idcs(first.members[2].idcs.clone());
    let found = store.find_households(&Scope::National, &key).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rsu_id, first.rsu_id);
}

pub async fn dry_run_writes_nothing(store: &dyn RegistryStore) {
    let h = sample(7, "01");
    let out = store
        .upsert_households(std::slice::from_ref(&h), Write::DryRun)
        .await
        .unwrap();
    assert_eq!(out, [Outcome::Inserted]);
    assert!(
        store
            .household(&Scope::National, &h.rsu_id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .count_by_region(&Scope::National)
            .await
            .unwrap()
            .iter()
            .all(|c| c.households == 0)
    );
}

pub async fn find_by_every_key_within_scope(store: &dyn RegistryStore) {
    let h = sample(8, "04");
    apply(store, &[h.clone(), sample(9, "01")]).await;
    let keys = [
        FindKey::RsuId(h.rsu_id.clone()),
        FindKey::Idcs(h.members[3].idcs.clone()),
        FindKey::Cnie(h.members[0].cnie.clone().unwrap()),
        FindKey::Phone(h.phone.clone().unwrap()),
        FindKey::Name("NOM8".into()),
    ];
    let arabic = store
        .find_households(&Scope::region(r("04")), &FindKey::Name("العلوي".into()))
        .await
        .unwrap();
    assert_eq!(
        arabic.iter().map(|s| &s.rsu_id).collect::<Vec<_>>(),
        [&h.rsu_id],
        "Arabic family name, within scope"
    );
    for key in &keys {
        let hits = store
            .find_households(&Scope::region(r("04")), key)
            .await
            .unwrap();
        assert_eq!(hits.len(), 1, "{key:?}");
        let s = &hits[0];
        assert_eq!((&s.rsu_id, s.region, s.members), (&h.rsu_id, r("04"), 4));
        assert_eq!(s.head_name, "Prenom1 Nom8");
        assert_eq!(s.score, Some(Score::parse("9.743001").unwrap()));
        assert!(
            store
                .find_households(&Scope::region(r("01")), key)
                .await
                .unwrap()
                .is_empty(),
            "{key:?} leaks across regions"
        );
    }
    assert!(
        store
            .household(&Scope::region(r("01")), &h.rsu_id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .household(&Scope::Regions(vec![r("01"), r("04")]), &h.rsu_id)
            .await
            .unwrap()
            .is_some()
    );
}

pub async fn batches_read_households_and_duplicates_registry_wide(store: &dyn RegistryStore) {
    let a = sample(21, "01");
    // Another household with A's head's CNIE, phone and account, and a child born the same
    // day as A's child under the same last name.
    let b = with(&sample(22, "04"), |p| {
        p.members[0].cnie = a.members[0].cnie.clone();
        p.phone = a.phone.clone();
        p.instrument = a.instrument.clone();
        p.members[2].last_name = "Nom21".into();
    });
    // And a third with A's phone, whose spouse (no CNIE) shares A's head's name and birth day.
    let c = with(&sample(23, "04"), |p| {
        p.phone = a.phone.clone();
        p.members[1].last_name = "Nom21".into();
        p.members[1].birth_date = a.members[0].birth_date;
    });
    apply(store, &[a.clone(), b.clone(), c.clone()]).await;
    let missing = RsuId::parse("599999999999").unwrap();
    let ids = [a.rsu_id.clone(), b.rsu_id.clone(), missing];
    let mut all = store.households(&Scope::National, &ids).await.unwrap();
    all.sort_by(|x, y| x.rsu_id.cmp(&y.rsu_id));
    assert_eq!(
        all,
        [a.clone(), b.clone()],
        "households read in a batch are whole; a missing id is skipped"
    );
    let scoped = store
        .households(&Scope::region(r("04")), &ids)
        .await
        .unwrap();
    assert_eq!(scoped, [b.clone()], "a batch read stays within the scope");

    let e = store
        .duplicate_evidence(std::slice::from_ref(&a))
        .await
        .unwrap();
    let mut holders = e.cnie_holders.clone();
    holders.sort();
    let cnie = a.members[0].cnie.as_ref().unwrap().to_string();
    assert_eq!(
        holders,
        [
            (cnie.clone(), a.rsu_id.to_string()),
            (cnie, b.rsu_id.to_string())
        ]
    );
    assert_eq!(
        e.phones,
        [(a.phone.as_ref().unwrap().to_string(), 3)],
        "the phone is shared by three households"
    );
    assert_eq!(e.accounts, [(a.instrument.clone().unwrap(), 2)]);
    let mut namesakes: Vec<(String, String)> = e
        .namesakes
        .iter()
        .map(|p| (p.household_id.clone(), p.idcs.clone()))
        .collect();
    namesakes.sort();
    let expected = |h: &Household, k: usize| (h.rsu_id.to_string(), h.members[k].idcs.to_string());
    // Every living member without a CNIE finds itself; B's child matches A's child (same
    // name, same day). A's head holds a CNIE: only namesakes without one are read for it,
    // so C's spouse but not the head itself.
    assert_eq!(
        namesakes,
        [
            expected(&a, 1),
            expected(&a, 2),
            expected(&a, 3),
            expected(&b, 2),
            expected(&c, 1)
        ]
    );
}

pub async fn score_refresh_chunks_are_saved_whole_and_once(store: &dyn Store) {
    let (a, b) = (sample(31, "01"), sample(32, "04"));
    apply(store, &[a.clone(), b.clone()]).await;
    let ids = [
        a.rsu_id.to_string(),
        b.rsu_id.to_string(),
        "599999999999".to_owned(),
    ];
    let mut held = store.score_histories(&Scope::National, &ids).await.unwrap();
    held.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        held.iter()
            .map(|(id, rows)| (id.as_str(), rows.len()))
            .collect::<Vec<_>>(),
        [(ids[0].as_str(), 1), (ids[1].as_str(), 1)],
        "an unknown household has no entry"
    );
    let held_a = &held[0].1[0];
    let record = a.scores.records()[0];
    assert_eq!(
        (
            held_a.value_millionths,
            held_a.computed_on,
            held_a.valid_from
        ),
        (
            record.value.millionths(),
            record.computed_on,
            record.valid_from
        ),
        "each record read back as written"
    );
    assert_ne!(record.computed_on, record.valid_from);
    assert_eq!(
        store
            .score_histories(&Scope::region(r("04")), &ids)
            .await
            .unwrap()
            .len(),
        1,
        "within the scope"
    );
    let score = |h: &Household, v: i64| crate::rows::ScoreRow {
        household_id: h.rsu_id.to_string(),
        value_millionths: v,
        computed_on: d("2026-10-20"),
        valid_from: d("2026-11-01"),
    };
    let event = crate::EventRow {
        id: 0,
        rsu_id: a.rsu_id.to_string(),
        kind: "score_update".into(),
        effective: "2026-11-01".into(),
        declared_on: "2026-11-20".into(),
        body: "{}".into(),
        declared_by: "rsu-feed".into(),
    };
    let notice = message(
        "suspension:score:A",
        &a.rsu_id.to_string(),
        "2026-11-20 08:00:00",
    );
    let ids_given = store
        .save_score_refresh(
            &[score(&a, 12_000_000), score(&b, 9_000_000)],
            std::slice::from_ref(&event),
            std::slice::from_ref(&notice),
            &[],
            &actor("rsu-feed"),
        )
        .await
        .unwrap();
    assert_eq!(ids_given.len(), 1);
    // The same chunk again: rows already held are kept once; a notice id is queued once.
    store
        .save_score_refresh(
            &[score(&a, 12_000_000), score(&b, 9_000_000)],
            &[],
            std::slice::from_ref(&notice),
            &[],
            &actor("rsu-feed"),
        )
        .await
        .unwrap();
    let now = store
        .household(&Scope::National, &a.rsu_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.scores.records().len(), 2, "{:?}", now.scores);
    assert_eq!(now.scores.latest().unwrap().value.millionths(), 12_000_000);
    let events = store.events_of(&a.rsu_id.to_string()).await.unwrap();
    assert_eq!(
        (events.len(), events[0].id, events[0].kind.as_str()),
        (1, ids_given[0], "score_update")
    );
    assert_eq!(
        store
            .messages_of(&Scope::National, &a.rsu_id.to_string())
            .await
            .unwrap()
            .len(),
        1
    );
    let log = store
        .audit_records(
            &AuditFilter {
                entity: Some("score_history".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(log.len(), 2, "one record per chunk");
    assert!(
        store
            .audit_records(
                &AuditFilter {
                    entity: Some("life_event".into()),
                    ..Default::default()
                },
                None,
                10
            )
            .await
            .unwrap()
            .len()
            == 1
    );
}

pub async fn list_and_count_within_scope(store: &dyn RegistryStore) {
    let batch: Vec<Household> = (10..20)
        .map(|n| sample(n, if n % 2 == 0 { "01" } else { "04" }))
        .collect();
    apply(store, &batch).await;
    let counts = store
        .count_by_region(&Scope::region(r("01")))
        .await
        .unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(
        (counts[0].region, counts[0].households, counts[0].persons),
        (r("01"), 5, 20)
    );
    let all = store.count_by_region(&Scope::National).await.unwrap();
    assert_eq!(all.iter().map(|c| c.households).sum::<i64>(), 10);
    let page1 = store
        .list_households(&Scope::region(r("04")), None, 3)
        .await
        .unwrap();
    let page2 = store
        .list_households(&Scope::region(r("04")), Some(&page1[2].rsu_id), 3)
        .await
        .unwrap();
    let ids: Vec<String> = page1
        .iter()
        .chain(&page2)
        .map(|s| s.rsu_id.to_string())
        .collect();
    let expected: Vec<String> = batch
        .iter()
        .filter(|h| h.residence.region == r("04"))
        .map(|h| h.rsu_id.to_string())
        .collect();
    assert_eq!(ids, expected);
    assert!(
        store
            .list_households(&Scope::Regions(vec![]), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn removed_member_is_detached_not_lost(store: &dyn RegistryStore) {
    let h = sample(20, "01");
    apply(store, std::slice::from_ref(&h)).await;
    let left = h.members[3].clone();
    let smaller = with(&h, |p| {
        p.members.pop();
    });
    assert_eq!(
        apply(store, std::slice::from_ref(&smaller)).await,
        [Outcome::Updated]
    );
    let back = store
        .household(&Scope::National, &h.rsu_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.members.len(), 3);
    assert!(
        store
            .find_households(&Scope::National, &FindKey::Idcs(left.idcs.clone()))
            .await
            .unwrap()
            .is_empty()
    );
    // The detached person may now join another household through the feed.
    let joined = with(&sample(21, "01"), |p| p.members.push(left));
    assert_eq!(apply(store, &[joined]).await, [Outcome::Inserted]);
}

pub async fn rule_sets_need_a_second_user(store: &dyn Store) {
    store
        .propose_rule_set(
            "asd-2027-01",
            d("2027-01-01"),
            "id = \"asd-2027-01\"",
            &actor("amina"),
        )
        .await
        .unwrap();
    let again = store
        .propose_rule_set("asd-2027-01", d("2027-01-01"), "x", &actor("amina"))
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again}");
    let own = store
        .approve_rule_set("asd-2027-01", &actor("amina"))
        .await
        .unwrap_err();
    assert!(
        matches!(own, StoreError::Refused(ref m) if m.contains("another user")),
        "{own}"
    );
    assert!(matches!(
        store
            .approve_rule_set("nope", &actor("karim"))
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));
    let approved = store
        .approve_rule_set("asd-2027-01", &actor("karim"))
        .await
        .unwrap();
    assert_eq!(
        (approved.status, approved.approved_by.as_deref()),
        (RuleSetStatus::Approved, Some("karim"))
    );
    assert!(matches!(
        store
            .approve_rule_set("asd-2027-01", &actor("omar"))
            .await
            .unwrap_err(),
        StoreError::Refused(_)
    ));
    store
        .propose_rule_set("asd-2027-01b", d("2027-01-01"), "y", &actor("amina"))
        .await
        .unwrap();
    let clash = store
        .approve_rule_set("asd-2027-01b", &actor("karim"))
        .await
        .unwrap_err();
    assert!(
        matches!(clash, StoreError::Refused(ref m) if m.contains("same date")),
        "{clash}"
    );
    let all = store.rule_sets().await.unwrap();
    let log = store
        .audit_records(
            &AuditFilter {
                entity: Some("rule_set".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = log
        .iter()
        .map(|r| (r.action.as_str(), r.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("propose", "amina"),
            ("approve", "karim"),
            ("propose", "amina")
        ],
        "refusals write nothing"
    );
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].body, "id = \"asd-2027-01\"");
}

pub async fn population_loads_within_scope(store: &dyn Store) {
    // Two scores valid from one date: the one computed later is in force, whatever the order
    // the rows come back in. A member who died: both of a member's dates come back exactly.
    let rescored = with(&sample(31, "04"), |p| {
        p.members[2].death_date = Some(d("2025-02-28"));
        p.scores = ScoreHistory::new(vec![
            ScoreRecord {
                value: Score::parse("10.5").unwrap(),
                computed_on: d("2025-05-02"),
                valid_from: d("2025-05-10"),
            },
            ScoreRecord {
                value: Score::parse("12").unwrap(),
                computed_on: d("2025-05-01"),
                valid_from: d("2025-05-10"),
            },
        ]);
    });
    apply(
        store,
        &[sample(30, "01"), sample(31, "04"), sample(32, "04")],
    )
    .await;
    apply(store, &[rescored.clone()]).await;
    let pop = store
        .load_population(&Scope::region(r("04")), &|_| {})
        .await
        .unwrap();
    assert_eq!(pop.households.len(), 2);
    assert_eq!(pop.members.len(), 8);
    let h = &pop.households[0];
    assert_eq!((h.id, h.region), (500_000_000_031, r("04")));
    assert_eq!(
        sanad_domain::Geography::get().provinces[h.province as usize].code,
        "04.421"
    );
    let members = pop.members_of(h);
    let expected: Vec<sanad_domain::snapshot::Member> =
        rescored.members.iter().map(Into::into).collect();
    assert_eq!(members, expected.as_slice());
    assert_eq!(members[2].death_date, Some(d("2025-02-28")));
    assert!(members[1].pensioner && !members[0].pensioner);
    assert_eq!(
        pop.score_at(h, d("2025-05-09")).unwrap().0,
        Score::parse("9.743001").unwrap()
    );
    assert_eq!(
        pop.score_at(h, d("2025-05-10")).unwrap().0,
        Score::parse("10.5").unwrap()
    );
    assert_eq!(pop.score_at(h, d("2020-01-01")), None);
    let national = store
        .load_population(&Scope::National, &|_| {})
        .await
        .unwrap();
    assert_eq!(
        (
            national.households.len(),
            national.members.len(),
            national.scores.len()
        ),
        (3, 12, 5)
    );
    assert!(
        store
            .load_population(&Scope::Regions(vec![]), &|_| {})
            .await
            .unwrap()
            .households
            .is_empty()
    );
}

pub async fn a_load_writes_like_an_apply(store: &dyn Store) {
    let batch = vec![sample(40, "01"), sample(41, "04")];
    assert_eq!(
        store.upsert_households(&batch, Write::Load).await.unwrap(),
        [Outcome::Inserted, Outcome::Inserted]
    );
    let back = store
        .household(&Scope::National, &batch[1].rsu_id)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(back, batch[1]);
    assert_eq!(
        apply(store, &batch).await,
        [Outcome::Unchanged, Outcome::Unchanged],
        "hashes are stored by a load too"
    );
}

fn actor(user: &str) -> Actor {
    Actor::new(user, "req-test")
}

fn user(name: &str, scope: Scope) -> User {
    User {
        username: name.into(),
        display_name: format!("{name} (test)"),
        role: sanad_domain::Role::AntennaAgent,
        scope,
        locale: "fr".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        failed_logins: 0,
        locked_until: None,
        active: true,
        created_at: "2026-11-29T10:00:00.000Z".into(),
    }
}

pub async fn users_sessions_and_tokens(store: &dyn Store) {
    let u = user("amina", Scope::Regions(vec![r("01"), r("04")]));
    store.create_user(&u, &actor("admin")).await.unwrap();
    assert!(matches!(
        store.create_user(&u, &actor("admin")).await.unwrap_err(),
        StoreError::Conflict(_)
    ));
    assert_eq!(store.user("amina").await.unwrap().as_ref(), Some(&u));
    assert_eq!(store.user("nobody").await.unwrap(), None);

    let fail = LoginAttempt::Failed {
        now: 100,
        max_failures: 2,
        lock_until: 1000,
    };
    store.record_login("amina", fail).await.unwrap();
    assert_eq!(
        store.user("amina").await.unwrap().unwrap().locked_until,
        None,
        "one failure does not lock"
    );
    store.record_login("amina", fail).await.unwrap();
    let locked = store.user("amina").await.unwrap().unwrap();
    assert_eq!((locked.failed_logins, locked.locked_until), (2, Some(1000)));
    store
        .record_login("amina", LoginAttempt::Succeeded)
        .await
        .unwrap();
    assert_eq!(store.user("amina").await.unwrap().unwrap().failed_logins, 0);

    let changed = User {
        role: sanad_domain::Role::AntennaSupervisor,
        scope: Scope::Antennas(vec!["04.421".into()]),
        ..u.clone()
    };
    store.update_user(&changed, &actor("admin")).await.unwrap();
    assert_eq!(store.users().await.unwrap(), [changed.clone()]);

    let s = Session {
        id_hash: "h1".into(),
        username: "amina".into(),
        csrf: "c".into(),
        created_at: 10,
        last_seen: 10,
    };
    store.create_session(&s).await.unwrap();
    store.touch_session("h1", 20).await.unwrap();
    assert_eq!(store.session("h1").await.unwrap().unwrap().last_seen, 20);
    let (joined, owner) = store.session_user("h1").await.unwrap().unwrap();
    assert_eq!(
        (joined, owner),
        (
            Session {
                last_seen: 20,
                ..s.clone()
            },
            changed.clone()
        )
    );
    assert_eq!(store.session_user("nope").await.unwrap(), None);
    store.delete_sessions_of("amina").await.unwrap();
    assert_eq!(store.session("h1").await.unwrap(), None);

    let t = ApiToken {
        id: "tok1".into(),
        secret_hash: "ff".into(),
        name: "portal".into(),
        username: "amina".into(),
        scopes: vec!["households:read".into(), "entitlements:compute".into()],
        created_at: "2026-11-29T10:00:00.000Z".into(),
        revoked: false,
    };
    store.create_token(&t, &actor("admin")).await.unwrap();
    assert_eq!(store.token("tok1").await.unwrap().as_ref(), Some(&t));
    store.revoke_token("tok1", &actor("admin")).await.unwrap();
    assert!(store.token("tok1").await.unwrap().unwrap().revoked);
    assert_eq!(store.tokens().await.unwrap().len(), 1);

    let log = store
        .audit_records(&AuditFilter::default(), None, 100)
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = log
        .iter()
        .rev()
        .map(|r| (r.action.as_str(), r.entity.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("create", "user"),
            ("update", "user"),
            ("create", "api_token"),
            ("revoke", "api_token")
        ]
    );
    assert!(
        log.iter()
            .all(|r| !r.after.as_deref().unwrap_or("").contains("argon2")
                && !r.after.as_deref().unwrap_or("").contains("\"ff\"")),
        "no secrets in the log"
    );
    assert!(
        log[2].before.as_deref().unwrap().contains("antenna_agent")
            && log[2]
                .after
                .as_deref()
                .unwrap()
                .contains("antenna_supervisor")
    );
}

pub async fn audit_chain_verifies_and_filters(store: &dyn Store) {
    for i in 0..5 {
        let who = if i % 2 == 0 { "amina" } else { "karim" };
        store
            .audit(
                &actor(who),
                &Change::new("update", "household", &format!("{i:012}")),
            )
            .await
            .unwrap();
    }
    let chain = store.audit_chain(0, 100).await.unwrap();
    assert_eq!(
        chain.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    let mut v = Verifier::default();
    chain.iter().for_each(|r| v.push(r));
    let v = v.finish(Some(&chain[4].hash));
    assert!(v.ok(), "{:?}", v.problems);

    let karim = store
        .audit_records(
            &AuditFilter {
                actor: Some("karim".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        karim.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [4, 2],
        "newest first"
    );
    let page = store
        .audit_records(&AuditFilter::default(), Some(3), 10)
        .await
        .unwrap();
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [2, 1]);
    let today = chain[0].at[..10].to_owned();
    let dated = AuditFilter {
        from: Some(today.clone()),
        to: Some(today),
        ..Default::default()
    };
    assert_eq!(
        store.audit_records(&dated, None, 10).await.unwrap().len(),
        5,
        "a day's bound includes the whole day"
    );
    let before = AuditFilter {
        to: Some("2000-01-01".into()),
        ..Default::default()
    };
    assert!(
        store
            .audit_records(&before, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn antenna_scope_sees_only_its_province(store: &dyn Store) {
    apply(store, &[sample(50, "01"), sample(51, "04")]).await;
    let province = sample(51, "04").residence.province.clone();
    let antenna = Scope::Antennas(vec![province]);
    let listed = store.list_households(&antenna, None, 10).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|h| h.rsu_id.to_string())
            .collect::<Vec<_>>(),
        [sample(51, "04").rsu_id.to_string()]
    );
    assert!(
        store
            .household(&antenna, &sample(50, "01").rsu_id)
            .await
            .unwrap()
            .is_none()
    );
    let counts = store.count_by_region(&antenna).await.unwrap();
    assert_eq!((counts.len(), counts[0].households), (1, 1));
    let instruments = store.payment_instruments(&antenna).await.unwrap();
    assert_eq!(
        instruments,
        [(
            sample(51, "04").rsu_id.clone(),
            sample(51, "04").instrument.clone().unwrap()
        )]
    );
}

/// The audit log refuses updates and deletes; if someone with database rights removes that
/// protection (`unprotect`), the hash chain still shows every modification and deletion.
/// `sql` runs one statement directly on the adapter's database.
pub async fn audit_tampering_is_detected<F: AsyncFn(&str) -> Result<(), String>>(
    store: &dyn Store,
    sql: F,
    unprotect: &str,
) {
    for i in 0..3 {
        store
            .audit(
                &actor("amina"),
                &Change::new("update", "household", &format!("{i:012}")),
            )
            .await
            .unwrap();
    }
    let head = crate::audit::verify(store, None)
        .await
        .unwrap()
        .head
        .unwrap();
    for attempt in [
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 3",
    ] {
        let err = sql(attempt).await.expect_err(attempt);
        assert!(err.contains("append-only"), "{err}");
    }
    sql(unprotect).await.unwrap();
    sql("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        .await
        .unwrap();
    let v = crate::audit::verify(store, Some(&head)).await.unwrap();
    assert!(
        v.problems
            .iter()
            .any(|p| p.starts_with("record 2:") && p.contains("modified")),
        "{:?}",
        v.problems
    );
    sql("UPDATE audit_log SET actor = 'amina' WHERE seq = 2")
        .await
        .unwrap();
    assert!(
        crate::audit::verify(store, Some(&head)).await.unwrap().ok(),
        "restored"
    );
    sql("DELETE FROM audit_log WHERE seq = 3").await.unwrap();
    let v = crate::audit::verify(store, Some(&head)).await.unwrap();
    assert!(
        !v.ok() && v.problems[0].contains("expected head"),
        "{:?}",
        v.problems
    );
    sql("DELETE FROM audit_log WHERE seq = 1").await.unwrap();
    assert!(
        crate::audit::verify(store, None)
            .await
            .unwrap()
            .problems
            .iter()
            .any(|p| p.contains("expected sequence 1"))
    );
}

pub async fn payroll_steps_are_atomic_and_idempotent(store: &dyn Store) {
    use crate::payroll::{EntryRow, FileRow, LineRow, PaymentRow, StatusUpdate};
    let line = |id: &str, amount| LineRow {
        rsu_id: id.into(),
        region: "04".into(),
        status: "pay".into(),
        amount,
        body: format!("{{\"h\":\"{id}\"}}"),
    };
    let pending = |body: &str| EntryRow {
        household: "a".into(),
        kind: "due".into(),
        reference: body.into(),
        body: body.into(),
    };
    assert_eq!(store.cycle("2026-11").await.unwrap(), None);
    store
        .save_prepared(
            "2026-11",
            "{\"v\":1}",
            &[line("b", 500), line("a", 800)],
            &[pending("e1"), pending("e2")],
            &actor("maker"),
        )
        .await
        .unwrap();
    // Preparing again replaces, never adds.
    store
        .save_prepared(
            "2026-11",
            "{\"v\":2}",
            &[line("a", 800), line("b", 600)],
            &[pending("e1")],
            &actor("maker"),
        )
        .await
        .unwrap();
    let lines = store.payroll_lines("2026-11").await.unwrap();
    assert_eq!(
        lines
            .iter()
            .map(|l| (l.rsu_id.as_str(), l.amount))
            .collect::<Vec<_>>(),
        [("a", 800), ("b", 600)]
    );
    assert_eq!(store.pending_entries("2026-11").await.unwrap(), ["e1"]);
    store
        .save_cycle(
            "2026-11",
            "approved",
            "{\"v\":3}",
            "approve",
            &actor("checker"),
        )
        .await
        .unwrap();
    assert_eq!(
        store.cycle("2026-11").await.unwrap().as_deref(),
        Some("{\"v\":3}")
    );

    let entry = |h: &str, kind: &str, r: &str| EntryRow {
        household: h.into(),
        kind: kind.into(),
        reference: r.into(),
        body: format!("{h}/{kind}/{r}"),
    };
    let payment = PaymentRow {
        end_to_end_id: "ASD-202611-000000001-1".into(),
        month: "2026-11".into(),
        rsu_id: "a".into(),
        reference: "p1".into(),
        provider: "BANK1".into(),
        amount: 800,
        status: "sent".into(),
        reason: None,
        file_name: "f1.xml".into(),
        account: Some("011780000012345678901296".into()),
    };
    let file = FileRow {
        file_name: "f1.xml".into(),
        month: "2026-11".into(),
        provider: "BANK1".into(),
        msg_id: "M1".into(),
        txs: 1,
        ctrl_sum: 800,
        sha256: "ab".into(),
    };
    let entries = [
        entry("a", "due", "d1"),
        entry("a", "issued", "p1"),
        entry("a", "due", "d1"),
    ];
    store
        .save_release(
            "2026-11",
            "{\"v\":4}",
            &entries,
            std::slice::from_ref(&payment),
            std::slice::from_ref(&file),
            &actor("releaser"),
        )
        .await
        .unwrap();
    let ledger = store.ledger_entries(0, 10).await.unwrap();
    assert_eq!(
        ledger.iter().map(|(_, b)| b.as_str()).collect::<Vec<_>>(),
        ["a/due/d1", "a/issued/p1"],
        "the same event is posted once"
    );
    // A second release of the same payments fails whole: nothing is half-written.
    let again = store
        .save_release(
            "2026-11",
            "{\"v\":5}",
            &[entry("a", "due", "d9")],
            &[payment.clone()],
            &[],
            &actor("releaser"),
        )
        .await;
    assert!(again.is_err());
    assert_eq!(store.ledger_entries(0, 10).await.unwrap().len(), 2);
    assert_eq!(
        store.cycle("2026-11").await.unwrap().as_deref(),
        Some("{\"v\":4}")
    );
    assert_eq!(store.payments("2026-11").await.unwrap(), [payment.clone()]);
    assert_eq!(store.payments_of("a").await.unwrap(), [payment.clone()]);
    assert!(store.payments_of("b").await.unwrap().is_empty());
    assert_eq!(
        store.ledger_of("a").await.unwrap(),
        ["a/due/d1", "a/issued/p1"]
    );
    assert_eq!(store.payment_files("2026-11").await.unwrap(), [file]);

    let update = StatusUpdate {
        end_to_end_id: payment.end_to_end_id.clone(),
        status: "rejected".into(),
        reason: Some("AC04".into()),
    };
    assert!(!store.returns_imported("f00d").await.unwrap());
    store
        .save_returns(
            "f00d",
            "pain002.xml",
            "{\"rejected\":1}",
            std::slice::from_ref(&update),
            &[entry("a", "rejected", "p1")],
            &actor("bank"),
        )
        .await
        .unwrap();
    assert!(store.returns_imported("f00d").await.unwrap());
    let err = store
        .save_returns(
            "f00d",
            "pain002.xml",
            "{}",
            &[update],
            &[entry("a", "confirmed", "p1")],
            &actor("bank"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let p = store
        .payment(&payment.end_to_end_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (p.status.as_str(), p.reason.as_deref()),
        ("rejected", Some("AC04"))
    );
    assert_eq!(
        store.bounced_payments().await.unwrap(),
        [p.clone()],
        "a rejected payment keeps the account it was sent to"
    );
    let (seqs, bodies): (Vec<i64>, Vec<String>) = store
        .ledger_entries(0, 10)
        .await
        .unwrap()
        .into_iter()
        .unzip();
    assert_eq!(
        (seqs, bodies.last().unwrap().as_str()),
        (vec![1, 2, 3], "a/rejected/p1")
    );
    store
        .set_appropriation(2026, "flat_rate", 100, &actor("budget"))
        .await
        .unwrap();
    store
        .set_appropriation(2026, "flat_rate", 250, &actor("budget"))
        .await
        .unwrap();
    store
        .set_appropriation(2027, "birth_grant", 7, &actor("budget"))
        .await
        .unwrap();
    assert_eq!(
        store.appropriations(2026).await.unwrap(),
        [("flat_rate".to_owned(), 250)]
    );
    let set = store
        .audit_records(
            &AuditFilter {
                entity: Some("appropriation".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        set[1].before.as_deref(),
        Some("{\"centimes\":100}"),
        "the change records the amount before"
    );
    let log = store
        .audit_records(
            &AuditFilter {
                entity: Some("payroll_cycle".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        log.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        ["release", "approve", "prepare", "prepare"]
    );
    returns_apply_in_batches_and_resume(store, &payment).await;
}

/// A return file's batches: each moves statuses, posts entries once and records how far the
/// file got; the file's record clears that progress.
async fn returns_apply_in_batches_and_resume(
    store: &dyn Store,
    payment: &crate::payroll::PaymentRow,
) {
    use crate::payroll::StatusUpdate;
    let e2e = payment.end_to_end_id.clone();
    let found = store
        .sent_payments(&[e2e.clone(), "NOT-OURS".into(), e2e.clone()])
        .await
        .unwrap();
    // The payment's own entries, in posting order: not its household's due.
    assert_eq!(
        found,
        [crate::payroll::SentPayment {
            end_to_end_id: e2e.clone(),
            rsu_id: "a".into(),
            reference: "p1".into(),
            status: "rejected".into(),
            entries: vec!["a/issued/p1".into(), "a/rejected/p1".into()],
        }]
    );
    assert!(store.sent_payments(&[]).await.unwrap().is_empty());
    assert_eq!(store.returns_progress("beef").await.unwrap(), None);
    let settle = StatusUpdate {
        end_to_end_id: e2e.clone(),
        status: "settled".into(),
        reason: None,
    };
    let posted = [crate::payroll::EntryRow {
        household: "a".into(),
        kind: "confirmed".into(),
        reference: "p1".into(),
        body: "a/confirmed/p1".into(),
    }];
    for (line, report) in [(7, "{\"settled\":1}"), (9, "{\"settled\":2}")] {
        // The second batch repeats the first's entry: posted once.
        store
            .save_returns_batch(
                "beef",
                "camt054.xml",
                line,
                report,
                std::slice::from_ref(&settle),
                &posted,
            )
            .await
            .unwrap();
    }
    assert_eq!(
        store.returns_progress("beef").await.unwrap(),
        Some((9, "{\"settled\":2}".to_owned()))
    );
    assert!(!store.returns_imported("beef").await.unwrap());
    let found = store.sent_payments(&[e2e.clone()]).await.unwrap();
    assert_eq!(
        (found[0].status.as_str(), found[0].entries.len()),
        ("settled", 3),
        "the settlement joins the payment's trail"
    );
    store
        .save_returns("beef", "camt054.xml", "{}", &[], &[], &actor("bank"))
        .await
        .unwrap();
    assert!(store.returns_imported("beef").await.unwrap());
    assert_eq!(store.returns_progress("beef").await.unwrap(), None);
}

pub async fn applications_and_receipt_counters(store: &dyn Store) {
    use crate::ApplicationRow;
    apply(store, &[sample(1, "01"), sample(2, "04")]).await;
    assert_eq!(
        (
            store.reserve_sequence("receipt-2026", 1).await.unwrap(),
            store.reserve_sequence("receipt-2026", 1).await.unwrap()
        ),
        (1, 2)
    );
    assert_eq!(
        store.reserve_sequence("receipt-2026", 5).await.unwrap(),
        3,
        "a block starts after the last value given"
    );
    assert_eq!(store.reserve_sequence("receipt-2026", 1).await.unwrap(), 8);
    assert!(store.reserve_sequence("receipt-2026", 0).await.is_err());
    assert_eq!(
        store.reserve_sequence("receipt-2027", 1).await.unwrap(),
        1,
        "counters are independent"
    );
    let row = |receipt: &str, status: &str, on: &str| ApplicationRow {
        receipt: receipt.into(),
        rsu_id: "500000000001".into(),
        status: status.into(),
        submitted_on: on.into(),
        body: format!("{{\"r\":\"{receipt}\"}}"),
        language: "fr".into(),
    };
    store
        .save_application(
            &row("ASD-2026-0000001-0", "in_review", "2026-11-02"),
            None,
            "submit",
            &actor("agent"),
        )
        .await
        .unwrap();
    let award = crate::Award {
        components: vec!["child_allowance".into(), "flat_rate".into()],
        start_month: "2026-11".into(),
    };
    store
        .save_application(
            &row("ASD-2026-0000002-3", "approved", "2026-11-20"),
            Some(&award),
            "submit",
            &actor("agent"),
        )
        .await
        .unwrap();
    store
        .save_application(
            &row("ASD-2026-0000001-0", "rejected", "2026-11-02"),
            None,
            "decide",
            &actor("supervisor"),
        )
        .await
        .unwrap();
    let of = store.applications_of("500000000001").await.unwrap();
    assert_eq!(
        of.iter()
            .map(|a| (a.receipt.as_str(), a.status.as_str()))
            .collect::<Vec<_>>(),
        [
            ("ASD-2026-0000002-3", "approved"),
            ("ASD-2026-0000001-0", "rejected")
        ]
    );
    assert_eq!(
        store
            .application("ASD-2026-0000001-0")
            .await
            .unwrap()
            .unwrap()
            .status,
        "rejected"
    );
    assert!(
        store
            .applications_of("500000000009")
            .await
            .unwrap()
            .is_empty()
    );
    let waiting = ApplicationRow {
        receipt: "ASD-2026-0000003-6".into(),
        rsu_id: "500000000002".into(),
        status: "in_review".into(),
        submitted_on: "2026-11-03".into(),
        body: "{}".into(),
        language: "fr".into(),
    };
    store
        .save_application(&waiting, None, "submit", &actor("agent"))
        .await
        .unwrap();
    store
        .save_application(
            &row("ASD-2026-0000004-9", "in_review", "2026-11-01"),
            None,
            "submit",
            &actor("agent"),
        )
        .await
        .unwrap();
    let national: Vec<String> = store
        .review_queue(&Scope::National, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.receipt)
        .collect();
    assert_eq!(
        national,
        ["ASD-2026-0000004-9", "ASD-2026-0000003-6"],
        "oldest first"
    );
    let region: Vec<String> = store
        .review_queue(&Scope::region(r("04")), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.receipt)
        .collect();
    assert_eq!(
        region,
        ["ASD-2026-0000003-6"],
        "the queue stays within the scope"
    );
    // An approval in review grants its award; saving the application again without one keeps it.
    let later = crate::Award {
        components: vec!["flat_rate".into()],
        start_month: "2026-12".into(),
    };
    store
        .save_application(
            &ApplicationRow {
                status: "approved".into(),
                ..waiting.clone()
            },
            Some(&later),
            "approve",
            &actor("agent"),
        )
        .await
        .unwrap();
    store
        .save_application(
            &ApplicationRow {
                status: "approved".into(),
                ..waiting.clone()
            },
            None,
            "note",
            &actor("agent"),
        )
        .await
        .unwrap();
    let awards = |scope: Scope| async move {
        store
            .awards(&scope)
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.rsu_id, a.component, a.start_month, a.end_month))
            .collect::<Vec<_>>()
    };
    let granted = |h: &str, c: &str, m: &str| (h.to_owned(), c.to_owned(), m.to_owned(), None);
    assert_eq!(
        awards(Scope::National).await,
        [
            granted("500000000001", "child_allowance", "2026-11"),
            granted("500000000001", "flat_rate", "2026-11"),
            granted("500000000002", "flat_rate", "2026-12")
        ],
        "one row per awarded component, only for approvals"
    );
    assert_eq!(
        awards(Scope::region(r("04"))).await,
        [granted("500000000002", "flat_rate", "2026-12")],
        "awards are listed within the scope"
    );
    let narrower = crate::Award {
        components: vec!["child_allowance".into()],
        start_month: "2026-11".into(),
    };
    store
        .save_application(
            &row("ASD-2026-0000002-3", "approved", "2026-11-20"),
            Some(&narrower),
            "correct",
            &actor("supervisor"),
        )
        .await
        .unwrap();
    assert_eq!(
        awards(Scope::region(r("01"))).await,
        [granted("500000000001", "child_allowance", "2026-11")],
        "a new award replaces the application's rows"
    );
    // A batch is saved whole or not at all: a row the database refuses undoes the others.
    let batch = |n: u32, rsu: &str| {
        (
            ApplicationRow {
                receipt: format!("ASD-2026-00001{n:02}-0"),
                rsu_id: rsu.into(),
                status: "approved".into(),
                submitted_on: "2026-11-05".into(),
                body: "{}".into(),
                language: "fr".into(),
            },
            Some(later.clone()),
        )
    };
    let mut bad = batch(3, "500000000002");
    bad.1 = Some(crate::Award {
        components: vec!["flat_rate".into(), "flat_rate".into()],
        start_month: "2026-11".into(),
    });
    let notices = [message(
        "receipt:ASD-2026-0000101-0",
        "500000000001",
        "2026-11-05 09:00:00",
    )];
    assert!(
        store
            .save_applications(
                &[batch(1, "500000000001"), bad],
                &notices,
                "submit",
                &actor("bulk")
            )
            .await
            .is_err()
    );
    assert!(
        store
            .application("ASD-2026-0000101-0")
            .await
            .unwrap()
            .is_none(),
        "nothing of a refused batch is kept"
    );
    assert!(
        store
            .messages(&Scope::National, None, 10)
            .await
            .unwrap()
            .is_empty(),
        "nor its notices"
    );
    store
        .save_applications(
            &[batch(1, "500000000001"), batch(2, "500000000002")],
            &notices,
            "submit",
            &actor("bulk"),
        )
        .await
        .unwrap();
    let queued: Vec<String> = store
        .messages(&Scope::National, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(
        queued,
        ["receipt:ASD-2026-0000101-0"],
        "a saved batch's notices are queued with it"
    );
    assert_eq!(
        store.applications_of("500000000002").await.unwrap().len(),
        2
    );
    assert_eq!(
        awards(Scope::region(r("04"))).await.len(),
        2,
        "each approval of the batch grants its award"
    );
    // Streamed parts are one transaction too: kept on `Commit`, dropped if the stream ends first.
    let stream = |parts: Vec<crate::applications::Streamed>| {
        let (tx, rx) = tokio::sync::mpsc::channel(parts.len().max(1));
        for p in parts {
            tx.try_send(p).unwrap();
        }
        drop(tx);
        rx
    };
    let part = |n: u32, rsu: &str| crate::applications::Streamed::Part {
        batch: vec![batch(n, rsu)],
        notices: vec![message(
            &format!("receipt:ASD-2026-00001{n:02}-0"),
            rsu,
            "2026-11-05 09:00:00",
        )],
    };
    // Which of the two streamed applications are stored, and how many notices are queued.
    let kept = || async {
        let mut found = Vec::new();
        for receipt in ["ASD-2026-0000104-0", "ASD-2026-0000105-0"] {
            found.push(store.application(receipt).await.unwrap().is_some());
        }
        let queued = store.messages(&Scope::National, None, 10).await.unwrap();
        (found, queued.len())
    };
    let granted_before = awards(Scope::National).await.len();
    let unfinished = stream(vec![part(4, "500000000001"), part(5, "500000000002")]);
    assert!(
        store
            .save_applications_streamed(unfinished, "submit", &actor("bulk"))
            .await
            .is_err()
    );
    assert_eq!(kept().await, (vec![false, false], 1));
    let parts = vec![
        part(4, "500000000001"),
        part(5, "500000000002"),
        crate::applications::Streamed::Commit,
    ];
    store
        .save_applications_streamed(stream(parts), "submit", &actor("bulk"))
        .await
        .unwrap();
    assert_eq!(kept().await, (vec![true, true], 3));
    assert_eq!(
        awards(Scope::National).await.len(),
        granted_before + 2,
        "each streamed approval grants its award"
    );

    let rows = vec![
        (3, "1000000017".to_owned(), "{\"a\":1}".to_owned()),
        (4, "1000000025".to_owned(), "{\"a\":2}".to_owned()),
        (5, "1000000017".to_owned(), "{\"a\":3}".to_owned()),
    ];
    store
        .replace_list(
            "pensions",
            "{\"as_of\":\"2026-10-31\"}",
            &rows,
            &actor("cmr"),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .list_rows("pensions", &["1000000017".into(), "9".into()])
            .await
            .unwrap(),
        [(3, "{\"a\":1}".to_owned()), (5, "{\"a\":3}".to_owned())]
    );
    store
        .replace_list(
            "pensions",
            "{\"as_of\":\"2026-11-30\"}",
            &rows[1..2],
            &actor("cmr"),
        )
        .await
        .unwrap();
    assert!(
        store
            .list_rows("pensions", &["1000000017".into()])
            .await
            .unwrap()
            .is_empty(),
        "a new import replaces the list whole"
    );
    assert_eq!(
        store.list_meta("pensions").await.unwrap().as_deref(),
        Some("{\"as_of\":\"2026-11-30\"}")
    );
    assert_eq!(store.list_meta("deaths").await.unwrap(), None);
    assert!(store.list_rows("pensions", &[]).await.unwrap().is_empty());
    // Several lists read at once: only the kinds asked, by kind then line.
    let deaths = [
        (7, "1000000025".to_owned(), "{\"d\":7}".to_owned()),
        (2, "1000000017".to_owned(), "{\"d\":2}".to_owned()),
        (9, "1000000033".to_owned(), "{\"d\":9}".to_owned()),
    ];
    store
        .replace_list(
            "deaths",
            "{\"as_of\":\"2026-11-30\"}",
            &deaths,
            &actor("rnp"),
        )
        .await
        .unwrap();
    let persons = ["1000000025".to_owned(), "1000000017".to_owned()];
    let row = |kind: &str, line: i64, body: &str| (kind.to_owned(), line, body.to_owned());
    assert_eq!(
        store
            .lists_rows(&["pensions", "deaths"], &persons)
            .await
            .unwrap(),
        [
            row("deaths", 2, "{\"d\":2}"),
            row("deaths", 7, "{\"d\":7}"),
            row("pensions", 4, "{\"a\":2}"),
        ]
    );
    assert_eq!(
        store.lists_rows(&["deaths"], &persons[..1]).await.unwrap(),
        [row("deaths", 7, "{\"d\":7}")]
    );
    assert!(store.lists_rows(&[], &persons).await.unwrap().is_empty());
    let log = store
        .audit_records(
            &AuditFilter {
                entity: Some("application".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    let decided = log
        .iter()
        .find(|r| r.action == "decide")
        .expect("the decision is audited");
    assert_eq!(
        decided.before.as_deref(),
        Some("{\"household\":\"500000000001\",\"status\":\"in_review\"}")
    );
}

pub async fn life_events_change_the_household_atomically(store: &dyn Store) {
    use crate::EventRow;
    apply(store, &[sample(1, "01"), sample(2, "04")]).await;
    let event = |rsu: &str, kind: &str, effective: &str| EventRow {
        id: 0,
        rsu_id: rsu.into(),
        kind: kind.into(),
        effective: effective.into(),
        declared_on: "2026-11-10".into(),
        body: format!("{{\"event\":\"{kind}\"}}"),
        declared_by: "agent".into(),
    };
    // A death recorded: the household and the event are written together.
    let died = with(&sample(1, "01"), |p| {
        p.members[2].death_date = Some(d("2026-09-14"))
    });
    store
        .record_event(
            &died,
            &event("500000000001", "death", "2026-09-14"),
            &actor("agent"),
        )
        .await
        .unwrap();
    let id = RsuId::parse("500000000001").unwrap();
    let now = store
        .household(&Scope::National, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.members[2].death_date, Some(d("2026-09-14")));
    store
        .record_event(
            &with(&sample(2, "04"), |p| p.phone = None),
            &event("500000000002", "phone_change", "2026-11-10"),
            &actor("agent"),
        )
        .await
        .unwrap();
    let ids: Vec<i64> = store
        .events_of("500000000001")
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids.len(), 1);
    assert!(
        store.events_of("500000000002").await.unwrap()[0].id > ids[0],
        "ids follow the order of recording"
    );
    // A household the registry refuses (a member already in another household) writes nothing.
    let stolen = with(&sample(2, "04"), |p| {
        p.members.push(sample(1, "01").members[3].clone())
    });
    assert!(
        store
            .record_event(
                &stolen,
                &event("500000000002", "member_joins", "2026-11-01"),
                &actor("agent")
            )
            .await
            .is_err()
    );
    assert_eq!(
        store.events_of("500000000002").await.unwrap().len(),
        1,
        "no event without its household"
    );
    let mut since = store.events_since("2026-10-01").await.unwrap();
    since.sort();
    assert_eq!(
        since,
        [("500000000002".to_owned(), "2026-11-10".to_owned())]
    );
    assert_eq!(store.events_since("2026-01-01").await.unwrap().len(), 2);
    let log = store
        .audit_records(
            &AuditFilter {
                entity: Some("life_event".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    assert!(
        !log[0]
            .after
            .as_deref()
            .unwrap_or_default()
            .contains("Prenom"),
        "no personal data in the audit record"
    );
}

fn at_time(s: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// A queued SMS about `household`, due at `due`.
fn message(id: &str, household: &str, due: &str) -> crate::MessageRow {
    let due = crate::outbox::stamp(at_time(due));
    crate::MessageRow {
        id: id.into(),
        rsu_id: household.into(),
        channel: "sms".into(),
        recipient: "+212612345678".into(),
        language: "ar".into(),
        template: "receipt".into(),
        body: format!("نص {id}"),
        status: "queued".into(),
        attempts: 0,
        next_attempt_at: Some(due.clone()),
        last_error: None,
        delivery_id: None,
        created_at: due,
        sent_at: None,
        delivered_at: None,
    }
}

/// The outbox: idempotent enqueue, leased claims in due order, backoff and giving up, a
/// person's retry of a dead message (audited), listings within the scope (notify branch).
pub async fn outbox_claims_retries_and_scopes(store: &dyn Store) {
    apply(store, &[sample(1, "01"), sample(2, "04")]).await;
    let (at, msg) = (at_time, message);
    assert!(
        store
            .enqueue(&msg("receipt:A", "500000000001", "2026-11-02 09:00:00"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .enqueue(&msg("receipt:A", "500000000001", "2026-11-02 09:05:00"))
            .await
            .unwrap(),
        "the same notice is queued once"
    );
    assert!(
        store
            .enqueue(&msg("receipt:B", "500000000002", "2026-11-02 09:01:00"))
            .await
            .unwrap()
    );
    assert!(
        store
            .enqueue(&msg("receipt:C", "500000000001", "2026-11-02 10:00:00"))
            .await
            .unwrap()
    );

    let t0 = at("2026-11-02 09:30:00");
    let lease = at("2026-11-02 09:35:00");
    let claimed = store.claim_due(t0, lease, 10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["receipt:A", "receipt:B"],
        "only due messages"
    );
    assert_eq!(claimed[0].body, "نص receipt:A");
    assert!(
        store.claim_due(t0, lease, 10).await.unwrap().is_empty(),
        "a claimed message is leased to its worker"
    );

    store
        .mark_sent("receipt:A", "gw-1", at("2026-11-02 09:30:01"))
        .await
        .unwrap();
    store
        .mark_failed(
            "receipt:B",
            "transient: HTTP 503",
            Some(at("2026-11-02 09:31:00")),
        )
        .await
        .unwrap();
    let b = store
        .claim_due(at("2026-11-02 09:31:00"), at("2026-11-02 09:36:00"), 10)
        .await
        .unwrap();
    assert_eq!(
        (
            b.len(),
            b[0].status.as_str(),
            b[0].attempts,
            b[0].last_error.as_deref()
        ),
        (1, "failed", 1, Some("transient: HTTP 503")),
        "a failed message is due again at its retry time"
    );
    store
        .mark_failed("receipt:B", "permanent: HTTP 400", None)
        .await
        .unwrap();
    assert!(matches!(
        store.mark_sent("nope", "x", t0).await,
        Err(StoreError::NotFound(_))
    ));

    let all = store.messages(&Scope::National, None, 10).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|m| (m.id.as_str(), m.status.as_str(), m.attempts))
            .collect::<Vec<_>>(),
        [
            ("receipt:C", "queued", 0),
            ("receipt:B", "dead", 2),
            ("receipt:A", "sent", 1)
        ],
        "newest first"
    );
    let a = &all[2];
    assert_eq!(
        (
            a.delivery_id.as_deref(),
            a.sent_at.as_deref(),
            a.next_attempt_at.as_deref()
        ),
        (Some("gw-1"), Some("2026-11-02T09:30:01.000Z"), None)
    );
    let dead = store
        .messages(&Scope::National, Some("dead"), 10)
        .await
        .unwrap();
    assert_eq!(
        dead.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["receipt:B"]
    );
    assert_eq!(
        store.message_counts(&Scope::National).await.unwrap(),
        [
            ("dead".to_owned(), 1),
            ("queued".to_owned(), 1),
            ("sent".to_owned(), 1)
        ]
    );
    let region01 = Scope::region(r("01"));
    assert_eq!(
        store.message_counts(&region01).await.unwrap(),
        [("queued".to_owned(), 1), ("sent".to_owned(), 1)],
        "counts stay within the scope"
    );
    assert!(
        store
            .messages(&region01, Some("dead"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let of: Vec<String> = store
        .messages_of(&Scope::National, "500000000001")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(
        of,
        ["receipt:A", "receipt:C"],
        "a household's messages, oldest first"
    );
    assert!(
        store
            .messages_of(&region01, "500000000002")
            .await
            .unwrap()
            .is_empty()
    );

    // A person queues the dead message again; only in scope, only when dead.
    let now = at("2026-11-03 08:00:00");
    assert!(
        matches!(
            store
                .retry_message(&region01, "receipt:B", now, &actor("agent"))
                .await,
            Err(StoreError::NotFound(_))
        ),
        "outside the scope"
    );
    assert!(
        matches!(
            store
                .retry_message(&Scope::National, "receipt:A", now, &actor("agent"))
                .await,
            Err(StoreError::NotFound(_))
        ),
        "not dead"
    );
    store
        .retry_message(&Scope::region(r("04")), "receipt:B", now, &actor("agent"))
        .await
        .unwrap();
    let again = store
        .claim_due(now, at("2026-11-03 08:05:00"), 10)
        .await
        .unwrap();
    assert_eq!(
        again
            .iter()
            .map(|m| (m.id.as_str(), m.status.as_str(), m.attempts))
            .collect::<Vec<_>>(),
        [("receipt:B", "queued", 0), ("receipt:C", "queued", 0)]
    );
    let log = store
        .audit_records(
            &AuditFilter {
                entity: Some("message".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        (log.len(), log[0].action.as_str(), log[0].entity_id.as_str()),
        (1, "retry", "receipt:B")
    );

    // Two workers claiming at the same moment never get the same message.
    for i in 0..30 {
        assert!(
            store
                .enqueue(&msg(
                    &format!("bulk:{i:02}"),
                    "500000000001",
                    "2026-11-04 08:00:00"
                ))
                .await
                .unwrap()
        );
    }
    let (t, lease) = (at("2026-11-04 09:00:00"), at("2026-11-04 09:05:00"));
    let (a, b) = join(store.claim_due(t, lease, 20), store.claim_due(t, lease, 20)).await;
    let mut ids: Vec<String> = a
        .unwrap()
        .into_iter()
        .chain(b.unwrap())
        .map(|m| m.id)
        .collect();
    let claimed = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), claimed, "no message claimed twice");
    assert!(claimed >= 20, "{claimed}");
}

/// Both futures polled together until both are done (no runtime dependency in this crate).
async fn join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    use std::task::Poll;
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (ra.expect("done"), rb.expect("done"))
}

// ---- pilot (issue 7) ----

fn measure(id: &str, capacity: i64) -> crate::pilot::MeasureRow {
    crate::pilot::MeasureRow {
        id: id.into(),
        catalogue_version: "v1".into(),
        domain: "schooling".into(),
        capacity,
        cost_centimes: 150_000,
        body: format!("{{\"id\":\"{id}\"}}"),
    }
}

fn enrolment(n: u64, measure: &str, antenna: &str) -> crate::pilot::EnrolmentRow {
    crate::pilot::EnrolmentRow {
        rsu_id: format!("{:012}", 500_000_000_000 + n),
        measure_id: measure.into(),
        antenna: antenna.into(),
        enrolled_on: "2027-03-01".into(),
        exit: None,
    }
}

pub async fn pilot_enrolment_respects_capacity_and_scope(store: &dyn Store) {
    use crate::pilot::{AntennaRow, ExitRow};
    apply(
        store,
        &[
            sample(1, "01"),
            sample(2, "01"),
            sample(3, "01"),
            sample(4, "04"),
        ],
    )
    .await;
    let antennas = [
        AntennaRow {
            province: "01.511".into(),
            wave: 1,
            start_month: "2027-01".into(),
        },
        AntennaRow {
            province: "04.421".into(),
            wave: 2,
            start_month: "2027-07".into(),
        },
    ];
    store
        .save_pilot_config(
            &[measure("school-return", 2), measure("early-nutrition", 5)],
            &antennas,
            &actor("admin"),
        )
        .await
        .unwrap();
    // Saving again replaces the measures by id and the plan whole.
    store
        .save_pilot_config(
            &[measure("school-return", 2)],
            &antennas[..1],
            &actor("admin"),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .measures()
            .await
            .unwrap()
            .iter()
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>(),
        ["early-nutrition", "school-return"]
    );
    assert_eq!(store.antennas().await.unwrap(), antennas[..1]);

    store
        .enrol(&enrolment(1, "school-return", "01.511"), 2, &actor("agent"))
        .await
        .unwrap();
    let twice = store
        .enrol(&enrolment(1, "school-return", "01.511"), 2, &actor("agent"))
        .await
        .unwrap_err();
    assert!(matches!(twice, StoreError::Conflict(_)), "{twice}");
    store
        .enrol(&enrolment(2, "school-return", "01.511"), 2, &actor("agent"))
        .await
        .unwrap();
    let full = store
        .enrol(&enrolment(3, "school-return", "01.511"), 2, &actor("agent"))
        .await
        .unwrap_err();
    assert!(
        matches!(full, StoreError::Refused(_)),
        "the third place of two is refused: {full}"
    );
    store
        .enrol(&enrolment(4, "school-return", "04.421"), 2, &actor("agent"))
        .await
        .unwrap();
    // An exit frees the place.
    let exit = ExitRow {
        on: "2027-06-30".into(),
        reason: "completed".into(),
        note: String::new(),
    };
    store
        .exit_enrolment("500000000001", "school-return", &exit, &actor("agent"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .exit_enrolment("500000000001", "school-return", &exit, &actor("agent"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .enrol(&enrolment(3, "school-return", "01.511"), 2, &actor("agent"))
        .await
        .unwrap();

    let pilot = Scope::Antennas(vec!["01.511".into()]);
    let other = Scope::Antennas(vec!["04.421".into()]);
    let listed: Vec<(String, bool)> = store
        .enrolments(&pilot)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.rsu_id, e.exit.is_none()))
        .collect();
    assert_eq!(
        listed,
        [
            ("500000000001".to_owned(), false),
            ("500000000002".to_owned(), true),
            ("500000000003".to_owned(), true)
        ]
    );
    assert_eq!(store.enrolments(&other).await.unwrap().len(), 1);
    assert!(
        store
            .enrolments_of(&other, "500000000002")
            .await
            .unwrap()
            .is_empty(),
        "another antenna's household does not exist"
    );
    assert_eq!(
        store.enrolments_of(&pilot, "500000000001").await.unwrap()[0].exit,
        Some(exit)
    );
    let places: Vec<(String, i64)> = store
        .places(&pilot)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.antenna, p.active))
        .collect();
    assert_eq!(places, [("01.511".to_owned(), 2)]);
    assert_eq!(store.places(&Scope::National).await.unwrap().len(), 2);
    let log = store
        .audit_records(
            &AuditFilter {
                entity: Some("pilot_enrolment".into()),
                ..Default::default()
            },
            None,
            20,
        )
        .await
        .unwrap();
    assert_eq!(
        log.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        ["enrol", "exit", "enrol", "enrol", "enrol"],
        "refusals write nothing"
    );
}

pub async fn pilot_cases_round_trip_within_scope(store: &dyn Store) {
    use crate::pilot::{CaseRow, ReferralRow, VisitRow};
    apply(store, &[sample(1, "01"), sample(4, "04")]).await;
    let visit = |date: &str| VisitRow {
        date: date.into(),
        attendance: "present".into(),
        notes: "school visited".into(),
        next_steps: "call".into(),
        next_visit: Some("2027-04-15".into()),
    };
    let mut case = CaseRow {
        rsu_id: "500000000001".into(),
        antenna: "01.511".into(),
        worker: "agent.tanger".into(),
        opened_on: "2027-03-01".into(),
        closure: None,
        goals: "[]".into(),
        visits: vec![],
        referrals: vec![],
    };
    store
        .save_case(&case, "open", &actor("agent.tanger"))
        .await
        .unwrap();
    case.goals = "[{\"id\":1}]".into();
    case.visits = vec![visit("2027-03-02"), visit("2027-03-20")];
    case.referrals = vec![ReferralRow {
        id: 1,
        service: "school".into(),
        detail: "École Ibn Battouta".into(),
        sent_on: "2027-03-02".into(),
        status: "sent".into(),
        status_on: None,
        outcome: String::new(),
    }];
    store
        .save_case(&case, "record_visit", &actor("agent.tanger"))
        .await
        .unwrap();
    let mut other = CaseRow {
        rsu_id: "500000000004".into(),
        antenna: "04.421".into(),
        worker: "agent.rabat".into(),
        ..case.clone()
    };
    other.visits.clear();
    store
        .save_case(&other, "open", &actor("agent.rabat"))
        .await
        .unwrap();

    let pilot = Scope::Antennas(vec!["01.511".into()]);
    assert_eq!(
        store
            .open_cases(&pilot, Some("agent.tanger"))
            .await
            .unwrap(),
        [case.clone()]
    );
    assert!(
        store
            .open_cases(&pilot, Some("agent.rabat"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .open_cases(&Scope::National, None)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store.open_case(&pilot, "500000000001").await.unwrap(),
        Some(case.clone())
    );
    let rabat = Scope::Antennas(vec!["04.421".into()]);
    assert_eq!(
        store.open_case(&rabat, "500000000001").await.unwrap(),
        None,
        "a caseworker of another antenna sees nothing"
    );
    assert!(
        store
            .open_cases(&rabat, Some("agent.tanger"))
            .await
            .unwrap()
            .is_empty()
    );

    // Updating a referral replaces the case's rows whole, never duplicating them.
    case.referrals[0].status = "completed".into();
    case.referrals[0].status_on = Some("2027-03-25".into());
    case.referrals[0].outcome = "re-enrolled in year 4".into();
    store
        .save_case(&case, "update_referral", &actor("agent.tanger"))
        .await
        .unwrap();
    assert_eq!(
        store
            .open_case(&pilot, "500000000001")
            .await
            .unwrap()
            .unwrap()
            .referrals,
        case.referrals
    );
    // A second open case for the household is refused; a closed one frees it.
    let again = CaseRow {
        opened_on: "2027-03-05".into(),
        visits: vec![],
        referrals: vec![],
        ..case.clone()
    };
    assert!(matches!(
        store
            .save_case(&again, "open", &actor("agent.tanger"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    case.closure = Some(("2027-03-30".into(), "goals met".into()));
    store
        .save_case(&case, "close", &actor("agent.tanger"))
        .await
        .unwrap();
    assert_eq!(store.open_case(&pilot, "500000000001").await.unwrap(), None);
    store
        .save_case(&again, "open", &actor("agent.tanger"))
        .await
        .unwrap();
    // Every case, closed ones included, within the scope (the indicators' input).
    let all = store.cases(&pilot).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|c| (c.opened_on.as_str(), c.closure.is_some()))
            .collect::<Vec<_>>(),
        [("2027-03-01", true), ("2027-03-05", false)]
    );
    assert_eq!(
        all[0].referrals, case.referrals,
        "a closed case keeps its referrals"
    );
    assert_eq!(store.cases(&Scope::National).await.unwrap().len(), 3);
    assert!(
        store
            .cases(&Scope::Antennas(vec!["06.141".into()]))
            .await
            .unwrap()
            .is_empty()
    );
    let log = store
        .audit_records(
            &AuditFilter {
                entity: Some("pilot_case".into()),
                ..Default::default()
            },
            None,
            20,
        )
        .await
        .unwrap();
    assert_eq!(log.len(), 6);
    assert!(
        log.iter().all(|r| !r
            .after
            .as_deref()
            .unwrap_or_default()
            .contains("school visited")),
        "notes stay out of the audit log"
    );
}

pub async fn pilot_designs_are_frozen_with_their_hash(store: &dyn Store) {
    use crate::pilot::{AssignmentRow, design_hash};
    apply(store, &[sample(1, "01"), sample(4, "04")]).await;
    let body = "{\"algorithm\":\"sanad-assign-v1\",\"seed\":20270101}";
    let d = store
        .register_design("pilot-2027", body, &actor("analyst"))
        .await
        .unwrap();
    assert_eq!(
        (d.hash.as_str(), d.hash.len()),
        (design_hash(body).as_str(), 64)
    );
    let changed = store
        .register_design("pilot-2027", "{\"seed\":1}", &actor("analyst"))
        .await
        .unwrap_err();
    assert!(matches!(changed, StoreError::Conflict(_)), "{changed}");
    let same = store
        .register_design("pilot-2027", body, &actor("analyst"))
        .await
        .unwrap_err();
    assert!(
        matches!(same, StoreError::Conflict(_)),
        "even the same body is not registered twice"
    );
    assert_eq!(store.designs().await.unwrap(), std::slice::from_ref(&d));

    let unit = |n: u64, arm: &str| AssignmentRow {
        unit: format!("{:012}", 500_000_000_000 + n),
        arm: arm.into(),
        stratum: "all".into(),
        wave: Some(1),
    };
    assert!(matches!(
        store
            .save_assignment("nope", &[unit(1, "t")], &actor("analyst"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .save_assignment(
            "pilot-2027",
            &[unit(1, "treatment"), unit(4, "control")],
            &actor("analyst"),
        )
        .await
        .unwrap();
    let redraw = store
        .save_assignment("pilot-2027", &[unit(1, "control")], &actor("analyst"))
        .await
        .unwrap_err();
    assert!(
        matches!(redraw, StoreError::Conflict(_)),
        "an assignment is drawn once: {redraw}"
    );
    assert_eq!(
        store.assignment_counts("pilot-2027").await.unwrap(),
        [("control".to_owned(), 1), ("treatment".to_owned(), 1)]
    );
    assert_eq!(
        store
            .assignments(&Scope::Antennas(vec!["01.511".into()]), "pilot-2027")
            .await
            .unwrap(),
        [unit(1, "treatment")]
    );
    assert_eq!(
        store
            .assignments(&Scope::National, "pilot-2027")
            .await
            .unwrap()
            .len(),
        2
    );
    let log = store
        .audit_records(
            &AuditFilter {
                entity: Some("pilot_design".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        log.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        ["assign", "register"]
    );
}

pub async fn pilot_outcomes_replace_a_round_whole_and_payments_are_summed(store: &dyn Store) {
    use crate::payroll::{FileRow, PaymentRow, StatusUpdate};
    use crate::pilot::{OutcomeRound, OutcomeRow};
    apply(store, &[sample(1, "01"), sample(4, "04")]).await;
    let cell = |h: u64, var: &str, value: Option<&str>, code: Option<&str>| OutcomeRow {
        round: "baseline".into(),
        rsu_id: format!("{:012}", 500_000_000_000 + h),
        variable: var.into(),
        value: value.map(str::to_owned),
        missing_code: code.map(str::to_owned),
    };
    let round = |households| OutcomeRound {
        round: "baseline".into(),
        source: "bl.csv".into(),
        sha256: "ab".repeat(32),
        codebook: "variable,…".into(),
        households,
        imported_at: String::new(),
        imported_by: String::new(),
    };
    let first = [
        cell(1, "income", Some("1200"), None),
        cell(1, "zscore", None, Some("-99")),
        cell(4, "income", Some("800.5"), None),
    ];
    store
        .save_outcomes(&round(2), &first, &actor("analyst"))
        .await
        .unwrap();
    assert_eq!(
        store
            .outcomes(&Scope::Antennas(vec!["01.511".into()]))
            .await
            .unwrap(),
        first[..2],
        "scoped by the household's antenna"
    );
    assert_eq!(store.outcomes(&Scope::National).await.unwrap().len(), 3);
    // A round naming a household the registry does not hold writes nothing.
    let unknown = [
        cell(1, "income", Some("1"), None),
        cell(9, "income", Some("2"), None),
    ];
    let err = store
        .save_outcomes(&round(2), &unknown, &actor("analyst"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::NotFound(m) if m.contains("500000000009")),
        "{err}"
    );
    assert_eq!(store.outcomes(&Scope::National).await.unwrap(), first);
    // Importing the round again replaces it whole.
    store
        .save_outcomes(
            &round(1),
            &[cell(4, "income", Some("900"), None)],
            &actor("analyst"),
        )
        .await
        .unwrap();
    assert_eq!(
        store.outcomes(&Scope::National).await.unwrap(),
        [cell(4, "income", Some("900"), None)]
    );
    let rounds = store.outcome_rounds().await.unwrap();
    assert_eq!(
        (
            rounds.len(),
            rounds[0].households,
            rounds[0].imported_by.as_str()
        ),
        (1, 1, "analyst")
    );
    let log = store
        .audit_records(
            &AuditFilter {
                entity: Some("pilot_outcomes".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        log.len(),
        2,
        "each applied import is audited, the refused one is not"
    );

    // Payments received: settled ones only, summed per household, within the scope.
    let payment = |n: u64, h: u64, amount| PaymentRow {
        end_to_end_id: format!("E2E-{n}"),
        month: "2026-11".into(),
        rsu_id: format!("{:012}", 500_000_000_000 + h),
        reference: format!("REF-{n}"),
        provider: "BANK1".into(),
        amount,
        status: "sent".into(),
        reason: None,
        file_name: "f1.xml".into(),
        account: None,
    };
    let payments = [
        payment(1, 1, 80_000),
        payment(2, 1, 50_000),
        payment(3, 1, 7_000),
        payment(4, 4, 90_000),
    ];
    let file = FileRow {
        file_name: "f1.xml".into(),
        month: "2026-11".into(),
        provider: "BANK1".into(),
        msg_id: "M1".into(),
        txs: 4,
        ctrl_sum: 227_000,
        sha256: "cd".into(),
    };
    store
        .save_release(
            "2026-11",
            "{}",
            &[],
            &payments,
            std::slice::from_ref(&file),
            &actor("releaser"),
        )
        .await
        .unwrap();
    let status = |n: u64, s: &str| StatusUpdate {
        end_to_end_id: format!("E2E-{n}"),
        status: s.into(),
        reason: None,
    };
    store
        .save_returns(
            "ret1",
            "camt.xml",
            "{}",
            &[
                status(1, "settled"),
                status(2, "settled"),
                status(3, "rejected"),
                status(4, "settled"),
            ],
            &[],
            &actor("bank"),
        )
        .await
        .unwrap();
    let received: Vec<(String, i64, i64)> = store
        .payments_received(&Scope::National)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.rsu_id, r.payments, r.centimes))
        .collect();
    assert_eq!(
        received,
        [
            ("500000000001".to_owned(), 2, 130_000),
            ("500000000004".to_owned(), 1, 90_000)
        ]
    );
    assert_eq!(
        store
            .payments_received(&Scope::Antennas(vec!["04.421".into()]))
            .await
            .unwrap()
            .len(),
        1
    );
}

// Payment notices, delivery reports, household splits, ended awards.

/// The payments of a month to households with a phone, each with the language of the
/// household's latest application; a batch enqueue keeps the ids already queued.
pub async fn payment_notice_targets_and_batch_enqueue(store: &dyn Store) {
    use crate::payroll::PaymentRow;
    use crate::{ApplicationRow, MessageRow};
    apply(
        store,
        &[
            sample(1, "01"),
            sample(2, "04"),
            with(&sample(3, "04"), |p| p.phone = None),
        ],
    )
    .await;
    let payment = |n: u64, e2e: &str, amount: i64| PaymentRow {
        end_to_end_id: e2e.into(),
        month: "2026-11".into(),
        rsu_id: format!("{:012}", 500_000_000_000 + n),
        reference: format!("R{n}"),
        provider: "BANK1".into(),
        amount,
        status: "sent".into(),
        reason: None,
        file_name: "f1.xml".into(),
        account: None,
    };
    let payments = [
        payment(2, "E2", 50_000),
        payment(1, "E1", 80_050),
        payment(3, "E3", 10_000),
    ];
    store
        .save_release("2026-11", "{}", &[], &payments, &[], &actor("releaser"))
        .await
        .unwrap();
    let app = |receipt: &str, rsu: &str, on: &str, language: &str| ApplicationRow {
        receipt: receipt.into(),
        rsu_id: rsu.into(),
        status: "approved".into(),
        submitted_on: on.into(),
        body: "{}".into(),
        language: language.into(),
    };
    // Household 1: an older application in Arabic, the latest in French; household 2: Arabic.
    store
        .save_application(
            &app("A1", "500000000001", "2026-01-05", "ar"),
            None,
            "submit",
            &actor("agent"),
        )
        .await
        .unwrap();
    store
        .save_application(
            &app("A2", "500000000001", "2026-06-05", "fr"),
            None,
            "submit",
            &actor("agent"),
        )
        .await
        .unwrap();
    store
        .save_application(
            &app("B1", "500000000002", "2026-03-01", "ar"),
            None,
            "submit",
            &actor("agent"),
        )
        .await
        .unwrap();
    let targets = store
        .payment_notice_targets("2026-11", "", 10)
        .await
        .unwrap();
    let page = store
        .payment_notice_targets("2026-11", "E1", 1)
        .await
        .unwrap();
    assert_eq!(page, targets[1..], "a page after E1");
    let got: Vec<_> = targets
        .iter()
        .map(|t| {
            (
                t.end_to_end_id.as_str(),
                t.rsu_id.as_str(),
                t.amount,
                t.phone.as_str(),
                t.language.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("E1", "500000000001", 80_050, "+212600000001", "fr"),
            ("E2", "500000000002", 50_000, "+212600000002", "ar")
        ],
        "no phone, no notice; the latest application's language"
    );
    assert!(
        store
            .payment_notice_targets("2026-10", "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    let ids = [
        "500000000003",
        "500000000002",
        "500000000001",
        "500000000009",
    ];
    let mut contacts: Vec<_> = store
        .notice_contacts(&ids.map(String::from))
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.rsu_id, c.phone, c.language))
        .collect();
    contacts.sort();
    let contact = |h: &str, p: &str, l: &str| (h.to_owned(), p.to_owned(), l.to_owned());
    assert_eq!(
        contacts,
        [
            contact("500000000001", "+212600000001", "fr"),
            contact("500000000002", "+212600000002", "ar")
        ],
        "households with a phone, in their latest application's language"
    );

    let msg = |id: &str, rsu: &str| MessageRow {
        id: id.into(),
        rsu_id: rsu.into(),
        channel: "sms".into(),
        recipient: "0600000001".into(),
        language: "fr".into(),
        template: "payment_issued".into(),
        body: format!("texte {id}"),
        status: "queued".into(),
        attempts: 0,
        next_attempt_at: Some("2026-11-28T10:00:00.000Z".into()),
        last_error: None,
        delivery_id: None,
        created_at: "2026-11-28T10:00:00.000Z".into(),
        sent_at: None,
        delivered_at: None,
    };
    let many: Vec<MessageRow> = (0..150)
        .map(|i| msg(&format!("payment:E{i:03}"), "500000000001"))
        .collect();
    assert_eq!(store.enqueue_many(&many[..100]).await.unwrap(), 100);
    assert_eq!(
        store.enqueue_many(&many).await.unwrap(),
        50,
        "ids already queued are kept, the others added"
    );
    assert_eq!(store.enqueue_many(&many).await.unwrap(), 0);
    assert_eq!(store.enqueue_many(&[]).await.unwrap(), 0);
    assert_eq!(
        store.message_counts(&Scope::National).await.unwrap(),
        [("queued".to_owned(), 150)]
    );
    let one = store
        .messages_of(&Scope::National, "500000000001")
        .await
        .unwrap();
    assert_eq!(
        (
            one[0].id.as_str(),
            one[0].body.as_str(),
            one[0].template.as_str()
        ),
        ("payment:E000", "texte payment:E000", "payment_issued")
    );
}

/// A gateway's report moves a sent message to delivered, or back to failed (retry) or dead;
/// only a sent message under that delivery id moves, so a repeated report changes nothing.
pub async fn delivery_reports_move_sent_messages(store: &dyn Store) {
    use crate::MessageRow;
    use crate::outbox::{DeliveryUpdate, stamp};
    apply(store, &[sample(1, "01"), sample(2, "04")]).await;
    let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
    let t0 = at("2026-11-02 09:00:00");
    for (id, h) in [
        ("m:1", "500000000001"),
        ("m:2", "500000000002"),
        ("m:3", "500000000001"),
    ] {
        let row = MessageRow {
            id: id.into(),
            rsu_id: h.into(),
            channel: "sms".into(),
            recipient: "0600000001".into(),
            language: "fr".into(),
            template: "receipt".into(),
            body: "x".into(),
            status: "queued".into(),
            attempts: 0,
            next_attempt_at: Some(stamp(t0)),
            last_error: None,
            delivery_id: None,
            created_at: stamp(t0),
            sent_at: None,
            delivered_at: None,
        };
        assert!(store.enqueue(&row).await.unwrap());
    }
    assert_eq!(
        store
            .claim_due(t0, at("2026-11-02 09:05:00"), 10)
            .await
            .unwrap()
            .len(),
        3
    );
    for (id, gw) in [("m:1", "gw-1"), ("m:2", "gw-2"), ("m:3", "gw-3")] {
        store.mark_sent(id, gw, t0).await.unwrap();
    }
    assert_eq!(
        store
            .message_by_delivery(&Scope::National, "gw-2")
            .await
            .unwrap()
            .map(|m| m.id),
        Some("m:2".into())
    );
    assert!(
        store
            .message_by_delivery(&Scope::region(r("01")), "gw-2")
            .await
            .unwrap()
            .is_none(),
        "a message outside the scope is not found"
    );
    assert!(
        store
            .message_by_delivery(&Scope::National, "gw-9")
            .await
            .unwrap()
            .is_none()
    );

    let delivered = DeliveryUpdate {
        status: "delivered".into(),
        at: at("2026-11-02 09:01:30"),
        error: None,
        retry_at: None,
    };
    assert!(
        store
            .record_delivery("m:1", "gw-1", &delivered)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_delivery("m:1", "gw-1", &delivered)
            .await
            .unwrap(),
        "the same report twice changes nothing"
    );
    let failed = DeliveryUpdate {
        status: "failed".into(),
        at: at("2026-11-02 09:02:00"),
        error: Some("handset unreachable".into()),
        retry_at: Some(at("2026-11-02 09:10:00")),
    };
    assert!(store.record_delivery("m:2", "gw-2", &failed).await.unwrap());
    assert!(
        !store
            .record_delivery("m:2", "gw-2", &delivered)
            .await
            .unwrap(),
        "a failed message is no longer sent"
    );
    let dead = DeliveryUpdate {
        status: "dead".into(),
        at: at("2026-11-02 09:02:00"),
        error: Some("unknown number".into()),
        retry_at: None,
    };
    assert!(
        !store
            .record_delivery("m:3", "gw-other", &dead)
            .await
            .unwrap(),
        "another delivery id does not move it"
    );
    assert!(store.record_delivery("m:3", "gw-3", &dead).await.unwrap());

    let all = store.messages(&Scope::National, None, 10).await.unwrap();
    let get = |id: &str| all.iter().find(|m| m.id == id).unwrap().clone();
    let m1 = get("m:1");
    assert_eq!(
        (m1.status.as_str(), m1.delivered_at.as_deref(), m1.attempts),
        ("delivered", Some("2026-11-02T09:01:30.000Z"), 1)
    );
    let m2 = get("m:2");
    assert_eq!(
        (
            m2.status.as_str(),
            m2.last_error.as_deref(),
            m2.next_attempt_at.as_deref(),
            m2.attempts
        ),
        (
            "failed",
            Some("handset unreachable"),
            Some("2026-11-02T09:10:00.000Z"),
            1
        )
    );
    assert_eq!(
        (get("m:3").status.as_str(), get("m:3").next_attempt_at),
        ("dead", None)
    );
    let retried = store
        .claim_due(at("2026-11-02 09:10:00"), at("2026-11-02 09:15:00"), 10)
        .await
        .unwrap();
    assert_eq!(
        retried.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["m:2"],
        "a failed delivery is sent again when its retry is due"
    );
    assert_eq!(
        store.message_counts(&Scope::National).await.unwrap(),
        [
            ("dead".to_owned(), 1),
            ("delivered".to_owned(), 1),
            ("failed".to_owned(), 1)
        ]
    );
}

/// A split writes the household left behind, the new one and an event on each together; a
/// new id that exists already, or a member the registry refuses, writes nothing.
pub async fn a_split_writes_both_households_or_nothing(store: &dyn Store) {
    use crate::EventRow;
    apply(store, &[sample(1, "01"), sample(2, "04")]).await;
    let event = |rsu: &str, kind: &str| EventRow {
        id: 0,
        rsu_id: rsu.into(),
        kind: kind.into(),
        effective: "2026-10-01".into(),
        declared_on: "2026-11-10".into(),
        body: "{}".into(),
        declared_by: "agent".into(),
    };
    let old = sample(1, "01");
    // The two children leave; the first becomes the head of the new household.
    let remaining = with(&old, |p| p.members.truncate(2));
    let new_of = |id: &str| {
        let mut parts = old.clone().into_parts();
        parts.rsu_id = RsuId::parse(id).unwrap();
        parts.members = old.members[2..].to_vec();
        parts.members[0].relation = Relation::Head;
        parts.registrant = parts.members[0].idcs.clone();
        (parts.phone, parts.instrument) = (None, None);
        Household::new(parts, d(TODAY)).unwrap()
    };
    let events = |new: &str| {
        [
            event("500000000001", "household_split"),
            event(new, "household_split"),
        ]
    };
    // The new id is an existing household: refused, nothing written.
    let taken = new_of("500000000002");
    let err = store
        .record_split(&remaining, &taken, &events("500000000002"), &actor("agent"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let id1 = RsuId::parse("500000000001").unwrap();
    assert_eq!(
        store
            .household(&Scope::National, &id1)
            .await
            .unwrap()
            .unwrap()
            .members
            .len(),
        4,
        "the old household keeps its members"
    );
    assert!(store.events_of("500000000001").await.unwrap().is_empty());
    // A member of another household in the new one: refused whole.
    let mut stolen = new_of("500000000777").into_parts();
    stolen.members.push(sample(2, "04").members[3].clone());
    let stolen = Household::new(stolen, d(TODAY)).unwrap();
    assert!(
        store
            .record_split(
                &remaining,
                &stolen,
                &events("500000000777"),
                &actor("agent")
            )
            .await
            .is_err()
    );
    assert!(
        store
            .household(&Scope::National, &RsuId::parse("500000000777").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .household(&Scope::National, &id1)
            .await
            .unwrap()
            .unwrap()
            .members
            .len(),
        4
    );

    let new = new_of("500000000777");
    let (a, b) = store
        .record_split(&remaining, &new, &events("500000000777"), &actor("agent"))
        .await
        .unwrap();
    assert!(b > a);
    let left = store
        .household(&Scope::National, &id1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        left.members
            .iter()
            .map(|m| m.idcs.clone())
            .collect::<Vec<_>>(),
        old.members[..2]
            .iter()
            .map(|m| m.idcs.clone())
            .collect::<Vec<_>>()
    );
    let formed = store
        .household(
            &Scope::region(r("01")),
            &RsuId::parse("500000000777").unwrap(),
        )
        .await
        .unwrap()
        .expect("the new household exists in the old one's region");
    assert_eq!(
        formed
            .members
            .iter()
            .map(|m| (m.idcs.clone(), m.relation))
            .collect::<Vec<_>>(),
        [
            (old.members[2].idcs.clone(), Relation::Head),
            (old.members[3].idcs.clone(), old.members[3].relation)
        ]
    );
    assert_eq!(store.events_of("500000000777").await.unwrap().len(), 1);
    assert_eq!(store.events_of("500000000001").await.unwrap().len(), 1);
    let log = store
        .audit_records(
            &AuditFilter {
                entity: Some("life_event".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        log.len(),
        2,
        "one audit record per event, none for the refused splits"
    );
}

/// Ending a household's running awards sets their last month, once, audited; the awards of
/// other households and those already ended are left alone.
pub async fn ending_awards_is_audited_and_kept(store: &dyn Store) {
    use crate::{ApplicationRow, Award};
    apply(store, &[sample(1, "01"), sample(2, "04")]).await;
    let app = |receipt: &str, rsu: &str| ApplicationRow {
        receipt: receipt.into(),
        rsu_id: rsu.into(),
        status: "approved".into(),
        submitted_on: "2026-01-05".into(),
        body: "{}".into(),
        language: "fr".into(),
    };
    let award = Award {
        components: vec!["child_allowance".into(), "flat_rate".into()],
        start_month: "2026-02".into(),
    };
    store
        .save_application(
            &app("A1", "500000000001"),
            Some(&award),
            "submit",
            &actor("agent"),
        )
        .await
        .unwrap();
    store
        .save_application(
            &app("B1", "500000000002"),
            Some(&award),
            "submit",
            &actor("agent"),
        )
        .await
        .unwrap();
    let end = |h: &str, last: &str| crate::AwardEnd {
        rsu_id: h.into(),
        last_month: last.into(),
        notice: Some(message(
            &format!("termination:{h}:{last}"),
            h,
            "2026-10-01 08:00:00",
        )),
    };
    let ends = [
        end("500000000001", "2026-09"),
        end("500000000009", "2026-09"),
    ];
    assert_eq!(
        store
            .end_awards(&ends, "terminate", &actor("agent"))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .end_awards(
                &[end("500000000001", "2026-11")],
                "terminate",
                &actor("agent")
            )
            .await
            .unwrap(),
        0,
        "an ended award keeps its last month"
    );
    let queued: Vec<String> = store
        .messages(&Scope::National, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(
        queued,
        ["termination:500000000001:2026-09"],
        "a notice goes with the awards it ends, and only then"
    );
    let awards: Vec<_> = store
        .awards(&Scope::National)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.rsu_id, a.component, a.end_month))
        .collect();
    let row =
        |h: &str, c: &str, e: Option<&str>| (h.to_owned(), c.to_owned(), e.map(str::to_owned));
    assert_eq!(
        awards,
        [
            row("500000000001", "child_allowance", Some("2026-09")),
            row("500000000001", "flat_rate", Some("2026-09")),
            row("500000000002", "child_allowance", None),
            row("500000000002", "flat_rate", None)
        ]
    );
    let of: Vec<_> = store
        .awards_of("500000000001")
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.component, a.end_month))
        .collect();
    assert_eq!(
        of,
        [
            ("child_allowance".to_owned(), Some("2026-09".to_owned())),
            ("flat_rate".to_owned(), Some("2026-09".to_owned()))
        ]
    );
    let log = store
        .audit_records(
            &AuditFilter {
                entity: Some("award".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        (log.len(), log[0].action.as_str(), log[0].entity_id.as_str()),
        (1, "end", "500000000001")
    );
    assert!(
        log[0]
            .after
            .as_deref()
            .unwrap_or_default()
            .contains("2026-09")
    );
}

// pilot frozen designs (issue 7)

/// A registered design and its assignment cannot be changed or removed even by raw SQL through
/// the pool: the adapters' migration 0019 puts triggers on them. `sql` runs a statement.
pub async fn pilot_frozen_rows_refuse_raw_changes<F: AsyncFn(&str) -> Result<(), String>>(
    store: &dyn Store,
    sql: F,
) {
    use crate::pilot::AssignmentRow;
    apply(store, &[sample(1, "01"), sample(4, "04")]).await;
    let body = "{\"algorithm\":\"sanad-assign-v1\",\"seed\":20270101}";
    let d = store
        .register_design("frozen", body, &actor("analyst"))
        .await
        .unwrap();
    let unit = |n: u64, arm: &str| AssignmentRow {
        unit: format!("{:012}", 500_000_000_000 + n),
        arm: arm.into(),
        stratum: "all".into(),
        wave: None,
    };
    let rows = [unit(1, "treatment"), unit(4, "control")];
    store
        .save_assignment("frozen", &rows, &actor("analyst"))
        .await
        .unwrap();
    for attempt in [
        "UPDATE pilot_designs SET body = '{\"seed\":1}' WHERE id = 'frozen'",
        "UPDATE pilot_designs SET hash = 'x', registered_by = 'mallory' WHERE id = 'frozen'",
        "DELETE FROM pilot_designs WHERE id = 'frozen'",
        "UPDATE pilot_assignments SET arm = 'treatment' WHERE design_id = 'frozen'",
        "DELETE FROM pilot_assignments WHERE design_id = 'frozen'",
    ] {
        let err = sql(attempt).await.expect_err(attempt);
        assert!(err.contains("frozen"), "{attempt}: {err}");
    }
    assert_eq!(store.designs().await.unwrap(), [d]);
    let mut stored = store.assignments(&Scope::National, "frozen").await.unwrap();
    stored.sort_by(|a, b| a.unit.cmp(&b.unit));
    assert_eq!(stored, rows);
    // Inserting stays open: registering a design is an insert.
    sql("INSERT INTO pilot_designs (id, body, hash, registered_at, registered_by) VALUES ('other', '{}', 'h', '2026-11-01T00:00:00Z', 'analyst')")
        .await
        .unwrap();
}

/// The streamed cycle's reads by RSU id range and its page writes (issue 6).
pub async fn the_streamed_payroll_reads_and_writes_by_range(store: &dyn Store) {
    use crate::payroll::{EntryRow, FileRow, LineRow, PaymentRow};
    use crate::{ApplicationRow, Award};
    let ids = |n: u64| format!("{:012}", 500_000_000_000 + n);
    apply(
        store,
        &[
            sample(1, "01"),
            sample(2, "04"),
            sample(3, "04"),
            sample(4, "01"),
        ],
    )
    .await;
    let award = Award {
        components: vec!["child_allowance".into()],
        start_month: "2026-02".into(),
    };
    for (receipt, n) in [("A1", 1), ("A3", 3)] {
        let app = ApplicationRow {
            receipt: receipt.into(),
            rsu_id: ids(n),
            status: "approved".into(),
            submitted_on: "2026-01-05".into(),
            body: "{}".into(),
            language: "fr".into(),
        };
        store
            .save_application(&app, Some(&award), "submit", &actor("agent"))
            .await
            .unwrap();
    }
    let entry = |n: u64, r: &str| EntryRow {
        household: ids(n),
        kind: "due".into(),
        reference: r.into(),
        body: format!("{n}/{r}"),
    };
    let payment = |n: u64, status: &str| PaymentRow {
        end_to_end_id: format!("ASD-202610-00000000{n}-1"),
        month: "2026-10".into(),
        rsu_id: ids(n),
        reference: format!("ASD-202610-{}-1", ids(n)),
        provider: "BANK011".into(),
        amount: 100 * n as i64,
        status: status.into(),
        reason: None,
        file_name: "f.xml".into(),
        account: None,
    };
    // A release's chunks: posted again, nothing is added twice. The pending entries go to the
    // ledger inside the database, in their order, two at a time here.
    let (entries, payments) = (
        [entry(2, "d1"), entry(3, "d1"), entry(2, "d2")],
        [payment(2, "sent"), payment(4, "sent")],
    );
    let numbered: Vec<(i64, EntryRow)> = (0..).zip(entries.iter().cloned()).collect();
    store.add_prepared("2026-10", &[], &numbered).await.unwrap();
    for _ in 0..2 {
        let (mut after, mut chunks) = (-1, Vec::new());
        while let Some(last) = store.post_pending("2026-10", after, 2).await.unwrap() {
            chunks.push(last);
            after = last;
        }
        assert_eq!(chunks, [1, 2], "chunks end at the last entry each covers");
        store.post_payments(&payments).await.unwrap();
    }
    assert_eq!(store.post_pending("2026-09", -1, 2).await.unwrap(), None);
    let ledger = store.ledger_entries(0, 10).await.unwrap();
    assert_eq!(
        ledger.iter().map(|(_, b)| b.as_str()).collect::<Vec<_>>(),
        ["2/d1", "3/d1", "2/d2"],
        "posted once each, in the pending order"
    );
    assert!(ledger.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(
        store.ledger_of(&ids(2)).await.unwrap(),
        ["2/d1", "2/d2"],
        "posted under their household"
    );
    assert_eq!(store.payment_count("2026-10").await.unwrap(), 2);
    assert_eq!(store.payment_count("2026-09").await.unwrap(), 0);
    store
        .save_returns(
            "sha",
            "r.xml",
            "{}",
            &[crate::payroll::StatusUpdate {
                end_to_end_id: payment(2, "sent").end_to_end_id,
                status: "rejected".into(),
                reason: Some("AC04".into()),
            }],
            &[],
            &actor("bank"),
        )
        .await
        .unwrap();

    // Keys: awards (1, 3) and ledger books (2, 3), merged, in pages.
    assert_eq!(
        store.payroll_keys("", 10).await.unwrap(),
        [ids(1), ids(2), ids(3)]
    );
    assert_eq!(store.payroll_keys("", 2).await.unwrap(), [ids(1), ids(2)]);
    assert_eq!(store.payroll_keys(&ids(2), 2).await.unwrap(), [ids(3)]);
    assert!(store.payroll_keys(&ids(3), 2).await.unwrap().is_empty());

    // Range reads: (after, upto].
    let awards = store.awards_between(&ids(1), &ids(3)).await.unwrap();
    assert_eq!(
        awards
            .iter()
            .map(|a| (a.receipt.as_str(), a.rsu_id.clone()))
            .collect::<Vec<_>>(),
        [("A3", ids(3))]
    );
    let row = |n: u64, seq: i64, book: bool, body: &str| crate::payroll::LedgerRow {
        household: ids(n),
        seq,
        book,
        body: body.into(),
    };
    let entries_of_2 = [row(2, 1, false, "2/d1"), row(2, 3, false, "2/d2")];
    assert_eq!(
        store.ledger_between("", &ids(2)).await.unwrap(),
        entries_of_2
    );
    // A stored book stands for its household's entries up to its seq: only those since are
    // read with it. An older book does not replace a newer one; without books, the entries.
    let book = |n: u64, upto_seq: i64| crate::payroll::BookRow {
        household: ids(n),
        upto_seq,
        body: format!("book {n} at {upto_seq}"),
    };
    store.save_books(&[book(2, 1), book(3, 2)]).await.unwrap();
    assert_eq!(
        store.ledger_between("", &ids(3)).await.unwrap(),
        [
            row(2, 1, true, "book 2 at 1"),
            row(2, 3, false, "2/d2"),
            row(3, 2, true, "book 3 at 2")
        ]
    );
    store.save_books(&[book(2, 3)]).await.unwrap();
    store.save_books(&[book(2, 1)]).await.unwrap();
    assert_eq!(
        store.ledger_between("", &ids(2)).await.unwrap(),
        [row(2, 3, true, "book 2 at 3")]
    );
    store.clear_books().await.unwrap();
    assert_eq!(
        store.ledger_between("", &ids(2)).await.unwrap(),
        entries_of_2
    );
    let bounced = store.bounced_between("", &ids(9)).await.unwrap();
    assert_eq!(
        bounced
            .iter()
            .map(|p| (p.rsu_id.clone(), p.reason.clone()))
            .collect::<Vec<_>>(),
        [(ids(2), Some("AC04".to_owned()))]
    );
    assert!(
        store
            .bounced_between(&ids(2), &ids(9))
            .await
            .unwrap()
            .is_empty()
    );
    let payees = store.payees_between(&ids(1), &ids(3)).await.unwrap();
    assert_eq!(
        payees
            .iter()
            .map(|p| (p.rsu_id.clone(), p.head_name.clone()))
            .collect::<Vec<_>>(),
        [
            (ids(2), "Prenom1 Nom2".to_owned()),
            (ids(3), "Prenom1 Nom3".to_owned())
        ]
    );
    let pop = store.population_between(&ids(1), &ids(3)).await.unwrap();
    assert_eq!(
        pop.households.iter().map(|h| h.id).collect::<Vec<_>>(),
        [500_000_000_002, 500_000_000_003]
    );
    assert_eq!(pop.members.len(), 8);
    let h3 = pop.find(500_000_000_003).unwrap();
    assert_eq!(h3.region, r("04"));
    assert_eq!(pop.members_of(h3).len(), 4);
    assert!(pop.find(500_000_000_001).is_none());
    assert!(pop.score_at(h3, d("2026-11-01")).is_some());
    let whole = store
        .load_population(&Scope::National, &|_| {})
        .await
        .unwrap();
    let w3 = whole.find(500_000_000_003).unwrap();
    assert_eq!(pop.members_of(h3), whole.members_of(w3));
    assert_eq!(
        pop.score_at(h3, d("2026-11-01")),
        whole.score_at(w3, d("2026-11-01"))
    );

    // Prepared pages: cleared, added page by page, read back in pages; the cycle last.
    let line = |n: u64| LineRow {
        rsu_id: ids(n),
        region: "04".into(),
        status: "pay".into(),
        amount: 10 * n as i64,
        // The bulk writes (SQL literals, COPY text) must carry every character through.
        body: format!("{{\"n\":{n},\"t\":\"l'Aïd \\\\ \\\"x\\\"\tétape\r\nسطر\"}}"),
    };
    store
        .add_prepared("2026-11", &[line(9)], &[(0, entry(9, "old"))])
        .await
        .unwrap();
    store.clear_prepared("2026-11").await.unwrap();
    store
        .add_prepared(
            "2026-11",
            &[line(1), line(2)],
            &[(0, entry(1, "e0")), (1, entry(2, "e1 'q' \\ \t\n"))],
        )
        .await
        .unwrap();
    store
        .add_prepared("2026-11", &[line(3)], &[(2, entry(3, "e2"))])
        .await
        .unwrap();
    assert!(store.cycle("2026-11").await.unwrap().is_none(), "not yet");
    store
        .finish_prepared("2026-11", "{\"p\":1}", 3, 60, &actor("maker"))
        .await
        .unwrap();
    assert_eq!(
        store.cycle("2026-11").await.unwrap().as_deref(),
        Some("{\"p\":1}")
    );
    let page = store.payroll_lines_page("2026-11", "", 2).await.unwrap();
    assert_eq!(page, [line(1), line(2)]);
    let page = store
        .payroll_lines_page("2026-11", &ids(2), 2)
        .await
        .unwrap();
    assert_eq!(page, [line(3)]);
    assert_eq!(
        store.pending_entries_page("2026-11", 0, 5).await.unwrap(),
        [(1, "2/e1 'q' \\ \t\n".to_owned()), (2, "3/e2".to_owned())]
    );
    assert_eq!(store.payroll_lines("2026-11").await.unwrap().len(), 3);
    let tally = |a: &str, b: &str, count, amount| crate::payroll::Tally {
        a: a.into(),
        b: b.into(),
        count,
        amount,
    };
    assert_eq!(
        store.payroll_line_counts("2026-11").await.unwrap(),
        [tally("pay", "04", 3, 60)]
    );
    assert_eq!(
        store.payment_counts("2026-10").await.unwrap(),
        [
            tally("BANK011", "rejected", 1, 200),
            tally("BANK011", "sent", 1, 400)
        ]
    );
    assert!(store.payment_counts("2026-11").await.unwrap().is_empty());

    // The release's files and the cycle, saved last and audited.
    let file = FileRow {
        file_name: "f.xml".into(),
        month: "2026-10".into(),
        provider: "BANK011".into(),
        msg_id: "M".into(),
        txs: 2,
        ctrl_sum: 600,
        sha256: "ab".into(),
    };
    store
        .finish_release(
            "2026-10",
            "{\"r\":1}",
            2,
            std::slice::from_ref(&file),
            &actor("releaser"),
        )
        .await
        .unwrap();
    assert_eq!(store.payment_files("2026-10").await.unwrap(), [file]);
    assert_eq!(
        store.cycle("2026-10").await.unwrap().as_deref(),
        Some("{\"r\":1}")
    );
    let audit = store
        .audit_records(&crate::AuditFilter::default(), None, 100)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "release" && a.entity_id == "2026-10")
    );
    assert!(
        audit
            .iter()
            .any(|a| a.action == "prepare" && a.entity_id == "2026-11")
    );
}

/// Multi-row inserts send texts as SQL literals: quotes, backslashes, escapes-looking
/// sequences, control characters and Arabic read back as they were written.
pub async fn literal_texts_read_back_whole(store: &dyn Store) {
    let household = sample(1, "01");
    apply(store, std::slice::from_ref(&household)).await;
    let rsu = household.rsu_id.to_string();
    let bodies = [
        r"C:\dossier\n° 'A''B' \' \\",
        "ligne\nsuivante\t\u{1f}champ «مرحبا» $1 ?",
    ];
    let messages: Vec<crate::MessageRow> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| crate::MessageRow {
            body: (*body).to_owned(),
            ..message(&format!("literal:{i}"), &rsu, "2026-11-28 10:00:00")
        })
        .collect();
    assert_eq!(store.enqueue_many(&messages).await.unwrap(), 2);
    let mut read: Vec<(String, String)> = store
        .messages_of(&Scope::National, &rsu)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.id, m.body))
        .collect();
    read.sort();
    let written: Vec<(String, String)> = messages.into_iter().map(|m| (m.id, m.body)).collect();
    assert_eq!(read, written);
}

/// A pending entry as prepared before migration 27 gave it its ledger keys: its body alone
/// says whose it is. The adapter's test takes its keys away, reopens (migrating again), then
/// [`pending_keys_read_from_bodies`] checks the release posts it where it belongs.
pub async fn pending_without_keys(store: &dyn Store) {
    let body = r#"{"household":"000000000007","kind":"due","date":"2026-11-30","reference":"DEC-7","lines":[]}"#;
    let entry = crate::payroll::EntryRow {
        household: "000000000007".into(),
        kind: "due".into(),
        reference: "DEC-7".into(),
        body: body.into(),
    };
    store
        .add_prepared("2026-11", &[], &[(0, entry)])
        .await
        .unwrap();
}

pub async fn pending_keys_read_from_bodies(store: &dyn Store) {
    assert_eq!(
        store.post_pending("2026-11", -1, 10).await.unwrap(),
        Some(0)
    );
    let ledger = store.ledger_of("000000000007").await.unwrap();
    assert_eq!(ledger.len(), 1, "posted under the household its body names");
    // Posted again (a second release of the same entry): its kind and reference make it the same.
    store.post_pending("2026-11", -1, 10).await.unwrap();
    assert_eq!(store.ledger_entries(0, 10).await.unwrap().len(), 1);
}

//! The backend-conformance suite: every storage behaviour Sanad relies on, written once
//! and run against each adapter by [`conformance_tests!`](crate::conformance_tests).

use chrono::NaiveDate;
use sanad_domain::household::HouseholdParts;
use sanad_domain::{
    Area, Cnie, CrossCheck, CrossChecks, Disability, Household, HouseholdStatus, Idcs, MaritalStatus,
    PaymentInstrument, Person, Phone, RegionCode, Relation, Residence, Rib, RsuId, Schooling, Score,
    ScoreHistory, ScoreRecord, Sex,
};

use crate::{FindKey, Outcome, RegistryStore, RuleSetStatus, Scope, Store, StoreError, Write};

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
        marital_status: if k < 3 { MaritalStatus::Married } else { MaritalStatus::Single },
        schooling: if k == 3 { Schooling::PublicPrimary } else { Schooling::None },
        disability: if k == 4 { Disability::Severe } else { Disability::None },
        father_deceased: false,
        checks: CrossChecks::default(),
    };
    let mut head = person(1, Relation::Head, Sex::Male, "1980-02-29");
    head.cnie = Some(Cnie::parse(&format!("BE{n}")).unwrap());
    let mut spouse = person(2, Relation::Spouse, Sex::Female, "1984-07-15");
    // Quotes and backslashes must survive both bulk paths (SQL literals, COPY text).
    spouse.first_name = "M'barka \\ O''Brien".into();
    spouse.checks.pensioner = Some(CrossCheck { source: "CMR".into(), date: d("2026-06-30") });
    let parts = HouseholdParts {
        rsu_id: RsuId::parse(&format!("{:012}", 500_000_000_000 + n)).unwrap(),
        residence: Residence { region: r(region), province: province.into(), commune: commune.into(), area: Area::Urban },
        registrant: Idcs::from_body(n * 100 + 2),
        phone: Some(Phone::parse(&format!("06{:08}", n)).unwrap()),
        instrument: Some(PaymentInstrument::Bank { rib: Rib::with_key(&format!("2307800000{:012}", n)).unwrap() }),
        status: HouseholdStatus::Active,
        members: vec![
            head,
            spouse,
            person(3, Relation::Child, Sex::Female, "2016-09-01"),
            person(4, Relation::KafalaChild, Sex::Male, "2021-01-31"),
        ],
        scores: ScoreHistory::new(vec![ScoreRecord { value: Score::parse("9.743001").unwrap(), computed_on: d("2024-03-01"), valid_from: d("2024-03-08") }]),
    };
    Household::new(parts, d(TODAY)).expect("sample is valid")
}

fn with(h: &Household, change: impl FnOnce(&mut HouseholdParts)) -> Household {
    let mut p = h.clone().into_parts();
    change(&mut p);
    Household::new(p, d(TODAY)).expect("still valid")
}

async fn apply(store: &dyn RegistryStore, batch: &[Household]) -> Vec<Outcome> {
    store.upsert_households(batch, Write::Apply).await.expect("upsert")
}

pub async fn round_trip_and_reimport_changes_nothing(store: &dyn RegistryStore) {
    let batch = vec![sample(1, "01"), sample(2, "04")];
    assert_eq!(apply(store, &batch).await, [Outcome::Inserted, Outcome::Inserted]);
    let back = store.household(&Scope::National, &batch[0].rsu_id).await.unwrap().expect("stored");
    assert_eq!(back, batch[0], "a household reads back exactly as written");
    assert_eq!(apply(store, &batch).await, [Outcome::Unchanged, Outcome::Unchanged]);
    let again = store.household(&Scope::National, &batch[0].rsu_id).await.unwrap().unwrap();
    assert_eq!(again.scores.records().len(), 1, "a re-import adds no history");
}

pub async fn score_changes_build_the_history(store: &dyn RegistryStore) {
    let h = sample(3, "01");
    apply(store, std::slice::from_ref(&h)).await;
    let rescored = with(&h, |p| {
        p.scores = ScoreHistory::new(vec![ScoreRecord { value: Score::parse("10.5").unwrap(), computed_on: d("2025-05-02"), valid_from: d("2025-05-10") }]);
    });
    assert_eq!(apply(store, std::slice::from_ref(&rescored)).await, [Outcome::Updated]);
    let back = store.household(&Scope::National, &h.rsu_id).await.unwrap().unwrap();
    assert_eq!(back.scores.records().len(), 2);
    assert_eq!(back.scores.at(d("2025-05-09")).unwrap().value, Score::parse("9.743001").unwrap());
    assert_eq!(back.scores.at(d("2025-05-10")).unwrap().value, Score::parse("10.5").unwrap());
    assert_eq!(apply(store, std::slice::from_ref(&rescored)).await, [Outcome::Unchanged]);
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
    assert!(store.household(&Scope::National, &other.rsu_id).await.unwrap().is_none(), "nothing of a rejected household is applied");
    assert!(store.household(&Scope::National, &fine.rsu_id).await.unwrap().is_some());
    let key = FindKey::Idcs(first.members[2].idcs.clone());
    let found = store.find_households(&Scope::National, &key).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rsu_id, first.rsu_id);
}

pub async fn dry_run_writes_nothing(store: &dyn RegistryStore) {
    let h = sample(7, "01");
    let out = store.upsert_households(std::slice::from_ref(&h), Write::DryRun).await.unwrap();
    assert_eq!(out, [Outcome::Inserted]);
    assert!(store.household(&Scope::National, &h.rsu_id).await.unwrap().is_none());
    assert!(store.count_by_region(&Scope::National).await.unwrap().iter().all(|c| c.households == 0));
}

pub async fn find_by_every_key_within_scope(store: &dyn RegistryStore) {
    let h = sample(8, "04");
    apply(store, &[h.clone(), sample(9, "01")]).await;
    let keys = [
        FindKey::RsuId(h.rsu_id.clone()),
        FindKey::Idcs(h.members[3].idcs.clone()),
        FindKey::Cnie(h.members[0].cnie.clone().unwrap()),
        FindKey::Phone(h.phone.clone().unwrap()),
    ];
    for key in &keys {
        let hits = store.find_households(&Scope::region(r("04")), key).await.unwrap();
        assert_eq!(hits.len(), 1, "{key:?}");
        let s = &hits[0];
        assert_eq!((&s.rsu_id, s.region, s.members), (&h.rsu_id, r("04"), 4));
        assert_eq!(s.head_name, "Prenom1 Nom8");
        assert_eq!(s.score, Some(Score::parse("9.743001").unwrap()));
        assert!(store.find_households(&Scope::region(r("01")), key).await.unwrap().is_empty(), "{key:?} leaks across regions");
    }
    assert!(store.household(&Scope::region(r("01")), &h.rsu_id).await.unwrap().is_none());
    assert!(store.household(&Scope::Regions(vec![r("01"), r("04")]), &h.rsu_id).await.unwrap().is_some());
}

pub async fn list_and_count_within_scope(store: &dyn RegistryStore) {
    let batch: Vec<Household> = (10..20).map(|n| sample(n, if n % 2 == 0 { "01" } else { "04" })).collect();
    apply(store, &batch).await;
    let counts = store.count_by_region(&Scope::region(r("01"))).await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!((counts[0].region, counts[0].households, counts[0].persons), (r("01"), 5, 20));
    let all = store.count_by_region(&Scope::National).await.unwrap();
    assert_eq!(all.iter().map(|c| c.households).sum::<i64>(), 10);
    let page1 = store.list_households(&Scope::region(r("04")), None, 3).await.unwrap();
    let page2 = store.list_households(&Scope::region(r("04")), Some(&page1[2].rsu_id), 3).await.unwrap();
    let ids: Vec<String> = page1.iter().chain(&page2).map(|s| s.rsu_id.to_string()).collect();
    let expected: Vec<String> = batch.iter().filter(|h| h.residence.region == r("04")).map(|h| h.rsu_id.to_string()).collect();
    assert_eq!(ids, expected);
    assert!(store.list_households(&Scope::Regions(vec![]), None, 10).await.unwrap().is_empty());
}

pub async fn removed_member_is_detached_not_lost(store: &dyn RegistryStore) {
    let h = sample(20, "01");
    apply(store, std::slice::from_ref(&h)).await;
    let left = h.members[3].clone();
    let smaller = with(&h, |p| {
        p.members.pop();
    });
    assert_eq!(apply(store, std::slice::from_ref(&smaller)).await, [Outcome::Updated]);
    let back = store.household(&Scope::National, &h.rsu_id).await.unwrap().unwrap();
    assert_eq!(back.members.len(), 3);
    assert!(store.find_households(&Scope::National, &FindKey::Idcs(left.idcs.clone())).await.unwrap().is_empty());
    // The detached person may now join another household through the feed.
    let joined = with(&sample(21, "01"), |p| p.members.push(left));
    assert_eq!(apply(store, &[joined]).await, [Outcome::Inserted]);
}

pub async fn rule_sets_need_a_second_user(store: &dyn Store) {
    store.propose_rule_set("asd-2027-01", d("2027-01-01"), "id = \"asd-2027-01\"", "amina").await.unwrap();
    let again = store.propose_rule_set("asd-2027-01", d("2027-01-01"), "x", "amina").await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again}");
    let own = store.approve_rule_set("asd-2027-01", "amina").await.unwrap_err();
    assert!(matches!(own, StoreError::Refused(ref m) if m.contains("another user")), "{own}");
    assert!(matches!(store.approve_rule_set("nope", "karim").await.unwrap_err(), StoreError::NotFound(_)));
    let approved = store.approve_rule_set("asd-2027-01", "karim").await.unwrap();
    assert_eq!((approved.status, approved.approved_by.as_deref()), (RuleSetStatus::Approved, Some("karim")));
    assert!(matches!(store.approve_rule_set("asd-2027-01", "omar").await.unwrap_err(), StoreError::Refused(_)));
    store.propose_rule_set("asd-2027-01b", d("2027-01-01"), "y", "amina").await.unwrap();
    let clash = store.approve_rule_set("asd-2027-01b", "karim").await.unwrap_err();
    assert!(matches!(clash, StoreError::Refused(ref m) if m.contains("same date")), "{clash}");
    let all = store.rule_sets().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].body, "id = \"asd-2027-01\"");
}

pub async fn population_loads_within_scope(store: &dyn Store) {
    let rescored = with(&sample(31, "04"), |p| {
        p.scores = ScoreHistory::new(vec![ScoreRecord { value: Score::parse("10.5").unwrap(), computed_on: d("2025-05-02"), valid_from: d("2025-05-10") }]);
    });
    apply(store, &[sample(30, "01"), sample(31, "04"), sample(32, "04")]).await;
    apply(store, &[rescored]).await;
    let pop = store.load_population(&Scope::region(r("04")), &|_| {}).await.unwrap();
    assert_eq!(pop.households.len(), 2);
    assert_eq!(pop.members.len(), 8);
    let h = &pop.households[0];
    assert_eq!((h.id, h.region), (500_000_000_031, r("04")));
    assert_eq!(sanad_domain::Geography::get().provinces[h.province as usize].code, "04.421");
    let members = pop.members_of(h);
    let expected: Vec<sanad_domain::snapshot::Member> = sample(31, "04").members.iter().map(Into::into).collect();
    assert_eq!(members, expected.as_slice());
    assert!(members[1].pensioner && !members[0].pensioner);
    assert_eq!(pop.score_at(h, d("2025-05-09")).unwrap().0, Score::parse("9.743001").unwrap());
    assert_eq!(pop.score_at(h, d("2025-05-10")).unwrap().0, Score::parse("10.5").unwrap());
    assert_eq!(pop.score_at(h, d("2020-01-01")), None);
    let national = store.load_population(&Scope::National, &|_| {}).await.unwrap();
    assert_eq!((national.households.len(), national.members.len(), national.scores.len()), (3, 12, 4));
    assert!(store.load_population(&Scope::Regions(vec![]), &|_| {}).await.unwrap().households.is_empty());
}

pub async fn a_load_writes_like_an_apply(store: &dyn Store) {
    let batch = vec![sample(40, "01"), sample(41, "04")];
    assert_eq!(store.upsert_households(&batch, Write::Load).await.unwrap(), [Outcome::Inserted, Outcome::Inserted]);
    let back = store.household(&Scope::National, &batch[1].rsu_id).await.unwrap().expect("stored");
    assert_eq!(back, batch[1]);
    assert_eq!(apply(store, &batch).await, [Outcome::Unchanged, Outcome::Unchanged], "hashes are stored by a load too");
}

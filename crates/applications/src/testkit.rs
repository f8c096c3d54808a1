//! Test fixtures: a valid household in Rabat-Salé-Kénitra and persons to fill it.

use chrono::NaiveDate;
use sanad_domain::household::HouseholdParts;
use sanad_domain::{
    Area, CrossChecks, Disability, Household, HouseholdStatus, Idcs, MaritalStatus, Person, Phone,
    RegionCode, Relation, Residence, RsuId, Schooling, Score, ScoreHistory, ScoreRecord, Sex,
};

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn rsu(s: &str) -> RsuId {
    RsuId::parse(s).unwrap()
}

pub fn person(body: u64, relation: Relation, birth: &str) -> Person {
    Person {
        idcs: Idcs::from_body(body),
        cnie: None,
        first_name: "Fatima".into(),
        last_name: "Alaoui".into(),
        first_name_ar: "فاطمة".into(),
        last_name_ar: "العلوي".into(),
        sex: Sex::Female,
        birth_date: d(birth),
        death_date: None,
        relation,
        marital_status: MaritalStatus::Married,
        schooling: Schooling::None,
        disability: Disability::None,
        father_deceased: false,
        checks: CrossChecks::default(),
    }
}

pub fn residence() -> Residence {
    Residence {
        region: RegionCode::parse("01").unwrap(),
        province: "01.511".into(),
        commune: "01.511.01.0".into(),
        area: Area::Urban,
    }
}

pub fn score(value: &str, valid_from: &str) -> ScoreRecord {
    ScoreRecord {
        value: Score::parse(value).unwrap(),
        computed_on: d(valid_from),
        valid_from: d(valid_from),
    }
}

/// Household `id` with the given members (the first is the registrant) and one score.
pub fn household(id: &str, members: Vec<Person>, score_value: &str) -> Household {
    let parts = HouseholdParts {
        rsu_id: rsu(id),
        residence: residence(),
        registrant: members[0].idcs.clone(),
        phone: Some(Phone::parse("0612345678").unwrap()),
        instrument: None,
        status: HouseholdStatus::Active,
        members,
        scores: ScoreHistory::new(vec![score(score_value, "2025-01-10")]),
    };
    Household::new(parts, d("2026-11-30")).unwrap()
}

/// A couple (head born 1985, spouse 1988) and children born on the given dates.
pub fn family(id: &str, children: &[&str]) -> Household {
    let mut head = person(1, Relation::Head, "1985-03-01");
    head.sex = Sex::Male;
    head.first_name = "Mohamed".into();
    let mut members = vec![head, person(2, Relation::Spouse, "1988-07-15")];
    for (i, b) in children.iter().enumerate() {
        members.push(person(10 + i as u64, Relation::Child, b));
    }
    household(id, members, "9.1")
}

pub fn edit(h: &Household, f: impl FnOnce(&mut HouseholdParts)) -> Household {
    let mut p = h.clone().into_parts();
    f(&mut p);
    Household::new(p, d("2026-11-30")).unwrap()
}

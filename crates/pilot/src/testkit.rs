//! Test fixtures: households in the pilot antenna (Tanger-Assilah, 01.511), in a wave-2
//! antenna (Tétouan, 01.571) and outside the plan (Rabat, 04.421).

use chrono::NaiveDate;
use sanad_domain::household::HouseholdParts;
use sanad_domain::{
    Area, CrossChecks, Disability, Household, HouseholdStatus, Idcs, MaritalStatus, Person,
    RegionCode, Relation, Residence, RsuId, Schooling, ScoreHistory, Sex,
};

use crate::rule::Facts;

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn rsu(s: &str) -> RsuId {
    RsuId::parse(s).unwrap()
}

pub fn asd(eligible: bool) -> Facts {
    Facts {
        asd_eligible: Some(eligible),
        pregnant: None,
    }
}

fn person(body: u64, relation: Relation, sex: Sex, birth: &str, schooling: Schooling) -> Person {
    Person {
        idcs: Idcs::from_body(body),
        cnie: None,
        first_name: "Fatima".into(),
        last_name: "Alaoui".into(),
        first_name_ar: "فاطمة".into(),
        last_name_ar: "العلوي".into(),
        sex,
        birth_date: d(birth),
        death_date: None,
        relation,
        marital_status: MaritalStatus::Married,
        schooling,
        disability: Disability::None,
        father_deceased: false,
        checks: CrossChecks::default(),
    }
}

/// A woman born 1990-01-01 (36 in 2026), no formal job.
pub fn adult(body: u64, relation: Relation) -> Person {
    person(body, relation, Sex::Female, "1990-01-01", Schooling::None)
}

pub fn kid(body: u64, birth: &str, schooling: Schooling) -> Person {
    person(body, Relation::Child, Sex::Male, birth, schooling)
}

/// A household in Tanger (pilot antenna 01.511); the first member is the registrant.
pub fn household(id: &str, members: Vec<Person>) -> Household {
    household_in(id, members, "01", "01.511", "01.511.01.0")
}

pub fn household_in(
    id: &str,
    members: Vec<Person>,
    region: &str,
    province: &str,
    commune: &str,
) -> Household {
    let residence = Residence {
        region: RegionCode::parse(region).unwrap(),
        province: province.into(),
        commune: commune.into(),
        area: Area::Urban,
    };
    let parts = HouseholdParts {
        rsu_id: rsu(id),
        residence,
        registrant: members[0].idcs.clone(),
        phone: None,
        instrument: None,
        status: HouseholdStatus::Active,
        members,
        scores: ScoreHistory::new(vec![]),
    };
    Household::new(parts, d("2026-11-30")).unwrap()
}

/// A household with a 12-year-old out of school (on 2027-03-01), in the given antenna.
pub fn schooling_case(id: &str) -> Household {
    household(
        id,
        vec![
            adult(1, Relation::Head),
            kid(2, "2015-02-01", Schooling::None),
        ],
    )
}

pub fn worker(id: &str, antenna: &str) -> crate::cases::Worker {
    let id = crate::cases::WorkerId::parse(id).unwrap();
    crate::cases::Worker {
        id,
        antenna: antenna.into(),
        role: sanad_domain::Role::AntennaAgent,
        active: true,
    }
}

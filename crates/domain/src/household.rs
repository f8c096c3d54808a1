//! Households and their members as the RSU and RNP describe them.
//!
//! A [`Household`] can only be built through [`Household::new`], which checks every
//! invariant that spans fields or members; the fields themselves are already valid types.

use std::collections::HashSet;
use std::ops::Deref;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::geo::{Area, Geography, RegionCode};
use crate::ids::{Cnie, Idcs, PaymentInstrument, Phone, RsuId};
use crate::score::ScoreHistory;

/// Declares a closed vocabulary with its wire names, `as_str`, `parse` and `ALL`.
macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!("'{}' is not one of: {}", s, [$($text),+].join(", "))),
                }
            }
        }
    };
}

vocabulary!(Sex { Male = "M", Female = "F" });
vocabulary!(
    /// Relationship to the head of household.
    Relation { Head = "head", Spouse = "spouse", Child = "child", KafalaChild = "kafala_child", Ward = "ward", Parent = "parent", Other = "other" }
);
vocabulary!(MaritalStatus { Single = "single", Married = "married", Divorced = "divorced", Widowed = "widowed" });
vocabulary!(Schooling {
    None = "none",
    PublicPrimary = "public_primary",
    PublicCollege = "public_college",
    PublicSecondary = "public_secondary",
    PublicVocational = "public_vocational",
    Private = "private",
    Higher = "higher",
});
vocabulary!(
    /// Recognised disability and its severity.
    Disability { None = "none", Mild = "mild", Moderate = "moderate", Severe = "severe", Profound = "profound" }
);
vocabulary!(HouseholdStatus { Active = "active", Suspended = "suspended", Deregistered = "deregistered" });

impl Relation {
    /// Relations that make a person one of the household's children for the child allowance.
    pub fn is_child(self) -> bool {
        matches!(
            self,
            Relation::Child | Relation::KafalaChild | Relation::Ward
        )
    }
}

impl Schooling {
    pub fn in_school(self) -> bool {
        self != Schooling::None
    }
}

/// One positive cross-check against another administration's list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CrossCheck {
    /// The list it came from (e.g. `CNSS-AF`, `DGI-PAYROLL`, `CMR`).
    pub source: String,
    /// The date of that list.
    pub date: NaiveDate,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CrossChecks {
    pub public_employee: Option<CrossCheck>,
    pub pensioner: Option<CrossCheck>,
    pub family_allowance: Option<CrossCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Person {
    pub idcs: Idcs,
    pub cnie: Option<Cnie>,
    pub first_name: String,
    pub last_name: String,
    pub first_name_ar: String,
    pub last_name_ar: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub death_date: Option<NaiveDate>,
    pub relation: Relation,
    pub marital_status: MaritalStatus,
    pub schooling: Schooling,
    pub disability: Disability,
    pub father_deceased: bool,
    pub checks: CrossChecks,
}

impl Person {
    /// A child born on `born` to the family of `head`, whose family names it takes: no CNIE,
    /// single, not in school, no disability, no cross-check flag (a birth declaration).
    pub fn newborn(
        idcs: Idcs,
        first_name: String,
        first_name_ar: String,
        sex: Sex,
        born: NaiveDate,
        head: &Person,
    ) -> Person {
        Person {
            idcs,
            cnie: None,
            first_name,
            last_name: head.last_name.clone(),
            first_name_ar,
            last_name_ar: head.last_name_ar.clone(),
            sex,
            birth_date: born,
            death_date: None,
            relation: Relation::Child,
            marital_status: MaritalStatus::Single,
            schooling: Schooling::None,
            disability: Disability::None,
            father_deceased: false,
            checks: CrossChecks::default(),
        }
    }

    /// Age in whole years on `date`.
    pub fn age_on(&self, date: NaiveDate) -> i32 {
        let b = self.birth_date;
        let mut age = date.year() - b.year();
        if (date.month(), date.day()) < (b.month(), b.day()) {
            age -= 1;
        }
        age
    }

    pub fn alive_on(&self, date: NaiveDate) -> bool {
        self.death_date.is_none_or(|d| d > date)
    }

    fn check(&self, as_of: NaiveDate, errors: &mut Vec<FieldError>) {
        let mut err = |f: &str, r: String| errors.push(FieldError::new(f, r));
        if self.birth_date > as_of {
            err(
                "birth_date",
                format!("{} is in the future", self.birth_date),
            );
        } else if self.age_on(as_of) > 120 {
            err(
                "birth_date",
                format!("{} would make the person older than 120", self.birth_date),
            );
        }
        if let Some(d) = self.death_date {
            if d < self.birth_date {
                err(
                    "death_date",
                    format!("{d} is before the birth date {}", self.birth_date),
                );
            } else if d > as_of {
                err("death_date", format!("{d} is in the future"));
            }
        }
        if self.cnie.is_some() && self.birth_date <= as_of && self.age_on(as_of) < 12 {
            err("cnie", "a child under 12 cannot hold a CNIE".into());
        }
        for (field, name) in [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
        ] {
            if name.trim().is_empty() || name.chars().count() > 80 {
                err(field, "must be 1 to 80 characters".into());
            }
        }
        let names = [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
            ("first_name_ar", &self.first_name_ar),
            ("last_name_ar", &self.last_name_ar),
        ];
        for (field, name) in names {
            if name.chars().any(char::is_control) {
                err(field, "must not contain control characters".into());
            }
        }
    }
}

/// Where a household lives, checked against the embedded geography.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Residence {
    pub region: RegionCode,
    pub province: String,
    pub commune: String,
    pub area: Area,
}

impl Residence {
    fn check(&self, errors: &mut Vec<FieldError>) {
        let geo = Geography::get();
        match geo.commune(&self.commune) {
            None => errors.push(FieldError::new(
                "commune",
                format!("unknown commune code '{}'", self.commune),
            )),
            Some(c) if c.province != self.province => errors.push(FieldError::new(
                "province",
                format!(
                    "commune {} is in province {}, not {}",
                    self.commune, c.province, self.province
                ),
            )),
            Some(c) if c.region != self.region => errors.push(FieldError::new(
                "region",
                format!(
                    "commune {} is in region {}, not {}",
                    self.commune, c.region, self.region
                ),
            )),
            Some(_) => {}
        }
    }
}

/// Everything a household record holds; turned into a [`Household`] by [`Household::new`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HouseholdParts {
    pub rsu_id: RsuId,
    pub residence: Residence,
    /// The member who registered the household in the RSU (payee of the flat-rate aid).
    pub registrant: Idcs,
    pub phone: Option<Phone>,
    pub instrument: Option<PaymentInstrument>,
    pub status: HouseholdStatus,
    pub members: Vec<Person>,
    pub scores: ScoreHistory,
}

/// A household whose invariants hold. Read its fields through `Deref`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Household(HouseholdParts);

impl Deref for Household {
    type Target = HouseholdParts;
    fn deref(&self) -> &HouseholdParts {
        &self.0
    }
}

impl Household {
    /// Check every invariant as of `as_of` (the date of the feed); report all violations.
    pub fn new(parts: HouseholdParts, as_of: NaiveDate) -> Result<Household, Vec<FieldError>> {
        let mut errors = Vec::new();
        parts.residence.check(&mut errors);
        if let Some(i) = &parts.instrument
            && let Err(e) = i.validate()
        {
            errors.push(FieldError::new("instrument", e));
        }
        for (i, m) in parts.members.iter().enumerate() {
            let mut own = Vec::new();
            m.check(as_of, &mut own);
            errors.extend(own.into_iter().map(|e| e.within(&format!("members[{i}]"))));
        }
        check_composition(&parts, &mut errors);
        for (i, s) in parts.scores.records().iter().enumerate() {
            if s.valid_from < s.computed_on || s.computed_on > as_of {
                errors.push(FieldError::new(
                    format!("scores[{i}]"),
                    "a score must be computed by the feed date and valid no earlier than computed"
                        .to_string(),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Household(parts))
        } else {
            Err(errors)
        }
    }

    pub fn into_parts(self) -> HouseholdParts {
        self.0
    }

    pub fn head(&self) -> &Person {
        self.members
            .iter()
            .find(|m| m.relation == Relation::Head)
            .expect("one head by construction")
    }
}

fn check_composition(h: &HouseholdParts, errors: &mut Vec<FieldError>) {
    let heads = h
        .members
        .iter()
        .filter(|m| m.relation == Relation::Head)
        .count();
    if heads != 1 {
        errors.push(FieldError::new(
            "members",
            format!("a household has exactly one head, found {heads}"),
        ));
    }
    let mut seen = HashSet::new();
    for (i, m) in h.members.iter().enumerate() {
        if !seen.insert(&m.idcs) {
            errors.push(FieldError::new(
                format!("members[{i}].idcs"),
                format!("{} appears twice in the household", m.idcs),
            ));
        }
    }
    if !h.members.iter().any(|m| m.idcs == h.registrant) {
        errors.push(FieldError::new(
            "registrant",
            format!("{} is not a member of the household", h.registrant),
        ));
    }
    let Some(head) = h.members.iter().find(|m| m.relation == Relation::Head) else {
        return;
    };
    for (i, m) in h.members.iter().enumerate() {
        let older_than_head = m.birth_date <= head.birth_date;
        if m.relation == Relation::Child && older_than_head {
            errors.push(FieldError::new(
                format!("members[{i}].birth_date"),
                format!(
                    "child born {} is not younger than the head, born {}",
                    m.birth_date, head.birth_date
                ),
            ));
        }
        if m.relation == Relation::Parent && !older_than_head {
            errors.push(FieldError::new(
                format!("members[{i}].birth_date"),
                format!(
                    "parent born {} is not older than the head, born {}",
                    m.birth_date, head.birth_date
                ),
            ));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::score::{Score, ScoreRecord};

    pub fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
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

    pub fn parts() -> HouseholdParts {
        HouseholdParts {
            rsu_id: RsuId::parse("100000000001").unwrap(),
            residence: Residence {
                region: RegionCode::parse("01").unwrap(),
                province: "01.511".into(),
                commune: "01.511.01.0".into(),
                area: Area::Urban,
            },
            registrant: Idcs::from_body(1),
            phone: Some(Phone::parse("0612345678").unwrap()),
            instrument: None,
            status: HouseholdStatus::Active,
            members: vec![
                person(1, Relation::Head, "1985-03-01"),
                person(2, Relation::Child, "2015-06-30"),
            ],
            scores: ScoreHistory::new(vec![ScoreRecord {
                value: Score::parse("9.1").unwrap(),
                computed_on: d("2024-01-02"),
                valid_from: d("2024-01-09"),
            }]),
        }
    }

    fn fields(r: Result<Household, Vec<FieldError>>) -> Vec<String> {
        r.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn valid_household_builds() {
        let h = Household::new(parts(), d("2026-11-01")).unwrap();
        assert_eq!(h.head().idcs, Idcs::from_body(1));
        assert_eq!(h.members[1].age_on(d("2025-06-29")), 9);
        assert_eq!(h.members[1].age_on(d("2025-06-30")), 10);
    }

    #[test]
    fn a_newborn_joins_with_the_heads_family_names() {
        let mut p = parts();
        let head = p.members[0].clone();
        p.members.push(Person::newborn(
            Idcs::from_body(99),
            "Yasmine".into(),
            "ياسمين".into(),
            Sex::Female,
            d("2026-10-01"),
            &head,
        ));
        let h = Household::new(p, d("2026-11-01")).unwrap();
        let child = h.members.last().unwrap();
        assert_eq!(
            (
                child.last_name.as_str(),
                child.relation,
                child.age_on(d("2026-11-01"))
            ),
            (head.last_name.as_str(), Relation::Child, 0)
        );
    }

    #[test]
    fn every_violation_is_reported_with_its_field() {
        let mut p = parts();
        p.residence.commune = "99.999.99.9".into();
        p.members[1].birth_date = d("1980-01-01");
        p.members[0].death_date = Some(d("1970-01-01"));
        p.registrant = Idcs::from_body(77);
        let f = fields(Household::new(p, d("2026-11-01")));
        assert_eq!(
            f,
            [
                "commune",
                "members[0].death_date",
                "registrant",
                "members[1].birth_date"
            ]
        );
    }

    #[test]
    fn residence_must_be_consistent() {
        let mut p = parts();
        p.residence.province = "01.573".into();
        assert_eq!(fields(Household::new(p, d("2026-11-01"))), ["province"]);
        let mut p = parts();
        p.residence.region = RegionCode::parse("02").unwrap();
        assert_eq!(fields(Household::new(p, d("2026-11-01"))), ["region"]);
    }

    #[test]
    fn impossible_dates_and_heads() {
        let mut p = parts();
        p.members[1].birth_date = d("2027-01-01");
        p.members.push(person(1, Relation::Head, "1990-01-01"));
        let f = fields(Household::new(p, d("2026-11-01")));
        assert!(f.contains(&"members[1].birth_date".to_string()));
        assert!(f.contains(&"members".to_string()));
        assert!(f.contains(&"members[2].idcs".to_string()));
    }

    #[test]
    fn child_with_cnie_is_refused() {
        let mut p = parts();
        p.members[1].cnie = Some(Cnie::parse("AB1234").unwrap());
        assert_eq!(
            fields(Household::new(p, d("2026-11-01"))),
            ["members[1].cnie"]
        );
    }

    #[test]
    fn control_characters_in_names_are_refused() {
        let mut p = parts();
        p.members[0].last_name_ar = "العلوي\u{0}".into();
        assert_eq!(
            fields(Household::new(p, d("2026-11-01"))),
            ["members[0].last_name_ar"]
        );
    }

    #[test]
    fn vocabularies_name_the_allowed_values() {
        assert_eq!(
            Schooling::parse("public_college").unwrap(),
            Schooling::PublicCollege
        );
        let e = Relation::parse("cousin").unwrap_err();
        assert!(e.contains("kafala_child"), "{e}");
        assert!(Relation::KafalaChild.is_child() && !Relation::Parent.is_child());
    }
}

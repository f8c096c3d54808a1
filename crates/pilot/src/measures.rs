//! The catalogue of accompanying measures: what is offered, to whom, how many places per
//! antenna and at what cost. Shipped as `data/measures.json`; see the README for the format.

use std::fmt;

use sanad_domain::Money;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::rule::Rule;
use crate::text::Text;

const SHIPPED: &str = include_str!("../data/measures.json");

/// The five domains of the accompanying measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    Schooling,
    Nutrition,
    Health,
    Inclusion,
    Employment,
}

impl Domain {
    pub const ALL: [Domain; 5] = [
        Domain::Schooling,
        Domain::Nutrition,
        Domain::Health,
        Domain::Inclusion,
        Domain::Employment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Schooling => "schooling",
            Domain::Nutrition => "nutrition",
            Domain::Health => "health",
            Domain::Inclusion => "inclusion",
            Domain::Employment => "employment",
        }
    }

    pub fn parse(s: &str) -> Result<Domain, String> {
        Domain::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("'{s}' is not a domain"))
    }

    pub fn name(self) -> Text {
        match self {
            Domain::Schooling => Text::new("Scolarisation", "التمدرس", "Schooling"),
            Domain::Nutrition => Text::new("Nutrition", "التغذية", "Nutrition"),
            Domain::Health => Text::new("Santé", "الصحة", "Health"),
            Domain::Inclusion => Text::new(
                "Inclusion socio-économique",
                "الإدماج السوسيو-اقتصادي",
                "Socio-economic inclusion",
            ),
            Domain::Employment => Text::new(
                "Insertion dans l'emploi formel",
                "الإدماج في الشغل المهيكل",
                "Formal employment",
            ),
        }
    }
}

/// A measure identifier: 1–40 characters among `a-z`, `0-9` and `-`, stable across catalogue
/// versions because enrolments refer to it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MeasureId(String);

impl MeasureId {
    pub fn parse(s: &str) -> Result<MeasureId, String> {
        let ok = (1..=40).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(MeasureId(s.to_owned()))
        } else {
            Err(format!("'{s}' is not a measure id (1–40 of a-z, 0-9, -)"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MeasureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for MeasureId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for MeasureId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        MeasureId::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// One accompanying measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    pub id: MeasureId,
    pub domain: Domain,
    pub name: Text,
    pub description: Text,
    /// Who may be enrolled (see [`crate::rule`]).
    pub target: Rule,
    /// Households enrolled at the same time in one antenna.
    pub capacity_per_antenna: u32,
    /// What one enrolled household costs over the measure, in the file as a MAD decimal string
    /// (`"1500.00"`), as hand-edited rule files do; in memory integer centimes.
    #[serde(with = "mad")]
    pub cost_per_household: Money,
}

/// A validated catalogue: unique ids, complete texts, sound rules, positive capacity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Catalogue {
    version: String,
    measures: Vec<Measure>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("catalogue is not valid JSON: {0}")]
    Json(String),
    #[error("the catalogue has no version")]
    NoVersion,
    #[error("the catalogue has no measure")]
    Empty,
    #[error("measure {0} appears twice")]
    Duplicate(MeasureId),
    #[error("measure {measure}: {reason}")]
    Invalid { measure: MeasureId, reason: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    version: String,
    measures: Vec<Measure>,
}

impl Catalogue {
    pub fn new(version: String, measures: Vec<Measure>) -> Result<Catalogue, CatalogueError> {
        if version.trim().is_empty() {
            return Err(CatalogueError::NoVersion);
        }
        if measures.is_empty() {
            return Err(CatalogueError::Empty);
        }
        for (i, m) in measures.iter().enumerate() {
            if measures[..i].iter().any(|o| o.id == m.id) {
                return Err(CatalogueError::Duplicate(m.id.clone()));
            }
            m.validate().map_err(|reason| CatalogueError::Invalid {
                measure: m.id.clone(),
                reason,
            })?;
        }
        Ok(Catalogue { version, measures })
    }

    pub fn from_json(json: &str) -> Result<Catalogue, CatalogueError> {
        let file: CatalogueFile =
            serde_json::from_str(json).map_err(|e| CatalogueError::Json(e.to_string()))?;
        Catalogue::new(file.version, file.measures)
    }

    /// The catalogue shipped in `data/measures.json` (checked by a test).
    pub fn shipped() -> Catalogue {
        Catalogue::from_json(SHIPPED).expect("the shipped catalogue is valid")
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn measures(&self) -> &[Measure] {
        &self.measures
    }

    pub fn measure(&self, id: &MeasureId) -> Option<&Measure> {
        self.measures.iter().find(|m| &m.id == id)
    }

    pub fn in_domain(&self, domain: Domain) -> impl Iterator<Item = &Measure> {
        self.measures.iter().filter(move |m| m.domain == domain)
    }
}

impl Measure {
    fn validate(&self) -> Result<(), String> {
        for (field, text) in [("name", &self.name), ("description", &self.description)] {
            if let Some(lang) = text.missing() {
                return Err(format!("{field} is blank in {lang:?}"));
            }
        }
        if self.capacity_per_antenna == 0 {
            return Err("capacity_per_antenna must be at least 1".into());
        }
        if self.cost_per_household < Money::ZERO {
            return Err("cost_per_household must not be negative".into());
        }
        self.target.validate().map_err(|e| format!("target: {e}"))
    }
}

/// Money as a MAD decimal string in files.
mod mad {
    use sanad_domain::Money;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(m)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        Money::parse_mad(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_covers_every_domain() {
        let c = Catalogue::shipped();
        assert!((5..=8).contains(&c.measures().len()));
        for d in Domain::ALL {
            assert!(c.in_domain(d).next().is_some(), "no measure for {d:?}");
        }
        let school = c
            .measure(&MeasureId::parse("school-return").unwrap())
            .unwrap();
        assert_eq!(school.cost_per_household, Money::from_mad(1500));
    }

    #[test]
    fn the_catalogue_round_trips_through_json() {
        let c = Catalogue::shipped();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(Catalogue::from_json(&json).unwrap(), c);
    }

    #[test]
    fn bad_catalogues_are_refused_with_the_measure_named() {
        let c = Catalogue::shipped();
        let mut ms = c.measures().to_vec();
        ms.push(ms[0].clone());
        assert_eq!(
            Catalogue::new("x".into(), ms).unwrap_err(),
            CatalogueError::Duplicate(c.measures()[0].id.clone())
        );
        let mut ms = c.measures().to_vec();
        ms[1].capacity_per_antenna = 0;
        assert!(
            matches!(Catalogue::new("x".into(), ms), Err(CatalogueError::Invalid { measure, .. }) if measure == c.measures()[1].id)
        );
        let mut ms = c.measures().to_vec();
        ms[0].name.ar = " ".into();
        assert!(
            Catalogue::new("x".into(), ms)
                .unwrap_err()
                .to_string()
                .contains("name is blank in Ar")
        );
        let mut ms = c.measures().to_vec();
        ms[0].target = Rule::Any(vec![]);
        assert!(Catalogue::new("x".into(), ms).is_err());
        assert_eq!(
            Catalogue::new("x".into(), vec![]).unwrap_err(),
            CatalogueError::Empty
        );
        assert!(matches!(
            Catalogue::from_json("{\"version\": \"1\"}"),
            Err(CatalogueError::Json(_))
        ));
    }

    #[test]
    fn ids_and_amounts_are_checked_at_the_boundary() {
        assert!(MeasureId::parse("school-return").is_ok());
        assert!(MeasureId::parse("School").is_err());
        assert!(MeasureId::parse("").is_err());
        let bad = SHIPPED.replacen("\"1500.00\"", "\"1500,00\"", 1);
        assert!(matches!(
            Catalogue::from_json(&bad),
            Err(CatalogueError::Json(_))
        ));
    }
}

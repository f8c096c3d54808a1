//! The lists' rows: columns, vocabularies and the checks each row gets (the six cross-check
//! lists of verification, then the pilot's two administrative-outcome lists).

use chrono::{Datelike, NaiveDate};
use sanad_domain::{Disability, Idcs, Schooling};
use serde::{Deserialize, Serialize};

use super::{Fields, ListKind, Row, date};

/// A closed vocabulary with its wire names and `parse`.
macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
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

vocabulary!(
    /// The scheme paying family allowances.
    Scheme { Cnss = "cnss", Cmr = "cmr", Other = "other" }
);
vocabulary!(EmployerKind { State = "state", LocalAuthority = "local_authority", PublicInstitution = "public_institution" });
vocabulary!(PensionSector { Public = "public", Private = "private" });
vocabulary!(
    /// Level of public schooling, as the enrolment list names it.
    Level { Primary = "primary", College = "college", Secondary = "secondary", Vocational = "vocational" }
);

impl Level {
    /// The household record's schooling this level confirms.
    pub fn schooling(self) -> Schooling {
        match self {
            Level::Primary => Schooling::PublicPrimary,
            Level::College => Schooling::PublicCollege,
            Level::Secondary => Schooling::PublicSecondary,
            Level::Vocational => Schooling::PublicVocational,
        }
    }
}

/// A school year `2026-2027`, held as its first calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SchoolYear(pub i32);

impl SchoolYear {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a school year (YYYY-YYYY, consecutive years)");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let (a, b): (i32, i32) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
        if b != a + 1 || !(2000..=2100).contains(&a) {
            return Err(bad());
        }
        Ok(SchoolYear(a))
    }

    /// The school year `date` falls in, years starting in `start_month` (September: 9).
    pub fn containing(date: NaiveDate, start_month: u32) -> SchoolYear {
        SchoolYear(if date.month() >= start_month {
            date.year()
        } else {
            date.year() - 1
        })
    }
}

impl std::fmt::Display for SchoolYear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.0, self.0 + 1)
    }
}

/// A person receiving family allowances under another scheme (CNSS, CMR…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyAllowanceRow {
    pub idcs: Idcs,
    pub scheme: Scheme,
}

impl Row for FamilyAllowanceRow {
    const KIND: ListKind = ListKind::FamilyAllowance;
    const COLUMNS: &'static [&'static str] = &["idcs", "scheme"];
    fn parse(f: &mut Fields, _as_of: NaiveDate) -> Option<Self> {
        let idcs = f.take("idcs", Idcs::parse);
        let scheme = f.take("scheme", Scheme::parse);
        Some(FamilyAllowanceRow {
            idcs: idcs?,
            scheme: scheme?,
        })
    }
    fn idcs(&self) -> &Idcs {
        &self.idcs
    }
}

/// A person on the payroll of the State, a local authority or a public institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayrollRow {
    pub idcs: Idcs,
    pub employer_kind: EmployerKind,
    pub employer: String,
}

fn name(s: &str) -> Result<String, String> {
    let n = s.chars().count();
    if n == 0 || n > 120 || s.chars().any(char::is_control) {
        return Err("must be 1 to 120 printable characters".into());
    }
    Ok(s.to_owned())
}

impl Row for PayrollRow {
    const KIND: ListKind = ListKind::PublicPayroll;
    const COLUMNS: &'static [&'static str] = &["idcs", "employer_kind", "employer"];
    fn parse(f: &mut Fields, _as_of: NaiveDate) -> Option<Self> {
        let idcs = f.take("idcs", Idcs::parse);
        let employer_kind = f.take("employer_kind", EmployerKind::parse);
        let employer = f.take("employer", name);
        Some(PayrollRow {
            idcs: idcs?,
            employer_kind: employer_kind?,
            employer: employer?,
        })
    }
    fn idcs(&self) -> &Idcs {
        &self.idcs
    }
}

/// A person receiving a pension, public or private.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PensionRow {
    pub idcs: Idcs,
    pub fund: String,
    pub sector: PensionSector,
}

fn token(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 16
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!("'{s}' must be 1–16 letters, digits, '-' or '_'"))
    }
}

impl Row for PensionRow {
    const KIND: ListKind = ListKind::Pensions;
    const COLUMNS: &'static [&'static str] = &["idcs", "fund", "sector"];
    fn parse(f: &mut Fields, _as_of: NaiveDate) -> Option<Self> {
        let idcs = f.take("idcs", Idcs::parse);
        let fund = f.take("fund", token);
        let sector = f.take("sector", PensionSector::parse);
        Some(PensionRow {
            idcs: idcs?,
            fund: fund?,
            sector: sector?,
        })
    }
    fn idcs(&self) -> &Idcs {
        &self.idcs
    }
}

/// A death recorded by the civil registry. One row per person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeathRow {
    pub idcs: Idcs,
    pub death_date: NaiveDate,
}

fn not_after(d: NaiveDate, as_of: NaiveDate) -> Result<NaiveDate, String> {
    if d > as_of {
        Err(format!("{d} is after the list's date {as_of}"))
    } else {
        Ok(d)
    }
}

impl Row for DeathRow {
    const KIND: ListKind = ListKind::Deaths;
    const COLUMNS: &'static [&'static str] = &["idcs", "death_date"];
    fn parse(f: &mut Fields, as_of: NaiveDate) -> Option<Self> {
        let idcs = f.take("idcs", Idcs::parse);
        let death_date = f.take("death_date", |s| not_after(date(s)?, as_of));
        Some(DeathRow {
            idcs: idcs?,
            death_date: death_date?,
        })
    }
    fn idcs(&self) -> &Idcs {
        &self.idcs
    }
    fn unique_key(&self) -> Option<String> {
        Some(format!("person {}", self.idcs))
    }
}

/// A pupil enrolled in a public school for a school year. One row per person and year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentRow {
    pub idcs: Idcs,
    pub school_year: SchoolYear,
    pub level: Level,
}

impl Row for EnrolmentRow {
    const KIND: ListKind = ListKind::SchoolEnrolment;
    const COLUMNS: &'static [&'static str] = &["idcs", "school_year", "level"];
    fn parse(f: &mut Fields, as_of: NaiveDate) -> Option<Self> {
        let idcs = f.take("idcs", Idcs::parse);
        let school_year = f.take("school_year", SchoolYear::parse);
        let level = f.take("level", Level::parse);
        // Enrolment for a year that starts after next calendar year cannot be known yet.
        if let Some(y) = school_year.filter(|y| y.0 > as_of.year() + 1) {
            f.reject(
                "school_year",
                format!("{y} starts too long after the list's date {as_of}"),
            );
            return None;
        }
        Some(EnrolmentRow {
            idcs: idcs?,
            school_year: school_year?,
            level: level?,
        })
    }
    fn idcs(&self) -> &Idcs {
        &self.idcs
    }
    fn unique_key(&self) -> Option<String> {
        Some(format!("person {} for {}", self.idcs, self.school_year))
    }
}

/// A disability card: severity and validity (`valid_to` empty: no end date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisabilityCardRow {
    pub idcs: Idcs,
    pub severity: Disability,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

impl DisabilityCardRow {
    pub fn valid_on(&self, d: NaiveDate) -> bool {
        self.valid_from <= d && self.valid_to.is_none_or(|t| d <= t)
    }
}

impl Row for DisabilityCardRow {
    const KIND: ListKind = ListKind::DisabilityCards;
    const COLUMNS: &'static [&'static str] = &["idcs", "severity", "valid_from", "valid_to"];
    fn parse(f: &mut Fields, as_of: NaiveDate) -> Option<Self> {
        let idcs = f.take("idcs", Idcs::parse);
        let severity = f.take("severity", |s| match Disability::parse(s)? {
            Disability::None => Err("a card has a severity, not 'none'".into()),
            d => Ok(d),
        });
        let valid_from = f.take("valid_from", |s| not_after(date(s)?, as_of));
        let valid_to = f.take("valid_to", |s| {
            if s.is_empty() {
                Ok(None)
            } else {
                date(s).map(Some)
            }
        });
        if let (Some(from), Some(Some(to))) = (valid_from, valid_to)
            && to < from
        {
            f.reject("valid_to", format!("{to} is before valid_from {from}"));
            return None;
        }
        Some(DisabilityCardRow {
            idcs: idcs?,
            severity: severity?,
            valid_from: valid_from?,
            valid_to: valid_to?,
        })
    }
    fn idcs(&self) -> &Idcs {
        &self.idcs
    }
}

// ---- the pilot's administrative outcomes (issue 7) ----

vocabulary!(
    /// What a health-centre visit was for, as the health information system codes it.
    VisitType {
        Consultation = "consultation",
        Prenatal = "prenatal",
        Postnatal = "postnatal",
        Vaccination = "vaccination",
        GrowthMonitoring = "growth_monitoring",
        Other = "other",
    }
);

/// One visit of a person to a health centre (ESSP). A person has as many rows as visits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthVisitRow {
    pub idcs: Idcs,
    pub visit_date: NaiveDate,
    /// The health centre's code (1–16 letters, digits, `-` or `_`).
    pub centre: String,
    pub visit_type: VisitType,
}

impl HealthVisitRow {
    /// Whether the visit falls in `[from, to]`.
    pub fn within(&self, from: NaiveDate, to: NaiveDate) -> bool {
        from <= self.visit_date && self.visit_date <= to
    }
}

impl Row for HealthVisitRow {
    const KIND: ListKind = ListKind::HealthVisits;
    const COLUMNS: &'static [&'static str] = &["idcs", "visit_date", "centre", "visit_type"];
    fn parse(f: &mut Fields, as_of: NaiveDate) -> Option<Self> {
        let idcs = f.take("idcs", Idcs::parse);
        let visit_date = f.take("visit_date", |s| not_after(date(s)?, as_of));
        let centre = f.take("centre", token);
        let visit_type = f.take("visit_type", VisitType::parse);
        Some(HealthVisitRow {
            idcs: idcs?,
            visit_date: visit_date?,
            centre: centre?,
            visit_type: visit_type?,
        })
    }
    fn idcs(&self) -> &Idcs {
        &self.idcs
    }
    // The same visit twice would count twice: a repeated row is a mistake of the extract.
    fn unique_key(&self) -> Option<String> {
        Some(format!(
            "visit of {} on {} at {} ({})",
            self.idcs,
            self.visit_date,
            self.centre,
            self.visit_type.as_str()
        ))
    }
}

vocabulary!(
    /// Who declares the person to the CNSS.
    EmployerType {
        Company = "company",
        PublicEnterprise = "public_enterprise",
        Cooperative = "cooperative",
        Association = "association",
        HouseholdEmployer = "household_employer",
    }
);

/// A period of declared salaried employment (CNSS affiliation), open while `affiliated_to`
/// is empty. A person has one row per period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffiliationRow {
    pub idcs: Idcs,
    pub affiliated_from: NaiveDate,
    pub affiliated_to: Option<NaiveDate>,
    pub employer_type: EmployerType,
}

impl AffiliationRow {
    /// Formally employed on `d`: the period has started and not ended.
    pub fn active_on(&self, d: NaiveDate) -> bool {
        self.affiliated_from <= d && self.affiliated_to.is_none_or(|t| d <= t)
    }
}

impl Row for AffiliationRow {
    const KIND: ListKind = ListKind::CnssAffiliation;
    const COLUMNS: &'static [&'static str] =
        &["idcs", "affiliated_from", "affiliated_to", "employer_type"];
    fn parse(f: &mut Fields, as_of: NaiveDate) -> Option<Self> {
        let idcs = f.take("idcs", Idcs::parse);
        let from = f.take("affiliated_from", |s| not_after(date(s)?, as_of));
        let to = f.take("affiliated_to", |s| {
            if s.is_empty() {
                Ok(None)
            } else {
                not_after(date(s)?, as_of).map(Some)
            }
        });
        let employer_type = f.take("employer_type", EmployerType::parse);
        if let (Some(from), Some(Some(to))) = (from, to)
            && to < from
        {
            f.reject(
                "affiliated_to",
                format!("{to} is before affiliated_from {from}"),
            );
            return None;
        }
        Some(AffiliationRow {
            idcs: idcs?,
            affiliated_from: from?,
            affiliated_to: to?,
            employer_type: employer_type?,
        })
    }
    fn idcs(&self) -> &Idcs {
        &self.idcs
    }
    fn unique_key(&self) -> Option<String> {
        Some(format!(
            "period of {} from {}",
            self.idcs, self.affiliated_from
        ))
    }
}

//! The RSU/RNP feed format (`docs/formats.md`): JSON lines, one household per line with its
//! members, after an optional header line. Fields are read as plain strings first so that a
//! bad value is reported with its field name, then parsed into domain types.

use chrono::NaiveDate;
use sanad_domain::household::HouseholdParts;
use sanad_domain::{
    Area, Cnie, CrossCheck, CrossChecks, Disability, FieldError, Household, HouseholdStatus, Idcs,
    MaritalStatus, PaymentInstrument, Person, Phone, RegionCode, Relation, Residence, RsuId,
    Schooling, Score, ScoreHistory, ScoreRecord, Sex,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The optional first line: `{"feed":"sanad-rsu","version":1,"as_of":"2026-11-01"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedHeader {
    pub feed: String,
    pub version: u32,
    /// The date the extract was taken: dates after it are impossible.
    pub as_of: NaiveDate,
}

impl FeedHeader {
    pub const FEED: &'static str = "sanad-rsu";
    pub const VERSION: u32 = 1;

    pub fn new(as_of: NaiveDate) -> Self {
        FeedHeader {
            feed: Self::FEED.into(),
            version: Self::VERSION,
            as_of,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedHousehold<'a> {
    // Fields parsed into other types are borrowed from the line where JSON allows (no
    // escapes): a national feed would otherwise allocate and free 200 M strings.
    #[serde(borrow)]
    pub rsu_id: Cow<'a, str>,
    #[serde(borrow)]
    pub region: Cow<'a, str>,
    pub province: String,
    pub commune: String,
    #[serde(borrow)]
    pub area: Cow<'a, str>,
    #[serde(borrow)]
    pub registrant: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<FeedInstrument>,
    #[serde(borrow)]
    pub status: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<FeedScore>,
    #[serde(borrow)]
    pub members: Vec<FeedMember<'a>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedInstrument {
    /// `bank`, `wallet` or `cash_out`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rib: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedScore {
    /// The index, with at most six decimals.
    pub value: f64,
    pub computed_on: String,
    pub valid_from: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedMember<'a> {
    #[serde(borrow)]
    pub idcs: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnie: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub first_name_ar: String,
    pub last_name_ar: String,
    #[serde(borrow)]
    pub sex: Cow<'a, str>,
    #[serde(borrow)]
    pub birth_date: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub death_date: Option<String>,
    #[serde(borrow)]
    pub relation: Cow<'a, str>,
    #[serde(borrow)]
    pub marital_status: Cow<'a, str>,
    #[serde(borrow)]
    pub schooling: Cow<'a, str>,
    #[serde(borrow)]
    pub disability: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub father_deceased: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_employee: Option<FeedCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pensioner: Option<FeedCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_allowance: Option<FeedCheck>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedCheck {
    pub source: String,
    pub date: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Collects field errors while parsing, so that one row reports all of its problems.
struct Errors(Vec<FieldError>);

impl Errors {
    fn take<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        r.map_err(|e| self.0.push(FieldError::new(field, e))).ok()
    }
}

fn date(s: &str) -> Result<NaiveDate, String> {
    iso_date(s)
        .or_else(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .ok_or_else(|| format!("'{s}' is not a date (YYYY-MM-DD)"))
}

/// `YYYY-MM-DD` read digit by digit: chrono's parser reads its format string again for
/// each of a national feed's 30 M dates (2 % of a load). Other spellings it accepts go to it.
fn iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(number(&b[0..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, number(&b[5..7])?, number(&b[8..10])?)
}

impl FeedHousehold<'_> {
    /// Parse every field and check the household's invariants as of `as_of`.
    pub fn into_household(self, as_of: NaiveDate) -> Result<Household, Vec<FieldError>> {
        let mut e = Errors(Vec::new());
        let rsu_id = e.take("rsu_id", RsuId::parse(&self.rsu_id));
        let region = e.take("region", RegionCode::parse(&self.region));
        let area = e.take("area", Area::parse(&self.area));
        let registrant = e.take("registrant", Idcs::parse(&self.registrant));
        let phone = e.take("phone", self.phone.as_deref().map(Phone::parse).transpose());
        let instrument = e.take(
            "instrument",
            self.instrument.map(FeedInstrument::parse).transpose(),
        );
        let status = e.take("status", HouseholdStatus::parse(&self.status));
        let score = self.score.and_then(|s| {
            let value = e.take("score.value", Score::try_from(s.value));
            let computed_on = e.take("score.computed_on", date(&s.computed_on));
            let valid_from = e.take("score.valid_from", date(&s.valid_from));
            Some(ScoreRecord {
                value: value?,
                computed_on: computed_on?,
                valid_from: valid_from?,
            })
        });
        let mut members = Vec::with_capacity(self.members.len());
        for (i, m) in self.members.into_iter().enumerate() {
            let mut inner = Errors(Vec::new());
            let person = m.parse(&mut inner);
            e.0.extend(
                inner
                    .0
                    .into_iter()
                    .map(|x| x.within(&format!("members[{i}]"))),
            );
            members.extend(person);
        }
        let (
            Some(rsu_id),
            Some(region),
            Some(area),
            Some(registrant),
            Some(phone),
            Some(instrument),
            Some(status),
        ) = (rsu_id, region, area, registrant, phone, instrument, status)
        else {
            return Err(e.0);
        };
        if !e.0.is_empty() {
            return Err(e.0);
        }
        let parts = HouseholdParts {
            rsu_id,
            residence: Residence {
                region,
                province: self.province,
                commune: self.commune,
                area,
            },
            registrant,
            phone,
            instrument,
            status,
            members,
            scores: ScoreHistory::new(score.into_iter().collect()),
        };
        Household::new(parts, as_of)
    }

    /// The feed record of a valid household (its latest score only).
    pub fn from_household(h: &Household) -> FeedHousehold<'static> {
        FeedHousehold {
            rsu_id: h.rsu_id.to_string().into(),
            region: h.residence.region.as_str().into(),
            province: h.residence.province.clone(),
            commune: h.residence.commune.clone(),
            area: h.residence.area.as_str().into(),
            registrant: h.registrant.to_string().into(),
            phone: h.phone.as_ref().map(ToString::to_string),
            instrument: h.instrument.as_ref().map(FeedInstrument::from_domain),
            status: h.status.as_str().into(),
            score: h.scores.latest().map(|s| FeedScore {
                value: s.value.into(),
                computed_on: s.computed_on.to_string(),
                valid_from: s.valid_from.to_string(),
            }),
            members: h.members.iter().map(FeedMember::from_person).collect(),
        }
    }
}

impl FeedInstrument {
    fn parse(self) -> Result<PaymentInstrument, String> {
        let need = |v: Option<String>, what: &str| {
            v.ok_or_else(|| format!("a {} instrument needs '{what}'", self.kind))
        };
        let i = match self.kind.as_str() {
            "bank" => PaymentInstrument::Bank {
                rib: need(self.rib.clone(), "rib")?.parse()?,
            },
            "wallet" => PaymentInstrument::Wallet {
                provider: need(self.provider.clone(), "provider")?,
                reference: need(self.reference.clone(), "reference")?,
            },
            "cash_out" => PaymentInstrument::CashOut {
                provider: need(self.provider.clone(), "provider")?,
                reference: need(self.reference.clone(), "reference")?,
            },
            k => return Err(format!("'{k}' is not one of: bank, wallet, cash_out")),
        };
        i.validate()?;
        Ok(i)
    }

    fn from_domain(i: &PaymentInstrument) -> FeedInstrument {
        let (rib, provider, reference) = match i {
            PaymentInstrument::Bank { rib } => (Some(rib.to_string()), None, None),
            PaymentInstrument::Wallet {
                provider,
                reference,
            }
            | PaymentInstrument::CashOut {
                provider,
                reference,
            } => (None, Some(provider.clone()), Some(reference.clone())),
        };
        FeedInstrument {
            kind: i.kind().into(),
            rib,
            provider,
            reference,
        }
    }
}

impl FeedCheck {
    fn parse(self, field: &str, e: &mut Errors) -> Option<CrossCheck> {
        let date = e.take(&format!("{field}.date"), date(&self.date))?;
        if self.source.trim().is_empty() {
            e.0.push(FieldError::new(
                format!("{field}.source"),
                "must name the list",
            ));
            return None;
        }
        Some(CrossCheck {
            source: self.source,
            date,
        })
    }

    fn from_domain(c: &Option<CrossCheck>) -> Option<FeedCheck> {
        c.as_ref().map(|c| FeedCheck {
            source: c.source.clone(),
            date: c.date.to_string(),
        })
    }
}

impl FeedMember<'_> {
    fn parse(self, e: &mut Errors) -> Option<Person> {
        let idcs = e.take("idcs", Idcs::parse(&self.idcs));
        let cnie = e.take("cnie", self.cnie.as_deref().map(Cnie::parse).transpose());
        let sex = e.take("sex", Sex::parse(&self.sex));
        let birth_date = e.take("birth_date", date(&self.birth_date));
        let death_date = e.take(
            "death_date",
            self.death_date.as_deref().map(date).transpose(),
        );
        let relation = e.take("relation", Relation::parse(&self.relation));
        let marital_status = e.take("marital_status", MaritalStatus::parse(&self.marital_status));
        let schooling = e.take("schooling", Schooling::parse(&self.schooling));
        let disability = e.take("disability", Disability::parse(&self.disability));
        let mut check = |c: Option<FeedCheck>, f: &str| match c {
            None => Some(None),
            Some(c) => c.parse(f, e).map(Some),
        };
        let checks = CrossChecks {
            public_employee: check(self.public_employee, "public_employee")?,
            pensioner: check(self.pensioner, "pensioner")?,
            family_allowance: check(self.family_allowance, "family_allowance")?,
        };
        Some(Person {
            idcs: idcs?,
            cnie: cnie?,
            first_name: self.first_name,
            last_name: self.last_name,
            first_name_ar: self.first_name_ar,
            last_name_ar: self.last_name_ar,
            sex: sex?,
            birth_date: birth_date?,
            death_date: death_date?,
            relation: relation?,
            marital_status: marital_status?,
            schooling: schooling?,
            disability: disability?,
            father_deceased: self.father_deceased,
            checks,
        })
    }

    fn from_person(p: &Person) -> FeedMember<'static> {
        FeedMember {
            idcs: p.idcs.to_string().into(),
            cnie: p.cnie.as_ref().map(ToString::to_string),
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            first_name_ar: p.first_name_ar.clone(),
            last_name_ar: p.last_name_ar.clone(),
            sex: p.sex.as_str().into(),
            birth_date: p.birth_date.to_string().into(),
            death_date: p.death_date.map(|d| d.to_string()),
            relation: p.relation.as_str().into(),
            marital_status: p.marital_status.as_str().into(),
            schooling: p.schooling.as_str().into(),
            disability: p.disability.as_str().into(),
            father_deceased: p.father_deceased,
            public_employee: FeedCheck::from_domain(&p.checks.public_employee),
            pensioner: FeedCheck::from_domain(&p.checks.pensioner),
            family_allowance: FeedCheck::from_domain(&p.checks.family_allowance),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields borrowed from the line still read when JSON escapes them.
    #[test]
    fn escaped_fields_read_as_plain_ones() {
        let example = include_str!("../../../docs/examples/rsu-feed.jsonl");
        let line = example.lines().nth(1).expect("a household line");
        let escaped = line
            .replacen(
                r#""rsu_id": "100000000001""#,
                r#""rsu_id": "1000000000\u00301""#,
                1,
            )
            .replacen(r#""area": "urban""#, r#""area": "urb\u0061n""#, 1);
        assert_ne!(escaped, line);
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let read = |text: &str| {
            serde_json::from_str::<FeedHousehold>(text)
                .unwrap()
                .into_household(as_of)
                .unwrap()
        };
        assert_eq!(read(&escaped), read(line));
    }

    #[test]
    fn dates_read_as_chrono_reads_them() {
        for s in [
            "2024-02-29",
            "2023-02-29",
            "1900-01-01",
            "0987-12-31",
            "2024-13-01",
            "2024-00-10",
            "2024-1-05",
            "2024-01-5x",
            "20x4-01-05",
            "+2024-01-05",
            "2024/01/05",
            "",
        ] {
            let chrono = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
            assert_eq!(date(s).ok(), chrono, "{s}");
        }
        assert_eq!(
            iso_date("2026-11-30"),
            NaiveDate::from_ymd_opt(2026, 11, 30)
        );
        assert_eq!(iso_date("2024-1-05"), None);
    }
}

//! Flat rows as both backends store them, and their conversion to and from the domain.
//! Keeping this here means the two adapters differ only in SQL dialect and bulk path.

use chrono::{Datelike, NaiveDate};
use sanad_domain::household::HouseholdParts;
use sanad_domain::{
    Area, Cnie, CrossCheck, CrossChecks, Disability, Household, HouseholdStatus, Idcs,
    MaritalStatus, PaymentInstrument, Person, Phone, RegionCode, Relation, Residence, Rib, RsuId,
    Schooling, Score, ScoreHistory, ScoreRecord, Sex,
};

use crate::StoreError;

/// Column lists, in bind order, shared by the INSERT statements of both backends.
pub const HOUSEHOLD_COLUMNS: &[&str] = &[
    "rsu_id",
    "region",
    "province",
    "commune",
    "area",
    "registrant",
    "phone",
    "instrument_kind",
    "instrument_provider",
    "instrument_ref",
    "status",
    "content_hash",
];
pub const PERSON_COLUMNS: &[&str] = &[
    "idcs",
    "household_id",
    "position",
    "cnie",
    "first_name",
    "last_name",
    "first_name_ar",
    "last_name_ar",
    "sex",
    "birth_date",
    "death_date",
    "relation",
    "marital_status",
    "schooling",
    "disability",
    "father_deceased",
    "public_employee_source",
    "public_employee_date",
    "pensioner_source",
    "pensioner_date",
    "family_allowance_source",
    "family_allowance_date",
];
pub const SCORE_COLUMNS: &[&str] = &[
    "household_id",
    "value_millionths",
    "computed_on",
    "valid_from",
];

/// A row's values in its `*_COLUMNS` order, as an array of references: each adapter coerces
/// it to its own field trait (bound values on SQLite, COPY fields on PostgreSQL), so the
/// column order is written once, here.
#[macro_export]
macro_rules! household_values {
    ($h:expr) => {
        [
            &$h.rsu_id,
            &$h.region,
            &$h.province,
            &$h.commune,
            &$h.area,
            &$h.registrant,
            &$h.phone,
            &$h.instrument_kind,
            &$h.instrument_provider,
            &$h.instrument_ref,
            &$h.status,
            &$h.content_hash,
        ]
    };
}

/// See [`household_values!`].
#[macro_export]
macro_rules! person_values {
    ($p:expr) => {
        [
            &$p.idcs,
            &$p.household_id,
            &$p.position,
            &$p.cnie,
            &$p.first_name,
            &$p.last_name,
            &$p.first_name_ar,
            &$p.last_name_ar,
            &$p.sex,
            &$p.birth_date,
            &$p.death_date,
            &$p.relation,
            &$p.marital_status,
            &$p.schooling,
            &$p.disability,
            &$p.father_deceased,
            &$p.public_employee_source,
            &$p.public_employee_date,
            &$p.pensioner_source,
            &$p.pensioner_date,
            &$p.family_allowance_source,
            &$p.family_allowance_date,
        ]
    };
}

/// See [`household_values!`].
#[macro_export]
macro_rules! score_values {
    ($s:expr) => {
        [
            &$s.household_id,
            &$s.value_millionths,
            &$s.computed_on,
            &$s.valid_from,
        ]
    };
}

/// The rows' texts are owned (`String`) when read back, and borrowed from the household
/// (`&str`) when written: a national load would otherwise copy 300 M strings.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdRow<S = String> {
    pub rsu_id: S,
    pub region: S,
    pub province: S,
    pub commune: S,
    pub area: S,
    pub registrant: S,
    pub phone: Option<S>,
    pub instrument_kind: Option<S>,
    pub instrument_provider: Option<S>,
    pub instrument_ref: Option<S>,
    pub status: S,
    pub content_hash: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PersonRow<S = String> {
    pub idcs: S,
    pub household_id: S,
    pub position: i32,
    pub cnie: Option<S>,
    pub first_name: S,
    pub last_name: S,
    pub first_name_ar: S,
    pub last_name_ar: S,
    pub sex: S,
    pub birth_date: NaiveDate,
    pub death_date: Option<NaiveDate>,
    pub relation: S,
    pub marital_status: S,
    pub schooling: S,
    pub disability: S,
    pub father_deceased: bool,
    pub public_employee_source: Option<S>,
    pub public_employee_date: Option<NaiveDate>,
    pub pensioner_source: Option<S>,
    pub pensioner_date: Option<NaiveDate>,
    pub family_allowance_source: Option<S>,
    pub family_allowance_date: Option<NaiveDate>,
}

/// A person as the fuzzy name match compares them (`DuplicateEvidence::namesakes`).
#[derive(Debug, Clone, PartialEq)]
pub struct Namesake {
    pub idcs: String,
    pub household_id: String,
    pub cnie: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub first_name_ar: String,
    pub last_name_ar: String,
    pub birth_date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRow<S = String> {
    pub household_id: S,
    pub value_millionths: i64,
    pub computed_on: NaiveDate,
    pub valid_from: NaiveDate,
}

/// An instrument's columns: kind, provider, reference.
fn instrument_columns(i: &PaymentInstrument) -> (&'static str, Option<&str>, &str) {
    match i {
        PaymentInstrument::Bank { rib } => ("bank", None, rib.as_str()),
        PaymentInstrument::Wallet {
            provider,
            reference,
        } => ("wallet", Some(provider), reference),
        PaymentInstrument::CashOut {
            provider,
            reference,
        } => ("cash_out", Some(provider), reference),
    }
}

/// The `instrument_ref` column of an instrument (the RIB, or the provider's reference).
pub fn to_instrument_ref(i: &PaymentInstrument) -> String {
    instrument_columns(i).2.to_owned()
}

/// A household as the rows of the three tables, borrowing its texts.
pub fn to_rows(
    h: &Household,
    content_hash: i64,
) -> (
    HouseholdRow<&str>,
    Vec<PersonRow<&str>>,
    Vec<ScoreRow<&str>>,
) {
    let (kind, provider, reference) = match h.instrument.as_ref().map(instrument_columns) {
        None => (None, None, None),
        Some((k, p, r)) => (Some(k), p, Some(r)),
    };
    let id = h.rsu_id.as_str();
    let row = HouseholdRow {
        rsu_id: id,
        region: h.residence.region.as_str(),
        province: &h.residence.province,
        commune: &h.residence.commune,
        area: h.residence.area.as_str(),
        registrant: h.registrant.as_str(),
        phone: h.phone.as_ref().map(|p| p.as_str()),
        instrument_kind: kind,
        instrument_provider: provider,
        instrument_ref: reference,
        status: h.status.as_str(),
        content_hash,
    };
    let persons = h
        .members
        .iter()
        .enumerate()
        .map(|(i, p)| person_row(id, i as i32, p))
        .collect();
    let scores = h
        .scores
        .records()
        .iter()
        .map(|s| ScoreRow {
            household_id: id,
            value_millionths: s.value.millionths(),
            computed_on: s.computed_on,
            valid_from: s.valid_from,
        })
        .collect();
    (row, persons, scores)
}

fn person_row<'a>(household: &'a str, position: i32, p: &'a Person) -> PersonRow<&'a str> {
    let split = |c: &'a Option<CrossCheck>| {
        (
            c.as_ref().map(|c| c.source.as_str()),
            c.as_ref().map(|c| c.date),
        )
    };
    let (pe_s, pe_d) = split(&p.checks.public_employee);
    let (pn_s, pn_d) = split(&p.checks.pensioner);
    let (fa_s, fa_d) = split(&p.checks.family_allowance);
    PersonRow {
        idcs: p.idcs.as_str(),
        household_id: household,
        position,
        cnie: p.cnie.as_ref().map(|c| c.as_str()),
        first_name: &p.first_name,
        last_name: &p.last_name,
        first_name_ar: &p.first_name_ar,
        last_name_ar: &p.last_name_ar,
        sex: p.sex.as_str(),
        birth_date: p.birth_date,
        death_date: p.death_date,
        relation: p.relation.as_str(),
        marital_status: p.marital_status.as_str(),
        schooling: p.schooling.as_str(),
        disability: p.disability.as_str(),
        father_deceased: p.father_deceased,
        public_employee_source: pe_s,
        public_employee_date: pe_d,
        pensioner_source: pn_s,
        pensioner_date: pn_d,
        family_allowance_source: fa_s,
        family_allowance_date: fa_d,
    }
}

fn corrupt(what: &str) -> impl Fn(String) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

/// A payment instrument from its three columns.
pub fn instrument(
    kind: Option<&str>,
    provider: Option<String>,
    reference: Option<String>,
) -> Result<Option<PaymentInstrument>, String> {
    Ok(match (kind, provider, reference) {
        (None, _, _) => None,
        (Some("bank"), _, Some(r)) => Some(PaymentInstrument::Bank {
            rib: Rib::parse(&r)?,
        }),
        (Some("wallet"), Some(provider), Some(reference)) => Some(PaymentInstrument::Wallet {
            provider,
            reference,
        }),
        (Some("cash_out"), Some(provider), Some(reference)) => Some(PaymentInstrument::CashOut {
            provider,
            reference,
        }),
        (Some(k), _, _) => return Err(format!("bad instrument '{k}'")),
    })
}

/// A date of years 0–9999 written without allocating (29 M rows of a national load
/// carry one or more); `None` past year 9999.
pub fn iso_date(d: NaiveDate, buf: &mut [u8; 10]) -> Option<&str> {
    let year = u32::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
    let digits = |out: &mut [u8], mut v: u32| {
        for b in out.iter_mut().rev() {
            *b = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    digits(&mut buf[0..4], year);
    buf[4] = b'-';
    digits(&mut buf[5..7], d.month());
    buf[7] = b'-';
    digits(&mut buf[8..10], d.day());
    std::str::from_utf8(buf).ok()
}

/// Rebuild a household from its rows; the invariants are checked again, as of `today`.
pub fn from_rows(
    h: HouseholdRow,
    persons: Vec<PersonRow>,
    scores: Vec<ScoreRow>,
    today: NaiveDate,
) -> Result<Household, StoreError> {
    let ctx = format!("household {}", h.rsu_id);
    let c = corrupt(&ctx);
    let instrument = instrument(
        h.instrument_kind.as_deref(),
        h.instrument_provider,
        h.instrument_ref,
    )
    .map_err(&c)?;
    let members = persons
        .into_iter()
        .map(|p| person_from_row(p, &c))
        .collect::<Result<Vec<_>, _>>()?;
    let records = scores
        .into_iter()
        .map(|s| ScoreRecord {
            value: Score::from_millionths(s.value_millionths),
            computed_on: s.computed_on,
            valid_from: s.valid_from,
        })
        .collect();
    let parts = HouseholdParts {
        rsu_id: RsuId::parse(&h.rsu_id).map_err(&c)?,
        residence: Residence {
            region: RegionCode::parse(&h.region).map_err(&c)?,
            province: h.province,
            commune: h.commune,
            area: Area::parse(&h.area).map_err(&c)?,
        },
        registrant: Idcs::parse(&h.registrant).map_err(&c)?,
        phone: h
            .phone
            .as_deref()
            .map(Phone::parse)
            .transpose()
            .map_err(&c)?,
        instrument,
        status: HouseholdStatus::parse(&h.status).map_err(&c)?,
        members,
        scores: ScoreHistory::new(records),
    };
    Household::new(parts, today).map_err(|errs| {
        c(errs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "))
    })
}

fn person_from_row(p: PersonRow, c: &impl Fn(String) -> StoreError) -> Result<Person, StoreError> {
    let check = |s: Option<String>, d: Option<NaiveDate>| {
        s.zip(d).map(|(source, date)| CrossCheck { source, date })
    };
    Ok(Person {
        idcs: Idcs::parse(&p.idcs).map_err(c)?,
        cnie: p.cnie.as_deref().map(Cnie::parse).transpose().map_err(c)?,
        first_name: p.first_name,
        last_name: p.last_name,
        first_name_ar: p.first_name_ar,
        last_name_ar: p.last_name_ar,
        sex: Sex::parse(&p.sex).map_err(c)?,
        birth_date: p.birth_date,
        death_date: p.death_date,
        relation: Relation::parse(&p.relation).map_err(c)?,
        marital_status: MaritalStatus::parse(&p.marital_status).map_err(c)?,
        schooling: Schooling::parse(&p.schooling).map_err(c)?,
        disability: Disability::parse(&p.disability).map_err(c)?,
        father_deceased: p.father_deceased,
        checks: CrossChecks {
            public_employee: check(p.public_employee_source, p.public_employee_date),
            pensioner: check(p.pensioner_source, p.pensioner_date),
            family_allowance: check(p.family_allowance_source, p.family_allowance_date),
        },
    })
}

/// Decoding rows for any sqlx backend whose types map the way ours do (SQLite and PostgreSQL),
/// so the adapters share one mapping and differ only in SQL and bulk paths.
pub mod decode {
    use super::*;
    use sqlx::{ColumnIndex, Decode, Row, Type};

    /// Typed column access for any backend that decodes Sanad's column types.
    pub trait SanadRow: Row
    where
        for<'a> &'a str: ColumnIndex<Self>,
    {
        fn text(&self, col: &str) -> Result<String, sqlx::Error>;
        fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error>;
        fn date(&self, col: &str) -> Result<NaiveDate, sqlx::Error>;
        fn opt_date(&self, col: &str) -> Result<Option<NaiveDate>, sqlx::Error>;
        fn int(&self, col: &str) -> Result<i64, sqlx::Error>;
        fn opt_int(&self, col: &str) -> Result<Option<i64>, sqlx::Error>;
        fn flag(&self, col: &str) -> Result<bool, sqlx::Error>;
    }

    impl<R> SanadRow for R
    where
        R: Row,
        for<'a> &'a str: ColumnIndex<R>,
        for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
        for<'r> NaiveDate: Decode<'r, R::Database> + Type<R::Database>,
        for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
        for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    {
        fn text(&self, col: &str) -> Result<String, sqlx::Error> {
            self.try_get(col)
        }
        fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error> {
            self.try_get(col)
        }
        fn date(&self, col: &str) -> Result<NaiveDate, sqlx::Error> {
            self.try_get(col)
        }
        fn opt_date(&self, col: &str) -> Result<Option<NaiveDate>, sqlx::Error> {
            self.try_get(col)
        }
        fn int(&self, col: &str) -> Result<i64, sqlx::Error> {
            self.try_get(col)
        }
        fn opt_int(&self, col: &str) -> Result<Option<i64>, sqlx::Error> {
            self.try_get(col)
        }
        fn flag(&self, col: &str) -> Result<bool, sqlx::Error> {
            self.try_get(col)
        }
    }

    pub fn summary<R: SanadRow>(r: &R) -> Result<crate::HouseholdSummary, sqlx::Error>
    where
        for<'a> &'a str: ColumnIndex<R>,
    {
        let bad = |e: String| sqlx::Error::Decode(e.into());
        Ok(crate::HouseholdSummary {
            rsu_id: RsuId::parse(&r.text("rsu_id")?).map_err(bad)?,
            region: RegionCode::parse(&r.text("region")?).map_err(bad)?,
            province: r.text("province")?,
            commune: r.text("commune")?,
            status: r.text("status")?,
            head_name: r.opt_text("head_name")?.unwrap_or_default(),
            members: r.int("members")?,
            score: r.opt_int("score")?.map(Score::from_millionths),
        })
    }

    pub fn region_count<R: SanadRow>(r: &R) -> Result<crate::RegionCount, sqlx::Error>
    where
        for<'a> &'a str: ColumnIndex<R>,
    {
        Ok(crate::RegionCount {
            region: RegionCode::parse(&r.text("region")?)
                .map_err(|e| sqlx::Error::Decode(e.into()))?,
            households: r.int("households")?,
            persons: r.int("persons")?,
        })
    }

    pub fn rule_set<R: SanadRow>(r: &R) -> Result<crate::StoredRuleSet, sqlx::Error>
    where
        for<'a> &'a str: ColumnIndex<R>,
    {
        let status = match r.text("status")?.as_str() {
            "approved" => crate::RuleSetStatus::Approved,
            _ => crate::RuleSetStatus::Proposed,
        };
        Ok(crate::StoredRuleSet {
            id: r.text("id")?,
            effective_from: r.date("effective_from")?,
            body: r.text("body")?,
            status,
            proposed_by: r.text("proposed_by")?,
            proposed_at: r.text("proposed_at")?,
            approved_by: r.opt_text("approved_by")?,
            approved_at: r.opt_text("approved_at")?,
        })
    }

    fn corrupt(col: &str, e: String) -> sqlx::Error {
        sqlx::Error::ColumnDecode {
            index: col.to_owned(),
            source: e.into(),
        }
    }

    pub fn user<R: SanadRow>(r: &R) -> Result<crate::access::User, sqlx::Error>
    where
        for<'a> &'a str: ColumnIndex<R>,
    {
        Ok(crate::access::User {
            username: r.text("username")?,
            display_name: r.text("display_name")?,
            role: sanad_domain::Role::parse(&r.text("role")?).map_err(|e| corrupt("role", e))?,
            scope: crate::Scope::parse(&r.text("scope")?).map_err(|e| corrupt("scope", e))?,
            locale: r.text("locale")?,
            password_hash: r.text("password_hash")?,
            failed_logins: r.int("failed_logins")?,
            locked_until: r.opt_int("locked_until")?,
            active: r.int("active")? != 0,
            created_at: r.text("created_at")?,
        })
    }

    pub fn session<R: SanadRow>(r: &R) -> Result<crate::access::Session, sqlx::Error>
    where
        for<'a> &'a str: ColumnIndex<R>,
    {
        Ok(crate::access::Session {
            id_hash: r.text("id_hash")?,
            username: r.text("username")?,
            csrf: r.text("csrf")?,
            created_at: r.int("created_at")?,
            last_seen: r.int("last_seen")?,
        })
    }

    pub fn token<R: SanadRow>(r: &R) -> Result<crate::access::ApiToken, sqlx::Error>
    where
        for<'a> &'a str: ColumnIndex<R>,
    {
        Ok(crate::access::ApiToken {
            id: r.text("id")?,
            secret_hash: r.text("secret_hash")?,
            name: r.text("name")?,
            username: r.text("username")?,
            scopes: r
                .text("scopes")?
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            created_at: r.text("created_at")?,
            revoked: r.int("revoked")? != 0,
        })
    }

    pub fn audit<R: SanadRow>(r: &R) -> Result<crate::audit::AuditRecord, sqlx::Error>
    where
        for<'a> &'a str: ColumnIndex<R>,
    {
        Ok(crate::audit::AuditRecord {
            seq: r.int("seq")?,
            at: r.text("at")?,
            actor: r.text("actor")?,
            action: r.text("action")?,
            entity: r.text("entity")?,
            entity_id: r.text("entity_id")?,
            region: r.opt_text("region")?,
            before: r.opt_text("before")?,
            after: r.opt_text("after")?,
            request_id: r.text("request_id")?,
            prev_hash: r.text("prev_hash")?,
            hash: r.text("hash")?,
        })
    }
}

/// Households and persons as one line of text each, so that a batch is read as one aggregated
/// value per statement (`population::Dialect::lines`): 10,000 households came back as over
/// 100,000 driver rows, whose hand-off cost several times the SQL that found them. Fields are
/// separated by the unit separator (U+001F), which names may not hold (no control
/// characters); a null is an empty field, and dates are as `Dialect::day` writes them.
pub mod text {
    use super::{HouseholdRow, Namesake, PersonRow};
    use crate::StoreError;
    use crate::population::{Dialect, date, fields_by};

    const SEP: u8 = 0x1f;

    fn join(fields: &[String]) -> String {
        format!("concat_ws('\u{1f}', {})", fields.join(", "))
    }

    /// A nullable column: `concat_ws` skips nulls, so a null becomes an empty field.
    fn nullable(expr: &str) -> String {
        format!("coalesce(CAST({expr} AS TEXT), '')")
    }

    /// The line of a household of `households h` (see [`household`]).
    pub fn household_line() -> String {
        let plain = |c: &str| format!("h.{c}");
        join(&[
            plain("rsu_id"),
            plain("region"),
            plain("province"),
            plain("commune"),
            plain("area"),
            plain("registrant"),
            nullable("h.phone"),
            nullable("h.instrument_kind"),
            nullable("h.instrument_provider"),
            nullable("h.instrument_ref"),
            plain("status"),
            plain("content_hash"),
        ])
    }

    /// The line of a person of `persons p` (see [`person`]).
    pub fn person_line(d: &Dialect) -> String {
        let plain = |c: &str| format!("p.{c}");
        let opt = |c: &str| nullable(&format!("p.{c}"));
        let opt_day = |c: &str| nullable(&d.day(&format!("p.{c}")));
        join(&[
            plain("idcs"),
            plain("household_id"),
            plain("position"),
            opt("cnie"),
            plain("first_name"),
            plain("last_name"),
            plain("first_name_ar"),
            plain("last_name_ar"),
            plain("sex"),
            d.day("p.birth_date"),
            opt_day("death_date"),
            plain("relation"),
            plain("marital_status"),
            plain("schooling"),
            plain("disability"),
            "CASE WHEN p.father_deceased THEN 1 ELSE 0 END".into(),
            opt("public_employee_source"),
            opt_day("public_employee_date"),
            opt("pensioner_source"),
            opt_day("pensioner_date"),
            opt("family_allowance_source"),
            opt_day("family_allowance_date"),
        ])
    }

    /// The line of a namesake of `persons p` (see [`namesake`]).
    pub fn namesake_line(d: &Dialect) -> String {
        join(&[
            "p.idcs".into(),
            "p.household_id".into(),
            nullable("p.cnie"),
            "p.first_name".into(),
            "p.last_name".into(),
            "p.first_name_ar".into(),
            "p.last_name_ar".into(),
            d.day("p.birth_date"),
        ])
    }

    pub fn namesake(line: &str) -> Result<Namesake, StoreError> {
        let [idcs, household, cnie, first, last, first_ar, last_ar, birth] = split::<8>(line)?;
        Ok(Namesake {
            idcs: idcs.into(),
            household_id: household.into(),
            cnie: opt(cnie),
            first_name: first.into(),
            last_name: last.into(),
            first_name_ar: first_ar.into(),
            last_name_ar: last_ar.into(),
            birth_date: date(birth)?,
        })
    }

    /// A line's fields, exactly `N` of them.
    fn split<const N: usize>(line: &str) -> Result<[&str; N], StoreError> {
        let f: Vec<&str> = fields_by(line, SEP).collect();
        f.try_into().map_err(|f: Vec<&str>| {
            StoreError::Corrupt(format!(
                "a line of {} fields where {N} were expected",
                f.len()
            ))
        })
    }

    fn opt(s: &str) -> Option<String> {
        (!s.is_empty()).then(|| s.to_owned())
    }

    fn opt_date(s: &str) -> Result<Option<chrono::NaiveDate>, StoreError> {
        (!s.is_empty()).then(|| date(s)).transpose()
    }

    /// A cross-check's source, present with its date (a source may be empty, its date not).
    fn source(s: &str, date: &str) -> Option<String> {
        (!date.is_empty()).then(|| s.to_owned())
    }

    fn int(s: &str) -> Result<i64, StoreError> {
        s.parse()
            .map_err(|_| StoreError::Corrupt(format!("'{s}' is not a number")))
    }

    pub fn household(line: &str) -> Result<HouseholdRow, StoreError> {
        let [
            id,
            region,
            province,
            commune,
            area,
            registrant,
            phone,
            kind,
            provider,
            reference,
            status,
            hash,
        ] = split::<12>(line)?;
        Ok(HouseholdRow {
            rsu_id: id.into(),
            region: region.into(),
            province: province.into(),
            commune: commune.into(),
            area: area.into(),
            registrant: registrant.into(),
            phone: opt(phone),
            instrument_kind: opt(kind),
            instrument_provider: opt(provider),
            instrument_ref: opt(reference),
            status: status.into(),
            content_hash: int(hash)?,
        })
    }

    pub fn person(line: &str) -> Result<PersonRow, StoreError> {
        let [
            idcs,
            household,
            position,
            cnie,
            first,
            last,
            first_ar,
            last_ar,
            sex,
            birth,
            death,
            relation,
            marital,
            schooling,
            disability,
            father_deceased,
            pe_source,
            pe_date,
            pn_source,
            pn_date,
            fa_source,
            fa_date,
        ] = split::<22>(line)?;
        Ok(PersonRow {
            idcs: idcs.into(),
            household_id: household.into(),
            position: i32::try_from(int(position)?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            cnie: opt(cnie),
            first_name: first.into(),
            last_name: last.into(),
            first_name_ar: first_ar.into(),
            last_name_ar: last_ar.into(),
            sex: sex.into(),
            birth_date: date(birth)?,
            death_date: opt_date(death)?,
            relation: relation.into(),
            marital_status: marital.into(),
            schooling: schooling.into(),
            disability: disability.into(),
            father_deceased: int(father_deceased)? != 0,
            public_employee_source: source(pe_source, pe_date),
            public_employee_date: opt_date(pe_date)?,
            pensioner_source: source(pn_source, pn_date),
            pensioner_date: opt_date(pn_date)?,
            family_allowance_source: source(fa_source, fa_date),
            family_allowance_date: opt_date(fa_date)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_sqlx_writes_them() {
        let mut buf = [0u8; 10];
        for (y, m, d) in [(987, 3, 9), (2024, 12, 31), (1900, 1, 1), (9999, 2, 28)] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let expected = date.format("%Y-%m-%d").to_string();
            assert_eq!(iso_date(date, &mut buf), Some(expected.as_str()));
        }
        let far = NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap();
        assert_eq!(iso_date(far, &mut buf), None);
    }
}

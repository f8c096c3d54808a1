//! Cross-check lists from other administrations, each a dated CSV file (docs/formats.md):
//!
//! ```text
//! # list=public_payroll as_of=2026-10-31 source=DGI-PAYROLL
//! idcs,employer_kind,employer
//! 1234567897,state,Ministère de l'Éducation nationale
//! ```
//!
//! The first line says which list it is, the date it describes and who produced it; a check
//! that uses the list cites all three. A file applies whole or not at all: the parser returns
//! the list, or every rejected row with its file, line and field.

mod rows;

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read};

use chrono::NaiveDate;
use sanad_domain::Idcs;
use serde::{Deserialize, Serialize};

pub use rows::{AffiliationRow, EmployerType, HealthVisitRow, VisitType};
pub use rows::{
    DeathRow, DisabilityCardRow, EmployerKind, EnrolmentRow, FamilyAllowanceRow, Level, PayrollRow,
    PensionRow, PensionSector, Scheme, SchoolYear,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    FamilyAllowance,
    PublicPayroll,
    Pensions,
    Deaths,
    SchoolEnrolment,
    DisabilityCards,
    // Administrative outcomes of the pilot (issue 7): not read by verification.
    HealthVisits,
    CnssAffiliation,
}

impl ListKind {
    /// The lists verification reads (the pilot's outcome lists are not among them).
    pub const ALL: [ListKind; 6] = [
        ListKind::FamilyAllowance,
        ListKind::PublicPayroll,
        ListKind::Pensions,
        ListKind::Deaths,
        ListKind::SchoolEnrolment,
        ListKind::DisabilityCards,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ListKind::FamilyAllowance => "family_allowance",
            ListKind::PublicPayroll => "public_payroll",
            ListKind::Pensions => "pensions",
            ListKind::Deaths => "deaths",
            ListKind::SchoolEnrolment => "school_enrolment",
            ListKind::DisabilityCards => "disability_cards",
            ListKind::HealthVisits => "health_visits",
            ListKind::CnssAffiliation => "cnss_affiliation",
        }
    }
}

/// Which list, of which date, from whom, read from which file: what evidence cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRef {
    pub kind: ListKind,
    pub as_of: NaiveDate,
    pub source: String,
    pub file: String,
}

/// One rejected row (or header), located precisely enough to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub file: String,
    pub line: u64,
    pub field: String,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.field, self.reason
        )
    }
}

impl std::error::Error for RowError {}

/// A row of one kind of list.
pub trait Row: Sized + Clone + Serialize {
    const KIND: ListKind;
    /// Every column the header must name (in any order); no others are allowed.
    const COLUMNS: &'static [&'static str];
    /// Parse one row; problems go into `f` with their column names.
    fn parse(f: &mut Fields, as_of: NaiveDate) -> Option<Self>;
    fn idcs(&self) -> &Idcs;
    /// A key no two rows of a file may share (the later row is rejected), if the list has one.
    fn unique_key(&self) -> Option<String> {
        None
    }
}

/// A row's values by column, and the problems found so far.
pub struct Fields<'a> {
    columns: &'static [&'static str],
    values: Vec<&'a str>,
    errors: Vec<(String, String)>,
}

impl Fields<'_> {
    pub fn text(&self, column: &str) -> &str {
        let i = self
            .columns
            .iter()
            .position(|c| *c == column)
            .expect("columns are the row type's own");
        self.values[i]
    }

    /// Parse a column, recording a failure under its name.
    pub fn take<T>(
        &mut self,
        column: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        parse(self.text(column))
            .map_err(|e| self.errors.push((column.to_owned(), e)))
            .ok()
    }

    pub fn reject(&mut self, column: &str, reason: impl Into<String>) {
        self.errors.push((column.to_owned(), reason.into()));
    }
}

pub(crate) fn date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a date (YYYY-MM-DD)"))
}

/// A parsed list: its rows with their line numbers, indexed by IDCS.
#[derive(Debug, Clone)]
pub struct List<T> {
    meta: ListRef,
    rows: Vec<Entry<T>>,
    by_idcs: HashMap<Idcs, Vec<usize>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry<T> {
    pub line: u64,
    pub row: T,
}

impl<T: Row> List<T> {
    pub fn meta(&self) -> &ListRef {
        &self.meta
    }

    pub fn rows(&self) -> &[Entry<T>] {
        &self.rows
    }

    /// Every row about `idcs`, in file order.
    pub fn find<'a>(&'a self, idcs: &Idcs) -> impl Iterator<Item = &'a Entry<T>> + 'a {
        self.by_idcs
            .get(idcs)
            .into_iter()
            .flatten()
            .map(|&i| &self.rows[i])
    }

    /// A list from rows already validated elsewhere (read back from storage).
    pub fn from_rows(meta: ListRef, rows: Vec<Entry<T>>) -> Self {
        Self::new(meta, rows)
    }

    fn new(meta: ListRef, rows: Vec<Entry<T>>) -> Self {
        let mut by_idcs: HashMap<Idcs, Vec<usize>> = HashMap::new();
        for (i, e) in rows.iter().enumerate() {
            by_idcs.entry(e.row.idcs().clone()).or_default().push(i);
        }
        List {
            meta,
            rows,
            by_idcs,
        }
    }
}

/// The lists a verification runs against. A missing list makes its checks inconclusive.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    pub family_allowance: Option<List<FamilyAllowanceRow>>,
    pub public_payroll: Option<List<PayrollRow>>,
    pub pensions: Option<List<PensionRow>>,
    pub deaths: Option<List<DeathRow>>,
    pub school_enrolment: Option<List<EnrolmentRow>>,
    pub disability_cards: Option<List<DisabilityCardRow>>,
}

pub fn parse_family_allowance(
    file: &str,
    r: impl Read,
) -> Result<List<FamilyAllowanceRow>, Vec<RowError>> {
    parse_list(file, r)
}
pub fn parse_public_payroll(file: &str, r: impl Read) -> Result<List<PayrollRow>, Vec<RowError>> {
    parse_list(file, r)
}
pub fn parse_pensions(file: &str, r: impl Read) -> Result<List<PensionRow>, Vec<RowError>> {
    parse_list(file, r)
}
pub fn parse_deaths(file: &str, r: impl Read) -> Result<List<DeathRow>, Vec<RowError>> {
    parse_list(file, r)
}
pub fn parse_school_enrolment(
    file: &str,
    r: impl Read,
) -> Result<List<EnrolmentRow>, Vec<RowError>> {
    parse_list(file, r)
}
pub fn parse_disability_cards(
    file: &str,
    r: impl Read,
) -> Result<List<DisabilityCardRow>, Vec<RowError>> {
    parse_list(file, r)
}

/// Parse a whole list: the header line, the column line, then every row. All problems are
/// reported, sorted by line; the list exists only if there are none.
pub fn parse_list<T: Row>(file: &str, r: impl Read) -> Result<List<T>, Vec<RowError>> {
    let err = |line: u64, field: &str, reason: String| RowError {
        file: file.to_owned(),
        line,
        field: field.to_owned(),
        reason,
    };
    let mut input = BufReader::new(r);
    let mut first = String::new();
    input
        .read_line(&mut first)
        .map_err(|e| vec![err(1, "(file)", e.to_string())])?;
    let (as_of, source) = parse_header(first.trim_start_matches('\u{feff}').trim_end(), T::KIND)
        .map_err(|(f, m)| vec![err(1, &f, m)])?;
    let meta = ListRef {
        kind: T::KIND,
        as_of,
        source,
        file: file.to_owned(),
    };
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(input);
    let columns = column_positions::<T, _>(&mut csv).map_err(|m| vec![err(2, "(columns)", m)])?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() + 1);
                let stop = matches!(e.kind(), csv::ErrorKind::Io(_));
                errors.push(err(line, "(csv)", e.to_string()));
                if stop {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line() + 1);
        match parse_row::<T>(&record, &columns, as_of) {
            Err(problems) => errors.extend(problems.into_iter().map(|(f, m)| err(line, &f, m))),
            Ok(row) => match row.unique_key().map(|k| (seen.get(&k).copied(), k)) {
                Some((Some(earlier), k)) => errors.push(err(
                    line,
                    "idcs",
                    format!("{k} already appears on line {earlier}"),
                )),
                other => {
                    if let Some((None, k)) = other {
                        seen.insert(k, line);
                    }
                    rows.push(Entry { line, row });
                }
            },
        }
    }
    if errors.is_empty() {
        Ok(List::new(meta, rows))
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

/// `# list=<kind> as_of=<YYYY-MM-DD> source=<token>` → (as_of, source).
fn parse_header(line: &str, kind: ListKind) -> Result<(NaiveDate, String), (String, String)> {
    let bad = |field: &str, reason: String| (field.to_owned(), reason);
    let body = line.strip_prefix('#').ok_or_else(|| {
        bad(
            "(header)",
            format!(
                "the first line must be '# list={} as_of=YYYY-MM-DD source=…'",
                kind.code()
            ),
        )
    })?;
    let (mut list, mut as_of, mut source) = (None, None, None);
    for pair in body.split_whitespace() {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| bad("(header)", format!("'{pair}' is not key=value")))?;
        match key {
            "list" => list = Some(value),
            "as_of" => as_of = Some(date(value).map_err(|e| bad("as_of", e))?),
            "source" => source = Some(value),
            other => {
                return Err(bad(
                    other,
                    "unknown header key (expected list, as_of, source)".into(),
                ));
            }
        }
    }
    match list {
        Some(l) if l == kind.code() => {}
        Some(l) => {
            return Err(bad(
                "list",
                format!("this is a '{l}' list, expected '{}'", kind.code()),
            ));
        }
        None => return Err(bad("list", "missing".into())),
    }
    let source = source.ok_or_else(|| bad("source", "missing".into()))?;
    let token = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if source.is_empty() || source.len() > 32 || !source.chars().all(token) {
        return Err(bad(
            "source",
            format!("'{source}' must be 1–32 letters, digits, '-' or '_'"),
        ));
    }
    Ok((
        as_of.ok_or_else(|| bad("as_of", "missing".into()))?,
        source.to_owned(),
    ))
}

/// For each of `T::COLUMNS`, its position in the file's column line.
fn column_positions<T: Row, R: Read>(csv: &mut csv::Reader<R>) -> Result<Vec<usize>, String> {
    let header = csv.headers().map_err(|e| e.to_string())?.clone();
    let names: Vec<&str> = header.iter().collect();
    if let Some(unknown) = names.iter().find(|n| !T::COLUMNS.contains(n)) {
        return Err(format!(
            "unknown column '{unknown}' (expected {})",
            T::COLUMNS.join(",")
        ));
    }
    T::COLUMNS
        .iter()
        .map(|c| match names.iter().filter(|n| *n == c).count() {
            1 => Ok(names.iter().position(|n| n == c).expect("counted once")),
            0 => Err(format!(
                "missing column '{c}' (expected {})",
                T::COLUMNS.join(",")
            )),
            _ => Err(format!("column '{c}' appears twice")),
        })
        .collect()
}

fn parse_row<T: Row>(
    record: &csv::StringRecord,
    columns: &[usize],
    as_of: NaiveDate,
) -> Result<T, Vec<(String, String)>> {
    if record.len() != columns.len() {
        return Err(vec![(
            "(row)".into(),
            format!("expected {} fields, found {}", columns.len(), record.len()),
        )]);
    }
    let values = columns
        .iter()
        .map(|&i| record.get(i).unwrap_or(""))
        .collect();
    let mut f = Fields {
        columns: T::COLUMNS,
        values,
        errors: Vec::new(),
    };
    let row = T::parse(&mut f, as_of);
    match row {
        Some(r) if f.errors.is_empty() => Ok(r),
        _ if f.errors.is_empty() => Err(vec![("(row)".into(), "invalid row".into())]),
        _ => Err(f.errors),
    }
}

#[cfg(test)]
mod tests;

/// A list ready to store: its reference, and each row as (line, IDCS, JSON).
pub type StoredList = (ListRef, Vec<(i64, String, String)>);

fn to_stored<T: Row>(list: List<T>) -> StoredList {
    let rows = list
        .rows
        .iter()
        .map(|e| {
            (
                e.line as i64,
                e.row.idcs().to_string(),
                serde_json::to_string(&e.row).expect("list rows serialise"),
            )
        })
        .collect();
    (list.meta, rows)
}

/// Parse any list, recognised by its header line (`# list=<kind> …`), into its stored form.
pub fn parse_any(file: &str, mut r: impl Read) -> Result<StoredList, Vec<RowError>> {
    let mut text = String::new();
    r.read_to_string(&mut text).map_err(|e| {
        vec![RowError {
            file: file.into(),
            line: 0,
            field: "(file)".into(),
            reason: e.to_string(),
        }]
    })?;
    let kind = text
        .lines()
        .next()
        .and_then(|h| h.split_whitespace().find_map(|kv| kv.strip_prefix("list=")))
        .unwrap_or_default()
        .to_owned();
    let bytes = text.as_bytes();
    match kind.as_str() {
        "family_allowance" => parse_family_allowance(file, bytes).map(to_stored),
        "public_payroll" => parse_public_payroll(file, bytes).map(to_stored),
        "pensions" => parse_pensions(file, bytes).map(to_stored),
        "deaths" => parse_deaths(file, bytes).map(to_stored),
        "school_enrolment" => parse_school_enrolment(file, bytes).map(to_stored),
        "disability_cards" => parse_disability_cards(file, bytes).map(to_stored),
        "health_visits" => parse_list::<HealthVisitRow>(file, bytes).map(to_stored),
        "cnss_affiliation" => parse_list::<AffiliationRow>(file, bytes).map(to_stored),
        other => Err(vec![RowError {
            file: file.into(),
            line: 1,
            field: "list".into(),
            reason: format!(
                "'{other}' is not a list kind (family_allowance, public_payroll, pensions, deaths, school_enrolment, disability_cards, health_visits, cnss_affiliation)"
            ),
        }]),
    }
}

fn from_stored<T: Row + serde::de::DeserializeOwned>(
    stored: Option<(String, Vec<(i64, String)>)>,
) -> Result<Option<List<T>>, String> {
    let Some((meta, rows)) = stored else {
        return Ok(None);
    };
    let meta: ListRef = serde_json::from_str(&meta).map_err(|e| e.to_string())?;
    let rows = rows
        .into_iter()
        .map(|(line, body)| {
            serde_json::from_str(&body)
                .map(|row| Entry {
                    line: line as u64,
                    row,
                })
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(List::from_rows(meta, rows)))
}

impl Lists {
    /// Lists read back from storage: for each kind, its reference (JSON) and the rows (line,
    /// JSON) about the persons being verified; `None` for a list never imported.
    pub fn from_stored(
        mut get: impl FnMut(ListKind) -> Option<(String, Vec<(i64, String)>)>,
    ) -> Result<Lists, String> {
        Ok(Lists {
            family_allowance: from_stored(get(ListKind::FamilyAllowance))?,
            public_payroll: from_stored(get(ListKind::PublicPayroll))?,
            pensions: from_stored(get(ListKind::Pensions))?,
            deaths: from_stored(get(ListKind::Deaths))?,
            school_enrolment: from_stored(get(ListKind::SchoolEnrolment))?,
            disability_cards: from_stored(get(ListKind::DisabilityCards))?,
        })
    }
}

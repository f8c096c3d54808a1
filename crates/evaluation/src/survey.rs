//! Baseline and follow-up survey import, validated against a codebook.
//!
//! The codebook is a CSV with the header
//! `variable,label_fr,label_ar,label_en,type,allowed,missing_codes`:
//!
//! * `type`: `numeric`, `binary` (0/1), `categorical` or `date` (`YYYY-MM-DD`).
//! * `allowed`: numeric and date ranges `min..max` (either bound may be
//!   omitted, empty = any value); categorical codes `1|2|3`, optionally
//!   labelled `1=public|2=private`; ignored for binary.
//! * `missing_codes`: `|`-separated codes that mean "missing" (e.g. `-99|-98`);
//!   they are accepted whatever the range and become missing values.
//!
//! A survey file has a `unit_id` column, a `round` column (`baseline` or
//! `followup`; it may be omitted when the caller gives the round of the whole
//! file) and one column per codebook variable. Every problem is reported,
//! not just the first, as a [`Violation`] naming file, line and column.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;

use crate::data::Frame;
use crate::error::{EvalError, Result};

/// Structural columns of a survey file (not codebook variables).
pub const UNIT_COLUMN: &str = "unit_id";
pub const ROUND_COLUMN: &str = "round";
const CODEBOOK_HEADER: [&str; 7] = [
    "variable",
    "label_fr",
    "label_ar",
    "label_en",
    "type",
    "allowed",
    "missing_codes",
];

/// One problem in a codebook or survey file. `line` is 1-based and counts the header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub value: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} line {} column {}: '{}' {}",
            self.file, self.line, self.column, self.value, self.message
        )
    }
}

/// All violations as one error (for the JSON interface).
pub fn to_error(v: &[Violation]) -> EvalError {
    let lines: Vec<String> = v.iter().map(Violation::to_string).collect();
    EvalError::Invalid(format!("{} violation(s):\n{}", v.len(), lines.join("\n")))
}

/// Variable type of the codebook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VarType {
    Numeric,
    Binary,
    Categorical,
    Date,
}

/// Allowed values of a variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Allowed {
    Any,
    /// Inclusive bounds (dates as days since 1970-01-01).
    Range {
        min: Option<f64>,
        max: Option<f64>,
    },
    /// Categorical codes with optional labels.
    Codes(Vec<(f64, Option<String>)>),
}

/// One codebook entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variable {
    pub name: String,
    pub label_fr: String,
    pub label_ar: String,
    pub label_en: String,
    pub kind: VarType,
    pub allowed: Allowed,
    pub missing_codes: Vec<f64>,
}

/// The codebook: variables in file order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Codebook {
    pub source: String,
    pub variables: Vec<Variable>,
}

/// Survey round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Round {
    Baseline,
    Followup,
}

impl std::str::FromStr for Round {
    type Err = EvalError;
    fn from_str(s: &str) -> Result<Round> {
        match s.trim().to_ascii_lowercase().as_str() {
            "baseline" => Ok(Round::Baseline),
            "followup" | "follow-up" => Ok(Round::Followup),
            o => Err(EvalError::Invalid(format!(
                "unknown round '{o}' (baseline, followup)"
            ))),
        }
    }
}

/// A typed cell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Cell {
    /// Valid value (dates as days since 1970-01-01, categories as their code).
    Value(f64),
    /// Empty cell.
    Blank,
    /// A declared missing code (e.g. -99 refused, -98 don't know).
    MissingCode(f64),
}

impl Cell {
    /// The value, `None` for both kinds of missing.
    pub fn value(self) -> Option<f64> {
        match self {
            Cell::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// One interview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub unit_id: String,
    pub round: Round,
    /// Line in the source file.
    pub line: u64,
    /// One cell per codebook variable, in codebook order.
    pub values: Vec<Cell>,
}

/// A validated survey: records typed by the codebook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dataset {
    pub variables: Vec<Variable>,
    pub records: Vec<Record>,
}

fn violation(
    file: &str,
    line: u64,
    column: &str,
    value: &str,
    message: impl Into<String>,
) -> Violation {
    Violation {
        file: file.into(),
        line,
        column: column.into(),
        value: value.into(),
        message: message.into(),
    }
}

/// Days since 1970-01-01 of a valid `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Option<f64> {
    let p: Vec<&str> = s.trim().split('-').collect();
    let [y, m, d] = p.as_slice() else { return None };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > dim[(m - 1) as usize] {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) as f64)
}

fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn parse_bound(s: &str, kind: VarType) -> Option<Option<f64>> {
    let s = s.trim();
    if s.is_empty() {
        return Some(None);
    }
    let v = if kind == VarType::Date {
        parse_date(s)
    } else {
        parse_number(s)
    };
    v.map(Some)
}

fn parse_allowed(s: &str, kind: VarType) -> std::result::Result<Allowed, String> {
    let s = s.trim();
    match kind {
        VarType::Binary => Ok(Allowed::Codes(vec![(0.0, None), (1.0, None)])),
        _ if s.is_empty() => Ok(Allowed::Any),
        VarType::Numeric | VarType::Date => {
            let (lo, hi) = s.split_once("..").ok_or("a range is written min..max")?;
            match (parse_bound(lo, kind), parse_bound(hi, kind)) {
                (Some(min), Some(max)) if min.zip(max).is_none_or(|(a, b)| a <= b) => {
                    Ok(Allowed::Range { min, max })
                }
                _ => Err("is not a valid range min..max".into()),
            }
        }
        VarType::Categorical => s
            .split('|')
            .map(|c| {
                let (code, label) = match c.split_once('=') {
                    Some((k, l)) => (k, Some(l.trim().to_string())),
                    None => (c, None),
                };
                parse_number(code)
                    .map(|v| (v, label))
                    .ok_or_else(|| format!("category code '{}' is not a number", code.trim()))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Allowed::Codes),
    }
}

fn parse_type(s: &str) -> Option<VarType> {
    match s.trim().to_ascii_lowercase().as_str() {
        "numeric" => Some(VarType::Numeric),
        "binary" => Some(VarType::Binary),
        "categorical" => Some(VarType::Categorical),
        "date" => Some(VarType::Date),
        _ => None,
    }
}

fn csv_violation(file: &str, e: &csv::Error) -> Violation {
    let line = e.position().map_or(0, |p| p.line());
    violation(file, line, "", "", e.to_string())
}

/// Rows of a CSV with their line numbers; reader errors become violations.
/// Header and `(line, cells)` rows.
type Rows = (Vec<String>, Vec<(u64, Vec<String>)>);

fn read_rows(reader: impl std::io::Read, file: &str, errs: &mut Vec<Violation>) -> Option<Rows> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let header: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => {
            errs.push(csv_violation(file, &e));
            return None;
        }
    };
    let mut rows = Vec::new();
    for rec in rdr.records() {
        match rec {
            Ok(r) => rows.push((
                r.position().map_or(0, |p| p.line()),
                r.iter().map(str::to_string).collect(),
            )),
            Err(e) => errs.push(csv_violation(file, &e)),
        }
    }
    Some((header, rows))
}

impl Codebook {
    /// Read and check a codebook; every problem is reported.
    pub fn from_reader(
        reader: impl std::io::Read,
        source: &str,
    ) -> std::result::Result<Codebook, Vec<Violation>> {
        let mut errs = Vec::new();
        let Some((header, rows)) = read_rows(reader, source, &mut errs) else {
            return Err(errs);
        };
        let col: HashMap<&str, usize> = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.as_str(), i))
            .collect();
        for h in CODEBOOK_HEADER {
            if !col.contains_key(h) {
                errs.push(violation(source, 1, h, "", "missing codebook column"));
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let mut variables = Vec::new();
        let mut seen: HashMap<String, u64> = HashMap::new();
        for (line, r) in &rows {
            let row = Row {
                cells: r,
                col: &col,
            };
            if let Some(v) = codebook_row(source, *line, &row, &mut seen, &mut errs) {
                variables.push(v);
            }
        }
        if errs.is_empty() {
            Ok(Codebook {
                source: source.into(),
                variables,
            })
        } else {
            Err(errs)
        }
    }

    /// The variable named `name`.
    pub fn get(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name == name)
    }
}

/// A codebook row with access by header name.
struct Row<'a> {
    cells: &'a [String],
    col: &'a HashMap<&'a str, usize>,
}

impl Row<'_> {
    fn get(&self, h: &str) -> &str {
        self.cells.get(self.col[h]).map_or("", |s| s.trim())
    }
}

fn codebook_row(
    file: &str,
    line: u64,
    row: &Row,
    seen: &mut HashMap<String, u64>,
    errs: &mut Vec<Violation>,
) -> Option<Variable> {
    let name = row.get("variable");
    let n0 = errs.len();
    if name.is_empty() || name == UNIT_COLUMN || name == ROUND_COLUMN {
        errs.push(violation(
            file,
            line,
            "variable",
            name,
            "is empty or a reserved column name",
        ));
    } else if let Some(first) = seen.insert(name.to_string(), line) {
        errs.push(violation(
            file,
            line,
            "variable",
            name,
            format!("duplicates line {first}"),
        ));
    }
    let kind = parse_type(row.get("type"));
    if kind.is_none() {
        errs.push(violation(
            file,
            line,
            "type",
            row.get("type"),
            "is not numeric, binary, categorical or date",
        ));
    }
    let allowed = kind.map(|k| parse_allowed(row.get("allowed"), k));
    if let Some(Err(m)) = &allowed {
        errs.push(violation(
            file,
            line,
            "allowed",
            row.get("allowed"),
            m.clone(),
        ));
    }
    let missing: Vec<Option<f64>> = row
        .get("missing_codes")
        .split('|')
        .filter(|s| !s.trim().is_empty())
        .map(parse_number)
        .collect();
    if missing.iter().any(Option::is_none) {
        errs.push(violation(
            file,
            line,
            "missing_codes",
            row.get("missing_codes"),
            "must be numbers separated by |",
        ));
    }
    if errs.len() > n0 {
        return None;
    }
    Some(Variable {
        name: name.into(),
        label_fr: row.get("label_fr").into(),
        label_ar: row.get("label_ar").into(),
        label_en: row.get("label_en").into(),
        kind: kind?,
        allowed: allowed?.ok()?,
        missing_codes: missing.into_iter().flatten().collect(),
    })
}

impl Variable {
    /// Type and range check of one non-empty cell.
    fn check(&self, raw: &str) -> std::result::Result<Cell, String> {
        let t = raw.trim();
        if let Some(v) = parse_number(t).filter(|v| self.missing_codes.contains(v)) {
            return Ok(Cell::MissingCode(v));
        }
        let v = match self.kind {
            VarType::Date => parse_date(t).ok_or("is not a date YYYY-MM-DD")?,
            _ => parse_number(t).ok_or("is not a number")?,
        };
        match &self.allowed {
            Allowed::Any => Ok(Cell::Value(v)),
            Allowed::Range { min, max } => {
                if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
                    Err(format!(
                        "is outside the allowed range {}",
                        self.range_text()
                    ))
                } else {
                    Ok(Cell::Value(v))
                }
            }
            Allowed::Codes(codes) => {
                if codes.iter().any(|(c, _)| *c == v) {
                    Ok(Cell::Value(v))
                } else {
                    let list: Vec<String> = codes.iter().map(|(c, _)| c.to_string()).collect();
                    Err(format!("is not an allowed code ({})", list.join("|")))
                }
            }
        }
    }

    fn range_text(&self) -> String {
        match &self.allowed {
            Allowed::Range { min, max } => {
                let f = |b: &Option<f64>| b.map_or(String::new(), |v| v.to_string());
                format!("{}..{}", f(min), f(max))
            }
            _ => String::new(),
        }
    }
}

/// Read a survey file and validate it against `codebook`. `round` is used
/// when the file has no `round` column.
pub fn import(
    reader: impl std::io::Read,
    source: &str,
    codebook: &Codebook,
    round: Option<Round>,
) -> std::result::Result<Dataset, Vec<Violation>> {
    let mut errs = Vec::new();
    let Some((header, rows)) = read_rows(reader, source, &mut errs) else {
        return Err(errs);
    };
    let layout = Layout::new(&header, codebook, round, source, &mut errs);
    let mut records = Vec::with_capacity(rows.len());
    let mut seen: HashMap<(String, Round), u64> = HashMap::new();
    for (line, r) in &rows {
        // Duplicates are checked even when other cells of the row are invalid.
        if let Some((id, round)) = layout.key(r)
            && let Some(first) = seen.insert((id.clone(), round), *line)
        {
            errs.push(violation(
                source,
                *line,
                UNIT_COLUMN,
                &id,
                format!("is interviewed twice in this round (first on line {first})"),
            ));
        }
        if let Some(rec) = layout.record(*line, r, codebook, source, &mut errs) {
            records.push(rec);
        }
    }
    if errs.is_empty() {
        Ok(Dataset {
            variables: codebook.variables.clone(),
            records,
        })
    } else {
        Err(errs)
    }
}

/// Where each codebook variable and structural column sits in the file.
struct Layout {
    unit: Option<usize>,
    round: Option<usize>,
    default_round: Option<Round>,
    vars: Vec<Option<usize>>,
    names: Vec<String>,
}

impl Layout {
    fn new(
        header: &[String],
        cb: &Codebook,
        round: Option<Round>,
        file: &str,
        errs: &mut Vec<Violation>,
    ) -> Layout {
        let pos = |n: &str| header.iter().position(|h| h == n);
        let unit = pos(UNIT_COLUMN);
        if unit.is_none() {
            errs.push(violation(
                file,
                1,
                UNIT_COLUMN,
                "",
                "required column is missing",
            ));
        }
        let round_col = pos(ROUND_COLUMN);
        if round_col.is_none() && round.is_none() {
            errs.push(violation(
                file,
                1,
                ROUND_COLUMN,
                "",
                "column is missing and no round was given for the file",
            ));
        }
        let vars: Vec<Option<usize>> = cb.variables.iter().map(|v| pos(&v.name)).collect();
        for (v, p) in cb.variables.iter().zip(&vars) {
            if p.is_none() {
                errs.push(violation(
                    file,
                    1,
                    &v.name,
                    "",
                    "codebook variable is missing from the file",
                ));
            }
        }
        for h in header {
            if h != UNIT_COLUMN && h != ROUND_COLUMN && cb.get(h).is_none() {
                errs.push(violation(file, 1, h, "", "column is not in the codebook"));
            }
        }
        Layout {
            unit,
            round: round_col,
            default_round: round,
            vars,
            names: header.to_vec(),
        }
    }

    /// Unit id and round of a row when both are valid.
    fn key(&self, r: &[String]) -> Option<(String, Round)> {
        let id = r.get(self.unit?)?.trim().to_string();
        let round = match self.round {
            Some(c) => r.get(c)?.parse().ok()?,
            None => self.default_round?,
        };
        (!id.is_empty()).then_some((id, round))
    }

    fn record(
        &self,
        line: u64,
        r: &[String],
        cb: &Codebook,
        file: &str,
        errs: &mut Vec<Violation>,
    ) -> Option<Record> {
        let n0 = errs.len();
        let unit_id = self
            .unit
            .map(|u| r[u].trim().to_string())
            .unwrap_or_default();
        if self.unit.is_some() && unit_id.is_empty() {
            errs.push(violation(file, line, UNIT_COLUMN, "", "is empty"));
        }
        let round = match self.round {
            Some(c) => r[c]
                .parse::<Round>()
                .map_err(|_| {
                    errs.push(violation(
                        file,
                        line,
                        ROUND_COLUMN,
                        &r[c],
                        "is not baseline or followup",
                    ));
                })
                .ok(),
            None => self.default_round,
        };
        let mut values = Vec::with_capacity(cb.variables.len());
        for (v, p) in cb.variables.iter().zip(&self.vars) {
            let raw = p.map_or("", |c| r[c].as_str());
            if raw.trim().is_empty() {
                values.push(Cell::Blank);
                continue;
            }
            match v.check(raw) {
                Ok(c) => values.push(c),
                Err(m) => errs.push(violation(file, line, &self.names[p.unwrap_or(0)], raw, m)),
            }
        }
        (errs.len() == n0 && self.unit.is_some()).then_some(Record {
            unit_id,
            round: round?,
            line,
            values,
        })
    }
}

impl Dataset {
    /// Records of both datasets (e.g. a baseline file and a follow-up file
    /// validated with the same codebook).
    pub fn merge(mut self, other: Dataset) -> Result<Dataset> {
        if self.variables != other.variables {
            return Err(EvalError::Invalid(
                "survey: datasets use different codebooks".into(),
            ));
        }
        let seen: std::collections::HashSet<(String, Round)> = self
            .records
            .iter()
            .map(|r| (r.unit_id.clone(), r.round))
            .collect();
        if let Some(d) = other
            .records
            .iter()
            .find(|r| seen.contains(&(r.unit_id.clone(), r.round)))
        {
            return Err(EvalError::Invalid(format!(
                "survey: unit '{}' appears twice in one round",
                d.unit_id
            )));
        }
        self.records.extend(other.records);
        Ok(self)
    }

    /// Index of a variable.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.variables.iter().position(|v| v.name == name)
    }

    /// `(unit_id, value)` of one variable in one round (missing as `None`).
    pub fn column(&self, name: &str, round: Round) -> Result<Vec<(String, Option<f64>)>> {
        let j = self
            .index(name)
            .ok_or_else(|| EvalError::Invalid(format!("survey: no variable '{name}'")))?;
        Ok(self
            .records
            .iter()
            .filter(|r| r.round == round)
            .map(|r| (r.unit_id.clone(), r.values[j].value()))
            .collect())
    }

    /// One row per unit for the estimators: `unit_id`, then `<var>_bl`
    /// (baseline) and `<var>` (follow-up) for every variable; missing values
    /// and rounds a unit was not interviewed in are empty cells.
    pub fn wide(&self) -> Result<Frame> {
        let mut units: BTreeMap<&str, [Option<&Record>; 2]> = BTreeMap::new();
        for r in &self.records {
            units.entry(&r.unit_id).or_default()[r.round as usize] = Some(r);
        }
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec![UNIT_COLUMN.to_string()];
        for v in &self.variables {
            header.push(format!("{}_bl", v.name));
            header.push(v.name.clone());
        }
        let err = |e: csv::Error| EvalError::Csv {
            file: "survey".into(),
            message: e.to_string(),
        };
        w.write_record(&header).map_err(err)?;
        for (id, rounds) in units {
            let mut row = vec![id.to_string()];
            for j in 0..self.variables.len() {
                for r in rounds {
                    row.push(
                        r.and_then(|r| r.values[j].value())
                            .map_or(String::new(), |v| v.to_string()),
                    );
                }
            }
            w.write_record(&row).map_err(err)?;
        }
        let buf = w
            .into_inner()
            .map_err(|e| EvalError::Invalid(e.to_string()))?;
        Frame::from_reader(buf.as_slice(), "survey (wide)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0.0));
        assert_eq!(parse_date("2024-02-29"), Some(19782.0));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_date("24-01-01"), None);
    }
}

//! The national RSU score refresh: a large CSV read row by row, in constant memory.
//!
//! ```text
//! rsu_id,score,computed_on,valid_from
//! 100000000001,9.512345,2026-10-20,2026-11-01
//! ```
//!
//! Each row becomes a [`ScoreUpdate`] or the errors of its line; a bad row never stops the
//! rest. Applying a row twice changes nothing (`ScoreHistory::record` ignores repeats).

use std::io::Read;

use chrono::NaiveDate;
use sanad_domain::{Month, RsuId, Score, ScoreHistory, ScoreRecord};
use sanad_rules::RuleBook;
use sanad_rules::engine::reference_date;
use serde::Serialize;

use super::{EventKind, LifeEvent};
use crate::lists::{RowError, date};

const COLUMNS: [&str; 4] = ["rsu_id", "score", "computed_on", "valid_from"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreUpdate {
    pub line: u64,
    pub rsu_id: RsuId,
    pub record: ScoreRecord,
}

impl ScoreUpdate {
    /// The update as a life event of its household, effective when the score takes effect.
    pub fn event(&self, declared_on: NaiveDate) -> LifeEvent {
        LifeEvent {
            effective: self.record.valid_from.min(declared_on),
            declared_on,
            kind: EventKind::ScoreUpdate {
                record: self.record,
            },
        }
    }
}

/// Whether a new score can change what a household is paid, in any month from `from` to `to`
/// under the rule set of each month: the score in force passes the threshold before and not
/// after, or the reverse. Amounts never depend on the score, only eligibility does, so an
/// update that moves no month across the threshold changes no payment: a national refresh
/// re-evaluates (and records as life events) only the households it moves across.
pub fn crosses_threshold(
    book: &RuleBook,
    before: &ScoreHistory,
    after: &ScoreHistory,
    from: Month,
    to: Month,
) -> bool {
    let mut month = from;
    while month <= to {
        if let Some(rules) = book.for_month(month) {
            let on = reference_date(rules, month);
            let passes = |h: &ScoreHistory| h.at(on).is_some_and(|r| r.value <= rules.threshold());
            if passes(before) != passes(after) {
                return true;
            }
        }
        month = month.next();
    }
    false
}

/// An iterator over the rows of a score file.
pub struct ScoreUpdates<R: Read> {
    file: String,
    csv: csv::Reader<R>,
    positions: [usize; 4],
    record: csv::StringRecord,
    done: bool,
}

impl<R: Read> ScoreUpdates<R> {
    /// Read and check the column line.
    pub fn new(file: &str, r: R) -> Result<Self, RowError> {
        let mut csv = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(r);
        let err = |reason: String| RowError {
            file: file.to_owned(),
            line: 1,
            field: "(columns)".into(),
            reason,
        };
        let header = csv.headers().map_err(|e| err(e.to_string()))?.clone();
        if header.len() != COLUMNS.len() {
            return Err(err(format!("expected the columns {}", COLUMNS.join(","))));
        }
        let mut positions = [0; 4];
        for (k, c) in COLUMNS.iter().enumerate() {
            positions[k] = header.iter().position(|h| h == *c).ok_or_else(|| {
                err(format!(
                    "missing column '{c}' (expected {})",
                    COLUMNS.join(",")
                ))
            })?;
        }
        Ok(ScoreUpdates {
            file: file.to_owned(),
            csv,
            positions,
            record: csv::StringRecord::new(),
            done: false,
        })
    }

    fn parse(&self, line: u64) -> Result<ScoreUpdate, Vec<RowError>> {
        let mut errors = Vec::new();
        let take = |k: usize| self.record.get(self.positions[k]).unwrap_or("");
        let mut fail = |field: &str, reason: String| {
            errors.push(RowError {
                file: self.file.clone(),
                line,
                field: field.into(),
                reason,
            })
        };
        if self.record.len() != COLUMNS.len() {
            fail(
                "(row)",
                format!(
                    "expected {} fields, found {}",
                    COLUMNS.len(),
                    self.record.len()
                ),
            );
            return Err(errors);
        }
        let rsu_id = RsuId::parse(take(0)).map_err(|e| fail("rsu_id", e)).ok();
        let value = Score::parse(take(1)).map_err(|e| fail("score", e)).ok();
        let computed_on = date(take(2)).map_err(|e| fail("computed_on", e)).ok();
        let valid_from = date(take(3)).map_err(|e| fail("valid_from", e)).ok();
        if let (Some(c), Some(v)) = (computed_on, valid_from)
            && v < c
        {
            fail("valid_from", format!("{v} is before computed_on {c}"));
        }
        match (rsu_id, value, computed_on, valid_from) {
            (Some(rsu_id), Some(value), Some(computed_on), Some(valid_from))
                if errors.is_empty() =>
            {
                Ok(ScoreUpdate {
                    line,
                    rsu_id,
                    record: ScoreRecord {
                        value,
                        computed_on,
                        valid_from,
                    },
                })
            }
            _ => Err(errors),
        }
    }
}

impl<R: Read> Iterator for ScoreUpdates<R> {
    type Item = Result<ScoreUpdate, Vec<RowError>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.csv.read_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                Some(self.parse(line))
            }
            Err(e) => {
                // An I/O error ends the file; a malformed row (bad UTF-8) is that row's error.
                self.done = matches!(e.kind(), csv::ErrorKind::Io(_));
                let line = e.position().map_or(0, |p| p.line());
                Some(Err(vec![RowError {
                    file: self.file.clone(),
                    line,
                    field: "(csv)".into(),
                    reason: e.to_string(),
                }]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_rows_with_line_numbers() {
        let text = "valid_from,rsu_id,score,computed_on\n\
            2026-11-01,100000000001,9.743001,2026-10-20\n\
            2026-11-01,12345,9.7430011,2026-10-20\n\
            2026-10-01,100000000002,8,2026-10-20\n\
            2026-11-01,100000000003\n\
            2026-11-01,100000000004,10.5,2026-10-21\n";
        let rows: Vec<_> = ScoreUpdates::new("rsu.csv", text.as_bytes())
            .unwrap()
            .collect();
        assert_eq!(rows.len(), 5);
        let first = rows[0].as_ref().unwrap();
        assert_eq!(
            (
                first.line,
                first.rsu_id.as_str(),
                first.record.value.millionths()
            ),
            (2, "100000000001", 9_743_001)
        );
        let fields = |i: usize| {
            rows[i]
                .as_ref()
                .unwrap_err()
                .iter()
                .map(|e| (e.line, e.field.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(1), [(3, "rsu_id".into()), (3, "score".into())]);
        assert_eq!(fields(2), [(4, "valid_from".into())]);
        assert_eq!(fields(3), [(5, "(row)".into())]);
        assert_eq!(rows[4].as_ref().unwrap().line, 6);
        assert_eq!(
            rows[1].as_ref().unwrap_err()[0].to_string(),
            "rsu.csv:3: rsu_id: '12345' is not an RSU household id (12 digits)"
        );
    }

    #[test]
    fn only_a_move_across_the_threshold_matters() {
        let book = RuleBook::shipped();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let rec = |v: &str, from: &str| ScoreRecord {
            value: Score::parse(v).unwrap(),
            computed_on: d(from),
            valid_from: d(from),
        };
        let history = |recs: &[ScoreRecord]| ScoreHistory::new(recs.to_vec());
        let before = history(&[rec("9.100000", "2024-01-01")]);
        let (from, to) = (Month::new(2026, 9).unwrap(), Month::new(2026, 11).unwrap());
        let t = book.for_month(to).unwrap().threshold().to_string();
        // Still under the threshold: nothing to re-evaluate.
        assert!(!crosses_threshold(
            &book,
            &before,
            &history(&[rec("9.100000", "2024-01-01"), rec("9.500000", "2026-09-01")]),
            from,
            to
        ));
        // Exactly at the threshold is still eligible.
        assert!(!crosses_threshold(
            &book,
            &before,
            &history(&[rec("9.100000", "2024-01-01"), rec(&t, "2026-09-01")]),
            from,
            to
        ));
        // Above it from October: eligibility changes.
        assert!(crosses_threshold(
            &book,
            &before,
            &history(&[
                rec("9.100000", "2024-01-01"),
                rec("12.000000", "2026-10-01")
            ]),
            from,
            to
        ));
        // A change valid after the window matters in no month of it.
        assert!(!crosses_threshold(
            &book,
            &before,
            &history(&[
                rec("9.100000", "2024-01-01"),
                rec("12.000000", "2026-12-01")
            ]),
            from,
            to
        ));
    }

    #[test]
    fn the_column_line_is_checked() {
        assert!(ScoreUpdates::new("x.csv", "rsu_id,score,computed_on\n".as_bytes()).is_err());
        assert!(
            ScoreUpdates::new("x.csv", "rsu_id,score,computed,valid_from\n".as_bytes()).is_err()
        );
    }

    #[test]
    fn a_large_file_streams_in_constant_memory() {
        // 200,000 rows generated on the fly: the reader never holds more than one.
        struct Gen {
            row: u64,
            buf: Vec<u8>,
        }
        impl Read for Gen {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                if self.buf.is_empty() {
                    if self.row == 200_000 {
                        return Ok(0);
                    }
                    self.row += 1;
                    self.buf = format!(
                        "{:012},9.{:06},2026-10-20,2026-11-01\n",
                        100_000_000_000 + self.row,
                        self.row % 1_000_000
                    )
                    .into_bytes();
                }
                let n = out.len().min(self.buf.len());
                out[..n].copy_from_slice(&self.buf[..n]);
                self.buf.drain(..n);
                Ok(n)
            }
        }
        let header = "rsu_id,score,computed_on,valid_from\n".as_bytes();
        let reader = ScoreUpdates::new(
            "big.csv",
            header.chain(Gen {
                row: 0,
                buf: Vec::new(),
            }),
        )
        .unwrap();
        let (mut ok, mut last_line) = (0, 0);
        for r in reader {
            let u = r.unwrap();
            ok += 1;
            last_line = u.line;
        }
        assert_eq!((ok, last_line), (200_000, 200_001));
    }
}

//! The RSU socio-economic index and its history.
//!
//! A score is held as integer millionths so that "score ≤ threshold" is exact: the threshold
//! 9.743001 has six decimals and a float comparison at the boundary could go either way.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Score(i64);

impl Score {
    pub const SCALE: i64 = 1_000_000;

    pub const fn from_millionths(v: i64) -> Self {
        Score(v)
    }

    pub const fn millionths(self) -> i64 {
        self.0
    }

    /// Parse a decimal written with at most six decimals, exactly ("9.743001").
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad =
            || format!("'{s}' is not a score (a non-negative decimal with at most 6 decimals)");
        let (int, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
        let ok = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !ok(int) || (!frac.is_empty() && !ok(frac)) || frac.len() > 6 || int.len() > 6 {
            return Err(bad());
        }
        let whole: i64 = int.parse().map_err(|_| bad())?;
        let part: i64 = format!("{frac:0<6}").parse().map_err(|_| bad())?;
        Ok(Score(whole * Self::SCALE + part))
    }
}

impl TryFrom<f64> for Score {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if !v.is_finite() || !(0.0..1e6).contains(&v) {
            return Err(format!("{v} is not a valid score"));
        }
        let scaled = v * Self::SCALE as f64;
        let rounded = scaled.round();
        // JSON carries decimals as binary floats; accept only values that were written with ≤ 6 decimals.
        if (scaled - rounded).abs() > 1e-3 {
            return Err(format!("{v} has more than 6 decimals"));
        }
        Ok(Score(rounded as i64))
    }
}

impl From<Score> for f64 {
    fn from(s: Score) -> f64 {
        s.0 as f64 / Score::SCALE as f64
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}", self.0 / Self::SCALE, self.0 % Self::SCALE)
    }
}

/// One computation of a household's score by the RSU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScoreRecord {
    pub value: Score,
    pub computed_on: NaiveDate,
    pub valid_from: NaiveDate,
}

/// Every score a household has had, in the order they took effect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScoreHistory(Vec<ScoreRecord>);

impl ScoreHistory {
    pub fn new(mut records: Vec<ScoreRecord>) -> Self {
        records.sort_by_key(|r| (r.valid_from, r.computed_on));
        ScoreHistory(records)
    }

    pub fn records(&self) -> &[ScoreRecord] {
        &self.0
    }

    /// The score in force on `date`: the latest one valid from that date or before;
    /// among two valid from the same day, the later computation wins.
    pub fn at(&self, date: NaiveDate) -> Option<ScoreRecord> {
        self.0.iter().rev().find(|r| r.valid_from <= date).copied()
    }

    pub fn latest(&self) -> Option<ScoreRecord> {
        self.0.last().copied()
    }

    /// Add a record unless it repeats one already held (re-imports change nothing).
    pub fn record(&mut self, r: ScoreRecord) -> bool {
        if self.0.contains(&r) {
            return false;
        }
        self.0.push(r);
        self.0.sort_by_key(|r| (r.valid_from, r.computed_on));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn exact_at_six_decimals() {
        let t = Score::parse("9.743001").unwrap();
        assert_eq!(t.millionths(), 9_743_001);
        assert_eq!(Score::try_from(9.743001).unwrap(), t);
        assert_eq!(t.to_string(), "9.743001");
        assert!(Score::parse("9.7430011").is_err());
        assert!(Score::try_from(9.7430011).is_err());
        assert!(Score::try_from(-1.0).is_err());
        assert_eq!(Score::parse("12").unwrap().to_string(), "12.000000");
    }

    #[test]
    fn score_at_any_date() {
        let rec = |v: &str, c: &str, f: &str| ScoreRecord {
            value: Score::parse(v).unwrap(),
            computed_on: d(c),
            valid_from: d(f),
        };
        let mut h = ScoreHistory::new(vec![
            rec("10.2", "2024-05-01", "2024-05-08"),
            rec("8.5", "2023-01-02", "2023-01-10"),
        ]);
        assert_eq!(h.at(d("2023-01-09")), None);
        assert_eq!(
            h.at(d("2023-01-10")).unwrap().value,
            Score::parse("8.5").unwrap()
        );
        assert_eq!(
            h.at(d("2024-05-07")).unwrap().value,
            Score::parse("8.5").unwrap()
        );
        assert_eq!(
            h.at(d("2030-01-01")).unwrap().value,
            Score::parse("10.2").unwrap()
        );
        assert!(!h.record(rec("8.5", "2023-01-02", "2023-01-10")));
        assert!(h.record(rec("9.1", "2024-05-03", "2024-05-08")));
        assert_eq!(
            h.at(d("2024-05-08")).unwrap().value,
            Score::parse("9.1").unwrap()
        );
    }
}

//! A calendar month: the unit of entitlement and payroll.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32, // 1..=12, guaranteed by the constructors
}

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1..=12).contains(&month) && (1900..=9999).contains(&year))
            .then_some(Month { year, month })
    }

    pub fn of(date: NaiveDate) -> Self {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid by construction")
    }

    pub fn last_day(self) -> NaiveDate {
        self.next()
            .first_day()
            .pred_opt()
            .expect("valid by construction")
    }

    pub fn next(self) -> Self {
        self.plus(1)
    }

    pub fn prev(self) -> Self {
        self.plus(-1)
    }

    /// The month `n` months later (or earlier for negative `n`).
    pub fn plus(self, n: i32) -> Self {
        let idx = self.year * 12 + (self.month as i32 - 1) + n;
        Month {
            year: idx.div_euclid(12),
            month: idx.rem_euclid(12) as u32 + 1,
        }
    }

    /// Months from `self` to `other` (positive when `other` is later).
    pub fn months_until(self, other: Month) -> i32 {
        (other.year - self.year) * 12 + other.month as i32 - self.month as i32
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a month (expected YYYY-MM)");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        Month::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).ok_or_else(bad)
    }
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_walks_across_years() {
        let m: Month = "2025-12".parse().unwrap();
        assert_eq!(m.next().to_string(), "2026-01");
        assert_eq!(m.plus(-12).to_string(), "2024-12");
        assert_eq!("2026-01".parse::<Month>().unwrap().prev(), m);
        assert_eq!(m.months_until("2026-11".parse().unwrap()), 11);
        for bad in ["2025-13", "2025-00", "25-01", "2025-1", "2025/01", ""] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }

    #[test]
    fn knows_its_days() {
        let feb: Month = "2024-02".parse().unwrap();
        assert_eq!(
            feb.last_day(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );
        assert_eq!(
            Month::of(NaiveDate::from_ymd_opt(2023, 12, 31).unwrap()).to_string(),
            "2023-12"
        );
    }

    #[test]
    fn serde_round_trip() {
        let m: Month = serde_json::from_str("\"2026-11\"").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"2026-11\"");
        assert!(serde_json::from_str::<Month>("\"2026-1\"").is_err());
    }
}

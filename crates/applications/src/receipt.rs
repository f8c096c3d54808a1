//! Receipt numbers: `ASD-2026-0001234-7`.
//!
//! `ASD`, the year of submission, a 7-digit sequence within that year (room for 9,999,999
//! applications a year; the first year had about 5 million), and one check digit computed with
//! the Damm algorithm over the 11 digits of year and sequence. Damm catches every single-digit
//! error and every swap of two adjacent digits, the two mistakes people make reading a number
//! over the phone; Luhn misses the swap `09`↔`90`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReceiptNumber {
    year: u16,
    sequence: u32,
}

/// The Damm quasigroup of order 10 (weakly totally anti-symmetric).
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

fn damm(digits: impl Iterator<Item = u8>) -> u8 {
    digits.fold(0, |interim, d| DAMM[interim as usize][d as usize])
}

impl ReceiptNumber {
    pub const MAX_SEQUENCE: u32 = 9_999_999;

    /// The receipt for the `sequence`-th application of `year` (both from the caller's counter).
    pub fn new(year: i32, sequence: u32) -> Result<Self, String> {
        if !(2023..=9999).contains(&year) {
            return Err(format!("{year} is not a programme year (2023 onwards)"));
        }
        if !(1..=Self::MAX_SEQUENCE).contains(&sequence) {
            return Err(format!(
                "sequence {sequence} is outside 1–{}",
                Self::MAX_SEQUENCE
            ));
        }
        Ok(ReceiptNumber {
            year: year as u16,
            sequence,
        })
    }

    pub fn year(self) -> i32 {
        i32::from(self.year)
    }

    pub fn sequence(self) -> u32 {
        self.sequence
    }

    pub fn check_digit(self) -> u8 {
        damm(self.body().bytes().map(|b| b - b'0'))
    }

    fn body(self) -> String {
        format!("{:04}{:07}", self.year, self.sequence)
    }

    /// Parse `ASD-YYYY-NNNNNNN-C`; spaces are tolerated and lower case `asd` is accepted.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a receipt number (ASD-YYYY-NNNNNNN-C)");
        let compact: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let parts: Vec<&str> = compact.split('-').collect();
        let [prefix, year, seq, check] = parts[..] else {
            return Err(bad());
        };
        let digits = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
        if prefix != "ASD" || !digits(year, 4) || !digits(seq, 7) || !digits(check, 1) {
            return Err(bad());
        }
        let r = ReceiptNumber::new(
            year.parse().map_err(|_| bad())?,
            seq.parse().map_err(|_| bad())?,
        )?;
        if check.as_bytes()[0] - b'0' != r.check_digit() {
            return Err(format!("'{s}' has a wrong check digit: mistyped?"));
        }
        Ok(r)
    }
}

impl fmt::Display for ReceiptNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ASD-{:04}-{:07}-{}",
            self.year,
            self.sequence,
            self.check_digit()
        )
    }
}

impl FromStr for ReceiptNumber {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ReceiptNumber::parse(s)
    }
}

impl Serialize for ReceiptNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ReceiptNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ReceiptNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damm_reference_value() {
        // The published worked example of the Damm algorithm: 572 → check digit 4.
        assert_eq!(damm([5, 7, 2].into_iter()), 4);
        assert_eq!(damm([5, 7, 2, 4].into_iter()), 0);
    }

    #[test]
    fn formats_and_parses() {
        let r = ReceiptNumber::new(2026, 1234).unwrap();
        let text = r.to_string();
        assert!(text.starts_with("ASD-2026-0001234-"), "{text}");
        assert_eq!(ReceiptNumber::parse(&text).unwrap(), r);
        assert_eq!(ReceiptNumber::parse(&text.to_lowercase()).unwrap(), r);
        assert_eq!(
            serde_json::from_str::<ReceiptNumber>(&serde_json::to_string(&r).unwrap()).unwrap(),
            r
        );
        for bad in [
            "ASD-2026-1234-7",
            "ASD-26-0001234-7",
            "XYZ-2026-0001234-7",
            "ASD-2026-0001234",
            "",
            "ASD-2026-0000000-0",
        ] {
            assert!(ReceiptNumber::parse(bad).is_err(), "{bad}");
        }
        assert!(ReceiptNumber::new(2022, 1).is_err());
        assert!(ReceiptNumber::new(2026, 10_000_000).is_err());
    }

    #[test]
    fn every_single_digit_error_and_adjacent_swap_is_caught() {
        let r = ReceiptNumber::new(2026, 4_907_153).unwrap();
        let good: Vec<u8> = format!("{}{}", r.body(), r.check_digit())
            .bytes()
            .map(|b| b - b'0')
            .collect();
        assert_eq!(damm(good.iter().copied()), 0);
        for i in 0..good.len() {
            for d in 0..10 {
                if d != good[i] {
                    let mut typo = good.clone();
                    typo[i] = d;
                    assert_ne!(damm(typo.into_iter()), 0, "digit {i} → {d}");
                }
            }
            if i + 1 < good.len() && good[i] != good[i + 1] {
                let mut swap = good.clone();
                swap.swap(i, i + 1);
                assert_ne!(damm(swap.into_iter()), 0, "swap at {i}");
            }
        }
    }
}

//! Money is an integer number of centimes of MAD: sums are exact, never floats.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub};

use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_centimes(c: i64) -> Self {
        Money(c)
    }

    pub const fn from_mad(mad: i64) -> Self {
        Money(mad * 100)
    }

    pub const fn centimes(self) -> i64 {
        self.0
    }

    /// Parse "1234", "1234.5" or "1234.50" (MAD) exactly; more than two decimals is an error.
    pub fn parse_mad(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (neg, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || (!frac.is_empty() && !digits(frac)) || frac.len() > 2 {
            return Err(format!(
                "'{s}' is not an amount in MAD with at most two decimals"
            ));
        }
        let whole: i64 = int.parse().map_err(|_| format!("'{s}' is too large"))?;
        let cents: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
        let c = whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(cents))
            .ok_or(format!("'{s}' is too large"))?;
        Ok(Money(if neg { -c } else { c }))
    }

    /// Apply a percentage given in basis points, rounding down to the centime (recovery caps).
    pub fn percent_bp(self, basis_points: i64) -> Self {
        Money(self.0 * basis_points / 10_000)
    }
}

impl fmt::Display for Money {
    /// `1234.50` — locale formatting belongs to the web layer.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0 - o.0)
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        assert_eq!(Money::parse_mad("300").unwrap(), Money::from_mad(300));
        assert_eq!(Money::parse_mad("0.1").unwrap().centimes(), 10);
        assert_eq!(Money::parse_mad("-12.05").unwrap().centimes(), -1205);
        assert_eq!(Money::from_centimes(123_456).to_string(), "1234.56");
        assert_eq!(Money::from_centimes(-5).to_string(), "-0.05");
        assert!(Money::parse_mad("1.234").is_err());
        assert!(Money::parse_mad("1,5").is_err());
        assert!(Money::parse_mad("").is_err());
    }

    #[test]
    fn sums_are_exact_where_floats_are_not() {
        let tenth = Money::parse_mad("0.10").unwrap();
        let total: Money = std::iter::repeat_n(tenth, 10).sum();
        assert_eq!(total, Money::from_mad(1));
    }

    #[test]
    fn percentage_rounds_down() {
        assert_eq!(Money::from_centimes(1001).percent_bp(3000).centimes(), 300);
    }
}

//! Identifiers and contact/payment details, each checked once at the boundary.
//!
//! Formats the public sources do not publish (RSU household id, IDCS) are documented
//! assumptions in `docs/formats.md`; change them here, in one place.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Implements Display, serde (as a string) and `parse` for a newtype with a validating `parse`.
macro_rules! string_id {
    ($t:ident) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $t::parse(s)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $t::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

fn all_digits(s: &str, len: std::ops::RangeInclusive<usize>) -> bool {
    len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// RSU household identifier: 12 digits (assumption, see docs/formats.md).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RsuId(String);

impl RsuId {
    pub fn parse(s: &str) -> Result<Self, String> {
        if all_digits(s, 12..=12) && s != "000000000000" {
            Ok(RsuId(s.to_owned()))
        } else {
            Err(format!("'{s}' is not an RSU household id (12 digits)"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
string_id!(RsuId);

/// IDCS, the RNP's digital civil and social identifier: 10 digits whose last is a
/// Luhn check digit (assumption, see docs/formats.md), so that a mistyped digit is caught.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Idcs(String);

impl Idcs {
    pub fn parse(s: &str) -> Result<Self, String> {
        if all_digits(s, 10..=10) && luhn_valid(s) {
            Ok(Idcs(s.to_owned()))
        } else {
            Err(format!(
                "'{s}' is not an IDCS (10 digits with a valid check digit)"
            ))
        }
    }
    /// Complete a 9-digit body with its check digit (used by the synthetic population).
    pub fn from_body(body: u64) -> Self {
        let b = format!("{:09}", body % 1_000_000_000);
        let check = luhn_check_digit(&b);
        Idcs(format!("{b}{check}"))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
string_id!(Idcs);

fn luhn_sum(digits: &str, double_first: bool) -> u32 {
    digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if (i % 2 == 0) == double_first {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum()
}

fn luhn_valid(s: &str) -> bool {
    luhn_sum(s, false).is_multiple_of(10)
}

fn luhn_check_digit(body: &str) -> u32 {
    (10 - luhn_sum(body, true) % 10) % 10
}

/// CNIE number: one or two capital letters then 1 to 6 digits (e.g. `BE123456`, `K45012`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cnie(String);

impl Cnie {
    pub fn parse(s: &str) -> Result<Self, String> {
        let letters = s.bytes().take_while(u8::is_ascii_uppercase).count();
        let digits = &s[letters..];
        if (1..=2).contains(&letters) && all_digits(digits, 1..=6) {
            Ok(Cnie(s.to_owned()))
        } else {
            Err(format!(
                "'{s}' is not a CNIE number (1–2 capital letters and 1–6 digits)"
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// `BE****56`: enough for a caller to confirm, not enough to reuse.
    pub fn masked(&self) -> String {
        mask(&self.0, 2, 2)
    }
}
string_id!(Cnie);

fn mask(s: &str, keep_start: usize, keep_end: usize) -> String {
    let n = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_start || i + keep_end >= n {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// A Moroccan mobile or fixed number, stored in E.164 form (`+212612345678`).
/// Accepts `06…`, `07…`, `05…`, `+2126…` and `002126…`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(s: &str) -> Result<Self, String> {
        let compact: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.'))
            .collect();
        let national = compact
            .strip_prefix("+212")
            .or_else(|| compact.strip_prefix("00212"))
            .or_else(|| compact.strip_prefix('0'))
            .unwrap_or("");
        if all_digits(national, 9..=9) && matches!(national.as_bytes()[0], b'5' | b'6' | b'7') {
            Ok(Phone(format!("+212{national}")))
        } else {
            Err(format!("'{s}' is not a Moroccan phone number"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
string_id!(Phone);

/// A 24-digit Moroccan RIB: bank (3), city (3), account (16), key (2).
/// The key makes the whole number divisible by 97, as for the French RIB.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rib(String);

impl Rib {
    pub fn parse(s: &str) -> Result<Self, String> {
        let compact: String = s.chars().filter(|c| *c != ' ').collect();
        if !all_digits(&compact, 24..=24) {
            return Err(format!("'{s}' is not a RIB (24 digits)"));
        }
        let key: u32 = compact[22..].parse().unwrap_or(0);
        if !(1..=97).contains(&key) || mod97(&compact) != 0 {
            return Err(format!("'{s}' has a wrong RIB key"));
        }
        Ok(Rib(compact))
    }
    /// Build a valid RIB from its 22 leading digits (used by the synthetic population).
    pub fn with_key(first22: &str) -> Result<Self, String> {
        if !all_digits(first22, 22..=22) {
            return Err(format!("'{first22}' is not 22 digits"));
        }
        let key = 97 - mod97(&format!("{first22}00"));
        Rib::parse(&format!("{first22}{key:02}"))
    }
    pub fn bank_code(&self) -> &str {
        &self.0[..3]
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
string_id!(Rib);

fn mod97(digits: &str) -> u32 {
    digits
        .bytes()
        .fold(0, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97)
}

/// How a household is paid: a bank account, or a payment provider's wallet or cash-out reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PaymentInstrument {
    Bank { rib: Rib },
    Wallet { provider: String, reference: String },
    CashOut { provider: String, reference: String },
}

impl PaymentInstrument {
    /// Checks what serde cannot: provider codes and references are short printable tokens.
    pub fn validate(&self) -> Result<(), String> {
        let token = |what: &str, v: &str, max: usize| {
            let ok = !v.is_empty()
                && v.len() <= max
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "{what} '{v}' must be 1–{max} letters, digits, '-' or '_'"
                ))
            }
        };
        match self {
            PaymentInstrument::Bank { .. } => Ok(()),
            PaymentInstrument::Wallet {
                provider,
                reference,
            }
            | PaymentInstrument::CashOut {
                provider,
                reference,
            } => {
                token("provider", provider, 16)?;
                token("reference", reference, 35)
            }
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            PaymentInstrument::Bank { .. } => "bank",
            PaymentInstrument::Wallet { .. } => "wallet",
            PaymentInstrument::CashOut { .. } => "cash_out",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idcs_check_digit_catches_typos() {
        let id = Idcs::from_body(123_456_789);
        assert!(Idcs::parse(id.as_str()).is_ok());
        let mut typo = id.as_str().to_owned().into_bytes();
        typo[3] = if typo[3] == b'9' { b'0' } else { typo[3] + 1 };
        assert!(Idcs::parse(std::str::from_utf8(&typo).unwrap()).is_err());
        assert!(Idcs::parse("12345").is_err());
        assert!(Idcs::parse("12345678a0").is_err());
    }

    #[test]
    fn cnie_format() {
        for ok in ["BE123456", "K45012", "A1"] {
            assert!(Cnie::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["be123456", "ABC12345", "B1234567", "123456", "BE", ""] {
            assert!(Cnie::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Cnie::parse("BE123456").unwrap().masked(), "BE****56");
    }

    #[test]
    fn phone_normalised() {
        for s in [
            "0612345678",
            "+212612345678",
            "00212 6 12 34 56 78",
            "06-12-34-56-78",
        ] {
            assert_eq!(Phone::parse(s).unwrap().as_str(), "+212612345678", "{s}");
        }
        for bad in ["0812345678", "061234567", "+33612345678", "phone"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rib_key() {
        let rib = Rib::with_key("0077800000123456789012").unwrap();
        assert_eq!(rib.as_str().len(), 24);
        assert_eq!(rib.bank_code(), "007");
        assert!(Rib::parse(rib.as_str()).is_ok());
        let mut wrong = rib.as_str().to_owned();
        let last = wrong.pop().unwrap();
        wrong.push(if last == '9' {
            '0'
        } else {
            (last as u8 + 1) as char
        });
        assert!(Rib::parse(&wrong).unwrap_err().contains("key"));
        assert!(Rib::parse("12345").is_err());
    }

    #[test]
    fn instrument_json() {
        let w: PaymentInstrument =
            serde_json::from_str(r#"{"kind":"wallet","provider":"WAFACASH","reference":"W-001"}"#)
                .unwrap();
        assert!(w.validate().is_ok());
        let bad: PaymentInstrument =
            serde_json::from_str(r#"{"kind":"cash_out","provider":"X Y","reference":"1"}"#)
                .unwrap();
        assert!(bad.validate().is_err());
        assert!(
            serde_json::from_str::<PaymentInstrument>(r#"{"kind":"bank","rib":"123"}"#).is_err()
        );
    }
}

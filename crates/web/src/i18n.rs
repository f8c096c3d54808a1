//! Languages: French (default), Arabic (right to left) and English. Messages live in
//! `i18n/{fr,ar,en}.txt` as `key = text`, embedded in the binary; plural forms are keys
//! suffixed with their CLDR category (`.one`, `.two`, `.few`, `.many`, `.other`, `.zero`).
//! Numbers, money and dates are formatted per locale here, nowhere else.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use sanad_domain::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    Fr,
    Ar,
    En,
}

const SOURCES: [(Locale, &str); 3] = [
    (Locale::Fr, include_str!("../i18n/fr.txt")),
    (Locale::Ar, include_str!("../i18n/ar.txt")),
    (Locale::En, include_str!("../i18n/en.txt")),
];

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::Fr, Locale::Ar, Locale::En];

    pub fn code(self) -> &'static str {
        match self {
            Locale::Fr => "fr",
            Locale::Ar => "ar",
            Locale::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Locale> {
        Locale::ALL
            .into_iter()
            .find(|l| s.trim().to_ascii_lowercase().starts_with(l.code()))
    }

    pub fn dir(self) -> &'static str {
        if self == Locale::Ar { "rtl" } else { "ltr" }
    }

    /// The best supported language of an `Accept-Language` header, by quality.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let Some(loc) = it.next().and_then(Locale::parse) else {
                continue;
            };
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse().ok())
                .unwrap_or(1.0);
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, loc));
            }
        }
        best.map(|(_, l)| l)
    }

    /// CLDR plural category of `n` (integers).
    pub fn plural(self, n: i64) -> &'static str {
        let n = n.abs();
        match self {
            Locale::Fr if n <= 1 => "one",
            Locale::En if n == 1 => "one",
            Locale::Fr | Locale::En => "other",
            Locale::Ar => match (n, n % 100) {
                (0, _) => "zero",
                (1, _) => "one",
                (2, _) => "two",
                (_, 3..=10) => "few",
                (_, 11..=99) => "many",
                _ => "other",
            },
        }
    }

    /// The categories a plural message must define in this language.
    pub fn plural_categories(self) -> &'static [&'static str] {
        match self {
            Locale::Ar => &["zero", "one", "two", "few", "many", "other"],
            _ => &["one", "other"],
        }
    }

    /// The message for `key`; a missing key shows itself (and fails the catalogue test).
    pub fn t<'a>(self, key: &'a str) -> &'a str {
        catalog(self).get(key).copied().unwrap_or_else(|| {
            tracing::warn!(key, locale = self.code(), "missing message");
            key
        })
    }

    /// A plural message with `{n}` replaced by `n`, formatted for the locale.
    pub fn tn(self, key: &str, n: i64) -> String {
        let k = format!("{key}.{}", self.plural(n));
        self.t(&k).replace("{n}", &self.int(n))
    }

    /// `1234567` → `1 234 567` (fr, narrow no-break space), `1,234,567` (en), `1.234.567` (ar-MA).
    pub fn int(self, n: i64) -> String {
        let sep = match self {
            Locale::Fr => '\u{202f}',
            Locale::En => ',',
            Locale::Ar => '.',
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(sep);
            }
            out.push(c);
        }
        out
    }

    /// Exact money from centimes: `1 234,50 MAD`, `MAD 1,234.50`, `1.234,50 درهم`.
    pub fn money(self, m: Money) -> String {
        let c = m.centimes();
        let sign = if c < 0 { "-" } else { "" };
        let (whole, cents) = (self.int((c / 100).abs()), (c % 100).abs());
        match self {
            Locale::Fr => format!("{sign}{whole},{cents:02}\u{a0}MAD"),
            Locale::En => format!("{sign}MAD\u{a0}{whole}.{cents:02}"),
            Locale::Ar => format!("{sign}{whole},{cents:02}\u{a0}درهم"),
        }
    }

    /// `29 nov. 2026`, `29 Nov 2026`, `29 نونبر 2026` (Moroccan month names).
    pub fn date(self, d: NaiveDate) -> String {
        let k = format!("month.short.{}", d.month());
        format!("{} {} {}", d.day(), self.t(&k), d.year())
    }

    /// `novembre 2026`, `November 2026`, `نونبر 2026`.
    pub fn month(self, m: sanad_domain::Month) -> String {
        let k = format!("month.long.{}", m.month());
        format!("{} {}", self.t(&k), m.year())
    }
}

/// Parse one catalogue: `key = text` lines, `#` comments, blank lines.
pub fn parse_catalog(text: &str) -> Result<HashMap<&str, &str>, String> {
    let mut map = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line
            .split_once(" = ")
            .ok_or_else(|| format!("line {}: expected 'key = text'", i + 1))?;
        if map.insert(k.trim(), v.trim()).is_some() {
            return Err(format!("line {}: '{}' is defined twice", i + 1, k.trim()));
        }
    }
    Ok(map)
}

fn catalog(l: Locale) -> &'static HashMap<&'static str, &'static str> {
    static CATALOGS: OnceLock<Vec<(Locale, HashMap<&'static str, &'static str>)>> = OnceLock::new();
    let all = CATALOGS.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(l, src)| {
                (
                    *l,
                    parse_catalog(src).expect("catalogues are checked by tests"),
                )
            })
            .collect()
    });
    &all.iter()
        .find(|(x, _)| *x == l)
        .expect("every locale has a catalogue")
        .1
}

/// Every key of every catalogue, for the completeness test.
pub fn keys(l: Locale) -> Vec<&'static str> {
    catalog(l).keys().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_exists_in_every_language() {
        // A plural message has at least `.one` and `.other` (so `relation.other` is not one).
        let plural_base = |k: &str| {
            let base = ["zero", "one", "two", "few", "many", "other"]
                .iter()
                .find_map(|c| k.strip_suffix(&format!(".{c}")))?;
            let is_plural = Locale::ALL.iter().any(|l| {
                catalog(*l).contains_key(format!("{base}.one").as_str())
                    && catalog(*l).contains_key(format!("{base}.other").as_str())
            });
            is_plural.then(|| base.to_owned())
        };
        for (l, src) in SOURCES {
            parse_catalog(src).unwrap_or_else(|e| panic!("{}.txt {e}", l.code()));
        }
        for a in Locale::ALL {
            for key in keys(a) {
                match plural_base(key) {
                    Some(base) => {
                        for b in Locale::ALL {
                            for cat in b.plural_categories() {
                                assert!(
                                    catalog(b).contains_key(format!("{base}.{cat}").as_str()),
                                    "{}.txt lacks {base}.{cat}",
                                    b.code()
                                );
                            }
                        }
                    }
                    None => {
                        for b in Locale::ALL {
                            assert!(
                                catalog(b).contains_key(key),
                                "{}.txt lacks '{key}' (present in {}.txt)",
                                b.code(),
                                a.code()
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_key_used_in_the_code_exists() {
        let sources = [
            include_str!("pages/layout.rs"),
            include_str!("pages/login.rs"),
            include_str!("pages/households.rs"),
            include_str!("pages/rules.rs"),
            include_str!("pages/admin.rs"),
            include_str!("pages/audit.rs"),
            include_str!("pages/home.rs"),
            include_str!("pages/payroll.rs"),
            include_str!("pages/pilot.rs"),
            include_str!("pages/pilot_cases.rs"),
            include_str!("pages/pilot_indicators.rs"),
            include_str!("pages/applications.rs"),
            include_str!("pages/outbox.rs"),
            include_str!("pages/pilot_outcomes.rs"),
            include_str!("error.rs"),
        ];
        for src in sources {
            for (i, _) in src.match_indices(".t(\"") {
                let rest = &src[i + 4..];
                let key = &rest[..rest.find('"').unwrap()];
                for l in Locale::ALL {
                    assert!(
                        catalog(l).contains_key(key),
                        "{}.txt lacks '{key}', used in the code",
                        l.code()
                    );
                }
            }
            for (i, _) in src.match_indices(".tn(\"") {
                let rest = &src[i + 5..];
                let base = &rest[..rest.find('"').unwrap()];
                for l in Locale::ALL {
                    for cat in l.plural_categories() {
                        assert!(
                            catalog(l).contains_key(format!("{base}.{cat}").as_str()),
                            "{}.txt lacks '{base}.{cat}'",
                            l.code()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn arabic_plurals_follow_cldr() {
        let cats: Vec<&str> = [0, 1, 2, 3, 10, 11, 99, 100, 102, 103, 111]
            .iter()
            .map(|n| Locale::Ar.plural(*n))
            .collect();
        assert_eq!(
            cats,
            [
                "zero", "one", "two", "few", "few", "many", "many", "other", "other", "few", "many"
            ]
        );
        assert_eq!(
            (
                Locale::Fr.plural(0),
                Locale::Fr.plural(1),
                Locale::Fr.plural(2)
            ),
            ("one", "one", "other")
        );
        assert_eq!(
            (Locale::En.plural(0), Locale::En.plural(1)),
            ("other", "one")
        );
        assert_eq!(Locale::Ar.tn("households.count", 2), "أسرتان");
        assert_eq!(
            Locale::Fr.tn("households.count", 1234),
            "1\u{202f}234 ménages"
        );
    }

    #[test]
    fn numbers_money_and_dates_per_locale() {
        let m = Money::from_centimes(123_456_789);
        assert_eq!(Locale::Fr.money(m), "1\u{202f}234\u{202f}567,89\u{a0}MAD");
        assert_eq!(Locale::En.money(m), "MAD\u{a0}1,234,567.89");
        assert_eq!(
            Locale::Ar.money(Money::from_centimes(-5)),
            "-0,05\u{a0}درهم"
        );
        let d = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(Locale::Fr.date(d), "29 nov. 2026");
        assert_eq!(Locale::Ar.date(d), "29 نونبر 2026");
        assert_eq!(Locale::En.date(d), "29 Nov 2026");
    }

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(
            Locale::from_accept_language("ar-MA,ar;q=0.9,fr;q=0.8"),
            Some(Locale::Ar)
        );
        assert_eq!(
            Locale::from_accept_language("de-DE, en;q=0.5, fr;q=0.7"),
            Some(Locale::Fr)
        );
        assert_eq!(Locale::from_accept_language("de, es"), None);
    }
}

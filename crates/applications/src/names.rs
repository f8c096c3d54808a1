//! Names compared the way people mistype and transliterate them.
//!
//! The same person may be written "Mohamed El Amrani" on one record and "Mohammed Elamrani" on
//! another, or "فاطمة" and "فاطمه". Names are normalised first (below), then compared with
//! Jaro–Winkler, which rewards a common beginning: what transliterations usually keep.
//! Similarities are reported in permille (integers), so a threshold is an exact comparison.

/// Latin script: lower case, accents removed (é → e, ç → c, œ → oe), everything but letters
/// dropped (spaces, hyphens, apostrophes: "El Amrani" = "Elamrani" = "El-Amrani"), and doubled
/// letters collapsed ("Mohammed" = "Mohamed", "Hassan" = "Hasan").
pub fn normalise_latin(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let base = match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => "a",
            'ç' => "c",
            'è' | 'é' | 'ê' | 'ë' => "e",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => "o",
            'ù' | 'ú' | 'û' | 'ü' => "u",
            'ý' | 'ÿ' => "y",
            'ñ' => "n",
            'œ' => "oe",
            'æ' => "ae",
            'a'..='z' => {
                push_collapsed(&mut out, c);
                continue;
            }
            _ => "",
        };
        base.chars().for_each(|b| push_collapsed(&mut out, b));
    }
    out
}

fn push_collapsed(out: &mut String, c: char) {
    if !out.ends_with(c) {
        out.push(c);
    }
}

/// Arabic script: diacritics (tashkeel, U+064B–U+065F, superscript alef) and tatweel removed;
/// alef variants (أ إ آ ٱ) → ا; taa marbuta ة → ه; alef maqsura ى → ي; hamza carriers ؤ → و,
/// ئ → ي; a lone hamza ء dropped; Persian kaf and yeh → Arabic; anything not a letter dropped.
pub fn normalise_arabic(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' | 'ء' => None,
            'أ' | 'إ' | 'آ' | 'ٱ' => Some('ا'),
            'ة' => Some('ه'),
            'ى' | 'ئ' | 'ی' => Some('ي'),
            'ؤ' => Some('و'),
            'ک' => Some('ك'),
            '\u{0621}'..='\u{064A}' => Some(c),
            _ => None,
        })
        .collect()
}

/// Jaro similarity of two strings, 0.0–1.0.
fn jaro(a: &[char], b: &[char]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return if a.len() == b.len() { 1.0 } else { 0.0 };
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut b_used = vec![false; b.len()];
    let mut a_matched = Vec::with_capacity(a.len());
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        if let Some(j) = (lo..hi).find(|&j| !b_used[j] && b[j] == *ca) {
            b_used[j] = true;
            a_matched.push(*ca);
        }
    }
    let m = a_matched.len();
    if m == 0 {
        return 0.0;
    }
    let b_matched = b.iter().zip(&b_used).filter(|(_, u)| **u).map(|(c, _)| c);
    let half_transpositions = a_matched
        .iter()
        .zip(b_matched)
        .filter(|(x, y)| x != y)
        .count();
    let m = m as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - half_transpositions as f64 / 2.0) / m) / 3.0
}

/// Jaro–Winkler similarity in permille (1000 = identical), prefix scale 0.1 over at most 4 characters.
pub fn jaro_winkler_permille(a: &str, b: &str) -> u16 {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    jaro_winkler_chars(&a, &b)
}

fn jaro_winkler_chars(a: &[char], b: &[char]) -> u16 {
    let j = jaro(a, b);
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f64;
    let jw = j + prefix * 0.1 * (1.0 - j);
    (jw * 1000.0).round() as u16
}

/// A person's full name in both scripts, normalised once: a batch compares each name with
/// dozens of others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FullName {
    latin: Vec<char>,
    arabic: Vec<char>,
}

impl FullName {
    /// From (first, last) in Latin and in Arabic script.
    pub fn new(latin: (&str, &str), arabic: (&str, &str)) -> Self {
        FullName {
            latin: normalise_latin(&format!("{}{}", latin.0, latin.1))
                .chars()
                .collect(),
            arabic: normalise_arabic(&format!("{}{}", arabic.0, arabic.1))
                .chars()
                .collect(),
        }
    }

    /// How alike two full names are: the better of the Latin and the Arabic comparison (a
    /// script left empty on either side is not compared).
    pub fn similarity(&self, other: &FullName) -> u16 {
        let mut best = 0;
        for (x, y) in [(&self.latin, &other.latin), (&self.arabic, &other.arabic)] {
            if !x.is_empty() && !y.is_empty() {
                best = best.max(jaro_winkler_chars(x, y));
            }
        }
        best
    }
}

/// How alike two persons' full names are (see [`FullName::similarity`]).
pub fn name_similarity(
    a: (&str, &str),
    b: (&str, &str),
    a_ar: (&str, &str),
    b_ar: (&str, &str),
) -> u16 {
    FullName::new(a, a_ar).similarity(&FullName::new(b, b_ar))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_jaro_winkler_values() {
        // Winkler's classic examples: MARTHA/MARHTA 0.961, DWAYNE/DUANE 0.840, DIXON/DICKSONX 0.813.
        assert_eq!(jaro_winkler_permille("martha", "marhta"), 961);
        assert_eq!(jaro_winkler_permille("dwayne", "duane"), 840);
        assert_eq!(jaro_winkler_permille("dixon", "dicksonx"), 813);
        assert_eq!(jaro_winkler_permille("abc", "xyz"), 0);
        assert_eq!(jaro_winkler_permille("", ""), 1000);
    }

    #[test]
    fn latin_transliterations_meet() {
        assert_eq!(normalise_latin("Mohamed El Amrani"), "mohamedelamrani");
        assert_eq!(normalise_latin("Mohammed Elamrani"), "mohamedelamrani");
        assert_eq!(normalise_latin("Hélène O'Brien-Ça"), "heleneobrienca");
        // Without the normalisation the two spellings still score high, but not identical.
        let raw = jaro_winkler_permille("mohamed el amrani", "mohammed elamrani");
        assert!((900..1000).contains(&raw), "{raw}");
    }

    #[test]
    fn arabic_normalisation() {
        assert_eq!(normalise_arabic("فاطمة"), normalise_arabic("فاطمه"));
        assert_eq!(normalise_arabic("أحمد"), normalise_arabic("احمد"));
        assert_eq!(normalise_arabic("إيمان"), normalise_arabic("ايمان"));
        assert_eq!(normalise_arabic("مُحَمَّد"), "محمد");
        assert_eq!(normalise_arabic("مصطفى"), normalise_arabic("مصطفي"));
        assert_eq!(normalise_arabic("العمـــراني"), "العمراني");
        assert_eq!(normalise_arabic("هاني ئ"), "هانيي");
        assert_ne!(normalise_arabic("محمد"), normalise_arabic("محمود"));
    }

    #[test]
    fn person_names_compare_in_either_script() {
        let s = name_similarity(
            ("Mohamed", "El Amrani"),
            ("Mohammed", "Elamrani"),
            ("", ""),
            ("", ""),
        );
        assert_eq!(s, 1000);
        // Latin spellings far apart, Arabic identical once normalised: the Arabic decides.
        let s = name_similarity(
            ("Fatima", "Zahra"),
            ("Fatma", "Ezzahraa"),
            ("فاطمة", "الزهراء"),
            ("فاطمه", "الزهراء"),
        );
        assert_eq!(s, 1000);
        let s = name_similarity(
            ("Karim", "Bennani"),
            ("Youssef", "Tazi"),
            ("كريم", "بناني"),
            ("يوسف", "التازي"),
        );
        assert!(s < 700, "{s}");
    }
}

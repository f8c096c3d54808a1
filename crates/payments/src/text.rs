//! Text put into payment files: XML escaping, and names reduced to the restricted Latin
//! character set banks accept (the SEPA/EPC set: a-z A-Z 0-9 / - ? : ( ) . , ' + space).
//! Names in Arabic script are not transliterated here: callers pass the Latin name the
//! registry holds, and whatever is left outside the set is replaced by spaces.

/// Longest name written (the EPC/bank practice, shorter than ISO's 140).
pub const MAX_NAME_CHARS: usize = 70;
/// Written when nothing Latin is left of a name: the account identifies the beneficiary.
pub const FALLBACK_NAME: &str = "BENEFICIAIRE";

/// Reduce `name` to the allowed set: accents removed, other characters replaced by spaces,
/// spaces collapsed, at most [`MAX_NAME_CHARS`] characters, never empty.
pub fn latin_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match transliterate(c) {
            Some(s) => out.push_str(s),
            None if allowed(c) => out.push(c),
            None => out.push(' '),
        }
    }
    let collapsed: Vec<&str> = out.split(' ').filter(|w| !w.is_empty()).collect();
    let mut joined = collapsed.join(" ");
    if joined.len() > MAX_NAME_CHARS {
        joined.truncate(MAX_NAME_CHARS); // ASCII only by now, so byte index = char index
        joined.truncate(joined.trim_end().len());
    }
    if joined.chars().all(|c| !c.is_ascii_alphanumeric()) {
        FALLBACK_NAME.to_string()
    } else {
        joined
    }
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || " /-?:().,'+".contains(c)
}

/// Latin letters with diacritics (Latin-1 Supplement and Latin Extended-A) to ASCII.
fn transliterate(c: char) -> Option<&'static str> {
    Some(match c {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ă' | 'Ą' => "A",
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'Æ' => "AE",
        'æ' => "ae",
        'Ç' | 'Ć' | 'Ĉ' | 'Ċ' | 'Č' => "C",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'Ð' | 'Ď' | 'Đ' => "D",
        'ð' | 'ď' | 'đ' => "d",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' => "E",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' => "G",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'Ĥ' | 'Ħ' => "H",
        'ĥ' | 'ħ' => "h",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' => "I",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'Ĵ' => "J",
        'ĵ' => "j",
        'Ķ' => "K",
        'ķ' => "k",
        'Ĺ' | 'Ļ' | 'Ľ' | 'Ŀ' | 'Ł' => "L",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'Ñ' | 'Ń' | 'Ņ' | 'Ň' => "N",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ŏ' | 'Ő' => "O",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'Œ' => "OE",
        'œ' => "oe",
        'Ŕ' | 'Ŗ' | 'Ř' => "R",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'Ś' | 'Ŝ' | 'Ş' | 'Š' => "S",
        'ś' | 'ŝ' | 'ş' | 'š' => "s",
        'ß' => "ss",
        'Ţ' | 'Ť' | 'Ŧ' => "T",
        'ţ' | 'ť' | 'ŧ' => "t",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' => "U",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'Ŵ' => "W",
        'ŵ' => "w",
        'Ý' | 'Ÿ' | 'Ŷ' => "Y",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'ź' | 'ż' | 'ž' => "z",
        '’' | '‘' | 'ʼ' | '`' => "'",
        '&' => "+",
        '\u{2010}'..='\u{2015}' => "-",
        _ => return None,
    })
}

/// Escape text for an XML element or attribute value.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['<', '>', '&', '"', '\'']) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_removed_arabic_replaced() {
        assert_eq!(latin_name("Fatima-Zahra El Aïdi"), "Fatima-Zahra El Aidi");
        assert_eq!(latin_name("Hélène  Çağlar Œuvre"), "Helene Caglar OEuvre");
        assert_eq!(latin_name("محمد Benali"), "Benali");
        assert_eq!(latin_name("محمد بنعلي"), FALLBACK_NAME);
        assert_eq!(latin_name("  "), FALLBACK_NAME);
        assert_eq!(latin_name("O’Neil & Sons <x>"), "O'Neil + Sons x");
        let long = "A".repeat(69) + " BC";
        assert_eq!(latin_name(&long), "A".repeat(69));
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b & 'c'"), "a&lt;b &amp; &apos;c&apos;");
        assert_eq!(escape("plain"), "plain");
    }
}

//! Exact decimal amounts: ISO 20022 amounts are decimal strings; Sanad keeps integer
//! centimes. No floating point anywhere, so a control sum over 4 M payments is exact.

use sanad_domain::Money;

/// `1234.50`, the form every ISO 20022 amount and control sum is written in.
pub fn format_amount(m: Money) -> String {
    m.to_string()
}

/// Parse an xs:decimal amount ("12", "12.5", "012.50", "+3.00") into centimes.
/// Negative values, more than two significant decimals, exponents and overflow are errors:
/// the reason is returned for the caller to attach the line and element.
pub fn parse_amount(s: &str) -> Result<Money, String> {
    let t = s.trim();
    let body = t.strip_prefix('+').unwrap_or(t);
    if body.starts_with('-') {
        return Err("negative amounts are not valid ISO 20022 amounts".into());
    }
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let is_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !is_digits(int) || !is_digits(frac) {
        return Err("not a decimal number".into());
    }
    // "1.500" is still exact in centimes: only non-zero third decimals are refused.
    let significant = frac.trim_end_matches('0');
    if significant.len() > 2 {
        return Err(format!(
            "{} decimals; at most 2 are allowed (centimes)",
            significant.len()
        ));
    }
    let whole: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| "too large".to_string())?
    };
    let cents: i64 = format!("{significant:0<2}")
        .parse()
        .map_err(|_| "not a decimal number".to_string())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .map(Money::from_centimes)
        .ok_or_else(|| "too large".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_exactly() {
        assert_eq!(format_amount(Money::from_centimes(1)), "0.01");
        assert_eq!(
            format_amount(Money::from_centimes(100_000_000)),
            "1000000.00"
        );
        assert_eq!(
            format_amount(Money::from_centimes(123_456_789_012)),
            "1234567890.12"
        );
    }

    #[test]
    fn parses_exactly() {
        let c = |s| parse_amount(s).map(Money::centimes);
        assert_eq!(c("0.01"), Ok(1));
        assert_eq!(c("1000000.00"), Ok(100_000_000));
        assert_eq!(c("12"), Ok(1200));
        assert_eq!(c("12.5"), Ok(1250));
        assert_eq!(c("+3.000"), Ok(300));
        assert_eq!(c(".5"), Ok(50));
        assert_eq!(c(" 7.10 "), Ok(710));
        assert!(c("1.234").unwrap_err().contains("3 decimals"));
        assert!(c("-1.00").is_err());
        assert!(c("1e3").is_err());
        assert!(c("").is_err());
        assert!(c(".").is_err());
        assert!(c("1,50").is_err());
        assert!(c("99999999999999999999").is_err());
    }
}

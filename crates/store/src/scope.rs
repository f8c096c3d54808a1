//! Where a user may look: the whole country, some regions, or some antennas (an antenna
//! serves one province or prefecture). Turned into a SQL condition on a households alias.

use std::fmt;

use sanad_domain::{Geography, ProvinceCode, RegionCode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    National,
    Regions(Vec<RegionCode>),
    /// Antennas, by the province code they serve.
    Antennas(Vec<ProvinceCode>),
}

impl Scope {
    pub fn region(r: RegionCode) -> Scope {
        Scope::Regions(vec![r])
    }

    pub fn allows(&self, region: RegionCode, province: &str) -> bool {
        match self {
            Scope::National => true,
            Scope::Regions(rs) => rs.contains(&region),
            Scope::Antennas(ps) => ps.iter().any(|p| p == province),
        }
    }

    /// Whether the scope admits nothing at all.
    pub fn is_empty(&self) -> bool {
        match self {
            Scope::National => false,
            Scope::Regions(rs) => rs.is_empty(),
            Scope::Antennas(ps) => ps.is_empty(),
        }
    }

    /// A SQL condition on the households table aliased `alias`. Codes are validated
    /// against the embedded geography, so inlining them cannot inject anything, and both
    /// backends accept the same text.
    pub fn sql(&self, alias: &str) -> String {
        let list = |items: Vec<String>| {
            items
                .iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            Scope::National => "1=1".to_owned(),
            _ if self.is_empty() => "1=0".to_owned(),
            Scope::Regions(rs) => format!(
                "{alias}.region IN ({})",
                list(rs.iter().map(ToString::to_string).collect())
            ),
            Scope::Antennas(ps) => format!("{alias}.province IN ({})", list(ps.clone())),
        }
    }

    /// `national`, `regions:01,04` or `antennas:01.511,04.411`.
    pub fn parse(s: &str) -> Result<Scope, String> {
        let split = |v: &str| {
            v.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        match s.trim().split_once(':') {
            None if s.trim() == "national" => Ok(Scope::National),
            Some(("regions", v)) => split(v)
                .iter()
                .map(|r| RegionCode::parse(r))
                .collect::<Result<_, _>>()
                .map(Scope::Regions),
            Some(("antennas", v)) => {
                let geo = Geography::get();
                let ps = split(v);
                match ps.iter().find(|p| geo.province(p).is_none()) {
                    Some(p) => Err(format!("'{p}' is not a province code (RR.PPP)")),
                    None => Ok(Scope::Antennas(ps)),
                }
            }
            _ => Err(format!(
                "'{s}' is not a scope: write national, regions:01,04 or antennas:01.511"
            )),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::National => f.write_str("national"),
            Scope::Regions(rs) => write!(
                f,
                "regions:{}",
                rs.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Scope::Antennas(ps) => write!(f, "antennas:{}", ps.join(",")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_sql() {
        let r = |s| RegionCode::parse(s).unwrap();
        assert_eq!(Scope::National.sql("h"), "1=1");
        assert_eq!(Scope::Regions(vec![]).sql("h"), "1=0");
        assert_eq!(
            Scope::Regions(vec![r("01"), r("12")]).sql("h"),
            "h.region IN ('01','12')"
        );
        assert_eq!(
            Scope::Antennas(vec!["01.511".into()]).sql("h"),
            "h.province IN ('01.511')"
        );
        assert!(
            Scope::region(r("04")).allows(r("04"), "04.411")
                && !Scope::region(r("04")).allows(r("05"), "05.001")
        );
    }

    #[test]
    fn scope_parses_and_prints() {
        for s in ["national", "regions:01,04", "antennas:01.511"] {
            assert_eq!(Scope::parse(s).unwrap().to_string(), s);
        }
        assert!(Scope::parse("regions:13").unwrap_err().contains("13"));
        assert!(
            Scope::parse("antennas:99.999")
                .unwrap_err()
                .contains("99.999")
        );
        assert!(Scope::parse("everywhere").is_err());
    }
}

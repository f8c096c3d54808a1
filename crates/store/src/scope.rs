//! Region scoping: the set of regions a user may see, turned into a SQL condition.

use sanad_domain::RegionCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    National,
    Regions(Vec<RegionCode>),
}

impl Scope {
    pub fn region(r: RegionCode) -> Scope {
        Scope::Regions(vec![r])
    }

    pub fn allows(&self, r: RegionCode) -> bool {
        match self {
            Scope::National => true,
            Scope::Regions(rs) => rs.contains(&r),
        }
    }

    /// A SQL condition on `column`. Region codes are validated two-digit numbers, so
    /// inlining them cannot inject anything, and both backends accept the same text.
    pub fn sql(&self, column: &str) -> String {
        match self {
            Scope::National => "1=1".to_owned(),
            Scope::Regions(rs) if rs.is_empty() => "1=0".to_owned(),
            Scope::Regions(rs) => {
                let list: Vec<String> = rs.iter().map(|r| format!("'{r}'")).collect();
                format!("{column} IN ({})", list.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_sql() {
        let r = |s| RegionCode::parse(s).unwrap();
        assert_eq!(Scope::National.sql("h.region"), "1=1");
        assert_eq!(Scope::Regions(vec![]).sql("h.region"), "1=0");
        assert_eq!(Scope::Regions(vec![r("01"), r("12")]).sql("h.region"), "h.region IN ('01','12')");
        assert!(Scope::region(r("04")).allows(r("04")) && !Scope::region(r("04")).allows(r("05")));
    }
}

//! Morocco's 12 regions, 75 prefectures/provinces and 1,503 communes (HCP codes, RGPH 2024),
//! embedded from `data/morocco/` so that every binary validates residence the same way.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

const REGIONS_CSV: &str = include_str!("../../../data/morocco/regions.csv");
const PROVINCES_CSV: &str = include_str!("../../../data/morocco/provinces.csv");
const COMMUNES_CSV: &str = include_str!("../../../data/morocco/communes.csv");

/// Region code `01`..`12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(u8);

impl RegionCode {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.parse::<u8>() {
            Ok(n) if s.len() == 2 && (1..=12).contains(&n) => Ok(RegionCode(n)),
            _ => Err(format!("'{s}' is not a region code (01–12)")),
        }
    }
    pub fn number(self) -> u8 {
        self.0
    }
    pub fn all() -> impl Iterator<Item = RegionCode> {
        (1..=12).map(RegionCode)
    }
    /// The two-digit code, without formatting (a national load writes it 5 M times).
    pub fn as_str(self) -> &'static str {
        const CODES: [&str; 12] = [
            "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
        ];
        CODES[usize::from(self.0 - 1)]
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for RegionCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        RegionCode::parse(&s)
    }
}

impl From<RegionCode> for String {
    fn from(r: RegionCode) -> String {
        r.to_string()
    }
}

/// HCP province code `RR.PPP`, known to exist.
pub type ProvinceCode = String;
/// HCP commune code `RR.PPP.CC.NN`, known to exist.
pub type CommuneCode = String;

/// Urban or rural residence (milieu), as recorded by the RSU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Urban,
    Rural,
}

impl Area {
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Urban => "urban",
            Area::Rural => "rural",
        }
    }
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "urban" => Ok(Area::Urban),
            "rural" => Ok(Area::Rural),
            _ => Err(format!("'{s}' is not urban or rural")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Region {
    pub code: RegionCode,
    pub name_fr: String,
    pub name_ar: String,
    pub households_2024: u64,
    pub households_urban_2024: u64,
    pub households_rural_2024: u64,
}

#[derive(Debug, Clone)]
pub struct Province {
    pub code: ProvinceCode,
    pub region: RegionCode,
    pub name_fr: String,
    pub name_ar: String,
    pub households_2024: u64,
}

#[derive(Debug, Clone)]
pub struct Commune {
    pub code: CommuneCode,
    pub province: ProvinceCode,
    pub region: RegionCode,
    pub name_fr: String,
    pub name_ar: String,
    /// Administrative kind: a municipality (urban) or a rural commune.
    pub kind: Area,
    pub population_2024: u64,
    pub households_2024: u64,
}

/// The territorial reference, read once.
#[derive(Debug)]
pub struct Geography {
    pub regions: Vec<Region>,
    pub provinces: Vec<Province>,
    pub communes: Vec<Commune>,
    commune_index: HashMap<String, usize>,
    province_index: HashMap<String, usize>,
}

impl Geography {
    pub fn get() -> &'static Geography {
        static GEO: OnceLock<Geography> = OnceLock::new();
        GEO.get_or_init(|| Geography::parse().expect("embedded geography is valid"))
    }

    fn parse() -> Result<Geography, String> {
        let regions = rows(REGIONS_CSV)?
            .into_iter()
            .map(|r| {
                Ok(Region {
                    code: RegionCode::parse(r.get("code")?)?,
                    name_fr: r.get("name_fr")?.to_owned(),
                    name_ar: r.get("name_ar")?.to_owned(),
                    households_2024: r.num("households_2024")?,
                    households_urban_2024: r.num("households_urban_2024")?,
                    households_rural_2024: r.num("households_rural_2024")?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let provinces = rows(PROVINCES_CSV)?
            .into_iter()
            .map(|r| {
                Ok(Province {
                    code: r.get("code")?.to_owned(),
                    region: RegionCode::parse(r.get("region_code")?)?,
                    name_fr: r.get("name_fr")?.to_owned(),
                    name_ar: r.get("name_ar")?.to_owned(),
                    households_2024: r.num("households_2024")?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let communes = rows(COMMUNES_CSV)?
            .into_iter()
            .map(|r| {
                Ok(Commune {
                    code: r.get("code")?.to_owned(),
                    province: r.get("province_code")?.to_owned(),
                    region: RegionCode::parse(r.get("region_code")?)?,
                    name_fr: r.get("name_fr")?.to_owned(),
                    name_ar: r.get("name_ar")?.to_owned(),
                    kind: Area::parse(r.get("kind")?)?,
                    population_2024: r.num("population_2024")?,
                    households_2024: r.num("households_2024")?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let commune_index = communes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code.clone(), i))
            .collect();
        let province_index = provinces
            .iter()
            .enumerate()
            .map(|(i, p)| (p.code.clone(), i))
            .collect();
        Ok(Geography {
            regions,
            provinces,
            communes,
            commune_index,
            province_index,
        })
    }

    pub fn commune(&self, code: &str) -> Option<&Commune> {
        self.commune_index.get(code).map(|&i| &self.communes[i])
    }

    pub fn province(&self, code: &str) -> Option<&Province> {
        self.province_index.get(code).map(|&i| &self.provinces[i])
    }

    pub fn region(&self, code: RegionCode) -> &Region {
        &self.regions[usize::from(code.0) - 1]
    }
}

struct Row<'a> {
    header: &'a csv::StringRecord,
    rec: csv::StringRecord,
}

impl Row<'_> {
    fn get(&self, col: &str) -> Result<&str, String> {
        let i = self
            .header
            .iter()
            .position(|h| h == col)
            .ok_or(format!("no column {col}"))?;
        Ok(self.rec.get(i).unwrap_or(""))
    }
    fn num(&self, col: &str) -> Result<u64, String> {
        let v = self.get(col)?;
        v.parse()
            .map_err(|_| format!("{col}: '{v}' is not a number"))
    }
}

fn rows(text: &str) -> Result<Vec<Row<'static>>, String> {
    // The header lives as long as the process: the geography is read once.
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header: &'static csv::StringRecord =
        Box::leak(Box::new(rdr.headers().map_err(|e| e.to_string())?.clone()));
    rdr.records()
        .map(|r| r.map(|rec| Row { header, rec }).map_err(|e| e.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_read_back() {
        let codes: Vec<&str> = RegionCode::all().map(RegionCode::as_str).collect();
        assert_eq!((codes[0], codes[9], codes.len()), ("01", "10", 12));
        for code in RegionCode::all() {
            assert_eq!(RegionCode::parse(code.as_str()), Ok(code));
        }
    }

    #[test]
    fn reference_counts_and_totals() {
        let g = Geography::get();
        assert_eq!(
            (g.regions.len(), g.provinces.len(), g.communes.len()),
            (12, 75, 1503)
        );
        let hh: u64 = g.regions.iter().map(|r| r.households_2024).sum();
        assert_eq!(hh, 9_275_038);
        let c = g.commune("01.511.01.0").unwrap();
        assert_eq!(
            (
                c.name_fr.as_str(),
                c.province.as_str(),
                c.region.to_string().as_str()
            ),
            ("Tanger", "01.511", "01")
        );
        assert_eq!(
            g.province("01.511").unwrap().region,
            RegionCode::parse("01").unwrap()
        );
        for c in &g.communes {
            let p = g.province(&c.province).expect("commune's province exists");
            assert_eq!(p.region, c.region);
        }
    }

    #[test]
    fn region_codes() {
        assert!(RegionCode::parse("12").is_ok());
        for bad in ["13", "00", "1", "ab"] {
            assert!(RegionCode::parse(bad).is_err());
        }
    }
}

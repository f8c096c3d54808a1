//! A rule set: every parameter of the ASD rules (asd-rules.md §2–§6) as data, with an id and
//! an effective date. Uncertain rules are parameters with their documented default.

use chrono::NaiveDate;
use sanad_domain::{Disability, Money, Month, Score};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount in MAD as written in a rule file: an integer (`300`) or a decimal string (`"36.50"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mad(pub Money);

impl<'de> Deserialize<'de> for Mad {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Text(String),
        }
        let m = match Raw::deserialize(d)? {
            Raw::Int(i) => Money::from_mad(i),
            Raw::Text(s) => Money::parse_mad(&s).map_err(serde::de::Error::custom)?,
        };
        if m < Money::ZERO {
            return Err(serde::de::Error::custom("an amount cannot be negative"));
        }
        Ok(Mad(m))
    }
}

impl Serialize for Mad {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0.centimes();
        if c % 100 == 0 {
            s.serialize_i64(c / 100)
        } else {
            s.collect_str(&self.0)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub id: String,
    pub effective_from: NaiveDate,
    pub title: String,
    #[serde(default)]
    pub source: String,
    pub eligibility: EligibilityRules,
    pub child: ChildRules,
    pub disability: DisabilityRules,
    pub household: HouseholdRules,
    pub birth_grant: BirthGrantRules,
    pub school_start_grant: SchoolStartRules,
    pub payment: PaymentRules,
}

/// A score threshold written as a decimal string (`"9.743001"`), parsed exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold(pub Score);

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Score::parse(&s)
            .map(Threshold)
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for Threshold {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EligibilityRules {
    /// Written as a string so its six decimals are exact.
    pub score_threshold: Threshold,
    pub require_residence: bool,
    pub exclude_public_employee: bool,
    pub exclude_pensioner: bool,
    pub exclude_family_allowance: bool,
    pub social_security_declaration_months: u32,
    pub nationality_required: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeOn {
    FirstDayOfMonth,
    LastDayOfMonth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankOrder {
    /// Birth order: the eldest child under the age limit is rank 1 (asd-rules.md §4.1 default).
    OldestFirst,
    /// Ranks 1–3 go to the children with the highest rates: adding a child can then never
    /// lower a household's amount, which birth order cannot promise when an older child joins.
    HighestRateFirst,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrphanNotInSchool {
    /// The band's not-in-school rate.
    NotInSchoolRate,
    /// The orphan rate whatever the schooling.
    OrphanRate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildRules {
    pub age_limit: u32,
    pub young_age_limit: u32,
    pub max_children: u32,
    pub age_on: AgeOn,
    pub rank_order: RankOrder,
    pub orphan_not_in_school: OrphanNotInSchool,
    pub bands: Vec<RankBand>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankBand {
    /// First and last rank of the band, inclusive.
    pub ranks: [u32; 2],
    pub young_or_in_school: Mad,
    pub not_in_school: Mad,
    /// Replaces the rank rate for a paternal orphan; absent: orphans get the rank rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paternal_orphan: Option<Mad>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisabilityRules {
    pub supplement: Mad,
    pub min_severity: Disability,
    pub age_limit: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdRules {
    pub floor: Mad,
    pub flat_rate: Mad,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BirthGrantRules {
    pub first: Mad,
    pub second: Mad,
    pub claim_window_months: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchoolStartRules {
    pub month: u32,
    pub primary_or_college: Mad,
    pub secondary_or_vocational: Mad,
    pub max_children: u32,
    pub public_only: bool,
    pub first_year: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartMonth {
    ApplicationMonth,
    MonthAfterApplication,
    DecisionMonth,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRules {
    pub start_month: StartMonth,
    pub uncashed_return_days: u32,
    pub recovery_cap_percent: u32,
}

/// A rule file that cannot be used, naming the parameter at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {reason}")]
pub struct RuleError {
    pub parameter: String,
    pub reason: String,
}

fn bad(parameter: impl Into<String>, reason: impl Into<String>) -> RuleError {
    RuleError {
        parameter: parameter.into(),
        reason: reason.into(),
    }
}

impl RuleSet {
    /// Parse a TOML rule file and check it; errors name the parameter (and line, for syntax).
    pub fn from_toml(text: &str) -> Result<RuleSet, RuleError> {
        let de = toml::Deserializer::parse(text).map_err(|e| bad("(syntax)", e.to_string()))?;
        let rs: RuleSet = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            bad(path, e.into_inner().message().to_owned())
        })?;
        rs.validate()?;
        Ok(rs)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("rule sets serialise")
    }

    pub fn threshold(&self) -> Score {
        self.eligibility.score_threshold.0
    }

    pub fn first_month(&self) -> Month {
        Month::of(self.effective_from)
    }

    /// Checks serde cannot express: bands, limits, months and percentages.
    pub fn validate(&self) -> Result<(), RuleError> {
        if self.id.is_empty()
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.+".contains(&b))
        {
            return Err(bad("id", "must be letters, digits, '-', '_', '.' or '+'"));
        }
        let c = &self.child;
        if c.young_age_limit >= c.age_limit {
            return Err(bad(
                "child.young_age_limit",
                "must be below child.age_limit",
            ));
        }
        if !(1..=20).contains(&c.max_children) {
            return Err(bad("child.max_children", "must be between 1 and 20"));
        }
        let mut next = 1;
        for (i, b) in c.bands.iter().enumerate() {
            if b.ranks[0] != next || b.ranks[1] < b.ranks[0] {
                return Err(bad(
                    format!("child.bands[{i}].ranks"),
                    format!("must start at rank {next} and not end before it"),
                ));
            }
            next = b.ranks[1] + 1;
        }
        if next != c.max_children + 1 {
            return Err(bad(
                "child.bands",
                format!(
                    "must cover ranks 1 to {} exactly (child.max_children)",
                    c.max_children
                ),
            ));
        }
        if !(1..=12).contains(&self.school_start_grant.month) {
            return Err(bad(
                "school_start_grant.month",
                "must be a month number 1–12",
            ));
        }
        if self.payment.recovery_cap_percent > 100 {
            return Err(bad("payment.recovery_cap_percent", "must be 0–100"));
        }
        if self.disability.min_severity == Disability::None {
            return Err(bad(
                "disability.min_severity",
                "must be a severity, not 'none'",
            ));
        }
        Ok(())
    }

    /// The band holding `rank` (1-based) and its index, if the rank is paid.
    pub fn band(&self, rank: u32) -> Option<(usize, &RankBand)> {
        self.child
            .bands
            .iter()
            .enumerate()
            .find(|(_, b)| (b.ranks[0]..=b.ranks[1]).contains(&rank))
    }
}

/// The rule sets known to the system, ordered by effective date.
#[derive(Debug, Clone, Default)]
pub struct RuleBook {
    sets: Vec<RuleSet>,
}

/// The schedules shipped with Sanad (`rules/*.toml`).
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "asd-2023-12.toml",
        include_str!("../../../rules/asd-2023-12.toml"),
    ),
    (
        "asd-2025-11.toml",
        include_str!("../../../rules/asd-2025-11.toml"),
    ),
    (
        "asd-2026-11.toml",
        include_str!("../../../rules/asd-2026-11.toml"),
    ),
];

impl RuleBook {
    pub fn new(mut sets: Vec<RuleSet>) -> Result<RuleBook, RuleError> {
        sets.sort_by_key(|s| s.effective_from);
        for w in sets.windows(2) {
            if w[0].effective_from == w[1].effective_from {
                return Err(bad(
                    "effective_from",
                    format!("{} and {} take effect the same day", w[0].id, w[1].id),
                ));
            }
        }
        Ok(RuleBook { sets })
    }

    pub fn shipped() -> RuleBook {
        let sets = SHIPPED
            .iter()
            .map(|(_, t)| RuleSet::from_toml(t).expect("shipped rule sets are valid"))
            .collect();
        RuleBook::new(sets).expect("shipped rule sets have distinct dates")
    }

    /// The rule sets in force: the shipped ones, and the approved rule files from the
    /// database (an approved set replaces a shipped one with the same id or date).
    pub fn in_force<'a>(
        approved: impl IntoIterator<Item = &'a str>,
    ) -> Result<RuleBook, RuleError> {
        let mut sets = approved
            .into_iter()
            .map(RuleSet::from_toml)
            .collect::<Result<Vec<_>, _>>()?;
        for shipped in RuleBook::shipped().sets {
            if !sets
                .iter()
                .any(|s| s.id == shipped.id || s.effective_from == shipped.effective_from)
            {
                sets.push(shipped);
            }
        }
        RuleBook::new(sets)
    }

    pub fn sets(&self) -> &[RuleSet] {
        &self.sets
    }

    /// The rule set in force for `month`: the latest effective on or before its first day.
    pub fn for_month(&self, month: Month) -> Option<&RuleSet> {
        self.sets
            .iter()
            .rev()
            .find(|s| s.effective_from <= month.first_day())
    }

    pub fn get(&self, id: &str) -> Option<&RuleSet> {
        self.sets.iter().find(|s| s.id == id)
    }
}

impl RuleSet {
    /// A copy with parameters changed by path (`child.bands[0].young_or_in_school=350`,
    /// `eligibility.score_threshold=9.9`), validated like a file; the id gets a `+what-if` suffix.
    pub fn with_overrides(&self, sets: &[(String, String)]) -> Result<RuleSet, RuleError> {
        let mut doc: toml::Value =
            toml::Value::try_from(self).map_err(|e| bad("(rule set)", e.to_string()))?;
        for (path, value) in sets {
            let slot =
                lookup(&mut doc, path).ok_or_else(|| bad(path.clone(), "no such parameter"))?;
            *slot = match slot {
                toml::Value::String(_) => toml::Value::String(value.clone()),
                _ => value_literal(value).map_err(|e| bad(path.clone(), e))?,
            };
        }
        if let Some(toml::Value::String(id)) = doc.get_mut("id")
            && !sets.iter().any(|(p, _)| p == "id")
        {
            id.push_str("+what-if");
        }
        let text = toml::to_string(&doc).map_err(|e| bad("(rule set)", e.to_string()))?;
        RuleSet::from_toml(&text)
    }
}

fn value_literal(v: &str) -> Result<toml::Value, String> {
    let doc: toml::Table = format!("v = {v}")
        .parse()
        .map_err(|_| format!("'{v}' is not a value"))?;
    doc.get("v")
        .cloned()
        .ok_or_else(|| format!("'{v}' is not a value"))
}

/// The value at `a.b[2].c`, if it exists.
fn lookup<'a>(mut v: &'a mut toml::Value, path: &str) -> Option<&'a mut toml::Value> {
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => (k, Some(rest.strip_suffix(']')?.parse::<usize>().ok()?)),
            None => (part, None),
        };
        v = v.get_mut(key)?;
        if let Some(i) = index {
            v = v.get_mut(i)?;
        }
    }
    Some(v)
}

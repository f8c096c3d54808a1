//! The machine interface (docs/entitlement.md): a household as JSON in, a decision as JSON out.
//! Amounts are integer centimes. Unknown fields and values are errors that name their path.

use chrono::NaiveDate;
use sanad_domain::{Disability, Month, RegionCode, Relation, Schooling, Score, Sex};
use serde::{Deserialize, Serialize};

use crate::engine::{Decision, Line, Member, Snapshot, evaluate};
use crate::ruleset::RuleSet;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdInput {
    pub household_id: String,
    pub score: Option<Score>,
    pub score_date: Option<NaiveDate>,
    /// Region of residence in Morocco; null when the household does not reside in Morocco.
    pub region: Option<RegionCode>,
    pub members: Vec<MemberInput>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub person_id: String,
    pub relation: Relation,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    #[serde(default)]
    pub death_date: Option<NaiveDate>,
    pub schooling: Schooling,
    pub disability: DisabilityInput,
    #[serde(default)]
    pub father_deceased: bool,
    #[serde(default)]
    pub public_employee: bool,
    #[serde(default)]
    pub pensioner: bool,
    #[serde(default)]
    pub family_allowance: bool,
}

/// `disability` is a severity (`none`, `mild`, `moderate`, `severe`, `profound`) or a boolean
/// (`true` meaning a recognised severe disability).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum DisabilityInput {
    Flag(bool),
    Severity(Disability),
}

impl DisabilityInput {
    fn severity(self) -> Disability {
        match self {
            DisabilityInput::Flag(true) => Disability::Severe,
            DisabilityInput::Flag(false) => Disability::None,
            DisabilityInput::Severity(d) => d,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineOutput {
    pub person_id: Option<String>,
    pub component: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<u8>,
    pub amount_centimes: i64,
    pub parameter: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitlementOutput {
    pub household_id: String,
    pub month: Month,
    pub rule_set: String,
    pub eligible: bool,
    pub reasons: Vec<String>,
    pub monthly_total_centimes: i64,
    pub lines: Vec<LineOutput>,
    pub one_off: Vec<LineOutput>,
    pub payee: Option<String>,
}

/// A request that cannot be read, naming the field at fault.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct InputError {
    pub path: String,
    pub message: String,
}

impl HouseholdInput {
    pub fn from_json(text: &str) -> Result<HouseholdInput, InputError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            InputError {
                path: if path == "." {
                    "(document)".into()
                } else {
                    path
                },
                message: e.into_inner().to_string(),
            }
        })
    }

    pub fn members(&self) -> Vec<Member> {
        self.members
            .iter()
            .map(|m| Member {
                relation: m.relation,
                sex: m.sex,
                birth_date: m.birth_date,
                death_date: m.death_date,
                schooling: m.schooling,
                disability: m.disability.severity(),
                father_deceased: m.father_deceased,
                public_employee: m.public_employee,
                pensioner: m.pensioner,
                family_allowance: m.family_allowance,
            })
            .collect()
    }

    /// The engine's snapshot of this household, given its members as [`Self::members`] built them.
    pub fn snapshot<'a>(&self, members: &'a [Member]) -> Snapshot<'a> {
        Snapshot {
            score: self
                .score
                .map(|s| (s, self.score_date.unwrap_or(NaiveDate::MIN))),
            resident: self.region.is_some(),
            members,
        }
    }

    /// Evaluate under `rules` for `month`; the decision and the members it indexes.
    pub fn evaluate(&self, rules: &RuleSet, month: Month) -> (Decision, Vec<Member>) {
        let members = self.members();
        let mut d = Decision::default();
        evaluate(rules, &self.snapshot(&members), month, &mut d);
        (d, members)
    }

    pub fn compute(&self, rules: &RuleSet, month: Month) -> EntitlementOutput {
        let (d, _) = self.evaluate(rules, month);
        self.output(rules, month, &d)
    }

    pub fn output(&self, rules: &RuleSet, month: Month, d: &Decision) -> EntitlementOutput {
        let id = |i: Option<u16>| i.map(|i| self.members[i as usize].person_id.clone());
        let line = |l: &Line| LineOutput {
            person_id: id(l.member),
            component: l.component.code().into(),
            rank: l.rank,
            amount_centimes: l.amount.centimes(),
            parameter: l.param.to_string(),
        };
        EntitlementOutput {
            household_id: self.household_id.clone(),
            month,
            rule_set: rules.id.clone(),
            eligible: d.eligible,
            reasons: d.reasons.iter().map(|r| r.code().to_owned()).collect(),
            monthly_total_centimes: d.monthly_total.centimes(),
            lines: d.lines.iter().map(line).collect(),
            one_off: d.one_off.iter().map(line).collect(),
            payee: id(d.payee),
        }
    }
}

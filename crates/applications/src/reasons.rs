//! Reason codes shared by decisions, re-evaluations and notifications: one vocabulary, so a
//! rejection letter can name exactly the reasons the decision recorded.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The household is not (or no longer) active in the RSU.
    NotRegistered,
    /// The applicant is not a living adult member of the household.
    ApplicantNotMember,
    /// No RSU score in force on the date that matters.
    NoScore,
    ScoreAboveThreshold,
    Residence,
    ExcludedFamilyAllowance,
    ExcludedPublicEmployee,
    ExcludedPensioner,
    /// Declared data contradict another administration's list (asd-rules.md §2).
    DataInconsistency,
    /// Nobody alive in the household can be paid.
    NoPayee,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 10] = [
        ReasonCode::NotRegistered,
        ReasonCode::ApplicantNotMember,
        ReasonCode::NoScore,
        ReasonCode::ScoreAboveThreshold,
        ReasonCode::Residence,
        ReasonCode::ExcludedFamilyAllowance,
        ReasonCode::ExcludedPublicEmployee,
        ReasonCode::ExcludedPensioner,
        ReasonCode::DataInconsistency,
        ReasonCode::NoPayee,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ReasonCode::NotRegistered => "not_registered",
            ReasonCode::ApplicantNotMember => "applicant_not_member",
            ReasonCode::NoScore => "no_score",
            ReasonCode::ScoreAboveThreshold => "score_above_threshold",
            ReasonCode::Residence => "residence",
            ReasonCode::ExcludedFamilyAllowance => "excluded_family_allowance",
            ReasonCode::ExcludedPublicEmployee => "excluded_public_employee",
            ReasonCode::ExcludedPensioner => "excluded_pensioner",
            ReasonCode::DataInconsistency => "data_inconsistency",
            ReasonCode::NoPayee => "no_payee",
        }
    }

    pub fn parse(s: &str) -> Option<ReasonCode> {
        Self::ALL.into_iter().find(|r| r.code() == s)
    }
}

impl From<sanad_rules::Reason> for ReasonCode {
    fn from(r: sanad_rules::Reason) -> Self {
        use sanad_rules::Reason;
        match r {
            Reason::NoScore => ReasonCode::NoScore,
            Reason::ScoreAboveThreshold => ReasonCode::ScoreAboveThreshold,
            Reason::Residence => ReasonCode::Residence,
            Reason::ExcludedPublicEmployee => ReasonCode::ExcludedPublicEmployee,
            Reason::ExcludedPensioner => ReasonCode::ExcludedPensioner,
            Reason::ExcludedFamilyAllowance => ReasonCode::ExcludedFamilyAllowance,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_the_rules_engine() {
        for r in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(r.code()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.code())
            );
        }
        // The engine's codes and ours are the same words, so letters need one label table.
        let engine = sanad_rules::Reason::ExcludedPensioner;
        assert_eq!(ReasonCode::from(engine).code(), engine.code());
    }
}

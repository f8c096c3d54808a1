//! Replay: a stored decision keeps the id of its rule set and a hash of the snapshot it was
//! computed from, so any past month can be recomputed and checked to the centime.

use sanad_domain::Month;
use serde::{Deserialize, Serialize};

use crate::RuleBook;
use crate::io::{EntitlementOutput, HouseholdInput};

/// What is kept of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDecision {
    pub month: Month,
    pub rule_set: String,
    /// FNV-1a 64 of the engine's snapshot ([`crate::Snapshot::hash`]), in hex.
    pub snapshot_hash: String,
    pub output: EntitlementOutput,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("the snapshot differs from the one decided on (hash {stored}, now {now})")]
    SnapshotChanged { stored: String, now: String },
    #[error("rule set {0} is not known")]
    UnknownRuleSet(String),
    #[error("recomputing gives a different decision")]
    Differs(Box<EntitlementOutput>),
}

/// The hash of what the rules see of `input` (identifiers and names are not part of it).
pub fn snapshot_hash(input: &HouseholdInput) -> String {
    format!("{:016x}", input.snapshot(&input.members()).hash())
}

/// Decide and keep what a replay needs. The rule set is the one in force for the month.
pub fn decide(book: &RuleBook, input: &HouseholdInput, month: Month) -> Option<StoredDecision> {
    let rules = book.for_month(month)?;
    Some(StoredDecision {
        month,
        rule_set: rules.id.clone(),
        snapshot_hash: snapshot_hash(input),
        output: input.compute(rules, month),
    })
}

/// Recompute a stored decision from the snapshot and the rule set it names.
pub fn replay(
    book: &RuleBook,
    stored: &StoredDecision,
    input: &HouseholdInput,
) -> Result<(), ReplayError> {
    let now = snapshot_hash(input);
    if now != stored.snapshot_hash {
        return Err(ReplayError::SnapshotChanged {
            stored: stored.snapshot_hash.clone(),
            now,
        });
    }
    let rules = book
        .get(&stored.rule_set)
        .ok_or_else(|| ReplayError::UnknownRuleSet(stored.rule_set.clone()))?;
    let again = input.compute(rules, stored.month);
    if again == stored.output {
        Ok(())
    } else {
        Err(ReplayError::Differs(Box::new(again)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUT: &str = include_str!("../../../docs/examples/household.json");

    #[test]
    fn a_past_month_replays_exactly_even_after_new_rules() {
        let input = HouseholdInput::from_json(INPUT).unwrap();
        let book = RuleBook::shipped();
        let month: Month = "2025-06".parse().unwrap();
        let stored = decide(&book, &input, month).unwrap();
        assert_eq!(stored.rule_set, "asd-2023-12");
        // Stored and read back as JSON, as a database would.
        let stored: StoredDecision =
            serde_json::from_str(&serde_json::to_string(&stored).unwrap()).unwrap();
        assert_eq!(replay(&book, &stored, &input), Ok(()));
        // June 2025 falls under the 2023 schedule: 150 + 100 + 200 = 450, raised to the 500 floor.
        assert_eq!(stored.output.monthly_total_centimes, 500 * 100);
        // Identifiers are not what the rules decide on: the snapshot is the same.
        let mut renumbered = input.clone();
        renumbered.household_id = "another".into();
        renumbered.members[0].person_id = "another".into();
        assert_eq!(snapshot_hash(&renumbered), stored.snapshot_hash);
        let mut changed = input.clone();
        changed.members[2].schooling = sanad_domain::Schooling::None;
        assert!(matches!(
            replay(&book, &stored, &changed),
            Err(ReplayError::SnapshotChanged { .. })
        ));
        let mut forged = stored.clone();
        forged.output.monthly_total_centimes += 1;
        assert!(matches!(
            replay(&book, &forged, &input),
            Err(ReplayError::Differs(_))
        ));
    }
}

//! Replay: each payroll line keeps the rule set its month's decision came from and a hash of
//! what the decision was computed from (the household snapshot and the aids awarded), so a
//! past month can be recomputed from today's registry and checked line by line.
//!
//! A line replays as *identical* when the snapshot is the same and the rules give the very
//! same lines; as *changed* when the household (or its awards) has changed since, which is
//! normal life; as *differs* when the same inputs now give another decision — which only a
//! change to the engine or to a published rule set, or a tampered line, can cause.

use std::hash::Hasher;

use sanad_domain::{Money, Month, RsuId};
use sanad_rules::ruleset::RuleSet;
use sanad_rules::{Component, Decision, Snapshot};
use serde::{Deserialize, Serialize};

use crate::awards::{self, Grant};
use crate::cycle::{ExplainKind, PayrollLine};

/// What a line's decision was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// The rule set in force for the month.
    pub rule_set: String,
    /// FNV-1a 64, in hex, of the household snapshot and the aids awarded for the month.
    pub snapshot: String,
    /// FNV-1a 64, in hex, of the decision's lines (a withheld line lists none of them).
    pub decision: String,
}

/// The stamp of `decision`, taken for `month` under `rules` from `snap` and the household's
/// awards.
pub fn stamp(
    rules: &RuleSet,
    snap: &Snapshot,
    grants: &[Grant],
    month: Month,
    decision: &Decision,
) -> Stamp {
    let mut h = snap.hasher();
    let mut aids: Vec<_> = grants
        .iter()
        .filter(|g| g.runs_in(month))
        .map(|g| g.aid)
        .collect();
    aids.sort();
    aids.dedup();
    aids.iter().for_each(|a| {
        h.write(a.code().as_bytes());
        h.write(b"\n");
    });
    Stamp {
        rule_set: rules.id.clone(),
        snapshot: format!("{:016x}", h.finish()),
        decision: decision_hash(&items_of(decision)),
    }
}

fn decision_hash(items: &[Item]) -> String {
    let mut h = sanad_domain::fnv::Fnv::default();
    for (component, member, amount, param) in items {
        let member = member.map_or_else(|| "-".to_owned(), |m| m.to_string());
        let text = format!(
            "{}|{member}|{}|{param}\n",
            component.code(),
            amount.centimes()
        );
        h.write(text.as_bytes());
    }
    format!("{:016x}", h.finish())
}

/// The month's decision for a household, as the payroll computes it: the rules on the
/// snapshot, kept to the aids awarded.
pub fn decide(rules: &RuleSet, snap: &Snapshot, grants: &[Grant], month: Month) -> Decision {
    let mut decision = Decision::default();
    sanad_rules::evaluate(rules, snap, month, &mut decision);
    awards::restrict(&mut decision, grants, month);
    decision
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Identical,
    /// The household or its awards changed since the line was computed.
    HouseholdChanged,
    /// Same inputs, another decision.
    Differs,
    /// Stored before lines were stamped.
    Unstamped,
    /// The rule set named is no longer known.
    UnknownRuleSet,
}

/// The decision's lines as a line's explanation keeps them: (component, member, amount, parameter).
type Item = (Component, Option<u16>, Money, String);

fn items_of(d: &Decision) -> Vec<Item> {
    d.lines
        .iter()
        .chain(&d.one_off)
        .filter(|l| l.amount != Money::ZERO)
        .map(|l| (l.component, l.member, l.amount, l.param.to_string()))
        .collect()
}

fn items_kept(line: &PayrollLine) -> Vec<Item> {
    line.explanation
        .iter()
        .filter(|e| e.kind == ExplainKind::Current)
        .filter_map(|e| Some((e.component?, e.member, e.amount, e.param.clone()?)))
        .collect()
}

/// Replay one stored line: `rules` is the rule set its stamp names (if still known), `now`
/// the household's snapshot and awards today (`None` once it left the registry).
pub fn check(
    line: &PayrollLine,
    month: Month,
    rules: Option<&RuleSet>,
    now: Option<(&Snapshot, &[Grant])>,
) -> Outcome {
    let Some(stored) = &line.decided else {
        return Outcome::Unstamped;
    };
    let Some(rules) = rules else {
        return Outcome::UnknownRuleSet;
    };
    let Some((snap, grants)) = now else {
        return Outcome::HouseholdChanged;
    };
    let decision = decide(rules, snap, grants, month);
    let again = stamp(rules, snap, grants, month, &decision);
    if again.snapshot != stored.snapshot {
        return Outcome::HouseholdChanged;
    }
    // A paying line lists the decision's lines in its explanation: they must be those too.
    let kept = items_kept(line);
    if again == *stored && (kept.is_empty() || kept == items_of(&decision)) {
        Outcome::Identical
    } else {
        Outcome::Differs
    }
}

/// The replay of a month: how many lines gave each outcome, and which households differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayReport {
    pub month: Month,
    pub lines: u64,
    pub identical: u64,
    pub household_changed: u64,
    pub differs: u64,
    pub unstamped: u64,
    pub unknown_rule_set: u64,
    /// The first households whose line differs (at most [`ReplayReport::LISTED`]).
    pub differing: Vec<RsuId>,
}

impl ReplayReport {
    pub const LISTED: usize = 100;

    pub fn new(month: Month) -> Self {
        ReplayReport {
            month,
            lines: 0,
            identical: 0,
            household_changed: 0,
            differs: 0,
            unstamped: 0,
            unknown_rule_set: 0,
            differing: Vec::new(),
        }
    }

    pub fn count(&mut self, household: &RsuId, o: Outcome) {
        self.lines += 1;
        let n = match o {
            Outcome::Identical => &mut self.identical,
            Outcome::HouseholdChanged => &mut self.household_changed,
            Outcome::Differs => {
                if self.differing.len() < Self::LISTED {
                    self.differing.push(household.clone());
                }
                &mut self.differs
            }
            Outcome::Unstamped => &mut self.unstamped,
            Outcome::UnknownRuleSet => &mut self.unknown_rule_set,
        };
        *n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cycle::{CycleParams, plan_household};
    use crate::{Beneficiary, Ledger};
    use sanad_applications::Requested;
    use sanad_domain::snapshot::Member;
    use sanad_domain::{Disability, PaymentInstrument, Relation, Schooling, Score, Sex};
    use sanad_rules::RuleBook;

    fn member(relation: Relation, born: &str) -> Member {
        Member {
            relation,
            sex: Sex::Female,
            birth_date: born.parse().unwrap(),
            death_date: None,
            schooling: Schooling::PublicPrimary,
            disability: Disability::None,
            father_deceased: false,
            public_employee: false,
            pensioner: false,
            family_allowance: false,
        }
    }

    fn grants() -> Vec<Grant> {
        vec![Grant {
            aid: Requested::ChildAllowance,
            start: "2026-01".parse().unwrap(),
            end: None,
            receipt: "R-1".into(),
        }]
    }

    /// The line the cycle writes for this household, as prepare builds it.
    fn line(rules: &RuleSet, snap: &Snapshot, grants: &[Grant], month: Month) -> PayrollLine {
        let decision = decide(rules, snap, grants, month);
        let b = Beneficiary {
            household: RsuId::parse("000000000001").unwrap(),
            region: sanad_domain::RegionCode::parse("06").unwrap(),
            instrument: Some(PaymentInstrument::Wallet {
                provider: "WALLETCO".into(),
                reference: "W1".into(),
            }),
            stamp: Some(stamp(rules, snap, grants, month, &decision)),
            decision,
            reference: "DEC".into(),
            retro: Vec::new(),
        };
        let p = CycleParams::from_rules(month, &rules.payment);
        plan_household(&p, &b, Ledger::default().book(&b.household))
            .unwrap()
            .line
    }

    #[test]
    fn a_month_replays_identical_until_the_household_or_its_awards_change() {
        let book = RuleBook::shipped();
        let month: Month = "2026-03".parse().unwrap();
        let rules = book.for_month(month).unwrap();
        let members = vec![
            member(Relation::Head, "1980-01-01"),
            member(Relation::Child, "2015-05-05"),
            member(Relation::Child, "2018-07-07"),
        ];
        let snap = Snapshot {
            score: Some((
                Score::from_millionths(8_000_000),
                "2025-01-01".parse().unwrap(),
            )),
            resident: true,
            members: &members,
        };
        let g = grants();
        let stored: PayrollLine =
            serde_json::from_str(&serde_json::to_string(&line(rules, &snap, &g, month)).unwrap())
                .unwrap();
        assert!(stored.amount > Money::ZERO);
        let check_now =
            |snap: &Snapshot, g: &[Grant]| check(&stored, month, Some(rules), Some((snap, g)));
        assert_eq!(check_now(&snap, &g), Outcome::Identical);

        // A child leaves school after the month was paid: the household changed.
        let mut left = members.clone();
        left[2].schooling = Schooling::None;
        let later = Snapshot {
            members: &left,
            ..snap
        };
        assert_eq!(check_now(&later, &g), Outcome::HouseholdChanged);
        // So does an award ended back to before the month.
        let mut ended = g.clone();
        ended[0].end = Some("2026-02".parse().unwrap());
        assert_eq!(check_now(&snap, &ended), Outcome::HouseholdChanged);
        assert_eq!(
            check(&stored, month, Some(rules), None),
            Outcome::HouseholdChanged
        );

        // The same inputs under another rule set, or a tampered amount, differ.
        let mut forged = stored.clone();
        forged.explanation[0].amount += Money::from_centimes(100);
        assert_eq!(
            check(&forged, month, Some(rules), Some((&snap, &g))),
            Outcome::Differs
        );
        let old = book.get("asd-2023-12").unwrap();
        let mut relabelled = stored.clone();
        let stamped = stamp(old, &snap, &g, month, &decide(rules, &snap, &g, month));
        relabelled.decided = Some(stamped);
        assert_eq!(
            check(&relabelled, month, Some(old), Some((&snap, &g))),
            Outcome::Differs
        );

        let mut unstamped = stored.clone();
        unstamped.decided = None;
        assert_eq!(
            check(&unstamped, month, Some(rules), Some((&snap, &g))),
            Outcome::Unstamped
        );
        assert_eq!(
            check(&stored, month, None, Some((&snap, &g))),
            Outcome::UnknownRuleSet
        );
    }

    #[test]
    fn the_stamp_ignores_the_order_of_awards_but_not_their_aids() {
        let book = RuleBook::shipped();
        let month: Month = "2026-03".parse().unwrap();
        let rules = book.for_month(month).unwrap();
        let members = vec![member(Relation::Head, "1980-01-01")];
        let snap = Snapshot {
            score: None,
            resident: true,
            members: &members,
        };
        let mut both = grants();
        both.push(Grant {
            aid: Requested::FlatRate,
            ..both[0].clone()
        });
        let mut reversed = both.clone();
        reversed.reverse();
        let st = |g: &[Grant]| stamp(rules, &snap, g, month, &Decision::default()).snapshot;
        assert_eq!(st(&both), st(&reversed));
        assert_ne!(st(&both), st(&grants()));
    }
}

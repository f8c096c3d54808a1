//! Re-evaluation after an event: the household before and after, month by month, under the
//! rule set in force each month. Amounts come from `sanad_rules::evaluate_household` only;
//! this module compares them, settles the months already paid and decides what happens to a
//! household that is no longer payable.

use chrono::NaiveDate;
use sanad_domain::{Household, HouseholdStatus, Idcs, Money, Month};
use sanad_rules::{RuleBook, evaluate_household};
use serde::Serialize;

use crate::reasons::ReasonCode;

/// Default notice before a suspended household is terminated: 3 months (assumption; the
/// sources do not publish one).
pub const DEFAULT_NOTICE_MONTHS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReevaluationParams {
    pub from: Month,
    pub to: Month,
    /// The last month already paid at the old amount (none: nothing paid yet).
    pub paid_through: Option<Month>,
    /// Months a household stays suspended before it is terminated.
    pub notice_months: u32,
}

impl ReevaluationParams {
    pub fn new(from: Month, to: Month, paid_through: Option<Month>) -> Self {
        ReevaluationParams {
            from,
            to,
            paid_through,
            notice_months: DEFAULT_NOTICE_MONTHS,
        }
    }
}

/// One line of a month's amount, with the member named by IDCS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineSummary {
    pub member: Option<Idcs>,
    pub component: &'static str,
    pub amount: Money,
    /// The rule parameter applied (`child.bands[0].young_or_in_school`).
    pub param: String,
}

/// A household in one month under the rules in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthOutcome {
    pub rule_set: Option<String>,
    pub eligible: bool,
    /// Eligible and someone alive to pay. `total` is zero when not payable.
    pub payable: bool,
    pub reasons: Vec<ReasonCode>,
    pub total: Money,
    pub lines: Vec<LineSummary>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "amount", rename_all = "snake_case")]
pub enum Settlement {
    Unchanged,
    /// Paid too little: owed to the household.
    Arrears(Money),
    /// Paid too much: owed by the household (recovered by the payroll, capped).
    Overpayment(Money),
    /// Not paid yet: the next payment changes by this (signed) amount.
    Upcoming(Money),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthChange {
    pub month: Month,
    pub before: MonthOutcome,
    pub after: MonthOutcome,
    pub paid: bool,
    pub settlement: Settlement,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "lifecycle", rename_all = "snake_case")]
pub enum Lifecycle {
    Continue,
    /// Payments stop from `from`; without a change the household is terminated from `terminates_from`.
    Suspend {
        from: Month,
        terminates_from: Month,
    },
    /// Terminated from `from`, after a notice that ran until `notice_until`.
    Terminate {
        from: Month,
        notice_until: NaiveDate,
        suspended_from: Month,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reevaluation {
    pub months: Vec<MonthChange>,
    pub arrears: Money,
    pub overpayment: Money,
    pub lifecycle: Lifecycle,
}

/// What `h` is owed for `month`. Two conditions are added to the engine's, neither of which
/// computes an amount: a household deregistered from the RSU, and one with nobody left to pay
/// (the engine finds no payee: no living head, spouse or adult), are not payable.
pub fn month_outcome(book: &RuleBook, h: &Household, month: Month) -> MonthOutcome {
    let Some(rules) = book.for_month(month) else {
        return MonthOutcome {
            rule_set: None,
            eligible: false,
            payable: false,
            reasons: vec![],
            total: Money::ZERO,
            lines: vec![],
        };
    };
    let (d, _) = evaluate_household(rules, h, month);
    let mut reasons: Vec<ReasonCode> = d.reasons.iter().map(|r| ReasonCode::from(*r)).collect();
    if h.status == HouseholdStatus::Deregistered {
        reasons.push(ReasonCode::NotRegistered);
    }
    let eligible = reasons.is_empty();
    if eligible && d.payee.is_none() {
        reasons.push(ReasonCode::NoPayee);
    }
    let payable = reasons.is_empty();
    let lines = d
        .lines
        .iter()
        .map(|l| LineSummary {
            member: l.member.map(|i| h.members[i as usize].idcs.clone()),
            component: l.component.code(),
            amount: l.amount,
            param: l.param.to_string(),
        })
        .collect();
    MonthOutcome {
        rule_set: Some(rules.id.clone()),
        eligible,
        payable,
        reasons,
        total: if payable {
            d.monthly_total
        } else {
            Money::ZERO
        },
        lines,
    }
}

fn settle(
    month: Month,
    before: &MonthOutcome,
    after: &MonthOutcome,
    paid_through: Option<Month>,
) -> (bool, Settlement) {
    let paid = paid_through.is_some_and(|p| month <= p);
    let diff = after.total - before.total;
    let s = match (diff.centimes().signum(), paid) {
        (0, _) => Settlement::Unchanged,
        (1, true) => Settlement::Arrears(diff),
        (_, true) => Settlement::Overpayment(-diff),
        (_, false) => Settlement::Upcoming(diff),
    };
    (paid, s)
}

/// Compare `old` and `new` for every month from `params.from` to `params.to`.
pub fn reevaluate(
    old: &Household,
    new: &Household,
    book: &RuleBook,
    params: &ReevaluationParams,
) -> Reevaluation {
    let mut months = Vec::new();
    let mut m = params.from;
    while m <= params.to {
        let (before, after) = (month_outcome(book, old, m), month_outcome(book, new, m));
        let (paid, settlement) = settle(m, &before, &after, params.paid_through);
        months.push(MonthChange {
            month: m,
            before,
            after,
            paid,
            settlement,
        });
        m = m.next();
    }
    let sum =
        |f: fn(&Settlement) -> Option<Money>| months.iter().filter_map(|c| f(&c.settlement)).sum();
    let arrears = sum(|s| {
        if let Settlement::Arrears(a) = s {
            Some(*a)
        } else {
            None
        }
    });
    let overpayment = sum(|s| {
        if let Settlement::Overpayment(a) = s {
            Some(*a)
        } else {
            None
        }
    });
    let lifecycle = lifecycle(&months, params);
    Reevaluation {
        months,
        arrears,
        overpayment,
        lifecycle,
    }
}

/// A household not payable in the last month is suspended from the first month of that
/// unpayable run, and terminated once the run has lasted `notice_months`.
fn lifecycle(months: &[MonthChange], params: &ReevaluationParams) -> Lifecycle {
    let unpayable_run = months.iter().rev().take_while(|c| !c.after.payable).count();
    if unpayable_run == 0 {
        return Lifecycle::Continue;
    }
    let from = months[months.len() - unpayable_run].month;
    let terminates_from = from.plus(params.notice_months as i32);
    if params.to >= terminates_from {
        Lifecycle::Terminate {
            from: terminates_from,
            notice_until: terminates_from.prev().last_day(),
            suspended_from: from,
        }
    } else {
        Lifecycle::Suspend {
            from,
            terminates_from,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{d, edit, family, score};
    use sanad_domain::ScoreHistory;

    fn m(s: &str) -> Month {
        s.parse().unwrap()
    }

    #[test]
    fn a_score_above_the_threshold_suspends_then_terminates() {
        let book = RuleBook::shipped();
        let old = family("100000000001", &["2019-05-01"]);
        let new = edit(&old, |p| {
            p.scores = ScoreHistory::new(vec![
                score("9.1", "2025-01-10"),
                score("9.743002", "2026-05-01"),
            ])
        });
        let r = reevaluate(
            &old,
            &new,
            &book,
            &ReevaluationParams::new(m("2026-04"), m("2026-06"), Some(m("2026-05"))),
        );
        assert_eq!(r.months[0].settlement, Settlement::Unchanged);
        assert_eq!(r.months[1].after.reasons, [ReasonCode::ScoreAboveThreshold]);
        assert_eq!(
            r.months[1].settlement,
            Settlement::Overpayment(Money::from_mad(500))
        );
        assert_eq!(
            r.months[2].settlement,
            Settlement::Upcoming(Money::from_mad(-500))
        );
        assert_eq!(
            (r.arrears, r.overpayment),
            (Money::ZERO, Money::from_mad(500))
        );
        assert_eq!(
            r.lifecycle,
            Lifecycle::Suspend {
                from: m("2026-05"),
                terminates_from: m("2026-08")
            }
        );
        // With no notice the household is terminated at once.
        let now = ReevaluationParams {
            notice_months: 0,
            ..ReevaluationParams::new(m("2026-04"), m("2026-06"), None)
        };
        let r = reevaluate(&old, &new, &book, &now);
        assert_eq!(
            r.lifecycle,
            Lifecycle::Terminate {
                from: m("2026-05"),
                notice_until: d("2026-04-30"),
                suspended_from: m("2026-05")
            }
        );
        assert_eq!(r.overpayment, Money::ZERO, "nothing was paid");
    }

    #[test]
    fn a_household_eligible_again_continues() {
        let book = RuleBook::shipped();
        let old = family("100000000001", &["2019-05-01"]);
        let scores = vec![
            score("9.1", "2025-01-10"),
            score("10.0", "2026-05-01"),
            score("9.0", "2026-06-01"),
        ];
        let new = edit(&old, |p| p.scores = ScoreHistory::new(scores));
        let r = reevaluate(
            &old,
            &new,
            &book,
            &ReevaluationParams::new(m("2026-04"), m("2026-06"), None),
        );
        assert_eq!(r.lifecycle, Lifecycle::Continue);
        assert_eq!(
            r.months[1].settlement,
            Settlement::Upcoming(Money::from_mad(-500))
        );
        assert_eq!(r.months[2].settlement, Settlement::Unchanged);
    }

    #[test]
    fn each_month_uses_the_rules_in_force() {
        let book = RuleBook::shipped();
        // Two children 0–5: 2 × 250 = 500 under the 2025-11 schedule, 2 × 300 = 600 from 2026-11.
        let old = family("100000000001", &["2023-05-01", "2024-05-01"]);
        let r = reevaluate(
            &old,
            &old,
            &book,
            &ReevaluationParams::new(m("2026-10"), m("2026-11"), None),
        );
        let (oct, nov) = (&r.months[0].after, &r.months[1].after);
        assert_eq!(
            (oct.rule_set.as_deref(), oct.total),
            (Some("asd-2025-11"), Money::from_mad(500))
        );
        assert_eq!(
            (nov.rule_set.as_deref(), nov.total),
            (Some("asd-2026-11"), Money::from_mad(600))
        );
        assert_eq!(nov.lines[0].param, "child.bands[0].young_or_in_school");
        assert_eq!(nov.lines[0].member.as_ref(), Some(&old.members[2].idcs));
    }
}

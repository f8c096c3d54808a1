//! Who the payroll pays: households whose approved applications (awards) run in the month,
//! each paid only the aid it was awarded. A decision taken after the payroll of its start
//! month has run is owed those months as arrears.

use sanad_applications::Requested;
use sanad_domain::Month;
use sanad_rules::Decision;

use crate::ledger::HouseholdBook;

/// How far back arrears are looked for: a year (assumption; a retroactive decision older than
/// that goes through an appeal, which brings its own retroactive months).
pub const ARREARS_LOOKBACK_MONTHS: i32 = 12;

/// One awarded aid of a household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub aid: Requested,
    pub start: Month,
    /// The last month paid, once the award ended.
    pub end: Option<Month>,
    /// The application's receipt: the reference of what the award brings.
    pub receipt: String,
}

impl Grant {
    pub fn runs_in(&self, m: Month) -> bool {
        self.start <= m && self.end.is_none_or(|e| m <= e)
    }
}

/// Keep only the components of the aids awarded and running in `m`.
pub fn restrict(decision: &mut Decision, grants: &[Grant], m: Month) {
    decision.retain(|c| grants.iter().any(|g| g.runs_in(m) && g.aid.covers(c)));
}

/// The months before `month` in which an award ran but the ledger recognised nothing, oldest
/// first, each with the receipt that brings it: arrears of a decision taken late.
pub fn arrears_months<'g>(
    grants: &'g [Grant],
    book: Option<&HouseholdBook>,
    month: Month,
) -> Vec<(Month, &'g str)> {
    months_to_settle(grants, book, month, None)
}

/// The past months the cycle settles again for a household, oldest first, each with the
/// receipt that brings it: every month within the look-back in which an award ran and that
/// the ledger never recognised (a decision taken late), and — when a life event changed the
/// household from `changed_from` — the recognised ones since then too, so that each is
/// corrected to what the household is owed now (arrears, or an undue payment to recover).
pub fn months_to_settle<'g>(
    grants: &'g [Grant],
    book: Option<&HouseholdBook>,
    month: Month,
    changed_from: Option<Month>,
) -> Vec<(Month, &'g str)> {
    let Some(first) = grants.iter().map(|g| g.start).min() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut m = first.max(month.plus(-ARREARS_LOOKBACK_MONTHS));
    while m < month {
        let recognised = book.is_some_and(|b| b.due_components(m).next().is_some());
        let changed = changed_from.is_some_and(|from| from <= m);
        if let (true, Some(g)) = (!recognised || changed, grants.iter().find(|g| g.runs_in(m))) {
            out.push((m, g.receipt.as_str()));
        }
        m = m.next();
    }
    out
}

/// The last month to pay a household whose award still runs in `month` but that has
/// been payable in none of the `notice_months` months before it nor in it (a suspension whose
/// notice ran out): the month before that unpayable run began, or the last month the ledger
/// recognised if later (so an undue payment is still settled). `None`: not to be ended.
/// `payable(m)`: the household's restricted decision pays something in `m`. The run is looked
/// for back to the first award or the arrears look-back, whichever is later.
pub fn termination(
    grants: &[Grant],
    book: Option<&HouseholdBook>,
    month: Month,
    notice_months: u32,
    payable: impl Fn(Month) -> bool,
) -> Option<Month> {
    if !grants.iter().any(|g| g.end.is_none() && g.runs_in(month)) {
        return None;
    }
    let first = grants
        .iter()
        .map(|g| g.start)
        .min()?
        .max(month.plus(-ARREARS_LOOKBACK_MONTHS));
    let mut m = month;
    while m >= first && !payable(m) {
        m = m.prev();
    }
    let suspended_from = m.next();
    if month < suspended_from.plus(i32::try_from(notice_months).unwrap_or(i32::MAX)) {
        return None;
    }
    let mut last = suspended_from.prev();
    let mut k = suspended_from;
    while k < month {
        if book.is_some_and(|b| b.due_components(k).next().is_some()) {
            last = k;
        }
        k = k.next();
    }
    Some(last)
}

/// The grants with every running one ended at `last`.
pub fn ended_at(grants: &[Grant], last: Month) -> Vec<Grant> {
    grants
        .iter()
        .cloned()
        .map(|mut g| {
            g.end = Some(g.end.map_or(last, |e| e.min(last)));
            g
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Kind, Ledger, Origin};
    use sanad_domain::{Money, RsuId};
    use sanad_rules::Component;

    fn m(s: &str) -> Month {
        s.parse().unwrap()
    }

    fn grant(aid: Requested, start: &str, end: Option<&str>) -> Grant {
        Grant {
            aid,
            start: m(start),
            end: end.map(m),
            receipt: format!("R-{start}"),
        }
    }

    #[test]
    fn an_award_runs_from_its_start_to_its_end() {
        let g = grant(Requested::FlatRate, "2026-03", Some("2026-06"));
        let runs: Vec<bool> = ["2026-02", "2026-03", "2026-06", "2026-07"]
            .iter()
            .map(|s| g.runs_in(m(s)))
            .collect();
        assert_eq!(runs, [false, true, true, false]);
        assert!(grant(Requested::FlatRate, "2026-03", None).runs_in(m("2030-01")));
    }

    #[test]
    fn months_the_ledger_never_recognised_are_arrears() {
        let household = RsuId::parse("000000000042").unwrap();
        let grants = [grant(Requested::ChildAllowance, "2026-03", None)];
        assert_eq!(
            arrears_months(&grants, None, m("2026-03")),
            [],
            "the start month itself is this cycle's due"
        );
        let none: Vec<Month> = arrears_months(&grants, None, m("2026-06"))
            .into_iter()
            .map(|(x, _)| x)
            .collect();
        assert_eq!(none, [m("2026-03"), m("2026-04"), m("2026-05")]);

        let mut ledger = Ledger::new();
        let o = Origin::new(&household, m("2026-04").last_day(), "DEC");
        ledger
            .post_due(
                &o,
                Kind::Due,
                m("2026-04"),
                Component::ChildAllowance,
                Money::from_centimes(30_000),
            )
            .unwrap();
        let found = arrears_months(&grants, ledger.book(&household), m("2026-06"));
        assert_eq!(
            found,
            [(m("2026-03"), "R-2026-03"), (m("2026-05"), "R-2026-03")],
            "a recognised month is not owed again"
        );
        assert!(arrears_months(&[], None, m("2026-06")).is_empty());
    }

    #[test]
    fn a_change_settles_the_recognised_months_since_it_took_effect() {
        let household = RsuId::parse("000000000042").unwrap();
        let grants = [grant(Requested::ChildAllowance, "2026-01", None)];
        let mut ledger = Ledger::new();
        let o = Origin::new(&household, m("2026-05").last_day(), "DEC");
        for month in ["2026-01", "2026-02", "2026-03", "2026-05"] {
            ledger
                .post_due(
                    &o,
                    Kind::Due,
                    m(month),
                    Component::ChildAllowance,
                    Money::from_centimes(30_000),
                )
                .unwrap();
        }
        let months = |from: Option<&str>| -> Vec<Month> {
            months_to_settle(&grants, ledger.book(&household), m("2026-06"), from.map(m))
                .into_iter()
                .map(|(x, _)| x)
                .collect()
        };
        assert_eq!(
            months(None),
            [m("2026-04")],
            "without a change, only the month never recognised"
        );
        assert_eq!(
            months(Some("2026-03")),
            [m("2026-03"), m("2026-04"), m("2026-05")],
            "from the change on, every month"
        );
        assert_eq!(
            months(Some("2026-06")),
            [m("2026-04")],
            "a change this month is this month's decision"
        );
    }

    #[test]
    fn arrears_look_back_one_year_at_most() {
        let grants = [grant(Requested::FlatRate, "2020-01", None)];
        let found = arrears_months(&grants, None, m("2026-06"));
        assert_eq!(found.len(), ARREARS_LOOKBACK_MONTHS as usize);
        assert_eq!(found[0].0, m("2025-06"));
    }

    #[test]
    fn an_ended_award_brings_no_arrears_after_its_end() {
        let grants = [grant(Requested::FlatRate, "2026-01", Some("2026-02"))];
        let found: Vec<Month> = arrears_months(&grants, None, m("2026-05"))
            .into_iter()
            .map(|(x, _)| x)
            .collect();
        assert_eq!(found, [m("2026-01"), m("2026-02")]);
    }

    #[test]
    fn a_suspension_whose_notice_ran_out_ends_the_award() {
        let grants = [grant(Requested::FlatRate, "2026-01", None)];
        // Payable until May, then not: suspended from June.
        let payable = |k: Month| k < m("2026-06");
        assert_eq!(
            termination(&grants, None, m("2026-08"), 3, payable),
            None,
            "June to August: still within the notice"
        );
        assert_eq!(
            termination(&grants, None, m("2026-09"), 3, payable),
            Some(m("2026-05")),
            "from September: ended after May"
        );
        assert_eq!(
            termination(&grants, None, m("2026-09"), 3, |_| true),
            None,
            "a payable household continues"
        );
        let ended = [grant(Requested::FlatRate, "2026-01", Some("2026-05"))];
        assert_eq!(
            termination(&ended, None, m("2026-09"), 3, payable),
            None,
            "an ended award is not ended again"
        );
        assert_eq!(ended_at(&grants, m("2026-05"))[0].end, Some(m("2026-05")));
        assert!(!ended_at(&grants, m("2026-05"))[0].runs_in(m("2026-06")));
    }
}

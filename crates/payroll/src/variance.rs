//! What changed since the previous payroll: households that appear, that drop out, whose
//! amount moved beyond a threshold; counts and amounts per region. The checker reads this
//! before approving, so an unexpected jump is seen before money leaves.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use sanad_domain::{Money, Month, RegionCode, RsuId};
use serde::{Deserialize, Serialize};

use crate::cycle::{Payroll, PayrollLine};

/// A change is flagged when it exceeds any threshold set (strictly beyond, in either direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    /// Integer percent of the previous amount (e.g. 20).
    pub percent: Option<u32>,
    /// An absolute amount (e.g. 100 MAD).
    pub amount: Option<Money>,
}

impl Threshold {
    /// Exact: |Δ| × 100 > percent × before, in integer centimes. From zero, any change is
    /// beyond every percentage.
    pub fn exceeded(&self, before: Money, after: Money) -> bool {
        let delta = (after.centimes() - before.centimes()).abs();
        let by_percent = self.percent.is_some_and(|p| {
            i128::from(delta) * 100 > i128::from(p) * i128::from(before.centimes().abs())
        });
        let by_amount = self.amount.is_some_and(|a| delta > a.centimes());
        by_percent || by_amount
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub household: RsuId,
    /// The current region (the previous one for a dropped household).
    pub region: RegionCode,
    pub before: Money,
    pub after: Money,
}

impl Change {
    pub fn delta(&self) -> Money {
        self.after - self.before
    }
}

/// Counts and amounts of one region (or of all, in `VarianceReport::all`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionVariance {
    pub households_before: u64,
    pub households_after: u64,
    pub amount_before: Money,
    pub amount_after: Money,
    pub new: u64,
    pub dropped: u64,
    pub changed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VarianceReport {
    pub previous: Month,
    pub current: Month,
    pub threshold: Threshold,
    pub new: Vec<Change>,
    pub dropped: Vec<Change>,
    pub changed: Vec<Change>,
    pub all: RegionVariance,
    pub by_region: BTreeMap<RegionCode, RegionVariance>,
}

/// Compare `cur` with `prev` line by line (both are sorted by RSU id).
pub fn variance(prev: &Payroll, cur: &Payroll, threshold: Threshold) -> VarianceReport {
    let mut r = VarianceReport::empty(prev.month, cur.month, threshold);
    let (mut a, mut b) = (prev.lines.iter().peekable(), cur.lines.iter().peekable());
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => x.household.cmp(&y.household),
        };
        match order {
            Ordering::Less => r.dropped_line(a.next().expect("peeked")),
            Ordering::Greater => r.new_line(b.next().expect("peeked")),
            Ordering::Equal => r.both(a.next().expect("peeked"), b.next().expect("peeked")),
        }
    }
    r
}

impl VarianceReport {
    /// A report with nothing compared yet.
    pub fn empty(previous: Month, current: Month, threshold: Threshold) -> Self {
        VarianceReport {
            previous,
            current,
            threshold,
            new: vec![],
            dropped: vec![],
            changed: vec![],
            all: RegionVariance::default(),
            by_region: BTreeMap::new(),
        }
    }

    /// Compare one household, streamed in RSU id order: in the previous payroll only, in the
    /// current only, or in both (what `variance` does over two whole payrolls).
    pub fn compare(&mut self, prev: Option<&PayrollLine>, cur: Option<&PayrollLine>) {
        match (prev, cur) {
            (Some(a), Some(b)) => self.both(a, b),
            (Some(a), None) => self.dropped_line(a),
            (None, Some(b)) => self.new_line(b),
            (None, None) => {}
        }
    }

    fn before(&mut self, l: &PayrollLine) {
        for v in [&mut self.all, self.by_region.entry(l.region).or_default()] {
            v.households_before += 1;
            v.amount_before += l.amount;
        }
    }

    fn after(&mut self, l: &PayrollLine) {
        for v in [&mut self.all, self.by_region.entry(l.region).or_default()] {
            v.households_after += 1;
            v.amount_after += l.amount;
        }
    }

    fn count(&mut self, region: RegionCode, f: fn(&mut RegionVariance)) {
        f(&mut self.all);
        f(self.by_region.entry(region).or_default());
    }

    fn new_line(&mut self, l: &PayrollLine) {
        self.after(l);
        self.count(l.region, |v| v.new += 1);
        self.new.push(Change {
            household: l.household.clone(),
            region: l.region,
            before: Money::ZERO,
            after: l.amount,
        });
    }

    fn dropped_line(&mut self, l: &PayrollLine) {
        self.before(l);
        self.count(l.region, |v| v.dropped += 1);
        self.dropped.push(Change {
            household: l.household.clone(),
            region: l.region,
            before: l.amount,
            after: Money::ZERO,
        });
    }

    fn both(&mut self, old: &PayrollLine, new: &PayrollLine) {
        self.before(old);
        self.after(new);
        if self.threshold.exceeded(old.amount, new.amount) {
            self.count(new.region, |v| v.changed += 1);
            self.changed.push(Change {
                household: new.household.clone(),
                region: new.region,
                before: old.amount,
                after: new.amount,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_exact_and_strict() {
        let t = Threshold {
            percent: Some(20),
            amount: None,
        };
        assert!(
            !t.exceeded(Money::from_mad(500), Money::from_mad(600)),
            "exactly 20 % is not beyond"
        );
        assert!(t.exceeded(Money::from_mad(500), Money::from_centimes(60_001)));
        assert!(t.exceeded(Money::from_mad(500), Money::from_centimes(39_999)));
        assert!(t.exceeded(Money::ZERO, Money::from_centimes(1)));
        let t = Threshold {
            percent: None,
            amount: Some(Money::from_mad(100)),
        };
        assert!(!t.exceeded(Money::from_mad(500), Money::from_mad(600)));
        assert!(t.exceeded(Money::from_mad(500), Money::from_centimes(39_999)));
        let none = Threshold {
            percent: None,
            amount: None,
        };
        assert!(!none.exceeded(Money::ZERO, Money::from_mad(1_000_000)));
    }
}

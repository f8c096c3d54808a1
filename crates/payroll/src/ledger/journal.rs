//! The journal of all households: entries in posting order and each household's book.

use std::collections::BTreeMap;

use sanad_domain::{Date, Money, Month, RsuId};
use sanad_rules::Component;

use super::{
    Account, Entry, HouseholdBook, Kind, Origin, adjust_entries, due_entry, settle_entry,
    undue_entry,
};
use crate::PayrollError;

/// Every entry posted, and each household's book folded from them.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    entries: Vec<Entry>,
    books: BTreeMap<RsuId, HouseholdBook>,
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuild a ledger from stored entries, checking each as it was checked when posted.
    pub fn replay(entries: impl IntoIterator<Item = Entry>) -> Result<Ledger, PayrollError> {
        let mut l = Ledger::new();
        for e in entries {
            l.post(e)?;
        }
        Ok(l)
    }

    /// Resume a ledger from books stored up to some entry, then the entries posted since,
    /// checked as when they were posted. `entries()` then holds only those.
    pub fn resume(
        books: impl IntoIterator<Item = (RsuId, HouseholdBook)>,
        entries: impl IntoIterator<Item = Entry>,
    ) -> Result<Ledger, PayrollError> {
        let mut l = Ledger {
            entries: Vec::new(),
            books: books.into_iter().collect(),
        };
        for e in entries {
            l.post(e)?;
        }
        Ok(l)
    }

    /// Post one entry, or refuse it and change nothing.
    pub fn post(&mut self, e: Entry) -> Result<(), PayrollError> {
        self.books
            .entry(e.household().clone())
            .or_default()
            .apply(&e)?;
        self.entries.push(e);
        Ok(())
    }

    /// Post entries all or none (a released payroll): checked on copies of the books touched.
    pub fn post_all(&mut self, entries: Vec<Entry>) -> Result<(), PayrollError> {
        let mut scratch: BTreeMap<RsuId, HouseholdBook> = BTreeMap::new();
        for e in &entries {
            let book = scratch
                .entry(e.household().clone())
                .or_insert_with(|| self.books.get(e.household()).cloned().unwrap_or_default());
            book.apply(e)?;
        }
        self.books.extend(scratch);
        self.entries.extend(entries);
        Ok(())
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn book(&self, household: &RsuId) -> Option<&HouseholdBook> {
        self.books.get(household)
    }

    /// Books in RSU id order.
    pub fn books(&self) -> impl Iterator<Item = (&RsuId, &HouseholdBook)> {
        self.books.iter()
    }

    /// Balances by account and component, from the books.
    pub fn trial_balance(&self) -> TrialBalance {
        let mut t = TrialBalance::default();
        for b in self.books.values() {
            for ((a, _, c), v) in b.signed_balances() {
                t.add(a, c, v);
            }
        }
        t
    }

    /// Recognise a due (`Kind::Due`) or a late due (`Kind::Arrears`).
    pub fn post_due(
        &mut self,
        o: &Origin,
        kind: Kind,
        month: Month,
        component: Component,
        amount: Money,
    ) -> Result<(), PayrollError> {
        match due_entry(o, kind, &[(month, component, amount)])? {
            Some(e) => self.post(e),
            None => Err(PayrollError::NonPositiveAmount(amount)),
        }
    }

    /// Correct an existing due to `new_due` (see [`adjust_entries`]); returns what was posted.
    pub fn adjust_due(
        &mut self,
        o: &Origin,
        month: Month,
        component: Component,
        new_due: Money,
    ) -> Result<Vec<Entry>, PayrollError> {
        let entries = adjust_entries(
            &self.book_or_empty(&o.household),
            o,
            month,
            component,
            new_due,
        )?;
        self.post_all(entries.clone())?;
        Ok(entries)
    }

    /// Confirm, reject or return payment `o.reference` (see [`settle_entry`]).
    pub fn settle(&mut self, o: &Origin, kind: Kind) -> Result<(), PayrollError> {
        let e = settle_entry(&self.book_or_empty(&o.household), o, kind)?;
        self.post(e)
    }

    /// Record that `amount` of (month, component) was paid but not owed.
    pub fn record_undue(
        &mut self,
        o: &Origin,
        month: Month,
        component: Component,
        amount: Money,
    ) -> Result<(), PayrollError> {
        self.post(undue_entry(o, month, component, amount)?)
    }

    fn book_or_empty(&self, household: &RsuId) -> HouseholdBook {
        self.books.get(household).cloned().unwrap_or_default()
    }
}

/// Balances (signed: debits positive) by account and component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrialBalance {
    balances: BTreeMap<(Account, Component), Money>,
}

impl TrialBalance {
    fn add(&mut self, a: Account, c: Component, signed: Money) {
        *self.balances.entry((a, c)).or_insert(Money::ZERO) += signed;
    }

    /// The balance of `account` on its normal side, all components.
    pub fn account(&self, account: Account) -> Money {
        account.normal(
            self.balances
                .iter()
                .filter(|((a, _), _)| *a == account)
                .map(|(_, v)| *v)
                .sum(),
        )
    }

    /// The balance of `account` for `component` on its normal side (e.g. Budget per component).
    pub fn of(&self, account: Account, component: Component) -> Money {
        account.normal(
            self.balances
                .get(&(account, component))
                .copied()
                .unwrap_or(Money::ZERO),
        )
    }

    /// The sum of all signed balances: zero in any ledger, since every entry balances.
    pub fn sum(&self) -> Money {
        self.balances.values().copied().sum()
    }

    /// Identical when all balances agree, whatever zero entries either holds.
    pub fn same_as(&self, other: &TrialBalance) -> bool {
        let nz = |t: &TrialBalance| {
            t.balances
                .iter()
                .filter(|(_, v)| **v != Money::ZERO)
                .map(|(k, v)| (*k, *v))
                .collect::<Vec<_>>()
        };
        nz(self) == nz(other)
    }
}

/// The trial balance as a plain fold over entries, with no checks: what the books must equal.
pub fn fold<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> TrialBalance {
    let mut t = TrialBalance::default();
    for e in entries {
        for l in e.lines() {
            t.add(l.account, l.component, l.signed());
        }
    }
    t
}

/// Money actually out in entries dated between `from` and `to` inclusive, by component: net
/// credits to Paid (confirmations less returns after crediting).
pub fn paid_between<'a>(
    entries: impl IntoIterator<Item = &'a Entry>,
    from: Date,
    to: Date,
) -> crate::ByComponent {
    entries
        .into_iter()
        .filter(|e| (from..=to).contains(&e.date()))
        .flat_map(|e| e.lines().iter())
        .filter(|l| l.account == Account::Paid)
        .map(|l| (l.component, Account::Paid.normal(l.signed())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::tests::{day, hh, m};
    use crate::ledger::{PaymentStatus, issue_entry, recovery_entry};

    const FLAT: Component = Component::FlatRate;

    fn origin(r: &str, date: Date) -> Origin {
        Origin::new(&hh(7), date, r)
    }

    #[test]
    fn a_second_due_is_refused_and_an_adjustment_posts_the_difference() {
        let mut l = Ledger::new();
        let o = origin("decision-1", day(2026, 3, 31));
        l.post_due(&o, Kind::Due, m("2026-03"), FLAT, Money::from_mad(500))
            .unwrap();
        let again = l.post_due(&o, Kind::Due, m("2026-03"), FLAT, Money::from_mad(500));
        assert!(matches!(again, Err(PayrollError::DuplicateDue { .. })));
        let posted = l
            .adjust_due(&o, m("2026-03"), FLAT, Money::from_mad(650))
            .unwrap();
        assert_eq!(
            (posted.len(), posted[0].amount()),
            (1, Money::from_mad(150))
        );
        assert_eq!(
            l.book(&hh(7)).unwrap().due(m("2026-03"), FLAT),
            Money::from_mad(650)
        );
        let none = l.adjust_due(&o, m("2026-02"), FLAT, Money::from_mad(1));
        assert!(matches!(none, Err(PayrollError::NoDueToAdjust { .. })));
    }

    #[test]
    fn a_payment_moves_whole_through_its_states() {
        let mut l = Ledger::new();
        let o = origin("d", day(2026, 3, 31));
        l.post_due(&o, Kind::Due, m("2026-03"), FLAT, Money::from_mad(500))
            .unwrap();
        let pay = origin("P1", day(2026, 3, 31));
        let e = issue_entry(l.book(&hh(7)).unwrap(), &pay, m("2026-03"))
            .unwrap()
            .unwrap();
        l.post(e.clone()).unwrap();
        assert!(
            matches!(l.post(e), Err(PayrollError::DuplicatePayment { .. })),
            "the same payment twice"
        );
        l.settle(&pay, Kind::Confirmed).unwrap();
        assert!(matches!(
            l.settle(&pay, Kind::Rejected),
            Err(PayrollError::PaymentState { .. })
        ));
        l.settle(&pay, Kind::Returned).unwrap();
        let b = l.book(&hh(7)).unwrap();
        assert_eq!(b.payment("P1").unwrap().status, PaymentStatus::Returned);
        assert_eq!(
            (b.total(Account::Paid), b.total(Account::Returned)),
            (Money::ZERO, Money::from_mad(500))
        );
        assert_eq!(l.trial_balance().sum(), Money::ZERO);
        assert!(l.trial_balance().same_as(&fold(l.entries())));
    }

    #[test]
    fn undue_becomes_debt_and_a_downward_adjustment_splits_unpaid_and_paid() {
        let mut l = Ledger::new();
        let o = origin("d", day(2026, 3, 31));
        l.post_due(&o, Kind::Due, m("2026-03"), FLAT, Money::from_mad(500))
            .unwrap();
        let pay = origin("P1", day(2026, 3, 31));
        let part = PartialIssue(Money::from_mad(300));
        l.post(part.issue(&pay, m("2026-03"))).unwrap();
        l.settle(&pay, Kind::Confirmed).unwrap();
        // Due falls to 100: 200 unpaid is cancelled, 200 of the 300 paid is owed back.
        let posted = l
            .adjust_due(&o, m("2026-03"), FLAT, Money::from_mad(100))
            .unwrap();
        assert_eq!(
            posted.iter().map(Entry::kind).collect::<Vec<_>>(),
            vec![Kind::Adjustment, Kind::Undue]
        );
        let b = l.book(&hh(7)).unwrap();
        assert_eq!(
            (
                b.total(Account::Entitlement),
                b.total(Account::Debt),
                b.due(m("2026-03"), FLAT)
            ),
            (Money::ZERO, Money::from_mad(200), Money::from_mad(100))
        );
        let overdrawn = l.record_undue(&o, m("2026-03"), FLAT, Money::from_mad(101));
        assert!(matches!(
            overdrawn,
            Err(PayrollError::Overdrawn {
                account: Account::Budget,
                ..
            })
        ));
    }

    #[test]
    fn recovery_takes_the_current_month_and_the_oldest_debt_first() {
        let mut l = Ledger::new();
        let o = origin("d", day(2026, 4, 30));
        l.post_due(&o, Kind::Arrears, m("2026-01"), FLAT, Money::from_mad(100))
            .unwrap();
        l.post_due(&o, Kind::Arrears, m("2026-02"), FLAT, Money::from_mad(100))
            .unwrap();
        for (r, month) in [("P1", "2026-01"), ("P2", "2026-02")] {
            let pay = origin(r, day(2026, 4, 30));
            l.post(PartialIssue(Money::from_mad(100)).issue(&pay, m(month)))
                .unwrap();
            l.settle(&pay, Kind::Confirmed).unwrap();
        }
        l.record_undue(&o, m("2026-02"), FLAT, Money::from_mad(100))
            .unwrap();
        l.record_undue(&o, m("2026-01"), FLAT, Money::from_mad(40))
            .unwrap();
        l.post_due(&o, Kind::Due, m("2026-04"), FLAT, Money::from_mad(500))
            .unwrap();
        let e = recovery_entry(
            l.book(&hh(7)).unwrap(),
            &o,
            m("2026-04"),
            Money::from_mad(120),
        )
        .unwrap()
        .unwrap();
        let credits: Vec<_> = e
            .lines()
            .iter()
            .filter(|x| x.account == Account::Debt)
            .map(|x| (x.month, x.amount))
            .collect();
        assert_eq!(
            credits,
            vec![
                (m("2026-01"), Money::from_mad(40)),
                (m("2026-02"), Money::from_mad(80))
            ]
        );
        l.post(e).unwrap();
        let b = l.book(&hh(7)).unwrap();
        assert_eq!(
            (b.total(Account::Debt), b.recovered_from(m("2026-04"))),
            (Money::from_mad(20), Money::from_mad(120))
        );
    }

    /// A partial issue, which the cycle never makes but a correction test needs.
    struct PartialIssue(Money);
    impl PartialIssue {
        fn issue(&self, o: &Origin, month: Month) -> Entry {
            Entry::pair(
                o.header(Kind::Issued),
                month,
                FLAT,
                self.0,
                Account::Entitlement,
                Account::InTransit,
            )
            .unwrap()
        }
    }

    #[test]
    fn post_all_is_all_or_nothing() {
        let mut l = Ledger::new();
        let o = origin("d", day(2026, 3, 31));
        let good = due_entry(&o, Kind::Due, &[(m("2026-03"), FLAT, Money::from_mad(5))])
            .unwrap()
            .unwrap();
        let r = l.post_all(vec![good.clone(), good]);
        assert!(matches!(r, Err(PayrollError::DuplicateDue { .. })));
        assert!(l.entries().is_empty() && l.book(&hh(7)).is_none());
    }

    #[test]
    fn paid_between_nets_returns() {
        let mut l = Ledger::new();
        let o = origin("d", day(2026, 3, 31));
        l.post_due(&o, Kind::Due, m("2026-03"), FLAT, Money::from_mad(500))
            .unwrap();
        let pay = origin("P1", day(2026, 3, 31));
        l.post(
            issue_entry(l.book(&hh(7)).unwrap(), &pay, m("2026-03"))
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        l.settle(&pay, Kind::Confirmed).unwrap();
        let year = (day(2026, 1, 1), day(2026, 12, 31));
        assert_eq!(
            paid_between(l.entries(), year.0, year.1).get(FLAT),
            Money::from_mad(500)
        );
        l.settle(&origin("P1", day(2026, 4, 2)), Kind::Returned)
            .unwrap();
        assert_eq!(
            paid_between(l.entries(), year.0, year.1).get(FLAT),
            Money::ZERO
        );
        assert_eq!(
            paid_between(l.entries(), year.0, day(2026, 3, 31)).get(FLAT),
            Money::from_mad(500)
        );
    }
}

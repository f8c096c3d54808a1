//! One household's books: the fold of its entries, and the checks an entry must pass first.

use std::collections::{BTreeMap, BTreeSet};

use sanad_domain::{Date, Money, Month, RsuId};
use sanad_rules::Component;

use serde::{Deserialize, Serialize};

use super::{Account, Entry, Kind, Side};
use crate::PayrollError;
use crate::codes::component_code;

/// Where a payment stands. A payment is moved whole: confirmed, rejected or returned at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Sent, not yet confirmed received (or cashed, for cash-out and wallets).
    InTransit,
    /// The household received it.
    Confirmed,
    /// Came back; held for a re-issue once the household's instrument is usable.
    Returned,
    /// Came back and was sent again in another payment.
    Reissued,
}

/// A payment as the ledger knows it: what it carried, by (month, component).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub reference: String,
    pub issued_on: Date,
    pub status: PaymentStatus,
    pub legs: BTreeMap<(Month, Component), Money>,
    /// When it came back (rejected, returned or uncashed).
    pub returned_on: Option<Date>,
    /// For a payment that came back and was sent again: the payment that carried it.
    pub reissued_by: Option<String>,
}

impl Payment {
    /// A payment just sent by entry `e`, its legs not yet added.
    fn sent(e: &Entry) -> Payment {
        Payment {
            reference: e.reference().to_owned(),
            issued_on: e.date(),
            status: PaymentStatus::InTransit,
            legs: BTreeMap::new(),
            returned_on: None,
            reissued_by: None,
        }
    }

    pub fn amount(&self) -> Money {
        self.legs.values().copied().sum()
    }

    /// Where a settlement of `kind` moves this payment's amounts (from, to) and the status it
    /// leaves, or why it cannot: confirmed or returned out of InTransit, or returned after
    /// crediting out of Paid.
    pub fn settlement(
        &self,
        kind: Kind,
    ) -> Result<(Account, Account, PaymentStatus), PayrollError> {
        use PaymentStatus::{Confirmed, InTransit, Returned};
        match (kind, self.status) {
            (Kind::Confirmed, InTransit) => Ok((Account::InTransit, Account::Paid, Confirmed)),
            (Kind::Rejected | Kind::Returned, InTransit) => {
                Ok((Account::InTransit, Account::Returned, Returned))
            }
            (Kind::Returned, Confirmed) => Ok((Account::Paid, Account::Returned, Returned)),
            (kind, status) => Err(PayrollError::PaymentState {
                reference: self.reference.clone(),
                status,
                kind,
            }),
        }
    }

    /// Settle the payment (`kind`, on `date`); the account its amounts left.
    fn settle(&mut self, kind: Kind, date: Date) -> Result<Account, PayrollError> {
        let (from, _, to) = self.settlement(kind)?;
        self.status = to;
        if to == PaymentStatus::Returned {
            self.returned_on = Some(date);
        }
        Ok(from)
    }

    fn add_legs(&mut self, legs: &BTreeMap<(Month, Component), Money>) {
        for (k, v) in legs {
            *self.legs.entry(*k).or_insert(Money::ZERO) += *v;
        }
    }
}

/// Signed balance per (account, month, component): debits positive.
type Balances = BTreeMap<(Account, Month, Component), Money>;

/// A household's balances, dues and payments, folded from its entries. Stored as JSON between
/// cycles (`BookState`), so that a cycle folds only the entries posted since.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "BookState", from = "BookState")]
pub struct HouseholdBook {
    balances: Balances,
    /// (month, component) for which a due was recognised: a second one must be an adjustment.
    dues: BTreeSet<(Month, Component)>,
    /// Recovered out of each month's entitlement, so a re-run never exceeds the month's cap.
    recovered: BTreeMap<Month, Money>,
    payments: BTreeMap<String, Payment>,
}

impl HouseholdBook {
    /// Post `e` to this book, or refuse it and change nothing.
    pub fn apply(&mut self, e: &Entry) -> Result<(), PayrollError> {
        self.check_dues(e)?;
        let payments = self.check_payment(e)?;
        let balances = self.check_balances(e)?;
        self.commit(e, payments, balances);
        Ok(())
    }

    /// The balance of (account, month, component) on the account's normal side.
    pub fn balance(&self, account: Account, month: Month, component: Component) -> Money {
        account.normal(self.signed(account, month, component))
    }

    /// The balance of `account` over all months and components, on its normal side.
    pub fn total(&self, account: Account) -> Money {
        self.legs(account).map(|(_, _, m)| m).sum()
    }

    /// Non-zero balances of `account` by (month, component), oldest month first.
    pub fn legs(&self, account: Account) -> impl Iterator<Item = (Month, Component, Money)> + '_ {
        self.balances
            .iter()
            .filter(move |((a, _, _), v)| *a == account && **v != Money::ZERO)
            .map(move |((a, m, c), v)| (*m, *c, a.normal(*v)))
    }

    /// Signed balances (debits positive) by (account, month, component).
    pub fn signed_balances(
        &self,
    ) -> impl Iterator<Item = ((Account, Month, Component), Money)> + '_ {
        self.balances.iter().map(|(k, v)| (*k, *v))
    }

    pub fn has_due(&self, month: Month, component: Component) -> bool {
        self.dues.contains(&(month, component))
    }

    /// Components with a due recognised for `month`.
    pub fn due_components(&self, month: Month) -> impl Iterator<Item = Component> + '_ {
        self.dues
            .iter()
            .filter(move |(m, _)| *m == month)
            .map(|(_, c)| *c)
    }

    /// The amount due for (month, component) net of corrections and undue parts: the
    /// expense recognised, i.e. the Budget balance.
    pub fn due(&self, month: Month, component: Component) -> Money {
        self.balance(Account::Budget, month, component)
    }

    /// What recoveries already kept out of `month`'s entitlement.
    pub fn recovered_from(&self, month: Month) -> Money {
        self.recovered.get(&month).copied().unwrap_or(Money::ZERO)
    }

    pub fn payment(&self, reference: &str) -> Option<&Payment> {
        self.payments.get(reference)
    }

    pub fn payments(&self) -> impl Iterator<Item = &Payment> {
        self.payments.values()
    }

    fn signed(&self, account: Account, month: Month, component: Component) -> Money {
        self.balances
            .get(&(account, month, component))
            .copied()
            .unwrap_or(Money::ZERO)
    }

    fn check_dues(&self, e: &Entry) -> Result<(), PayrollError> {
        let mut keys = e
            .lines()
            .iter()
            .filter(|l| l.account == Account::Entitlement)
            .map(|l| (l.month, l.component));
        let household = e.household().clone();
        match e.kind() {
            Kind::Due | Kind::Arrears => match keys.find(|k| self.dues.contains(k)) {
                Some((month, component)) => Err(PayrollError::DuplicateDue {
                    household,
                    month,
                    component,
                }),
                None => Ok(()),
            },
            Kind::Adjustment => match keys.find(|k| !self.dues.contains(k)) {
                Some((month, component)) => Err(PayrollError::NoDueToAdjust {
                    household,
                    month,
                    component,
                }),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// The payment records the entry creates or changes, checked against their state.
    fn check_payment(&self, e: &Entry) -> Result<Vec<Payment>, PayrollError> {
        match e.kind() {
            Kind::Issued => {
                Ok(vec![self.new_payment(
                    e,
                    &e.legs(Account::InTransit, Side::Credit),
                )?])
            }
            Kind::Reissued => self.check_reissue(e),
            Kind::Confirmed | Kind::Rejected | Kind::Returned => {
                self.check_settlement(e).map(|p| vec![p])
            }
            _ => Ok(vec![]),
        }
    }

    fn new_payment(
        &self,
        e: &Entry,
        legs: &BTreeMap<(Month, Component), Money>,
    ) -> Result<Payment, PayrollError> {
        if self.payments.contains_key(e.reference()) {
            return Err(PayrollError::DuplicatePayment {
                household: e.household().clone(),
                reference: e.reference().to_owned(),
            });
        }
        Ok(Payment {
            legs: legs.clone(),
            ..Payment::sent(e)
        })
    }

    /// A re-issue sends a returned payment's amounts again, alone or joined to the same
    /// day's new payment (one transfer, one withdrawal fee for the household).
    fn check_reissue(&self, e: &Entry) -> Result<Vec<Payment>, PayrollError> {
        let related = e.related().unwrap_or_default();
        let mut old = self.known(e.household(), related)?.clone();
        if old.status != PaymentStatus::Returned {
            return Err(PayrollError::PaymentState {
                reference: old.reference,
                status: old.status,
                kind: e.kind(),
            });
        }
        if e.legs(Account::Returned, Side::Debit) != old.legs {
            return Err(PayrollError::PaymentMismatch {
                reference: old.reference,
                kind: e.kind(),
            });
        }
        let mut new = match self.payments.get(e.reference()) {
            Some(p) if p.status == PaymentStatus::InTransit && p.issued_on == e.date() => p.clone(),
            _ => self.new_payment(e, &BTreeMap::new())?,
        };
        new.add_legs(&e.legs(Account::InTransit, Side::Credit));
        old.status = PaymentStatus::Reissued;
        old.reissued_by = Some(new.reference.clone());
        Ok(vec![old, new])
    }

    /// Confirmed, Rejected and Returned move a whole payment out of InTransit (or, for a
    /// return after crediting, out of Paid).
    fn check_settlement(&self, e: &Entry) -> Result<Payment, PayrollError> {
        let mut p = self.known(e.household(), e.reference())?.clone();
        let from = p.settle(e.kind(), e.date())?;
        let only_from = e
            .lines()
            .iter()
            .filter(|l| l.side == Side::Debit)
            .all(|l| l.account == from);
        if !only_from || e.legs(from, Side::Debit) != p.legs {
            return Err(PayrollError::PaymentMismatch {
                reference: p.reference,
                kind: e.kind(),
            });
        }
        Ok(p)
    }

    /// Payment `reference` of this book, which is `household`'s.
    pub fn known(&self, household: &RsuId, reference: &str) -> Result<&Payment, PayrollError> {
        self.payments
            .get(reference)
            .ok_or_else(|| PayrollError::UnknownPayment {
                household: household.clone(),
                reference: reference.to_owned(),
            })
    }

    /// The balances the entry would leave, refused if any would fall below zero on its
    /// normal side: that one rule is "never issue more than due net of recoveries", "never
    /// confirm more than sent", "never recover more than owed", and so on.
    fn check_balances(&self, e: &Entry) -> Result<Balances, PayrollError> {
        let mut next = Balances::new();
        for l in e.lines() {
            let key = (l.account, l.month, l.component);
            *next
                .entry(key)
                .or_insert_with(|| self.signed(l.account, l.month, l.component)) += l.signed();
        }
        match next
            .iter()
            .find(|((a, _, _), v)| a.normal(**v) < Money::ZERO)
        {
            Some(((account, month, component), v)) => Err(PayrollError::Overdrawn {
                household: e.household().clone(),
                account: *account,
                month: *month,
                component: *component,
                balance: account.normal(*v),
            }),
            None => Ok(next),
        }
    }

    fn commit(&mut self, e: &Entry, payments: Vec<Payment>, balances: Balances) {
        for (k, v) in balances {
            if v == Money::ZERO {
                self.balances.remove(&k);
            } else {
                self.balances.insert(k, v);
            }
        }
        let entitlement = || {
            e.lines()
                .iter()
                .filter(|l| l.account == Account::Entitlement)
        };
        match e.kind() {
            Kind::Due | Kind::Arrears => self
                .dues
                .extend(entitlement().map(|l| (l.month, l.component))),
            Kind::Recovery => entitlement()
                .for_each(|l| *self.recovered.entry(l.month).or_insert(Money::ZERO) += l.amount),
            _ => {}
        }
        for p in payments {
            self.payments.insert(p.reference.clone(), p);
        }
    }
}

/// Payments folded from their own entries alone (issued or re-issued under their reference,
/// then settled), without their households' books: what a bank's answer needs, read for a
/// batch of payments rather than every book they belong to. The entries were checked against
/// the whole books when posted. A payment sent again in another one is marked so by an entry
/// under the other's reference, so here it still shows as returned: a settlement refuses both.
#[derive(Debug, Clone, Default)]
pub struct PaymentTrail {
    payments: BTreeMap<String, Payment>,
}

impl PaymentTrail {
    /// Fold the next entry of its payment (entries of one payment in posting order).
    pub fn follow(&mut self, e: &Entry) -> Result<(), PayrollError> {
        match e.kind() {
            Kind::Issued | Kind::Reissued => (self.payments)
                .entry(e.reference().to_owned())
                .or_insert_with(|| Payment::sent(e))
                .add_legs(&e.legs(Account::InTransit, Side::Credit)),
            Kind::Confirmed | Kind::Rejected | Kind::Returned => {
                let p = (self.payments.get_mut(e.reference())).ok_or_else(|| {
                    PayrollError::UnknownPayment {
                        household: e.household().clone(),
                        reference: e.reference().to_owned(),
                    }
                })?;
                p.settle(e.kind(), e.date())?;
            }
            _ => {}
        }
        Ok(())
    }

    pub fn payment(&self, reference: &str) -> Option<&Payment> {
        self.payments.get(reference)
    }
}

/// A book as stored: lists, since JSON maps take only string keys.
#[derive(Serialize, Deserialize)]
struct BookState {
    balances: Vec<(Account, Keyed)>,
    dues: Vec<Keyed>,
    recovered: Vec<(Month, Money)>,
    payments: Vec<PaymentState>,
}

/// An amount of a (month, component); zero for a due's key.
#[derive(Serialize, Deserialize)]
struct Keyed {
    month: Month,
    #[serde(with = "component_code")]
    component: Component,
    amount: Money,
}

#[derive(Serialize, Deserialize)]
struct PaymentState {
    reference: String,
    issued_on: Date,
    status: PaymentStatus,
    legs: Vec<Keyed>,
    returned_on: Option<Date>,
    reissued_by: Option<String>,
}

fn keyed(((month, component), amount): ((Month, Component), Money)) -> Keyed {
    Keyed {
        month,
        component,
        amount,
    }
}

fn key(k: Keyed) -> ((Month, Component), Money) {
    ((k.month, k.component), k.amount)
}

impl From<HouseholdBook> for BookState {
    fn from(b: HouseholdBook) -> Self {
        BookState {
            balances: (b.balances.into_iter())
                .map(|((a, m, c), v)| (a, keyed(((m, c), v))))
                .collect(),
            dues: b
                .dues
                .into_iter()
                .map(|k| keyed((k, Money::ZERO)))
                .collect(),
            recovered: b.recovered.into_iter().collect(),
            payments: (b.payments.into_values())
                .map(|p| PaymentState {
                    reference: p.reference,
                    issued_on: p.issued_on,
                    status: p.status,
                    legs: p.legs.into_iter().map(keyed).collect(),
                    returned_on: p.returned_on,
                    reissued_by: p.reissued_by,
                })
                .collect(),
        }
    }
}

impl From<BookState> for HouseholdBook {
    fn from(s: BookState) -> Self {
        HouseholdBook {
            balances: (s.balances.into_iter())
                .map(|(a, k)| ((a, k.month, k.component), k.amount))
                .collect(),
            dues: s.dues.into_iter().map(|k| key(k).0).collect(),
            recovered: s.recovered.into_iter().collect(),
            payments: (s.payments.into_iter())
                .map(|p| {
                    let payment = Payment {
                        reference: p.reference,
                        issued_on: p.issued_on,
                        status: p.status,
                        legs: p.legs.into_iter().map(key).collect(),
                        returned_on: p.returned_on,
                        reissued_by: p.reissued_by,
                    };
                    (payment.reference.clone(), payment)
                })
                .collect(),
        }
    }
}

//! Entries built from a household's book: each function reads the balances it needs and
//! returns entries that [`HouseholdBook::apply`] will accept. They post nothing themselves.

use std::fmt;

use sanad_domain::{Date, Money, Month, RsuId};
use sanad_rules::Component;

use super::{Account, Entry, EntryLine, Header, HouseholdBook, Kind, Payment, PaymentStatus};
use crate::PayrollError;

/// Who, when and under which reference: the part of a header shared by an operation's entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub household: RsuId,
    pub date: Date,
    pub reference: String,
}

impl Origin {
    pub fn new(household: &RsuId, date: Date, reference: impl Into<String>) -> Self {
        Origin {
            household: household.clone(),
            date,
            reference: reference.into(),
        }
    }

    pub fn header(&self, kind: Kind) -> Header {
        Header {
            household: self.household.clone(),
            kind,
            date: self.date,
            reference: self.reference.clone(),
            related: None,
        }
    }
}

/// The reference of a payment Sanad sends: `ASD-YYYYMM-<RSU id>-<n>`, the n-th payment of the
/// household in that cycle (1 normally; re-runs that find more to pay use 2, 3…). At most 28
/// characters, so it fits an ISO 20022 EndToEndId (35).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PaymentRef {
    pub cycle: Month,
    pub household: RsuId,
    pub seq: u16,
}

impl PaymentRef {
    /// The first reference of `cycle` not yet used in the household's book.
    pub fn next(book: &HouseholdBook, cycle: Month, household: &RsuId) -> PaymentRef {
        let prefix = PaymentRef {
            cycle,
            household: household.clone(),
            seq: 0,
        }
        .prefix();
        let used = book
            .payments()
            .filter(|p| p.reference.starts_with(&prefix))
            .count();
        PaymentRef {
            cycle,
            household: household.clone(),
            seq: u16::try_from(used + 1).unwrap_or(u16::MAX),
        }
    }

    fn prefix(&self) -> String {
        format!(
            "ASD-{:04}{:02}-{}-",
            self.cycle.year(),
            self.cycle.month(),
            self.household
        )
    }
}

impl fmt::Display for PaymentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.prefix(), self.seq)
    }
}

/// Dues (`Kind::Due`) or late dues (`Kind::Arrears`) for several (month, component, amount),
/// one entry; zero amounts are skipped, and nothing at all gives `None`.
pub fn due_entry(
    o: &Origin,
    kind: Kind,
    amounts: &[(Month, Component, Money)],
) -> Result<Option<Entry>, PayrollError> {
    let lines: Vec<EntryLine> = amounts
        .iter()
        .filter(|(_, _, a)| *a != Money::ZERO)
        .flat_map(|&(m, c, a)| {
            [
                EntryLine::debit(Account::Budget, m, c, a),
                EntryLine::credit(Account::Entitlement, m, c, a),
            ]
        })
        .collect();
    if lines.is_empty() {
        return Ok(None);
    }
    Entry::new(o.header(kind), lines).map(Some)
}

/// Bring the due for (month, component) to `new_due`. Up: an adjustment for the difference.
/// Down: an adjustment of what is still unpaid, and the rest (already sent) as an undue
/// payment, i.e. a debt recovered from later payments.
pub fn adjust_entries(
    book: &HouseholdBook,
    o: &Origin,
    month: Month,
    component: Component,
    new_due: Money,
) -> Result<Vec<Entry>, PayrollError> {
    if !book.has_due(month, component) {
        return Err(PayrollError::NoDueToAdjust {
            household: o.household.clone(),
            month,
            component,
        });
    }
    if new_due < Money::ZERO {
        return Err(PayrollError::NonPositiveAmount(new_due));
    }
    let old = book.due(month, component);
    if new_due > old {
        let up = Entry::pair(
            o.header(Kind::Adjustment),
            month,
            component,
            new_due - old,
            Account::Budget,
            Account::Entitlement,
        )?;
        return Ok(vec![up]);
    }
    let cut = old - new_due;
    let unpaid = cut.min(book.balance(Account::Entitlement, month, component));
    let mut out = Vec::new();
    if unpaid > Money::ZERO {
        out.push(Entry::pair(
            o.header(Kind::Adjustment),
            month,
            component,
            unpaid,
            Account::Entitlement,
            Account::Budget,
        )?);
    }
    if cut > unpaid {
        out.push(undue_entry(o, month, component, cut - unpaid)?);
    }
    Ok(out)
}

/// `amount` of (month, component) was paid but not owed: a debt of the household.
pub fn undue_entry(
    o: &Origin,
    month: Month,
    component: Component,
    amount: Money,
) -> Result<Entry, PayrollError> {
    Entry::pair(
        o.header(Kind::Undue),
        month,
        component,
        amount,
        Account::Debt,
        Account::Budget,
    )
}

/// Confirm, reject or return the whole payment `o.reference`, as its status allows: a
/// return of a payment still in transit is an uncashed payment coming back.
pub fn settle_entry(book: &HouseholdBook, o: &Origin, kind: Kind) -> Result<Entry, PayrollError> {
    settle_payment(book.known(&o.household, &o.reference)?, o, kind)
}

/// [`settle_entry`] of a payment known without its book (a [`super::PaymentTrail`]'s).
pub fn settle_payment(p: &Payment, o: &Origin, kind: Kind) -> Result<Entry, PayrollError> {
    let (from, to, _) = p.settlement(kind)?;
    let lines = p
        .legs
        .iter()
        .flat_map(|(&(m, c), &a)| {
            [
                EntryLine::debit(from, m, c, a),
                EntryLine::credit(to, m, c, a),
            ]
        })
        .collect();
    Entry::new(o.header(kind), lines)
}

/// A new payment `o.reference` of everything due and unpaid for months up to `through`.
pub fn issue_entry(
    book: &HouseholdBook,
    o: &Origin,
    through: Month,
) -> Result<Option<Entry>, PayrollError> {
    let lines: Vec<EntryLine> = book
        .legs(Account::Entitlement)
        .filter(|(m, _, _)| *m <= through)
        .flat_map(|(m, c, a)| {
            [
                EntryLine::debit(Account::Entitlement, m, c, a),
                EntryLine::credit(Account::InTransit, m, c, a),
            ]
        })
        .collect();
    if lines.is_empty() {
        return Ok(None);
    }
    Entry::new(o.header(Kind::Issued), lines).map(Some)
}

/// Send the returned payment `returned` again, in payment `o.reference`.
pub fn reissue_entry(
    book: &HouseholdBook,
    o: &Origin,
    returned: &str,
) -> Result<Entry, PayrollError> {
    let p = book.known(&o.household, returned)?;
    if p.status != PaymentStatus::Returned {
        return Err(PayrollError::PaymentState {
            reference: p.reference.clone(),
            status: p.status,
            kind: Kind::Reissued,
        });
    }
    let lines = p
        .legs
        .iter()
        .flat_map(|(&(m, c), &a)| {
            [
                EntryLine::debit(Account::Returned, m, c, a),
                EntryLine::credit(Account::InTransit, m, c, a),
            ]
        })
        .collect();
    Entry::new(
        Header {
            related: Some(returned.to_owned()),
            ..o.header(Kind::Reissued)
        },
        lines,
    )
}

/// Keep up to `at_most` of `month`'s unpaid entitlement against the debt: never more than
/// the month has unpaid, nor than the debt. The oldest debt is settled first.
pub fn recovery_entry(
    book: &HouseholdBook,
    o: &Origin,
    month: Month,
    at_most: Money,
) -> Result<Option<Entry>, PayrollError> {
    let available: Money = book
        .legs(Account::Entitlement)
        .filter(|(m, _, _)| *m == month)
        .map(|(_, _, a)| a)
        .sum();
    let amount = at_most.min(available).min(book.total(Account::Debt));
    if amount <= Money::ZERO {
        return Ok(None);
    }
    let from = take(
        book.legs(Account::Entitlement)
            .filter(|(m, _, _)| *m == month),
        amount,
    );
    let to = take(book.legs(Account::Debt), amount);
    let lines = from
        .into_iter()
        .map(|(m, c, a)| EntryLine::debit(Account::Entitlement, m, c, a))
        .chain(
            to.into_iter()
                .map(|(m, c, a)| EntryLine::credit(Account::Debt, m, c, a)),
        )
        .collect();
    Entry::new(o.header(Kind::Recovery), lines).map(Some)
}

/// The first `amount` of `legs`, in their order.
fn take(
    legs: impl Iterator<Item = (Month, Component, Money)>,
    mut amount: Money,
) -> Vec<(Month, Component, Money)> {
    let mut out = Vec::new();
    for (m, c, a) in legs {
        if amount == Money::ZERO {
            break;
        }
        let part = a.min(amount);
        out.push((m, c, part));
        amount = amount - part;
    }
    out
}

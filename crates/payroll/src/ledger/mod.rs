//! The double-entry benefit ledger (README.md, "Chart of accounts" and "Posting rules").
//!
//! A journal [`Entry`] is one event for one household: a kind, a date, a reference and lines
//! whose debits equal their credits. [`Entry::new`] refuses anything else, so an unbalanced entry
//! cannot exist. Balances are never stored apart from the entries: a [`HouseholdBook`] is the
//! fold of its household's entries, and [`Ledger::post`] is the one gate that checks the
//! invariants (no second due, no account below zero, payments moved whole) before folding.

mod book;
mod build;
mod journal;

pub use book::{HouseholdBook, Payment, PaymentStatus, PaymentTrail};
pub use build::{
    Origin, PaymentRef, adjust_entries, due_entry, issue_entry, recovery_entry, reissue_entry,
    settle_entry, settle_payment, undue_entry,
};
pub use journal::{Ledger, TrialBalance, fold, paid_between};

use std::collections::BTreeMap;

use sanad_domain::{Date, Money, Month, RsuId};
use sanad_rules::Component;
use serde::{Deserialize, Serialize};

use crate::PayrollError;
use crate::codes::component_code;

/// The chart of accounts. Every line also carries (household, month, component), so "Budget per
/// component" or "Debt of household X" are the same account seen through those dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    /// The appropriation consumed: benefit expense recognised (debit-normal).
    Budget,
    /// Due to the household, not yet sent (credit-normal).
    Entitlement,
    /// Sent to the bank or provider, not yet confirmed as received (credit-normal).
    InTransit,
    /// Confirmed as received by the household: money out of the programme (credit-normal).
    Paid,
    /// Came back (rejected, returned, uncashed): owed to the household again (credit-normal).
    Returned,
    /// Undue payments the household owes back (debit-normal).
    Debt,
}

impl Account {
    pub const ALL: [Account; 6] = [
        Account::Budget,
        Account::Entitlement,
        Account::InTransit,
        Account::Paid,
        Account::Returned,
        Account::Debt,
    ];

    /// Stable code, as serialised (`in_transit`).
    pub fn code(self) -> &'static str {
        match self {
            Account::Budget => "budget",
            Account::Entitlement => "entitlement",
            Account::InTransit => "in_transit",
            Account::Paid => "paid",
            Account::Returned => "returned",
            Account::Debt => "debt",
        }
    }

    /// The side on which the account's balance is normally carried.
    pub fn normal_side(self) -> Side {
        match self {
            Account::Budget | Account::Debt => Side::Debit,
            _ => Side::Credit,
        }
    }

    /// A signed balance (debits positive) expressed on the account's normal side.
    pub fn normal(self, signed: Money) -> Money {
        match self.normal_side() {
            Side::Debit => signed,
            Side::Credit => -signed,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Debit,
    Credit,
}

impl Side {
    pub fn code(self) -> &'static str {
        match self {
            Side::Debit => "debit",
            Side::Credit => "credit",
        }
    }
}

/// What happened. Each kind may touch only the accounts of its row in the posting rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A month's entitlement, recognised in its own cycle.
    Due,
    /// A past month's entitlement recognised late (upheld appeal, retroactive decision).
    Arrears,
    /// A correction of an existing due by the difference, up or down.
    Adjustment,
    /// A payment sent for amounts due.
    Issued,
    /// A payment sent again for amounts that came back.
    Reissued,
    /// The bank or provider confirms the household received the payment.
    Confirmed,
    /// The bank refused the payment before crediting it (pain.002 RJCT).
    Rejected,
    /// Money came back after crediting (camt.054 return), or was never cashed in time.
    Returned,
    /// Paid but not owed: becomes a debt of the household.
    Undue,
    /// Part of a later entitlement kept to reduce the debt.
    Recovery,
}

impl Kind {
    /// Stable code, as serialised (`reissued`).
    pub fn code(self) -> &'static str {
        match self {
            Kind::Due => "due",
            Kind::Arrears => "arrears",
            Kind::Adjustment => "adjustment",
            Kind::Issued => "issued",
            Kind::Reissued => "reissued",
            Kind::Confirmed => "confirmed",
            Kind::Rejected => "rejected",
            Kind::Returned => "returned",
            Kind::Undue => "undue",
            Kind::Recovery => "recovery",
        }
    }

    /// The accounts this kind may use on `side` (the posting rules table).
    pub fn accounts(self, side: Side) -> &'static [Account] {
        use Account as A;
        match (self, side) {
            (Kind::Due | Kind::Arrears, Side::Debit) => &[A::Budget],
            (Kind::Due | Kind::Arrears, Side::Credit) => &[A::Entitlement],
            (Kind::Adjustment, _) => &[A::Budget, A::Entitlement],
            (Kind::Issued, Side::Debit) => &[A::Entitlement],
            (Kind::Reissued, Side::Debit) => &[A::Returned],
            (Kind::Issued | Kind::Reissued, Side::Credit) => &[A::InTransit],
            (Kind::Confirmed, Side::Debit) => &[A::InTransit],
            (Kind::Confirmed, Side::Credit) => &[A::Paid],
            (Kind::Rejected, Side::Debit) => &[A::InTransit],
            (Kind::Returned, Side::Debit) => &[A::Paid, A::InTransit],
            (Kind::Rejected | Kind::Returned, Side::Credit) => &[A::Returned],
            (Kind::Undue, Side::Debit) => &[A::Debt],
            (Kind::Undue, Side::Credit) => &[A::Budget],
            (Kind::Recovery, Side::Debit) => &[A::Entitlement],
            (Kind::Recovery, Side::Credit) => &[A::Debt],
        }
    }

    /// Every kind but Recovery moves money within one (month, component): only a recovery
    /// settles an old month's debt out of the current month's entitlement.
    fn balances_per_key(self) -> bool {
        self != Kind::Recovery
    }
}

/// One side of a journal entry: an amount on an account for one (month, component).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryLine {
    pub account: Account,
    pub side: Side,
    pub month: Month,
    #[serde(with = "component_code")]
    pub component: Component,
    pub amount: Money,
}

impl EntryLine {
    pub fn debit(account: Account, month: Month, component: Component, amount: Money) -> Self {
        EntryLine {
            account,
            side: Side::Debit,
            month,
            component,
            amount,
        }
    }

    pub fn credit(account: Account, month: Month, component: Component, amount: Money) -> Self {
        EntryLine {
            account,
            side: Side::Credit,
            month,
            component,
            amount,
        }
    }

    /// Debits positive, credits negative: the sum over a balanced entry is zero.
    pub fn signed(&self) -> Money {
        match self.side {
            Side::Debit => self.amount,
            Side::Credit => -self.amount,
        }
    }
}

/// Who, when, what and why: shared by every line of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub household: RsuId,
    pub kind: Kind,
    pub date: Date,
    /// Payment reference for payment kinds; decision, appeal or case id otherwise.
    pub reference: String,
    /// For a re-issue: the returned payment it replaces. `None` for every other kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related: Option<String>,
}

/// A balanced journal entry. Fields are private so that only [`Entry::new`] builds one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawEntry")]
pub struct Entry {
    #[serde(flatten)]
    header: Header,
    lines: Vec<EntryLine>,
}

/// What deserialisation reads before [`Entry::new`] checks it.
#[derive(Deserialize)]
struct RawEntry {
    #[serde(flatten)]
    header: Header,
    lines: Vec<EntryLine>,
}

impl TryFrom<RawEntry> for Entry {
    type Error = PayrollError;
    fn try_from(r: RawEntry) -> Result<Self, PayrollError> {
        Entry::new(r.header, r.lines)
    }
}

impl Entry {
    /// The entry, or why it cannot be one: no lines, a non-positive amount, an account the
    /// kind may not use, debits ≠ credits (overall, and per (month, component) except for
    /// recoveries), arrears not in the past, `related` set other than on a re-issue.
    pub fn new(header: Header, lines: Vec<EntryLine>) -> Result<Entry, PayrollError> {
        check_header(&header)?;
        check_lines(&header, &lines)?;
        check_balance(&header, &lines)?;
        Ok(Entry { header, lines })
    }

    /// A two-line entry: `amount` from `debit` to `credit` for one (month, component).
    pub fn pair(
        header: Header,
        month: Month,
        component: Component,
        amount: Money,
        debit: Account,
        credit: Account,
    ) -> Result<Entry, PayrollError> {
        Entry::new(
            header,
            vec![
                EntryLine::debit(debit, month, component, amount),
                EntryLine::credit(credit, month, component, amount),
            ],
        )
    }

    pub fn header(&self) -> &Header {
        &self.header
    }
    pub fn household(&self) -> &RsuId {
        &self.header.household
    }
    pub fn kind(&self) -> Kind {
        self.header.kind
    }
    pub fn date(&self) -> Date {
        self.header.date
    }
    pub fn reference(&self) -> &str {
        &self.header.reference
    }
    pub fn related(&self) -> Option<&str> {
        self.header.related.as_deref()
    }
    pub fn lines(&self) -> &[EntryLine] {
        &self.lines
    }

    /// Sum of the debit lines (equal to the credits by construction).
    pub fn amount(&self) -> Money {
        self.lines
            .iter()
            .filter(|l| l.side == Side::Debit)
            .map(|l| l.amount)
            .sum()
    }

    /// Amounts of the lines on (`account`, `side`), by (month, component).
    pub fn legs(&self, account: Account, side: Side) -> BTreeMap<(Month, Component), Money> {
        let mut out = BTreeMap::new();
        for l in self
            .lines
            .iter()
            .filter(|l| l.account == account && l.side == side)
        {
            *out.entry((l.month, l.component)).or_insert(Money::ZERO) += l.amount;
        }
        out
    }
}

fn check_header(h: &Header) -> Result<(), PayrollError> {
    if h.reference.is_empty() {
        return Err(PayrollError::NoReference);
    }
    if h.related.is_some() != (h.kind == Kind::Reissued) || h.related.as_deref() == Some("") {
        return Err(PayrollError::Related);
    }
    Ok(())
}

fn check_lines(h: &Header, lines: &[EntryLine]) -> Result<(), PayrollError> {
    if lines.is_empty() {
        return Err(PayrollError::EmptyEntry);
    }
    let posted = Month::of(h.date);
    for l in lines {
        if l.amount <= Money::ZERO {
            return Err(PayrollError::NonPositiveAmount(l.amount));
        }
        if !h.kind.accounts(l.side).contains(&l.account) {
            return Err(PayrollError::WrongAccount {
                kind: h.kind,
                account: l.account,
                side: l.side,
            });
        }
        if h.kind == Kind::Arrears && l.month >= posted {
            return Err(PayrollError::ArrearsNotPast {
                month: l.month,
                posted,
            });
        }
    }
    // An account on both sides would let an adjustment move Budget to Budget, meaning nothing.
    for a in Account::ALL {
        let on = |s: Side| lines.iter().any(|l| l.account == a && l.side == s);
        if on(Side::Debit) && on(Side::Credit) {
            return Err(PayrollError::BothSides {
                kind: h.kind,
                account: a,
            });
        }
    }
    Ok(())
}

fn check_balance(h: &Header, lines: &[EntryLine]) -> Result<(), PayrollError> {
    let side_sum = |s: Side, it: &mut dyn Iterator<Item = &EntryLine>| {
        it.filter(|l| l.side == s).map(|l| l.amount).sum::<Money>()
    };
    let (debits, credits) = (
        side_sum(Side::Debit, &mut lines.iter()),
        side_sum(Side::Credit, &mut lines.iter()),
    );
    if debits != credits {
        return Err(PayrollError::Unbalanced { debits, credits });
    }
    if !h.kind.balances_per_key() {
        return Ok(());
    }
    let mut keys: BTreeMap<(Month, Component), (Money, Money)> = BTreeMap::new();
    for l in lines {
        let k = keys.entry((l.month, l.component)).or_default();
        match l.side {
            Side::Debit => k.0 += l.amount,
            Side::Credit => k.1 += l.amount,
        }
    }
    match keys.into_iter().find(|(_, (d, c))| d != c) {
        Some(((month, component), (debits, credits))) => Err(PayrollError::UnbalancedKey {
            month,
            component,
            debits,
            credits,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn hh(n: u64) -> RsuId {
        RsuId::parse(&format!("{n:012}")).unwrap()
    }
    pub(crate) fn m(s: &str) -> Month {
        s.parse().unwrap()
    }
    pub(crate) fn day(y: i32, mo: u32, d: u32) -> Date {
        Date::from_ymd_opt(y, mo, d).unwrap()
    }
    fn header(kind: Kind) -> Header {
        Header {
            household: hh(1),
            kind,
            date: day(2026, 3, 31),
            reference: "d-1".into(),
            related: None,
        }
    }
    const FLAT: Component = Component::FlatRate;

    #[test]
    fn a_pair_balances_and_an_unbalanced_entry_is_refused() {
        let e = Entry::pair(
            header(Kind::Due),
            m("2026-03"),
            FLAT,
            Money::from_mad(500),
            Account::Budget,
            Account::Entitlement,
        )
        .unwrap();
        assert_eq!(e.amount(), Money::from_mad(500));
        assert_eq!(
            e.lines().iter().map(EntryLine::signed).sum::<Money>(),
            Money::ZERO
        );
        let lines = vec![
            EntryLine::debit(Account::Budget, m("2026-03"), FLAT, Money::from_mad(500)),
            EntryLine::credit(
                Account::Entitlement,
                m("2026-03"),
                FLAT,
                Money::from_mad(499),
            ),
        ];
        assert!(matches!(
            Entry::new(header(Kind::Due), lines),
            Err(PayrollError::Unbalanced { .. })
        ));
    }

    #[test]
    fn kinds_keep_to_their_accounts() {
        let r = Entry::pair(
            header(Kind::Due),
            m("2026-03"),
            FLAT,
            Money::from_mad(1),
            Account::Budget,
            Account::Paid,
        );
        assert!(matches!(
            r,
            Err(PayrollError::WrongAccount {
                account: Account::Paid,
                ..
            })
        ));
        let r = Entry::pair(
            header(Kind::Adjustment),
            m("2026-03"),
            FLAT,
            Money::from_mad(1),
            Account::Budget,
            Account::Budget,
        );
        assert!(matches!(r, Err(PayrollError::BothSides { .. })));
    }

    #[test]
    fn each_month_and_component_balances_except_in_a_recovery() {
        let lines = vec![
            EntryLine::debit(
                Account::Entitlement,
                m("2026-03"),
                FLAT,
                Money::from_mad(10),
            ),
            EntryLine::credit(Account::InTransit, m("2026-02"), FLAT, Money::from_mad(10)),
        ];
        assert!(matches!(
            Entry::new(header(Kind::Issued), lines),
            Err(PayrollError::UnbalancedKey { .. })
        ));
        let lines = vec![
            EntryLine::debit(
                Account::Entitlement,
                m("2026-03"),
                FLAT,
                Money::from_mad(10),
            ),
            EntryLine::credit(
                Account::Debt,
                m("2025-07"),
                Component::ChildAllowance,
                Money::from_mad(10),
            ),
        ];
        assert!(Entry::new(header(Kind::Recovery), lines).is_ok());
    }

    #[test]
    fn malformed_entries_are_refused() {
        assert_eq!(
            Entry::new(header(Kind::Due), vec![]),
            Err(PayrollError::EmptyEntry)
        );
        let zero = Entry::pair(
            header(Kind::Due),
            m("2026-03"),
            FLAT,
            Money::ZERO,
            Account::Budget,
            Account::Entitlement,
        );
        assert_eq!(zero, Err(PayrollError::NonPositiveAmount(Money::ZERO)));
        let arrears = Entry::pair(
            header(Kind::Arrears),
            m("2026-03"),
            FLAT,
            Money::from_mad(1),
            Account::Budget,
            Account::Entitlement,
        );
        assert!(matches!(arrears, Err(PayrollError::ArrearsNotPast { .. })));
        let reissue = Entry::pair(
            header(Kind::Reissued),
            m("2026-01"),
            FLAT,
            Money::from_mad(1),
            Account::Returned,
            Account::InTransit,
        );
        assert_eq!(reissue, Err(PayrollError::Related));
        let mut h = header(Kind::Due);
        h.reference.clear();
        assert_eq!(
            Entry::pair(
                h,
                m("2026-03"),
                FLAT,
                Money::from_mad(1),
                Account::Budget,
                Account::Entitlement
            ),
            Err(PayrollError::NoReference)
        );
    }
}

//! The monthly cycle: (month, beneficiaries with their decisions, ledger) → payroll.
//!
//! For each household, in RSU id order (README.md, "The cycle algorithm"):
//! 1. payments in transit for more than `uncashed_return_days` come back (held for next cycle);
//! 2. the month's dues are recognised from the decision, or corrected if already recognised;
//!    retroactive decisions recognise past months as arrears the same way;
//! 3. without a usable instrument nothing is sent: dues wait as arrears, returns stay held;
//! 4. otherwise the debt is offset from this month's entitlement, at most `recovery_cap_percent`
//!    of it (rounded down to the centime), and one payment carries the rest of this month, the
//!    unpaid past months, and every payment held from earlier cycles.
//!
//! Nothing is posted: the payroll carries the entries, to post when it is released. Each step
//! is checked against a copy of the household's book, so the entries are known to post.

use std::collections::{BTreeMap, BTreeSet};

use sanad_domain::fnv::Fnv;
use sanad_domain::{Date, Money, Month, PaymentInstrument, RegionCode, RsuId};
use sanad_rules::ruleset::PaymentRules;
use sanad_rules::{Component, Decision};
use serde::{Deserialize, Serialize};

use crate::PayrollError;
use crate::codes::{ALL_COMPONENTS, ByComponent, component_code};
use crate::ledger::{
    Account, Entry, HouseholdBook, Kind, Ledger, Origin, PaymentRef, PaymentStatus, Side,
    adjust_entries, due_entry, issue_entry, recovery_entry, reissue_entry, settle_entry,
};
use crate::replay::Stamp;
use crate::state::Digest;

/// The parameters of one cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleParams {
    pub month: Month,
    /// The day the payments are issued (the ASD pays at the end of the month) and the entries dated.
    pub run_date: Date,
    pub uncashed_return_days: u32,
    /// Integer percent of the month's entitlement that may be kept against a debt.
    pub recovery_cap_percent: u32,
}

impl CycleParams {
    /// A cap above 100 % or a run date before the month would make no sense.
    pub fn validate(&self) -> Result<(), PayrollError> {
        if self.recovery_cap_percent > 100 {
            return Err(PayrollError::RecoveryCap(self.recovery_cap_percent));
        }
        if Month::of(self.run_date) < self.month {
            return Err(PayrollError::RunDate {
                month: self.month,
                run_date: self.run_date,
            });
        }
        Ok(())
    }

    /// Parameters from the rule set's `[payment]` table, paying on the month's last day.
    pub fn from_rules(month: Month, rules: &PaymentRules) -> Self {
        CycleParams {
            month,
            run_date: month.last_day(),
            uncashed_return_days: rules.uncashed_return_days,
            recovery_cap_percent: rules.recovery_cap_percent,
        }
    }
}

/// A household in the cycle: active beneficiaries, and anyone owed arrears or a re-issue.
#[derive(Debug, Clone)]
pub struct Beneficiary {
    pub household: RsuId,
    pub region: RegionCode,
    /// Where to pay; `None` while there is no usable instrument (none given, or the last one
    /// bounced and has not been fixed): nothing is sent, dues wait, returned payments stay held.
    pub instrument: Option<PaymentInstrument>,
    /// The decision for the cycle month (an ineligible one recognises nothing).
    pub decision: Decision,
    /// Reference of the decision, kept on its due entries.
    pub reference: String,
    /// Decisions for past months (upheld appeal, late registration): recognised as arrears.
    pub retro: Vec<Retro>,
    /// What the month's decision was computed from, kept on the line for a replay.
    pub stamp: Option<Stamp>,
}

/// A decision for a past month.
#[derive(Debug, Clone)]
pub struct Retro {
    pub month: Month,
    pub decision: Decision,
    /// E.g. the appeal id.
    pub reference: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// A payment is sent.
    Pay,
    /// Something is owed but there is no usable instrument.
    Withheld,
    /// Nothing to send (not eligible, nothing owed, or all of it recovered).
    Nothing,
}

impl LineStatus {
    pub fn code(self) -> &'static str {
        match self {
            LineStatus::Pay => "pay",
            LineStatus::Withheld => "withheld",
            LineStatus::Nothing => "nothing",
        }
    }
}

/// Why an amount is in (or out of) a household's payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExplainKind {
    /// A line of the month's decision (adds).
    Current,
    /// Part of this month already paid or recovered in an earlier run (subtracts).
    Settled,
    /// A past month due and unpaid (adds).
    Arrears,
    /// A payment that came back, sent again (adds).
    Reissue,
    /// Kept against the household's debt (subtracts).
    Recovery,
    /// A payment not cashed in time, taken back (held; re-issued from the next cycle).
    ReturnedUncashed,
    /// Owed but not sent for lack of a usable instrument.
    Withheld,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub kind: ExplainKind,
    pub month: Month,
    #[serde(
        with = "component_code::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub component: Option<Component>,
    pub amount: Money,
    /// Index of the member in the decision's snapshot, for a member's line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<u16>,
    /// The rule parameter applied (`child.bands[0].young_or_in_school`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The payment concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// One household's line: `amount = current − recovery + arrears + reissue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayrollLine {
    pub household: RsuId,
    pub region: RegionCode,
    pub status: LineStatus,
    pub instrument: Option<PaymentInstrument>,
    /// Reference of the payment sent, if any.
    pub payment: Option<String>,
    /// This month's unpaid entitlement, before recovery.
    pub current: Money,
    pub arrears: Money,
    pub reissue: Money,
    pub recovery: Money,
    pub amount: Money,
    /// What the household still owes after this cycle.
    pub debt_after: Money,
    pub explanation: Vec<Explanation>,
    /// The rule set and snapshot hash of the month's decision (absent on lines stored before
    /// lines were stamped, and on lines rebuilt from columns only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided: Option<Stamp>,
}

/// What the digest and the totals read of a line: its figures, not its explanation.
pub trait LineFigures {
    fn household(&self) -> &RsuId;
    fn region(&self) -> RegionCode;
    fn status(&self) -> LineStatus;
    fn payment(&self) -> Option<&str>;
    /// current, arrears, reissue, recovery, amount.
    fn figures(&self) -> [Money; 5];
}

/// Both line types keep their figures in fields of the same names.
macro_rules! line_figures {
    ($t:ty) => {
        impl LineFigures for $t {
            fn household(&self) -> &RsuId {
                &self.household
            }
            fn region(&self) -> RegionCode {
                self.region
            }
            fn status(&self) -> LineStatus {
                self.status
            }
            fn payment(&self) -> Option<&str> {
                self.payment.as_deref()
            }
            fn figures(&self) -> [Money; 5] {
                [
                    self.current,
                    self.arrears,
                    self.reissue,
                    self.recovery,
                    self.amount,
                ]
            }
        }
    };
}

line_figures!(PayrollLine);
line_figures!(LineHead);

/// A stored line read without its explanation, instrument or stamp (serde skips them): what
/// approval and the summaries parse: the explanation is skipped, not built.
#[derive(Debug, Clone, Deserialize)]
pub struct LineHead {
    household: RsuId,
    region: RegionCode,
    status: LineStatus,
    payment: Option<String>,
    current: Money,
    arrears: Money,
    reissue: Money,
    recovery: Money,
    amount: Money,
}

/// A household's line and the entries that carry it out.
#[derive(Debug, Clone)]
pub struct HouseholdPlan {
    pub line: PayrollLine,
    pub entries: Vec<Entry>,
}

/// Per component, what the cycle's entries do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentTotal {
    #[serde(with = "component_code")]
    pub component: Component,
    /// Change in expense: dues, arrears and corrections, less undue parts.
    pub recognised: Money,
    /// New money sent (the commitment).
    pub issued: Money,
    pub reissued: Money,
    pub recovered: Money,
    /// Uncashed payments taken back.
    pub returned: Money,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionTotal {
    pub households: u64,
    pub paying: u64,
    pub withheld: u64,
    pub current: Money,
    pub arrears: Money,
    pub reissue: Money,
    pub recovery: Money,
    pub amount: Money,
}

impl RegionTotal {
    fn add(&mut self, l: &impl LineFigures) {
        let [current, arrears, reissue, recovery, amount] = l.figures();
        self.households += 1;
        self.paying += u64::from(l.status() == LineStatus::Pay);
        self.withheld += u64::from(l.status() == LineStatus::Withheld);
        self.current += current;
        self.arrears += arrears;
        self.reissue += reissue;
        self.recovery += recovery;
        self.amount += amount;
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// All lines, as if one region.
    pub all: RegionTotal,
    pub by_component: Vec<ComponentTotal>,
    pub by_region: BTreeMap<RegionCode, RegionTotal>,
}

impl Totals {
    /// New money per component: what budget control counts as committed.
    pub fn committed(&self) -> ByComponent {
        self.by_component
            .iter()
            .map(|t| (t.component, t.issued))
            .collect()
    }
}

/// The cycle's result: lines in RSU id order, the entries to post on release, the totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payroll {
    pub month: Month,
    pub run_date: Date,
    pub lines: Vec<PayrollLine>,
    pub entries: Vec<Entry>,
    pub totals: Totals,
}

impl Payroll {
    /// What maker and checker sign: see [`Digester`]. Equal digests mean the same amounts to
    /// the same households by the same entries.
    pub fn digest(&self) -> Digest {
        let mut d = Digester::new(self.month, self.run_date);
        self.lines.iter().for_each(|l| d.line(l));
        self.entries.iter().for_each(|e| d.entry(e));
        d.finish()
    }

    /// Entries taking back uncashed payments (active households or not).
    pub fn uncashed_returns(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.kind() == Kind::Returned)
    }

    pub fn line(&self, household: &RsuId) -> Option<&PayrollLine> {
        self.lines
            .binary_search_by(|l| l.household.cmp(household))
            .ok()
            .map(|i| &self.lines[i])
    }
}

/// The payroll's digest built a line and an entry at a time, so that a payroll streamed a page
/// of households at a time (prepare) or read back a page at a time (approve, release) is
/// signed without holding it: FNV-1a 64 over the lines in a fixed byte layout, FNV-1a 64 over
/// the entries, both in their stored order, then over the two.
pub struct Digester {
    lines: Fnv,
    entries: Fnv,
}

fn put(h: &mut Fnv, s: &str) {
    use std::hash::Hasher;
    h.write(s.as_bytes());
    h.write(&[0]);
}

/// Formats straight into the hash: the bytes [`put`] would write, without the `String`.
fn put_fmt(h: &mut Fnv, args: std::fmt::Arguments) {
    struct Into<'a>(&'a mut Fnv);
    impl std::fmt::Write for Into<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            std::hash::Hasher::write(self.0, s.as_bytes());
            Ok(())
        }
    }
    let _ = std::fmt::Write::write_fmt(&mut Into(h), args);
    std::hash::Hasher::write(h, &[0]);
}

impl Digester {
    pub fn new(month: Month, run_date: Date) -> Self {
        let mut lines = Fnv::default();
        put(&mut lines, &month.to_string());
        put(&mut lines, &run_date.to_string());
        Digester {
            lines,
            entries: Fnv::default(),
        }
    }

    pub fn line(&mut self, l: &impl LineFigures) {
        let [current, arrears, reissue, recovery, amount] = l.figures();
        put_fmt(
            &mut self.lines,
            format_args!(
                "{}|{}|{current}|{arrears}|{reissue}|{recovery}|{amount}",
                l.household(),
                l.status().code(),
            ),
        );
        put(&mut self.lines, l.payment().unwrap_or("-"));
    }

    /// The digest of the lines fed to `self` and the entries fed to `entries` (two walks of
    /// one payroll, run side by side).
    pub fn finish_with_entries_of(self, entries: Digester) -> Digest {
        Digester {
            lines: self.lines,
            entries: entries.entries,
        }
        .finish()
    }

    pub fn entry(&mut self, e: &Entry) {
        put_fmt(
            &mut self.entries,
            format_args!(
                "{}|{}|{}|{}|{}",
                e.household(),
                e.kind().code(),
                e.date(),
                e.reference(),
                e.related().unwrap_or("-")
            ),
        );
        for x in e.lines() {
            put_fmt(
                &mut self.entries,
                format_args!(
                    "{}|{}|{}|{}|{}",
                    x.account.code(),
                    x.side.code(),
                    x.month,
                    x.component.code(),
                    x.amount.centimes()
                ),
            );
        }
    }

    pub fn finish(self) -> Digest {
        use std::hash::Hasher;
        let mut h = Fnv::default();
        h.write(&self.lines.finish().to_le_bytes());
        h.write(&self.entries.finish().to_le_bytes());
        Digest(h.finish())
    }
}

/// Run the cycle over `beneficiaries` (any order; each household once) against `ledger`.
/// Households in the ledger but not listed only have their uncashed payments taken back.
pub fn run_cycle(
    p: &CycleParams,
    beneficiaries: &[Beneficiary],
    ledger: &Ledger,
) -> Result<Payroll, PayrollError> {
    p.validate()?;
    let mut sorted: Vec<&Beneficiary> = beneficiaries.iter().collect();
    sorted.sort_by(|a, b| a.household.cmp(&b.household));
    if let Some(w) = sorted.windows(2).find(|w| w[0].household == w[1].household) {
        return Err(PayrollError::DuplicateBeneficiary(w[0].household.clone()));
    }
    let mut lines = Vec::with_capacity(sorted.len());
    let mut entries = Vec::new();
    for b in &sorted {
        let plan = plan_household(p, b, ledger.book(&b.household))?;
        lines.push(plan.line);
        entries.extend(plan.entries);
    }
    let listed: BTreeSet<&RsuId> = sorted.iter().map(|b| &b.household).collect();
    for (h, book) in ledger.books().filter(|(h, _)| !listed.contains(h)) {
        entries.extend(expire_uncashed(p, h, book)?);
    }
    // Stable: each household's entries keep their order, the order they must be posted in.
    entries.sort_by(|a, b| a.household().cmp(b.household()));
    let totals = totals(&lines, &entries);
    Ok(Payroll {
        month: p.month,
        run_date: p.run_date,
        lines,
        entries,
        totals,
    })
}

/// Take back a household's payments in transit for more than `uncashed_return_days`.
pub fn expire_uncashed(
    p: &CycleParams,
    household: &RsuId,
    book: &HouseholdBook,
) -> Result<Vec<Entry>, PayrollError> {
    let mut pl = Planner::new(p, household, Some(book));
    pl.expire_uncashed()?;
    Ok(pl.entries)
}

/// One household's line and entries (the unit `run_cycle` repeats; callers may stream it).
pub fn plan_household(
    p: &CycleParams,
    b: &Beneficiary,
    book: Option<&HouseholdBook>,
) -> Result<HouseholdPlan, PayrollError> {
    p.validate()?;
    let mut pl = Planner::new(p, &b.household, book);
    // Held before this run: a payment taken back by this cycle is re-issued from the next
    // one (also when the cycle is re-run), so one cycle never both takes and resends it.
    let held: Vec<String> = pl
        .book
        .payments()
        .filter(|x| {
            x.status == PaymentStatus::Returned && x.returned_on.is_some_and(|d| d < p.run_date)
        })
        .map(|x| x.reference.clone())
        .collect();
    pl.expire_uncashed()?;
    pl.reconcile(Kind::Due, p.month, &b.decision, &b.reference)?;
    for r in &b.retro {
        if r.month >= p.month {
            return Err(PayrollError::RetroNotPast {
                household: b.household.clone(),
                month: r.month,
                cycle: p.month,
            });
        }
        pl.reconcile(Kind::Arrears, r.month, &r.decision, &r.reference)?;
    }
    let line = match b.instrument {
        None => pl.withhold(b, &held),
        Some(_) => pl.pay(b, &held)?,
    };
    Ok(HouseholdPlan {
        line,
        entries: pl.entries,
    })
}

/// A household's book as the cycle's entries change it.
struct Planner<'a> {
    p: &'a CycleParams,
    household: &'a RsuId,
    book: HouseholdBook,
    entries: Vec<Entry>,
    explanation: Vec<Explanation>,
}

impl<'a> Planner<'a> {
    fn new(p: &'a CycleParams, household: &'a RsuId, book: Option<&HouseholdBook>) -> Self {
        Planner {
            p,
            household,
            book: book.cloned().unwrap_or_default(),
            entries: Vec::new(),
            explanation: Vec::new(),
        }
    }

    fn origin(&self, reference: &str) -> Origin {
        Origin::new(self.household, self.p.run_date, reference)
    }

    fn post(&mut self, e: Entry) -> Result<(), PayrollError> {
        self.book.apply(&e)?;
        self.entries.push(e);
        Ok(())
    }

    fn explain(
        &mut self,
        kind: ExplainKind,
        month: Month,
        component: Option<Component>,
        amount: Money,
        reference: Option<String>,
    ) {
        self.explanation.push(Explanation {
            kind,
            month,
            component,
            amount,
            member: None,
            param: None,
            reference,
        });
    }

    fn expire_uncashed(&mut self) -> Result<(), PayrollError> {
        let days = i64::from(self.p.uncashed_return_days);
        let old: Vec<(String, Money)> = self
            .book
            .payments()
            .filter(|x| {
                x.status == PaymentStatus::InTransit
                    && (self.p.run_date - x.issued_on).num_days() > days
            })
            .map(|x| (x.reference.clone(), x.amount()))
            .collect();
        for (r, amount) in old {
            let e = settle_entry(&self.book, &self.origin(&r), Kind::Returned)?;
            self.post(e)?;
            self.explain(
                ExplainKind::ReturnedUncashed,
                self.p.month,
                None,
                amount,
                Some(r),
            );
        }
        Ok(())
    }

    /// Make the dues of `month` those of `decision`: new ones recognised (`kind`), existing
    /// ones corrected by the difference, components no longer decided brought to zero.
    fn reconcile(
        &mut self,
        kind: Kind,
        month: Month,
        decision: &Decision,
        reference: &str,
    ) -> Result<(), PayrollError> {
        let wanted = decided(decision);
        let known: Vec<Component> = self.book.due_components(month).collect();
        let o = self.origin(reference);
        let mut new = Vec::new();
        for c in ALL_COMPONENTS
            .into_iter()
            .filter(|c| wanted.get(*c) != Money::ZERO || known.contains(c))
        {
            let amount = wanted.get(c);
            if !self.book.has_due(month, c) {
                new.push((month, c, amount));
            } else if self.book.due(month, c) != amount {
                for e in adjust_entries(&self.book, &o, month, c, amount)? {
                    self.post(e)?;
                }
            }
        }
        match due_entry(&o, kind, &new)? {
            Some(e) => self.post(e),
            None => Ok(()),
        }
    }

    fn withhold(&mut self, b: &Beneficiary, held: &[String]) -> PayrollLine {
        let owed: Money = self
            .book
            .legs(Account::Entitlement)
            .filter(|(m, _, _)| *m <= self.p.month)
            .map(|(_, _, a)| a)
            .sum();
        let waiting: Money = held
            .iter()
            .filter_map(|r| self.book.payment(r))
            .map(|x| x.amount())
            .sum();
        let status = if owed + waiting > Money::ZERO {
            LineStatus::Withheld
        } else {
            LineStatus::Nothing
        };
        if status == LineStatus::Withheld {
            self.explain(
                ExplainKind::Withheld,
                self.p.month,
                None,
                owed + waiting,
                None,
            );
        }
        self.line(b, status, None, Figures::default())
    }

    fn pay(&mut self, b: &Beneficiary, held: &[String]) -> Result<PayrollLine, PayrollError> {
        let month = self.p.month;
        let reference = PaymentRef::next(&self.book, month, self.household).to_string();
        let mut f = Figures {
            current: self.unpaid_in(month),
            ..Figures::default()
        };
        self.explain_current(b, f.current);
        f.recovery = self.recover(&reference)?;
        if let Some(e) = issue_entry(&self.book, &self.origin(&reference), month)? {
            for (&(m, c), &a) in e
                .legs(Account::InTransit, Side::Credit)
                .iter()
                .filter(|((m, _), _)| *m < month)
            {
                f.arrears += a;
                self.explain(ExplainKind::Arrears, m, Some(c), a, None);
            }
            self.post(e)?;
        }
        for r in held {
            let e = reissue_entry(&self.book, &self.origin(&reference), r)?;
            f.reissue += e.amount();
            self.explain(
                ExplainKind::Reissue,
                month,
                None,
                e.amount(),
                Some(r.clone()),
            );
            self.post(e)?;
        }
        let amount = f.current - f.recovery + f.arrears + f.reissue;
        let status = if amount > Money::ZERO {
            LineStatus::Pay
        } else {
            LineStatus::Nothing
        };
        let payment = (status == LineStatus::Pay).then_some(reference);
        Ok(self.line(b, status, payment, f))
    }

    fn unpaid_in(&self, month: Month) -> Money {
        self.book
            .legs(Account::Entitlement)
            .filter(|(m, _, _)| *m == month)
            .map(|(_, _, a)| a)
            .sum()
    }

    /// Offset the debt from this month's entitlement: at most `recovery_cap_percent` of the
    /// month's due, rounded down to the centime so the cap is never exceeded, less what an
    /// earlier run of the same month already kept.
    fn recover(&mut self, reference: &str) -> Result<Money, PayrollError> {
        let month = self.p.month;
        let due: Money = self
            .book
            .due_components(month)
            .map(|c| self.book.due(month, c))
            .sum();
        let cap = recovery_cap(due, self.p.recovery_cap_percent) - self.book.recovered_from(month);
        let Some(e) = recovery_entry(&self.book, &self.origin(reference), month, cap)? else {
            return Ok(Money::ZERO);
        };
        let amount = e.amount();
        self.post(e)?;
        self.explain(
            ExplainKind::Recovery,
            month,
            None,
            amount,
            Some(reference.to_owned()),
        );
        Ok(amount)
    }

    /// The decision's lines, and what of them an earlier run already settled.
    fn explain_current(&mut self, b: &Beneficiary, current: Money) {
        let d = &b.decision;
        let mut decided = Money::ZERO;
        for l in d
            .lines
            .iter()
            .chain(&d.one_off)
            .filter(|l| l.amount != Money::ZERO)
        {
            decided += l.amount;
            let param = Some(l.param.to_string());
            self.explanation.push(Explanation {
                kind: ExplainKind::Current,
                month: self.p.month,
                component: Some(l.component),
                amount: l.amount,
                member: l.member,
                param,
                reference: None,
            });
        }
        if decided > current {
            self.explain(
                ExplainKind::Settled,
                self.p.month,
                None,
                decided - current,
                None,
            );
        }
    }

    fn line(
        &mut self,
        b: &Beneficiary,
        status: LineStatus,
        payment: Option<String>,
        f: Figures,
    ) -> PayrollLine {
        PayrollLine {
            household: b.household.clone(),
            region: b.region,
            status,
            instrument: b.instrument.clone(),
            payment,
            current: f.current,
            arrears: f.arrears,
            reissue: f.reissue,
            recovery: f.recovery,
            amount: f.current - f.recovery + f.arrears + f.reissue,
            debt_after: self.book.total(Account::Debt),
            explanation: std::mem::take(&mut self.explanation),
            decided: b.stamp.clone(),
        }
    }
}

#[derive(Default)]
struct Figures {
    current: Money,
    arrears: Money,
    reissue: Money,
    recovery: Money,
}

/// `percent` % of `due`, rounded down to the centime (integer division of a non-negative amount).
pub fn recovery_cap(due: Money, percent: u32) -> Money {
    due.max(Money::ZERO).percent_bp(i64::from(percent) * 100)
}

/// A decision's amounts by component, monthly lines and one-off grants together.
fn decided(d: &Decision) -> ByComponent {
    d.lines
        .iter()
        .chain(&d.one_off)
        .map(|l| (l.component, l.amount))
        .collect()
}

/// The payroll's totals, from its lines and entries (also used to rebuild a stored payroll).
pub fn totals(lines: &[PayrollLine], entries: &[Entry]) -> Totals {
    let mut t = TotalsBuilder::default();
    lines.iter().for_each(|l| t.line(l));
    entries.iter().for_each(|e| t.entry(e));
    t.finish()
}

/// Totals added up a line and an entry at a time (the streamed cycle).
#[derive(Debug, Default)]
pub struct TotalsBuilder {
    totals: Totals,
    by: BTreeMap<Component, ComponentTotal>,
}

impl TotalsBuilder {
    pub fn line(&mut self, l: &impl LineFigures) {
        self.totals.all.add(l);
        self.totals.by_region.entry(l.region()).or_default().add(l);
    }

    pub fn entry(&mut self, e: &Entry) {
        for l in e.lines() {
            let t = self
                .by
                .entry(l.component)
                .or_insert_with(|| ComponentTotal {
                    component: l.component,
                    recognised: Money::ZERO,
                    issued: Money::ZERO,
                    reissued: Money::ZERO,
                    recovered: Money::ZERO,
                    returned: Money::ZERO,
                });
            let target = match (e.kind(), l.account, l.side) {
                (_, Account::Budget, _) => &mut t.recognised,
                (Kind::Issued, Account::InTransit, Side::Credit) => &mut t.issued,
                (Kind::Reissued, Account::InTransit, Side::Credit) => &mut t.reissued,
                (Kind::Recovery, Account::Entitlement, Side::Debit) => &mut t.recovered,
                (Kind::Returned, Account::Returned, Side::Credit) => &mut t.returned,
                _ => continue,
            };
            *target += if l.account == Account::Budget {
                l.signed()
            } else {
                l.amount
            };
        }
    }

    pub fn finish(mut self) -> Totals {
        self.totals.by_component = self.by.into_values().collect();
        self.totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sanad_rules::Line;
    use sanad_rules::engine::Param;

    fn line(component: Component, mad: i64) -> Line {
        Line {
            member: None,
            component,
            rank: None,
            amount: Money::from_mad(mad),
            param: Param::FlatRate,
            age: None,
            in_school: false,
        }
    }

    #[test]
    fn a_formatted_digest_field_hashes_as_its_text() {
        use std::hash::Hasher;
        let (mut a, mut b) = (Fnv::default(), Fnv::default());
        put(&mut a, &format!("{}|{}", "x", 42));
        put_fmt(&mut b, format_args!("{}|{}", "x", 42));
        assert_eq!(a.finish(), b.finish());
    }

    #[test]
    fn the_recovery_cap_rounds_down() {
        assert_eq!(recovery_cap(Money::from_mad(900), 30), Money::from_mad(270));
        assert_eq!(
            recovery_cap(Money::from_centimes(33_333), 30),
            Money::from_centimes(9_999)
        );
        assert_eq!(recovery_cap(Money::from_centimes(1), 99), Money::ZERO);
        assert_eq!(recovery_cap(Money::from_mad(-5), 30), Money::ZERO);
        assert_eq!(
            recovery_cap(Money::from_mad(900), 100),
            Money::from_mad(900)
        );
    }

    #[test]
    fn a_decision_is_summed_per_component_with_its_grants() {
        let mut d = Decision::default();
        d.lines = vec![
            line(Component::ChildAllowance, 300),
            line(Component::ChildAllowance, 250),
            line(Component::FloorTopUp, 50),
        ];
        d.one_off = vec![
            line(Component::BirthGrant, 2000),
            line(Component::BirthGrant, 1000),
        ];
        let by = decided(&d);
        assert_eq!(by.get(Component::ChildAllowance), Money::from_mad(550));
        assert_eq!(by.get(Component::BirthGrant), Money::from_mad(3000));
        assert_eq!(by.total(), Money::from_mad(3600));
    }

    #[test]
    fn plan_household_checks_against_its_book_only() {
        let p = CycleParams {
            month: "2026-03".parse().unwrap(),
            run_date: Date::from_ymd_opt(2026, 3, 31).unwrap(),
            uncashed_return_days: 90,
            recovery_cap_percent: 30,
        };
        let mut d = Decision::default();
        d.lines = vec![line(Component::FlatRate, 500)];
        let b = Beneficiary {
            household: RsuId::parse("000000000009").unwrap(),
            region: RegionCode::parse("05").unwrap(),
            instrument: None,
            decision: d,
            reference: "d".into(),
            retro: vec![],
            stamp: None,
        };
        let plan = plan_household(&p, &b, None).unwrap();
        assert_eq!(plan.line.status, LineStatus::Withheld);
        assert_eq!(
            plan.entries.iter().map(Entry::kind).collect::<Vec<_>>(),
            vec![Kind::Due],
            "due recognised, nothing sent"
        );
    }
}

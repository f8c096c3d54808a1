//! Randomised invariant tests with a small deterministic generator (no `rand`: a library
//! upgrade must never change which cases run). Each seed is a reproducible story.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use sanad_domain::{Money, Month, RsuId};
use sanad_payroll::cycle::{LineStatus, recovery_cap};
use sanad_payroll::ledger::{
    Entry, EntryLine, Header, HouseholdBook, Kind, Origin, Payment, PaymentStatus, PaymentTrail,
    Side, fold, issue_entry, recovery_entry, reissue_entry, settle_entry, settle_payment,
};
use sanad_payroll::{Account, Beneficiary, Ledger, PayrollError, run_cycle};
use sanad_rules::Component;

/// SplitMix64: tiny, fast, and fixed by its definition.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    fn money(&mut self, max_mad: i64) -> Money {
        Money::from_centimes(1 + self.below(max_mad as u64 * 100) as i64)
    }
}

const COMPONENTS: [Component; 3] = [
    Component::FlatRate,
    Component::ChildAllowance,
    Component::BirthGrant,
];
const ACCOUNTS: [Account; 6] = Account::ALL;
const KINDS: [Kind; 10] = [
    Kind::Due,
    Kind::Arrears,
    Kind::Adjustment,
    Kind::Issued,
    Kind::Reissued,
    Kind::Confirmed,
    Kind::Rejected,
    Kind::Returned,
    Kind::Undue,
    Kind::Recovery,
];

/// Everything that must hold of any ledger, however it was reached.
fn check_invariants(l: &Ledger) {
    for e in l.entries() {
        assert_eq!(
            e.lines().iter().map(EntryLine::signed).sum::<Money>(),
            Money::ZERO,
            "entry balances: {e:?}"
        );
    }
    let tb = l.trial_balance();
    assert_eq!(tb.sum(), Money::ZERO, "the sum over all accounts is zero");
    assert!(
        tb.same_as(&fold(l.entries())),
        "the books are the fold of the entries"
    );
    for (h, b) in l.books() {
        for ((a, m, c), v) in b.signed_balances() {
            assert!(
                a.normal(v) >= Money::ZERO,
                "{h} {a:?} {m} {c:?} below zero: {v}"
            );
        }
    }
    let mut dues_seen = BTreeSet::new();
    let mut per_household: BTreeMap<&RsuId, (Money, Money, Money)> = BTreeMap::new();
    for e in l.entries() {
        let t = per_household.entry(e.household()).or_default();
        let ent = |side| {
            e.legs(Account::Entitlement, side)
                .values()
                .copied()
                .sum::<Money>()
        };
        match e.kind() {
            Kind::Due | Kind::Arrears => {
                for k in e.legs(Account::Entitlement, Side::Credit).keys() {
                    assert!(
                        dues_seen.insert((e.household().clone(), *k)),
                        "due twice for {k:?}"
                    );
                }
                t.0 += ent(Side::Credit);
            }
            Kind::Adjustment => t.0 += ent(Side::Credit) - ent(Side::Debit),
            Kind::Issued => t.1 += e.amount(),
            Kind::Recovery => t.2 += e.amount(),
            _ => {}
        }
    }
    for (h, (due, issued, recovered)) in per_household {
        assert!(
            issued <= due - recovered,
            "{h}: issued {issued} > due {due} − recovered {recovered}"
        );
        assert_eq!(
            l.book(h).unwrap().total(Account::Entitlement),
            due - issued - recovered
        );
    }
}

/// Each payment folded from its own entries alone (what a bank's answer reads) is its book's
/// payment, and settles into the same entry; a payment sent again in another one still shows
/// as returned there, since the other's entry marks it, and neither settles.
fn check_trails(l: &Ledger) {
    let own = [
        Kind::Issued,
        Kind::Reissued,
        Kind::Confirmed,
        Kind::Rejected,
        Kind::Returned,
    ];
    for (h, b) in l.books() {
        for p in b.payments() {
            let mut trail = PaymentTrail::default();
            (l.entries().iter())
                .filter(|e| e.household() == h && e.reference() == p.reference)
                .filter(|e| own.contains(&e.kind()))
                .for_each(|e| trail.follow(e).expect("stored entries fold"));
            let t = trail
                .payment(&p.reference)
                .expect("its own entries sent it");
            let expected = match p.status {
                PaymentStatus::Reissued => Payment {
                    status: PaymentStatus::Returned,
                    reissued_by: None,
                    ..p.clone()
                },
                _ => p.clone(),
            };
            assert_eq!(t, &expected, "{h} {}", p.reference);
            let o = Origin::new(h, day(2026, 1, 5), p.reference.clone());
            for kind in [Kind::Confirmed, Kind::Rejected, Kind::Returned] {
                assert_eq!(
                    settle_entry(b, &o, kind).ok(),
                    settle_payment(t, &o, kind).ok(),
                    "{h} {} {kind:?}",
                    p.reference
                );
            }
        }
    }
}

/// The books as stored between cycles (JSON), and how many entries were posted then.
fn store_books(l: &Ledger) -> (Vec<(RsuId, String)>, usize) {
    let books = (l.books())
        .map(|(h, b)| {
            (
                h.clone(),
                serde_json::to_string(b).expect("a book serialises"),
            )
        })
        .collect();
    (books, l.entries().len())
}

/// A ledger resumed from stored books and the entries posted since has the same books as the
/// one that posted every entry.
fn check_resumed(l: &Ledger, (books, posted): &(Vec<(RsuId, String)>, usize)) {
    let stored = books.iter().map(|(h, json)| {
        let b: HouseholdBook = serde_json::from_str(json).expect("a stored book reads back");
        (h.clone(), b)
    });
    let resumed = Ledger::resume(stored, l.entries()[*posted..].to_vec()).expect("resumes");
    assert_eq!(
        resumed.books().collect::<Vec<_>>(),
        l.books().collect::<Vec<_>>(),
        "stored books and the entries since fold to the same books"
    );
    assert_eq!(resumed.trial_balance(), l.trial_balance());
}

fn months() -> Vec<Month> {
    (1..=6).map(|i| Month::new(2025, i).unwrap()).collect()
}

/// One random operation through the public API; refusals are expected and must change nothing.
fn random_op(r: &mut Rng, l: &mut Ledger, seq: &mut u32) {
    let n = 1 + r.below(4);
    let h = hh(n);
    let (month, c) = (*r.pick(&months()), *r.pick(&COMPONENTS));
    let date = day(2025, 7, 31);
    *seq += 1;
    let o = origin(n, date, &format!("R{seq}"));
    let book = l.book(&h).cloned().unwrap_or_default();
    let before = (l.entries().len(), l.trial_balance());
    let result = match r.below(9) {
        0 | 1 => {
            let kind = if r.chance(50) {
                Kind::Due
            } else {
                Kind::Arrears
            };
            let had = book.has_due(month, c);
            let res = l.post_due(&o, kind, month, c, r.money(900));
            assert_eq!(
                had,
                matches!(res, Err(PayrollError::DuplicateDue { .. })),
                "a second due is refused, a first accepted"
            );
            res
        }
        2 => l
            .adjust_due(&o, month, c, Money::from_centimes(r.below(90_000) as i64))
            .map(|_| ()),
        3 => issue_entry(&book, &o, month).and_then(|e| e.map_or(Ok(()), |e| l.post(e))),
        4 => match book
            .payments()
            .nth(r.below(book.payments().count().max(1) as u64) as usize)
        {
            Some(p) => l.settle(
                &Origin {
                    reference: p.reference.clone(),
                    ..o
                },
                *r.pick(&[Kind::Confirmed, Kind::Rejected, Kind::Returned]),
            ),
            None => Ok(()),
        },
        5 => match book
            .payments()
            .find(|p| p.status == PaymentStatus::Returned)
        {
            Some(p) => reissue_entry(&book, &o, &p.reference).and_then(|e| l.post(e)),
            None => Ok(()),
        },
        6 => l.record_undue(&o, month, c, r.money(600)),
        7 => recovery_entry(&book, &o, month, r.money(400))
            .and_then(|e| e.map_or(Ok(()), |e| l.post(e))),
        _ => random_entry(r, &o, month, c).and_then(|e| l.post(e)),
    };
    if result.is_err() {
        assert_eq!(
            (l.entries().len(), l.trial_balance()),
            before,
            "a refusal changes nothing"
        );
    }
}

/// An arbitrary two-line entry: most are refused by the constructor or the posting gate.
fn random_entry(
    r: &mut Rng,
    o: &Origin,
    month: Month,
    c: Component,
) -> Result<Entry, PayrollError> {
    let kind = *r.pick(&KINDS);
    let related = (kind == Kind::Reissued).then(|| format!("R{}", r.below(50)));
    let header = Header {
        related,
        ..o.header(kind)
    };
    let lines = vec![
        EntryLine::debit(*r.pick(&ACCOUNTS), month, c, r.money(500)),
        EntryLine::credit(*r.pick(&ACCOUNTS), month, c, r.money(500)),
    ];
    Entry::new(header, lines)
}

#[test]
fn random_ledger_operations_keep_every_invariant() {
    let mut kinds_seen = BTreeSet::new();
    for seed in 0..24 {
        let mut r = Rng(seed);
        let mut l = Ledger::new();
        let mut seq = 0;
        let mut stored = None;
        for step in 0..300 {
            random_op(&mut r, &mut l, &mut seq);
            check_invariants(&l);
            if step == 150 {
                stored = Some(store_books(&l));
            }
            if step % 100 == 99 {
                check_trails(&l);
                let replayed = Ledger::replay(l.entries().to_vec()).expect("stored entries replay");
                assert_eq!(replayed.trial_balance(), l.trial_balance());
            }
        }
        assert!(
            l.entries().len() > 60,
            "seed {seed}: the story did something"
        );
        check_resumed(&l, &stored.expect("stored at step 150"));
        kinds_seen.extend(l.entries().iter().map(Entry::kind));
    }
    assert_eq!(
        kinds_seen.len(),
        KINDS.len(),
        "every kind was exercised: {kinds_seen:?}"
    );
}

fn random_decision(r: &mut Rng) -> sanad_rules::Decision {
    if r.chance(10) {
        return ineligible();
    }
    let children = r.below(4);
    let mut lines: Vec<(Component, i64)> = (0..children)
        .map(|_| (Component::ChildAllowance, *r.pick(&[200, 250, 300])))
        .collect();
    if children == 0 {
        lines.push((Component::FlatRate, 500));
    }
    if r.chance(5) {
        lines.push((Component::BirthGrant, 2000));
    }
    decision(&lines)
}

/// Between cycles the banks answer and inspectors find undue payments.
fn bank_and_inspection(r: &mut Rng, l: &mut Ledger, month: Month) {
    let date = month.next().first_day().succ_opt().unwrap();
    let books: Vec<(RsuId, Vec<(String, PaymentStatus)>)> = l
        .books()
        .map(|(h, b)| {
            (
                h.clone(),
                b.payments()
                    .map(|p| (p.reference.clone(), p.status))
                    .collect(),
            )
        })
        .collect();
    for (h, payments) in books {
        for (reference, status) in payments {
            let o = Origin::new(&h, date, reference);
            let kind = match (status, r.below(100)) {
                (PaymentStatus::InTransit, 0..70) => Kind::Confirmed,
                (PaymentStatus::InTransit, 70..80) => Kind::Rejected,
                (PaymentStatus::Confirmed, 0..3) => Kind::Returned,
                _ => continue,
            };
            l.settle(&o, kind).unwrap();
        }
        let paid: Vec<_> = l.book(&h).unwrap().legs(Account::Paid).collect();
        if let Some(&(m, c, a)) = paid.first().filter(|_| r.chance(4)) {
            let o = Origin::new(&h, date, "inspection");
            let part = Money::from_centimes(1 + r.below(a.centimes() as u64) as i64)
                .min(l.book(&h).unwrap().due(m, c));
            if part > Money::ZERO {
                l.record_undue(&o, m, c, part).unwrap();
            }
        }
    }
}

#[test]
fn random_cycles_keep_every_invariant() {
    for seed in 100..120 {
        let mut r = Rng(seed);
        let mut l = Ledger::new();
        let mut month = m("2025-01");
        let mut decisions: BTreeMap<u64, sanad_rules::Decision> = BTreeMap::new();
        let mut stored = None;
        for cycle in 0..14 {
            if cycle == 7 {
                stored = Some(store_books(&l));
            }
            let mut bs: Vec<Beneficiary> = Vec::new();
            for n in 1..=30u64 {
                if r.chance(8) {
                    continue; // not in this month's list
                }
                let d = if r.chance(20) || !decisions.contains_key(&n) {
                    random_decision(&mut r)
                } else {
                    decisions[&n].clone()
                };
                decisions.insert(n, d.clone());
                let mut b = beneficiary(n, d);
                if r.chance(15) {
                    b.instrument = None;
                }
                if r.chance(5) {
                    let back = 1 + r.below(4) as i32;
                    b.retro = vec![retro(
                        &month.plus(-back).to_string(),
                        random_decision(&mut r),
                        "appeal",
                    )];
                }
                bs.push(b);
            }
            // Listed in any order, the payroll is the same.
            let mut shuffled = bs.clone();
            shuffled.reverse();
            let p = run_cycle(&params(&month.to_string()), &bs, &l).unwrap();
            let q = run_cycle(&params(&month.to_string()), &shuffled, &l).unwrap();
            assert_eq!(p, q);
            assert_eq!(p.digest(), q.digest());
            check_payroll(&l, &p);
            l.post_all(p.entries.clone()).unwrap();
            check_invariants(&l);
            check_recovery_caps(&l, &p, month);
            let again = run_cycle(&params(&month.to_string()), &bs, &l).unwrap();
            assert!(
                again.lines.iter().all(|x| x.amount == Money::ZERO),
                "nothing is paid twice: {:?}",
                again.lines.iter().find(|x| x.amount != Money::ZERO)
            );
            assert!(
                again.entries.is_empty(),
                "a re-run posts nothing: {:?}",
                again.entries.first()
            );
            bank_and_inspection(&mut r, &mut l, month);
            check_invariants(&l);
            check_trails(&l);
            month = month.next();
        }
        check_resumed(&l, &stored.expect("stored at cycle 7"));
    }
}

fn check_payroll(l: &Ledger, p: &sanad_payroll::Payroll) {
    assert!(
        p.lines.windows(2).all(|w| w[0].household < w[1].household),
        "sorted by RSU id"
    );
    let mut sent = Money::ZERO;
    for x in &p.lines {
        assert_eq!(x.amount, x.current - x.recovery + x.arrears + x.reissue);
        assert!(x.amount >= Money::ZERO && x.recovery >= Money::ZERO);
        // Debt before the cycle, plus any the cycle's own corrections create.
        let created: Money = p
            .entries
            .iter()
            .filter(|e| e.household() == &x.household && e.kind() == Kind::Undue)
            .map(Entry::amount)
            .sum();
        let debt = l
            .book(&x.household)
            .map_or(Money::ZERO, |b| b.total(Account::Debt))
            + created;
        assert!(x.recovery <= debt, "never more than the debt");
        assert_eq!(x.debt_after, debt - x.recovery);
        assert_eq!(x.status == LineStatus::Pay, x.amount > Money::ZERO);
        if x.instrument.is_none() {
            assert_eq!(x.amount, Money::ZERO, "no instrument, no payment");
        }
        sent += x.amount;
    }
    let in_entries: Money = p
        .entries
        .iter()
        .filter(|e| matches!(e.kind(), Kind::Issued | Kind::Reissued))
        .map(|e| {
            e.legs(Account::InTransit, Side::Credit)
                .values()
                .copied()
                .sum::<Money>()
        })
        .sum();
    assert_eq!((sent, p.totals.all.amount), (in_entries, in_entries));
}

fn check_recovery_caps(l: &Ledger, p: &sanad_payroll::Payroll, month: Month) {
    for x in &p.lines {
        let Some(book) = l.book(&x.household) else {
            continue;
        };
        let due: Money = book.due_components(month).map(|c| book.due(month, c)).sum();
        assert!(
            book.recovered_from(month) <= recovery_cap(due, 30),
            "{}: recovered {} of {}",
            x.household,
            book.recovered_from(month),
            due
        );
    }
}

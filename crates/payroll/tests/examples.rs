//! Worked examples (README.md, "Worked examples"), each a month-by-month story.

mod common;

use common::*;
use sanad_payroll::cycle::{ExplainKind, LineStatus};
use sanad_payroll::ledger::{PaymentStatus, Side};
use sanad_payroll::{Account, Kind, Ledger, run_cycle};
use sanad_rules::Component::{ChildAllowance, FlatRate};

/// A household owes 1,000 MAD (a January payment found undue).
fn ledger_with_debt() -> Ledger {
    let mut l = Ledger::new();
    let jan = vec![beneficiary(1, decision(&[(FlatRate, 1000)]))];
    let p = run_and_post(&mut l, "2026-01", &jan);
    let pay = p.lines[0].payment.clone().unwrap();
    l.settle(&origin(1, day(2026, 2, 3), &pay), Kind::Confirmed)
        .unwrap();
    l.record_undue(
        &origin(1, day(2026, 2, 20), "inspection-17"),
        m("2026-01"),
        FlatRate,
        mad(1000),
    )
    .unwrap();
    l
}

#[test]
fn a_1000_debt_is_recovered_at_30_percent_of_900_a_month() {
    let mut l = ledger_with_debt();
    let bs = vec![beneficiary(
        1,
        decision(&[
            (ChildAllowance, 300),
            (ChildAllowance, 300),
            (ChildAllowance, 300),
        ]),
    )];
    let mut seen = vec![];
    for month in ["2026-03", "2026-04", "2026-05", "2026-06"] {
        let p = run_and_post(&mut l, month, &bs);
        let x = &p.lines[0];
        assert_eq!(x.amount, x.current - x.recovery + x.arrears + x.reissue);
        seen.push((x.current, x.recovery, x.amount, x.debt_after));
    }
    assert_eq!(
        seen,
        vec![
            (mad(900), mad(270), mad(630), mad(730)),
            (mad(900), mad(270), mad(630), mad(460)),
            (mad(900), mad(270), mad(630), mad(190)),
            (mad(900), mad(190), mad(710), mad(0)), // never more than the debt
        ]
    );
    assert_eq!(l.trial_balance().account(Account::Debt), mad(0));
}

#[test]
fn the_cap_is_rounded_down_to_the_centime() {
    let mut l = ledger_with_debt();
    // 333.33 MAD × 30 % = 99.999 MAD: 99.99 is kept, never 100.00.
    let mut d = decision(&[(FlatRate, 0)]);
    d.lines[0].amount = sanad_domain::Money::from_centimes(33_333);
    let p = run_and_post(&mut l, "2026-03", &[beneficiary(1, d)]);
    assert_eq!(p.lines[0].recovery.centimes(), 9_999);
    assert_eq!(p.lines[0].amount.centimes(), 33_333 - 9_999);
}

#[test]
fn a_rerun_of_the_same_month_recovers_and_pays_nothing_twice() {
    let mut l = ledger_with_debt();
    let bs = vec![beneficiary(1, decision(&[(FlatRate, 900)]))];
    let first = run_and_post(&mut l, "2026-03", &bs);
    let again = run_cycle(&params("2026-03"), &bs, &l).unwrap();
    assert_eq!(first.lines[0].amount, mad(630));
    let x = &again.lines[0];
    assert_eq!(
        (x.status, x.amount, x.recovery),
        (LineStatus::Nothing, mad(0), mad(0))
    );
    assert!(again.entries.is_empty());
    assert!(
        x.explanation
            .iter()
            .any(|e| e.kind == ExplainKind::Settled && e.amount == mad(900))
    );
}

#[test]
fn an_upheld_appeal_adds_three_months_of_arrears() {
    let mut l = Ledger::new();
    // January to March: refused (ineligible), so nothing was due.
    for month in ["2026-01", "2026-02", "2026-03"] {
        let p = run_and_post(&mut l, month, &[beneficiary(1, ineligible())]);
        assert_eq!(p.lines[0].status, LineStatus::Nothing);
    }
    // April: the appeal is upheld for January–March.
    let mut b = beneficiary(1, decision(&[(FlatRate, 500)]));
    b.retro = ["2026-01", "2026-02", "2026-03"]
        .iter()
        .map(|mo| retro(mo, decision(&[(FlatRate, 500)]), "appeal-42"))
        .collect();
    let p = run_and_post(&mut l, "2026-04", &[b]);
    let x = &p.lines[0];
    assert_eq!(
        (x.current, x.arrears, x.amount),
        (mad(500), mad(1500), mad(2000))
    );
    let arrears: Vec<_> = x
        .explanation
        .iter()
        .filter(|e| e.kind == ExplainKind::Arrears)
        .map(|e| (e.month, e.amount))
        .collect();
    assert_eq!(
        arrears,
        vec![
            (m("2026-01"), mad(500)),
            (m("2026-02"), mad(500)),
            (m("2026-03"), mad(500))
        ]
    );
    let kinds: Vec<Kind> = p.entries.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        vec![
            Kind::Due,
            Kind::Arrears,
            Kind::Arrears,
            Kind::Arrears,
            Kind::Issued
        ]
    );
    assert!(
        p.entries
            .iter()
            .filter(|e| e.kind() == Kind::Arrears)
            .all(|e| e.reference() == "appeal-42")
    );
    // The same appeal replayed next month recognises nothing again.
    let mut b = beneficiary(1, decision(&[(FlatRate, 500)]));
    b.retro = vec![retro("2026-02", decision(&[(FlatRate, 500)]), "appeal-42")];
    let p = run_and_post(&mut l, "2026-05", &[b]);
    assert_eq!((p.lines[0].arrears, p.lines[0].amount), (mad(0), mad(500)));
}

#[test]
fn a_rejected_payment_waits_for_a_fixed_account_then_is_reissued() {
    let mut l = Ledger::new();
    let b = beneficiary(1, decision(&[(FlatRate, 500)]));
    let march = run_and_post(&mut l, "2026-03", std::slice::from_ref(&b));
    let first = march.lines[0].payment.clone().unwrap();
    l.settle(&origin(1, day(2026, 4, 2), &first), Kind::Rejected)
        .unwrap();
    // April: the account is not fixed yet. April is due but nothing is sent.
    let blocked = sanad_payroll::Beneficiary {
        instrument: None,
        ..b.clone()
    };
    let april = run_and_post(&mut l, "2026-04", &[blocked]);
    let x = &april.lines[0];
    assert_eq!((x.status, x.amount), (LineStatus::Withheld, mad(0)));
    assert_eq!(
        x.explanation[0].amount,
        mad(1000),
        "April's due and March's returned payment wait"
    );
    // May: fixed. One payment: May, April (now arrears) and March re-issued.
    let may = run_and_post(&mut l, "2026-05", &[b]);
    let x = &may.lines[0];
    assert_eq!(
        (x.current, x.arrears, x.reissue, x.amount),
        (mad(500), mad(500), mad(500), mad(1500))
    );
    let book = l.book(&hh(1)).unwrap();
    let old = book.payment(&first).unwrap();
    assert_eq!(
        (old.status, old.reissued_by.as_deref()),
        (PaymentStatus::Reissued, x.payment.as_deref())
    );
    assert_eq!(
        book.payment(x.payment.as_deref().unwrap())
            .unwrap()
            .amount(),
        mad(1500)
    );
    assert_eq!(book.total(Account::Returned), mad(0));
}

#[test]
fn an_uncashed_payment_older_than_90_days_is_returned_and_recredited() {
    let mut l = Ledger::new();
    let b = beneficiary(1, decision(&[(FlatRate, 500)]));
    let march = run_and_post(&mut l, "2026-03", std::slice::from_ref(&b)); // issued 31 March, never cashed
    let first = march.lines[0].payment.clone().unwrap();
    let gone = beneficiary(2, decision(&[(FlatRate, 400)]));
    run_and_post(&mut l, "2026-03", std::slice::from_ref(&gone)); // household 2 leaves after March
    for month in ["2026-04", "2026-05"] {
        let p = run_and_post(&mut l, month, std::slice::from_ref(&b));
        assert_eq!(p.uncashed_returns().count(), 0, "{month}: 61 days at most");
        let later = p.lines[0].payment.clone().unwrap();
        l.settle(&origin(1, day(2026, 6, 5), &later), Kind::Confirmed)
            .unwrap();
    }
    // 30 June: 91 days. Both March payments come back; household 2 is no longer listed.
    let june = run_and_post(&mut l, "2026-06", std::slice::from_ref(&b));
    let returned: Vec<_> = june
        .uncashed_returns()
        .map(|e| (e.household().clone(), e.amount()))
        .collect();
    assert_eq!(returned, vec![(hh(1), mad(500)), (hh(2), mad(400))]);
    let x = &june.lines[0];
    assert_eq!(
        (x.amount, x.reissue),
        (mad(500), mad(0)),
        "taken back this cycle, re-issued from the next"
    );
    assert!(
        x.explanation
            .iter()
            .any(|e| e.kind == ExplainKind::ReturnedUncashed
                && e.reference.as_deref() == Some(first.as_str()))
    );
    let june_pay = x.payment.clone().unwrap();
    l.settle(&origin(1, day(2026, 7, 3), &june_pay), Kind::Confirmed)
        .unwrap();
    let july = run_and_post(&mut l, "2026-07", &[b]);
    assert_eq!(
        (july.lines[0].reissue, july.lines[0].amount),
        (mad(500), mad(1000))
    );
    assert_eq!(
        l.book(&hh(2)).unwrap().total(Account::Returned),
        mad(400),
        "held for household 2 if it returns"
    );
}

#[test]
fn a_correction_after_payment_becomes_a_debt_recovered_next() {
    let mut l = Ledger::new();
    let march = run_and_post(
        &mut l,
        "2026-03",
        &[beneficiary(1, decision(&[(FlatRate, 900)]))],
    );
    l.settle(
        &origin(
            1,
            day(2026, 4, 2),
            march.lines[0].payment.as_deref().unwrap(),
        ),
        Kind::Confirmed,
    )
    .unwrap();
    // March should have been 600: 300 was paid but not owed.
    let mut b = beneficiary(1, decision(&[(FlatRate, 900)]));
    b.retro = vec![retro(
        "2026-03",
        decision(&[(FlatRate, 600)]),
        "correction-3",
    )];
    let april = run_and_post(&mut l, "2026-04", &[b]);
    let kinds: Vec<Kind> = april.entries.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        vec![Kind::Due, Kind::Undue, Kind::Recovery, Kind::Issued]
    );
    let x = &april.lines[0];
    assert_eq!(
        (x.recovery, x.amount, x.debt_after),
        (mad(270), mad(630), mad(30))
    );
    assert_eq!(
        l.book(&hh(1)).unwrap().due(m("2026-03"), FlatRate),
        mad(600)
    );
}

#[test]
fn totals_add_up_by_component_and_region() {
    let mut l = Ledger::new();
    let bs: Vec<_> = (1..=24)
        .map(|n| {
            beneficiary(
                n,
                decision(&[(ChildAllowance, 300), (FlatRate, 100 + n as i64)]),
            )
        })
        .collect();
    let p = run_and_post(&mut l, "2026-03", &bs);
    assert_eq!(p.totals.all.households, 24);
    assert_eq!(p.totals.by_region.len(), 12);
    assert_eq!(
        p.totals
            .by_region
            .values()
            .map(|r| r.amount)
            .sum::<sanad_domain::Money>(),
        p.totals.all.amount
    );
    let committed = p.totals.committed();
    assert_eq!(committed.get(ChildAllowance), mad(300 * 24));
    assert_eq!(committed.total(), p.totals.all.amount);
    assert!(p.lines.windows(2).all(|w| w[0].household < w[1].household));
    let issued: sanad_domain::Money = p
        .entries
        .iter()
        .filter(|e| e.kind() == Kind::Issued)
        .map(|e| {
            e.legs(Account::InTransit, Side::Credit)
                .values()
                .copied()
                .sum::<sanad_domain::Money>()
        })
        .sum();
    assert_eq!(issued, p.totals.all.amount);
}

/// A household is paid the aid it was awarded, from the start month: a flat-rate award on a
/// decision that also holds child lines pays the flat rate alone, and a child award after
/// the payroll of its start month ran is owed that month as arrears.
#[test]
fn a_household_is_paid_what_it_was_awarded() {
    use sanad_applications::Requested;
    use sanad_payroll::awards::{Grant, arrears_months, restrict};
    let full = || {
        decision(&[
            (ChildAllowance, 300),
            (sanad_rules::Component::FloorTopUp, 200),
            (FlatRate, 500),
        ])
    };
    let flat = [Grant {
        aid: Requested::FlatRate,
        start: m("2026-03"),
        end: None,
        receipt: "R1".into(),
    }];
    let mut d = full();
    restrict(&mut d, &flat, m("2026-03"));
    assert_eq!((d.lines.len(), d.monthly_total), (1, mad(500)));
    let mut before = full();
    restrict(&mut before, &flat, m("2026-02"));
    assert_eq!(
        before.monthly_total,
        mad(0),
        "nothing before the start month"
    );

    let child = [Grant {
        aid: Requested::ChildAllowance,
        start: m("2026-03"),
        end: None,
        receipt: "R2".into(),
    }];
    let mut ledger = Ledger::new();
    let mut april = full();
    restrict(&mut april, &child, m("2026-04"));
    let retro_march: Vec<_> = arrears_months(&child, ledger.book(&hh(1)), m("2026-04"))
        .into_iter()
        .map(|(month, receipt)| {
            let mut d = full();
            restrict(&mut d, &child, month);
            retro(&month.to_string(), d, receipt)
        })
        .collect();
    let mut b = beneficiary(1, april);
    b.retro = retro_march;
    let p = run_and_post(&mut ledger, "2026-04", &[b]);
    assert_eq!(
        p.lines[0].amount,
        mad(1000),
        "April's 500 and March's 500 as arrears, no flat rate"
    );
    assert!(
        arrears_months(&child, ledger.book(&hh(1)), m("2026-05")).is_empty(),
        "once recognised, March is not owed again"
    );
}

//! Variance, budget control and the maker-checker states, on real payrolls.

mod common;

use common::*;
use sanad_domain::Money;
use sanad_payroll::budget::{budget_report, committed_in_year, executed_in_year};
use sanad_payroll::{
    Appropriation, ByComponent, Cycle, Kind, Ledger, PayrollError, Status, Threshold, YearToDate,
    check_budget, run_cycle, variance,
};
use sanad_rules::Component::{ChildAllowance, FlatRate, SchoolStartGrant};

#[test]
fn variance_lists_new_dropped_and_changed_households_per_region() {
    let mut l = Ledger::new();
    let march = run_and_post(
        &mut l,
        "2026-03",
        &[
            beneficiary(1, decision(&[(FlatRate, 500)])),
            beneficiary(2, decision(&[(ChildAllowance, 300)])),
            beneficiary(3, decision(&[(ChildAllowance, 300), (ChildAllowance, 300)])),
            beneficiary(13, decision(&[(FlatRate, 500)])), // same region as household 1
        ],
    );
    let april = run_and_post(
        &mut l,
        "2026-04",
        &[
            beneficiary(1, decision(&[(FlatRate, 500)])), // unchanged
            beneficiary(3, decision(&[(ChildAllowance, 300), (ChildAllowance, 200)])), // 600 → 500: −16.7 %, −100 MAD
            beneficiary(4, decision(&[(FlatRate, 500)])),                              // new
            beneficiary(13, decision(&[(FlatRate, 500), (ChildAllowance, 300)])),      // 500 → 800
        ],
    );
    let t = Threshold {
        percent: Some(20),
        amount: Some(Money::from_mad(100)),
    };
    let v = variance(&march, &april, t);
    let ids = |xs: &[sanad_payroll::variance::Change]| {
        xs.iter().map(|c| c.household.clone()).collect::<Vec<_>>()
    };
    assert_eq!(
        (ids(&v.new), ids(&v.dropped), ids(&v.changed)),
        (vec![hh(4)], vec![hh(2)], vec![hh(13)]),
        "−100 MAD is not beyond ±100 MAD"
    );
    assert_eq!(v.changed[0].delta(), mad(300));
    assert_eq!((v.all.households_before, v.all.households_after), (4, 4));
    assert_eq!(
        (v.all.amount_before, v.all.amount_after),
        (march.totals.all.amount, april.totals.all.amount)
    );
    let r2 = &v.by_region[&region(2)]; // households 1 and 13
    assert_eq!(
        (r2.households_before, r2.households_after, r2.changed),
        (2, 2, 1)
    );
    assert_eq!((r2.amount_before, r2.amount_after), (mad(1000), mad(1300)));
    let tighter = variance(
        &march,
        &april,
        Threshold {
            percent: Some(10),
            amount: None,
        },
    );
    assert_eq!(ids(&tighter.changed), vec![hh(3), hh(13)]);
}

fn appropriation(child: i64, flat: i64) -> Appropriation {
    let mut amounts = ByComponent::new();
    amounts.set(ChildAllowance, mad(child));
    amounts.set(FlatRate, mad(flat));
    Appropriation {
        year: 2026,
        amounts,
    }
}

#[test]
fn budget_refuses_a_payroll_over_the_appropriation_with_the_figures() {
    let l = Ledger::new();
    let bs: Vec<_> = (1..=10)
        .map(|n| beneficiary(n, decision(&[(ChildAllowance, 300), (FlatRate, 200)])))
        .collect();
    let p = run_cycle(&params("2026-10"), &bs, &l).unwrap(); // 3,000 child + 2,000 flat
    let ytd = YearToDate {
        committed: [(ChildAllowance, mad(27_000)), (FlatRate, mad(10_000))]
            .into_iter()
            .collect(),
        executed: [(ChildAllowance, mad(26_000))].into_iter().collect(),
    };
    let ok = check_budget(&appropriation(40_000, 20_000), &ytd, &p).unwrap();
    let child = ok
        .lines
        .iter()
        .find(|x| x.component == ChildAllowance)
        .unwrap();
    assert_eq!(
        (
            child.committed_after,
            child.available,
            child.remaining_months
        ),
        (mad(30_000), mad(10_000), 3)
    );
    assert_eq!(
        child.forecast,
        mad(26_000 + 3_000 * 3),
        "executed + payroll × remaining months"
    );
    assert!(!child.forecast_over);
    match check_budget(&appropriation(29_000, 20_000), &ytd, &p) {
        Err(PayrollError::BudgetExceeded(r)) => {
            assert_eq!(r.len(), 1);
            assert_eq!(
                (
                    r[0].component,
                    r[0].appropriation,
                    r[0].committed_before,
                    r[0].payroll,
                    r[0].excess
                ),
                (
                    ChildAllowance,
                    mad(29_000),
                    mad(27_000),
                    mad(3_000),
                    mad(1_000)
                )
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let wrong_year = Appropriation {
        year: 2025,
        ..appropriation(1, 1)
    };
    assert!(matches!(
        check_budget(&wrong_year, &ytd, &p),
        Err(PayrollError::BudgetYear { .. })
    ));
    // A component with no appropriation line has none: any payroll for it is refused.
    assert!(
        matches!(check_budget(&Appropriation { year: 2026, amounts: ByComponent::new() }, &YearToDate::default(), &p), Err(PayrollError::BudgetExceeded(r)) if r.len() == 2)
    );
}

#[test]
fn commitment_and_execution_come_from_payrolls_and_the_ledger() {
    let mut l = Ledger::new();
    let b = beneficiary(1, decision(&[(FlatRate, 500)]));
    let jan = run_and_post(&mut l, "2026-01", std::slice::from_ref(&b));
    l.settle(
        &origin(1, day(2026, 2, 2), jan.lines[0].payment.as_deref().unwrap()),
        Kind::Confirmed,
    )
    .unwrap();
    let feb = run_and_post(&mut l, "2026-02", std::slice::from_ref(&b));
    l.settle(
        &origin(1, day(2026, 3, 2), feb.lines[0].payment.as_deref().unwrap()),
        Kind::Rejected,
    )
    .unwrap();
    let mar = run_and_post(&mut l, "2026-03", &[b]); // March + February re-issued
    assert_eq!(mar.lines[0].amount, mad(1000));
    let committed = committed_in_year([&jan, &feb, &mar], 2026);
    assert_eq!(
        committed.get(FlatRate),
        mad(1500),
        "a re-issue is not committed twice"
    );
    assert_eq!(
        executed_in_year(l.entries(), 2026).get(FlatRate),
        mad(500),
        "only January was received"
    );
    assert_eq!(executed_in_year(l.entries(), 2025).total(), Money::ZERO);
}

#[test]
fn the_school_start_grant_is_forecast_once() {
    let l = Ledger::new();
    let p = run_cycle(
        &params("2026-09"),
        &[beneficiary(
            1,
            decision(&[(FlatRate, 500), (SchoolStartGrant, 200)]),
        )],
        &l,
    )
    .unwrap();
    let mut a = appropriation(0, 10_000);
    a.amounts.set(SchoolStartGrant, mad(1_000));
    let r = budget_report(&a, &YearToDate::default(), &p).unwrap();
    let forecast = |c| r.lines.iter().find(|x| x.component == c).unwrap().forecast;
    assert_eq!(
        (forecast(FlatRate), forecast(SchoolStartGrant)),
        (mad(500 * 4), mad(200))
    );
}

#[test]
fn the_cycle_is_signed_by_the_payroll_digest() {
    let l = Ledger::new();
    let bs = vec![
        beneficiary(1, decision(&[(FlatRate, 500)])),
        beneficiary(2, decision(&[(ChildAllowance, 300)])),
    ];
    let p = run_cycle(&params("2026-03"), &bs, &l).unwrap();
    let same = run_cycle(&params("2026-03"), &bs, &l).unwrap();
    assert_eq!(p.digest(), same.digest(), "deterministic");
    let other = run_cycle(&params("2026-03"), &bs[..1], &l).unwrap();
    assert_ne!(p.digest(), other.digest());

    let c = Cycle::new(m("2026-03"))
        .prepare("amina", p.digest())
        .unwrap();
    assert_eq!(
        c.prepare("amina", same.digest()).unwrap(),
        c,
        "re-preparing the same payroll is a no-op"
    );
    assert!(matches!(
        c.prepare("amina", other.digest()),
        Err(PayrollError::InputsChanged { .. })
    ));
    assert!(matches!(
        c.approve("amina", p.digest()),
        Err(PayrollError::SelfApproval { .. })
    ));
    let c = c
        .approve("youssef", p.digest())
        .unwrap()
        .release("youssef", p.digest())
        .unwrap();
    assert_eq!(c.status(), Status::Released);
    assert_eq!(c.reopen(), Err(PayrollError::Frozen(Status::Released)));
}

#[test]
fn bad_parameters_and_lists_are_refused() {
    let l = Ledger::new();
    let b = beneficiary(1, decision(&[(FlatRate, 500)]));
    let dup = run_cycle(&params("2026-03"), &[b.clone(), b.clone()], &l);
    assert_eq!(dup.unwrap_err(), PayrollError::DuplicateBeneficiary(hh(1)));
    let mut p = params("2026-03");
    p.recovery_cap_percent = 101;
    assert_eq!(
        run_cycle(&p, &[], &l).unwrap_err(),
        PayrollError::RecoveryCap(101)
    );
    let early = sanad_payroll::CycleParams {
        run_date: day(2026, 2, 27),
        ..params("2026-03")
    };
    assert!(matches!(
        run_cycle(&early, &[], &l),
        Err(PayrollError::RunDate { .. })
    ));
    let mut future = b;
    future.retro = vec![retro("2026-03", decision(&[(FlatRate, 500)]), "x")];
    assert!(matches!(
        run_cycle(&params("2026-03"), &[future], &l),
        Err(PayrollError::RetroNotPast { .. })
    ));
    let from_rules = sanad_payroll::CycleParams::from_rules(
        m("2026-11"),
        &sanad_rules::RuleBook::shipped().sets()[2].payment,
    );
    assert_eq!(
        (
            from_rules.uncashed_return_days,
            from_rules.recovery_cap_percent,
            from_rules.run_date
        ),
        (90, 30, day(2026, 11, 30))
    );
}

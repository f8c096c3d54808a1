//! Helpers shared by the integration tests.
#![allow(dead_code)]

use sanad_domain::{Date, Money, Month, PaymentInstrument, RegionCode, Rib, RsuId};
use sanad_payroll::cycle::Retro;
use sanad_payroll::ledger::Origin;
use sanad_payroll::{Beneficiary, CycleParams, Ledger, Payroll};
use sanad_rules::engine::Param;
use sanad_rules::{Component, Decision, Line};

pub fn hh(n: u64) -> RsuId {
    RsuId::parse(&format!("{n:012}")).unwrap()
}

pub fn m(s: &str) -> Month {
    s.parse().unwrap()
}

pub fn day(y: i32, mo: u32, d: u32) -> Date {
    Date::from_ymd_opt(y, mo, d).unwrap()
}

pub fn mad(n: i64) -> Money {
    Money::from_mad(n)
}

pub fn region(n: u8) -> RegionCode {
    RegionCode::parse(&format!("{n:02}")).unwrap()
}

pub fn rib() -> PaymentInstrument {
    PaymentInstrument::Bank {
        rib: Rib::with_key("0077800000123456789012").unwrap(),
    }
}

/// An eligible decision with one line per (component, MAD), one member each.
pub fn decision(lines: &[(Component, i64)]) -> Decision {
    let mut d = Decision::default();
    d.eligible = true;
    for (i, &(component, amount)) in lines.iter().enumerate() {
        let line = Line {
            member: Some(i as u16),
            component,
            rank: Some(i as u8 + 1),
            amount: mad(amount),
            param: Param::YoungOrInSchool(0),
            age: Some(8),
            in_school: true,
        };
        if matches!(
            component,
            Component::BirthGrant | Component::SchoolStartGrant
        ) {
            d.one_off.push(line);
        } else {
            d.lines.push(line);
        }
    }
    d.monthly_total = d.lines.iter().map(|l| l.amount).sum();
    d
}

pub fn ineligible() -> Decision {
    Decision::default()
}

pub fn beneficiary(n: u64, d: Decision) -> Beneficiary {
    Beneficiary {
        household: hh(n),
        region: region(1 + (n % 12) as u8),
        instrument: Some(rib()),
        decision: d,
        reference: format!("decision-{n}"),
        retro: vec![],
        stamp: None,
    }
}

pub fn retro(month: &str, d: Decision, reference: &str) -> Retro {
    Retro {
        month: m(month),
        decision: d,
        reference: reference.into(),
    }
}

/// ASD defaults: returned after 90 days, 30 % recovery cap, paid on the last day.
pub fn params(month: &str) -> CycleParams {
    let month = m(month);
    CycleParams {
        month,
        run_date: month.last_day(),
        uncashed_return_days: 90,
        recovery_cap_percent: 30,
    }
}

/// Run and post a cycle, as the lead's release step will.
pub fn run_and_post(ledger: &mut Ledger, month: &str, bs: &[Beneficiary]) -> Payroll {
    let p = sanad_payroll::run_cycle(&params(month), bs, ledger).unwrap();
    ledger.post_all(p.entries.clone()).unwrap();
    p
}

pub fn origin(n: u64, date: Date, reference: &str) -> Origin {
    Origin::new(&hh(n), date, reference)
}

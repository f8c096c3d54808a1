//! Budget control (README.md, "Budget formulas"), per year and component:
//!
//! - committed_after = committed_before + payroll (new money this cycle: `Totals::committed`);
//! - available       = appropriation − committed_after;
//! - remaining       = 13 − cycle month (this month and the ones after it);
//! - forecast        = executed + payroll × remaining — except the school-start grant, paid
//!   once a year, whose forecast is executed + payroll;
//! - refused when committed_after > appropriation for any component.
//!
//! Re-issues are not commitments: the money was committed when first sent. Execution is net
//! money out (confirmed less returned after crediting), from the ledger.

use sanad_domain::{Money, Month};
use sanad_rules::Component;
use serde::{Deserialize, Serialize};

use crate::PayrollError;
use crate::codes::{ByComponent, component_code};
use crate::cycle::Payroll;
use crate::ledger::{Entry, paid_between};

/// What the finance law grants the programme for a year, per component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appropriation {
    pub year: i32,
    pub amounts: ByComponent,
}

/// The year so far, before the payroll under review.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearToDate {
    /// Sum of the payrolls approved so far this year ([`committed_in_year`]).
    pub committed: ByComponent,
    /// Net money out this year ([`executed_in_year`]).
    pub executed: ByComponent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetLine {
    #[serde(with = "component_code")]
    pub component: Component,
    pub appropriation: Money,
    pub committed_before: Money,
    pub payroll: Money,
    pub committed_after: Money,
    /// Appropriation − committed_after (negative: over).
    pub available: Money,
    pub executed: Money,
    pub remaining_months: u32,
    pub forecast: Money,
    /// The forecast exceeds the appropriation: a warning, not a refusal.
    pub forecast_over: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetReport {
    pub year: i32,
    pub month: Month,
    pub lines: Vec<BudgetLine>,
}

/// A component the payroll would take over its appropriation, with the figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetRefusal {
    #[serde(with = "component_code")]
    pub component: Component,
    pub appropriation: Money,
    pub committed_before: Money,
    pub payroll: Money,
    /// committed_before + payroll − appropriation.
    pub excess: Money,
}

/// The budget position after `payroll`, refused (`BudgetExceeded`, every component over
/// listed) if it would commit more than appropriated.
pub fn check_budget(
    a: &Appropriation,
    ytd: &YearToDate,
    payroll: &Payroll,
) -> Result<BudgetReport, PayrollError> {
    let report = budget_report(a, ytd, payroll)?;
    let refusals: Vec<BudgetRefusal> = report
        .lines
        .iter()
        .filter(|l| l.available < Money::ZERO)
        .map(|l| BudgetRefusal {
            component: l.component,
            appropriation: l.appropriation,
            committed_before: l.committed_before,
            payroll: l.payroll,
            excess: -l.available,
        })
        .collect();
    if refusals.is_empty() {
        Ok(report)
    } else {
        Err(PayrollError::BudgetExceeded(refusals))
    }
}

/// The budget position after `payroll`, whatever it shows.
pub fn budget_report(
    a: &Appropriation,
    ytd: &YearToDate,
    payroll: &Payroll,
) -> Result<BudgetReport, PayrollError> {
    if payroll.month.year() != a.year {
        return Err(PayrollError::BudgetYear {
            year: a.year,
            month: payroll.month,
        });
    }
    let committed = payroll.totals.committed();
    let remaining = 13 - payroll.month.month();
    let lines = a
        .amounts
        .keys_with(&committed)
        .map(|c| line(c, a, ytd, committed.get(c), remaining))
        .collect();
    Ok(BudgetReport {
        year: a.year,
        month: payroll.month,
        lines,
    })
}

fn line(
    c: Component,
    a: &Appropriation,
    ytd: &YearToDate,
    payroll: Money,
    remaining: u32,
) -> BudgetLine {
    let (appropriation, before, executed) =
        (a.amounts.get(c), ytd.committed.get(c), ytd.executed.get(c));
    let after = before + payroll;
    let forecast = executed + forecast_rest(c, payroll, remaining);
    BudgetLine {
        component: c,
        appropriation,
        committed_before: before,
        payroll,
        committed_after: after,
        available: appropriation - after,
        executed,
        remaining_months: remaining,
        forecast,
        forecast_over: forecast > appropriation,
    }
}

/// What the rest of the year will cost if every remaining month is like this one; the
/// school-start grant is paid in one month a year, so it counts once.
fn forecast_rest(c: Component, payroll: Money, remaining: u32) -> Money {
    if c == Component::SchoolStartGrant {
        payroll
    } else {
        Money::from_centimes(payroll.centimes() * i64::from(remaining))
    }
}

/// Sum of the commitments of the payrolls of `year` (pass only approved ones).
pub fn committed_in_year<'a>(
    payrolls: impl IntoIterator<Item = &'a Payroll>,
    year: i32,
) -> ByComponent {
    payrolls
        .into_iter()
        .filter(|p| p.month.year() == year)
        .flat_map(|p| p.totals.committed().iter().collect::<Vec<_>>())
        .collect()
}

/// Net money out in entries dated in `year`, per component.
pub fn executed_in_year<'a>(
    entries: impl IntoIterator<Item = &'a Entry>,
    year: i32,
) -> ByComponent {
    let first = Month::new(year, 1).map(Month::first_day);
    let last = Month::new(year, 12).map(Month::last_day);
    match (first, last) {
        (Some(from), Some(to)) => paid_between(entries, from, to),
        _ => ByComponent::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forecast_multiplies_monthly_components_only() {
        assert_eq!(
            forecast_rest(Component::FlatRate, Money::from_mad(10), 3),
            Money::from_mad(30)
        );
        assert_eq!(
            forecast_rest(Component::BirthGrant, Money::from_mad(10), 12),
            Money::from_mad(120)
        );
        assert_eq!(
            forecast_rest(Component::SchoolStartGrant, Money::from_mad(10), 4),
            Money::from_mad(10)
        );
    }
}

//! The crate's one error type. Every refusal carries the figures an operator needs to see why.

use sanad_domain::{Date, Money, Month, RsuId};
use sanad_rules::Component;

use crate::budget::BudgetRefusal;
use crate::ledger::{Account, Kind, PaymentStatus, Side};
use crate::state::Status;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayrollError {
    // --- journal entries (refused at construction) ---
    #[error("a journal entry needs at least one line")]
    EmptyEntry,

    #[error("a journal entry needs a reference")]
    NoReference,

    #[error("line amounts must be positive, got {0}")]
    NonPositiveAmount(Money),

    #[error("unbalanced entry: debits {debits}, credits {credits}")]
    Unbalanced { debits: Money, credits: Money },

    #[error("unbalanced entry for {month} {}: debits {debits}, credits {credits}", .component.code())]
    UnbalancedKey {
        month: Month,
        component: Component,
        debits: Money,
        credits: Money,
    },

    #[error("a {} entry cannot {} the {} account", .kind.code(), .side.code(), .account.code())]
    WrongAccount {
        kind: Kind,
        account: Account,
        side: Side,
    },

    #[error("a {} entry uses the {} account on both sides", .kind.code(), .account.code())]
    BothSides { kind: Kind, account: Account },

    #[error("arrears are for past months: {month} is not before {posted}")]
    ArrearsNotPast { month: Month, posted: Month },

    #[error("a re-issue must name the returned payment it replaces (and only a re-issue may)")]
    Related,

    // --- ledger (refused when posting) ---
    #[error("household {household} is already due {month} {}: post an adjustment instead", .component.code())]
    DuplicateDue {
        household: RsuId,
        month: Month,
        component: Component,
    },

    #[error("household {household} has no due for {month} {} to adjust", .component.code())]
    NoDueToAdjust {
        household: RsuId,
        month: Month,
        component: Component,
    },

    #[error("household {household}: {} for {month} {} would be {balance}, below zero", .account.code(), .component.code())]
    Overdrawn {
        household: RsuId,
        account: Account,
        month: Month,
        component: Component,
        balance: Money,
    },

    #[error("household {household} has no payment {reference}")]
    UnknownPayment { household: RsuId, reference: String },

    #[error("household {household} already has a payment {reference}")]
    DuplicatePayment { household: RsuId, reference: String },

    #[error("payment {reference} is {status:?}: a {} entry does not apply", .kind.code())]
    PaymentState {
        reference: String,
        status: PaymentStatus,
        kind: Kind,
    },

    #[error("a {} entry for payment {reference} must move exactly the payment's amounts", .kind.code())]
    PaymentMismatch { reference: String, kind: Kind },

    // --- cycle ---
    #[error("household {0} is listed twice among the beneficiaries")]
    DuplicateBeneficiary(RsuId),

    #[error(
        "household {household}: a retroactive decision for {month} is not before the cycle month {cycle}"
    )]
    RetroNotPast {
        household: RsuId,
        month: Month,
        cycle: Month,
    },

    #[error("recovery cap {0} % is above 100 %")]
    RecoveryCap(u32),

    #[error("cycle {month} cannot be run on {run_date}, before the month starts")]
    RunDate { month: Month, run_date: Date },

    // --- budget ---
    #[error("payroll {month} is not in budget year {year}")]
    BudgetYear { year: i32, month: Month },

    #[error("payroll exceeds the appropriation of {} component(s): {}", .0.len(), refusal_list(.0))]
    BudgetExceeded(Vec<BudgetRefusal>),

    // --- maker-checker ---
    #[error("cannot {action} a cycle that is {from:?}")]
    IllegalTransition { from: Status, action: &'static str },

    #[error("{user} prepared this cycle and cannot also approve it")]
    SelfApproval { user: String },

    #[error(
        "the cycle was {state:?} with inputs {expected}; got inputs {got}: re-open it to Draft first"
    )]
    InputsChanged {
        state: Status,
        expected: String,
        got: String,
    },

    #[error("the cycle is {0:?}: nothing can change any more")]
    Frozen(Status),
}

fn refusal_list(r: &[BudgetRefusal]) -> String {
    r.iter()
        .map(|x| {
            format!(
                "{} needs {} over {} appropriated",
                x.component.code(),
                x.excess,
                x.appropriation
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

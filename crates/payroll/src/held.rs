//! Payments that came back because of the account itself (closed, wrong, blocked) wait for
//! the household's account to change: sent again to the same account they would only bounce
//! again. Other returns (a technical rejection, an uncashed transfer) are re-issued by the
//! next cycle.

use sanad_domain::PaymentInstrument;

/// ISO 20022 status reason codes that say the creditor account cannot take the payment:
/// incorrect (AC01, AC02, AC03), closed (AC04), blocked (AC06), forbidden (AG01),
/// inconsistent with the end customer (BE01), creditor deceased (MD07).
pub const ACCOUNT_REASONS: [&str; 8] = [
    "AC01", "AC02", "AC03", "AC04", "AC06", "AG01", "BE01", "MD07",
];

/// The account a payment goes to, as stored beside it: the RIB, or provider:reference.
pub fn account_key(i: &PaymentInstrument) -> String {
    match i {
        PaymentInstrument::Bank { rib } => rib.to_string(),
        PaymentInstrument::Wallet {
            provider,
            reference,
        } => format!("wallet:{provider}:{reference}"),
        PaymentInstrument::CashOut {
            provider,
            reference,
        } => format!("cashout:{provider}:{reference}"),
    }
}

/// A payment that came back: the account it was sent to and the bank's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    pub account: Option<String>,
    pub reason: Option<String>,
}

impl Bounce {
    /// Whether this bounce says `account` is unusable (an account reason, from that account;
    /// a payment sent before accounts were recorded counts against any account).
    fn condemns(&self, account: &str) -> bool {
        let for_account = self
            .reason
            .as_deref()
            .is_some_and(|r| ACCOUNT_REASONS.contains(&r));
        for_account && self.account.as_deref().is_none_or(|a| a == account)
    }
}

/// The instrument to pay with: `None` while a payment still held bounced for an account
/// reason from this very account — the household must give a new one first.
pub fn usable<'b>(
    current: Option<&PaymentInstrument>,
    mut held: impl Iterator<Item = &'b Bounce>,
) -> Option<PaymentInstrument> {
    let current = current?;
    let key = account_key(current);
    (!held.any(|b| b.condemns(&key))).then(|| current.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sanad_domain::Rib;

    fn bank(rib: &str) -> PaymentInstrument {
        PaymentInstrument::Bank {
            rib: Rib::parse(rib).unwrap(),
        }
    }

    const OLD: &str = "011780000012345678901296";

    fn bounce(account: Option<&str>, reason: &str) -> Bounce {
        Bounce {
            account: account.map(str::to_owned),
            reason: Some(reason.into()),
        }
    }

    #[test]
    fn a_closed_account_waits_for_a_new_one() {
        let closed = [bounce(Some(OLD), "AC04")];
        assert_eq!(
            usable(Some(&bank(OLD)), closed.iter()),
            None,
            "not sent to the closed account again"
        );
        let wallet = PaymentInstrument::Wallet {
            provider: "MTCASH".into(),
            reference: "W1".into(),
        };
        assert_eq!(
            usable(Some(&wallet), closed.iter()),
            Some(wallet.clone()),
            "a new account is used at once"
        );
        assert_eq!(usable(None, closed.iter()), None);
    }

    #[test]
    fn other_returns_are_sent_again_to_the_same_account() {
        let technical = [
            bounce(Some(OLD), "MS03"),
            Bounce {
                account: Some(OLD.into()),
                reason: None,
            },
        ];
        assert_eq!(usable(Some(&bank(OLD)), technical.iter()), Some(bank(OLD)));
        assert_eq!(usable(Some(&bank(OLD)), [].iter()), Some(bank(OLD)));
    }

    #[test]
    fn a_bounce_of_unknown_account_condemns_any() {
        assert_eq!(
            usable(Some(&bank(OLD)), [bounce(None, "AC01")].iter()),
            None
        );
    }

    #[test]
    fn account_keys_tell_instruments_apart() {
        let w = PaymentInstrument::Wallet {
            provider: "P".into(),
            reference: "R".into(),
        };
        let c = PaymentInstrument::CashOut {
            provider: "P".into(),
            reference: "R".into(),
        };
        assert_ne!(account_key(&w), account_key(&c));
        assert_eq!(account_key(&bank(OLD)), OLD);
    }
}

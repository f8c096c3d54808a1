//! Shared test helpers: XSD validation with xmllint, a deterministic RNG, fixtures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{NaiveDate, NaiveDateTime};
use sanad_domain::{Money, Month, PaymentInstrument, Rib};
use sanad_payments::{Debtor, DebtorAgent, Payment, ReleaseSpec};

pub fn schema(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(name)
}

pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/samples")
        .join(name)
}

/// Validates `files` against the XSD with xmllint. A missing xmllint FAILS the test:
/// schema validity is the point of these tests, so it must never pass silently.
pub fn validate(xsd: &str, files: &[PathBuf]) {
    if files.is_empty() {
        return;
    }
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema(xsd))
        .args(files)
        .output()
        .unwrap_or_else(|e| {
            panic!("xmllint is required to validate ISO 20022 files against the XSDs but could not be run ({e}); install it with `apt-get install -y libxml2-utils`")
        });
    assert!(
        out.status.success(),
        "xmllint rejected files against {xsd}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// xorshift64*: deterministic, so a failing property case can be replayed from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn agency_rib() -> Rib {
    Rib::with_key("3107800000000000012345").unwrap()
}

pub fn spec(provider: &str, max_txs_per_file: u32) -> ReleaseSpec {
    ReleaseSpec {
        debtor: Debtor {
            name: "Agence Nationale de Soutien Social".into(),
            account: agency_rib(),
            agent: DebtorAgent::Bic("BKAMMAMR".into()),
        },
        cycle: Month::new(2026, 11).unwrap(),
        provider: provider.into(),
        release_seq: 1,
        execution_date: NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
        created_at: NaiveDateTime::parse_from_str("2026-11-20T08:30:00", "%Y-%m-%dT%H:%M:%S")
            .unwrap(),
        max_txs_per_file,
    }
}

pub fn rib(n: u64) -> Rib {
    Rib::with_key(&format!("007780{:016}", n)).unwrap()
}

pub fn bank_payment(id: u64, cents: i64, name: &str) -> Payment {
    Payment {
        payment_id: id,
        issue: 1,
        beneficiary_name: name.into(),
        instrument: PaymentInstrument::Bank { rib: rib(id) },
        amount: Money::from_centimes(cents),
    }
}

pub fn wallet_payment(id: u64, cents: i64, name: &str) -> Payment {
    let instrument = PaymentInstrument::Wallet {
        provider: "WAFACASH".into(),
        reference: format!("W-{id:08}"),
    };
    Payment {
        payment_id: id,
        issue: 1,
        beneficiary_name: name.into(),
        instrument,
        amount: Money::from_centimes(cents),
    }
}

pub fn cashout_payment(id: u64, cents: i64, name: &str) -> Payment {
    let instrument = PaymentInstrument::CashOut {
        provider: "BARIDCASH".into(),
        reference: format!("C_{id}"),
    };
    Payment {
        payment_id: id,
        issue: 1,
        beneficiary_name: name.into(),
        instrument,
        amount: Money::from_centimes(cents),
    }
}

//! Benchmark: a 4 M-entry camt.054 written to a temporary file and parsed back by streaming,
//! then a 4 M-payment pain.001 release split into files of 50,000.
//!
//! Run: `cargo run --release -p sanad-payments --example camt_bench [COUNT]`
//! Prints wall-clock seconds and peak resident memory (VmHWM from /proc/self/status).

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime};
use sanad_domain::{Money, Month, PaymentInstrument, Rib};
use sanad_payments::bank_sim::{BankResponse, Outcome, ResponseHeader, write_camt054};
use sanad_payments::{
    Debtor, DebtorAgent, EndToEndRef, Payment, ReleaseSpec, ReturnKind, ReturnsReader,
    plan_release, write_release,
};

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown (no /proc/self/status)".into())
}

fn cycle() -> Month {
    Month::new(2026, 11).expect("valid month")
}

fn amount(i: u64) -> Money {
    Money::from_centimes(50_000 + (i % 997) as i64 * 7)
}

/// Every 50th payment comes back returned; the rest are settled.
fn response(i: u64) -> BankResponse {
    let end_to_end_id = EndToEndRef {
        cycle: cycle(),
        payment_id: i,
        issue: 1,
    }
    .to_id()
    .expect("in range");
    let outcome = if i.is_multiple_of(50) {
        Outcome::Returned {
            reason: "AC04".into(),
        }
    } else {
        Outcome::Settled
    };
    BankResponse {
        end_to_end_id,
        amount: amount(i),
        outcome,
    }
}

fn payment(i: u64, rib: &Rib) -> Payment {
    let instrument = match i % 3 {
        0 => PaymentInstrument::Bank { rib: rib.clone() },
        1 => PaymentInstrument::Wallet {
            provider: "WAFACASH".into(),
            reference: format!("W{i:010}"),
        },
        _ => PaymentInstrument::CashOut {
            provider: "BARIDCASH".into(),
            reference: format!("C{i:010}"),
        },
    };
    Payment {
        payment_id: i,
        issue: 1,
        beneficiary_name: "Fatima Zahra El Aïdi".into(),
        instrument,
        amount: amount(i),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(4_000_000);
    let dir = tempfile::tempdir()?;
    let created_at = NaiveDateTime::parse_from_str("2026-11-26T18:00:00", "%Y-%m-%dT%H:%M:%S")?;
    let agency = Rib::with_key("3107800000000000012345")?;

    let camt = dir.path().join("camt054.xml");
    let t = Instant::now();
    let header = ResponseHeader {
        msg_id: "BENCH-CAMT054".into(),
        created_at,
        original_msg_id: "ASD-202611-BANK-R001-F00001".into(),
        booking_date: NaiveDate::from_ymd_opt(2026, 11, 26).expect("valid date"),
        account: agency.clone(),
    };
    write_camt054(
        &header,
        (1..=count).map(response),
        1000,
        BufWriter::new(File::create(&camt)?),
    )?;
    let size = std::fs::metadata(&camt)?.len();
    println!(
        "camt.054 write: {count} entries, {:.1} MB, {:.2} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let mut reader = ReturnsReader::new(BufReader::with_capacity(1 << 16, File::open(&camt)?))?;
    let (mut settled, mut returned, mut total) = (0u64, 0u64, Money::ZERO);
    for ev in reader.by_ref() {
        let ev = ev?;
        match ev.kind {
            ReturnKind::Settled => settled += 1,
            ReturnKind::Returned { .. } => returned += 1,
            _ => {}
        }
        total += ev.amount.unwrap_or(Money::ZERO);
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(settled + returned, count, "every entry read back");
    println!(
        "camt.054 parse: {} events ({settled} settled, {returned} returned, {total} MAD) in {secs:.2} s ({:.0} MB/s); peak RSS so far {}",
        reader.summary().events,
        size as f64 / 1e6 / secs,
        peak_memory()
    );
    std::fs::remove_file(&camt)?;

    let spec = ReleaseSpec {
        debtor: Debtor {
            name: "Agence Nationale de Soutien Social".into(),
            account: agency.clone(),
            agent: DebtorAgent::Bic("BKAMMAMR".into()),
        },
        cycle: cycle(),
        provider: "BENCH".into(),
        release_seq: 1,
        execution_date: NaiveDate::from_ymd_opt(2026, 11, 25).expect("valid date"),
        created_at,
        max_txs_per_file: 50_000,
    };
    let rib = Rib::with_key("0077800000123456789012")?;
    let t = Instant::now();
    let plan = plan_release(&spec, (1..=count).map(|i| payment(i, &rib)))?;
    let plan_secs = t.elapsed().as_secs_f64();
    let out = dir.path().join("pain001");
    std::fs::create_dir(&out)?;
    let manifest = write_release(&spec, &plan, (1..=count).map(|i| payment(i, &rib)), |f| {
        File::create(out.join(&f.file_name)).map(BufWriter::new)
    })?;
    let bytes: u64 = std::fs::read_dir(&out)?
        .map(|e| e.and_then(|e| e.metadata()).map(|m| m.len()).unwrap_or(0))
        .sum();
    println!(
        "pain.001 release: {count} payments in {} files ({:.1} MB), control sum {} MAD, plan {plan_secs:.2} s + write and hash {:.2} s; peak RSS {}",
        manifest.files.len(),
        bytes as f64 / 1e6,
        manifest.ctrl_sum,
        t.elapsed().as_secs_f64() - plan_secs,
        peak_memory()
    );
    Ok(())
}

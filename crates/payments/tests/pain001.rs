//! pain.001 output: schema-valid, exact, split correctly, unique ids, manifest digests.

mod common;

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use common::*;
use sanad_domain::{Money, PaymentInstrument};
use sanad_payments::{
    EndToEndRef, Manifest, Payment, PaymentsError, ReleaseSpec, check_pain001, plan_release,
    sha256_hex, write_release,
};

/// Plans and writes a release into `dir`; returns the manifest and the file paths.
fn release_to_dir(
    spec: &ReleaseSpec,
    payments: &[Payment],
    dir: &Path,
) -> (Manifest, Vec<PathBuf>) {
    let plan = plan_release(spec, payments).unwrap();
    let manifest = write_release(spec, &plan, payments, |f| {
        File::create(dir.join(&f.file_name)).map(BufWriter::new)
    })
    .unwrap();
    let paths = manifest.files.iter().map(|f| dir.join(&f.name)).collect();
    (manifest, paths)
}

fn check_file(path: &Path, e2e: &mut Vec<String>) -> sanad_payments::Pain001Check {
    let check = check_pain001(BufReader::new(File::open(path).unwrap()), |id, _| {
        e2e.push(id.to_string())
    })
    .unwrap();
    assert!(check.is_consistent(), "{}: {check:?}", path.display());
    check
}

#[test]
fn mixed_release_is_schema_valid_and_exact() {
    let payments = vec![
        bank_payment(1, 1, "Fatima-Zahra El Aïdi"),
        bank_payment(2, 100_000_000, "محمد بنعلي"),
        wallet_payment(3, 123_456, "Hélène Ñúñez O’Brien & fils"),
        cashout_payment(4, 99, "عبد الله Ait Lhaj"),
        bank_payment(5, 30_000, "<script>x</script>"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let (manifest, paths) = release_to_dir(&spec("BANK", 50_000), &payments, dir.path());
    validate("pain.001.001.10.xsd", &paths);
    assert_eq!(paths.len(), 1);
    assert_eq!(manifest.ctrl_sum, "1001535.56");

    let text = std::fs::read_to_string(&paths[0]).unwrap();
    for needle in [
        "<CtrlSum>1001535.56</CtrlSum>",
        "<InstdAmt Ccy=\"MAD\">0.01</InstdAmt>",
        "<InstdAmt Ccy=\"MAD\">1000000.00</InstdAmt>",
        "<InstdAmt Ccy=\"MAD\">0.99</InstdAmt>",
        "<Nm>Fatima-Zahra El Aidi</Nm>",
        "<Nm>BENEFICIAIRE</Nm>",
        "<Nm>Helene Nunez O&apos;Brien + fils</Nm>",
        "<Nm>Ait Lhaj</Nm>",
        "<Nm>script x /script</Nm>",
        "<EndToEndId>ASD-202611-000000001-1</EndToEndId>",
        "<Prtry>WALLET</Prtry>",
        "<Prtry>CASHOUT</Prtry>",
        "<Id>WAFACASH</Id>",
        "<Ustrd>ASD 2026-11</Ustrd>",
        "<MmbId>007</MmbId>",
    ] {
        assert!(text.contains(needle), "missing {needle}");
    }
    assert!(text.is_ascii(), "only the restricted Latin set is written");
    let mut ids = Vec::new();
    let check = check_file(&paths[0], &mut ids);
    assert_eq!(check.declared.nb_of_txs, 5);
    assert_eq!(check.declared.ctrl_sum, Money::from_centimes(100_153_556));
}

#[test]
fn split_files_each_declare_their_own_counts_and_sums() {
    let payments: Vec<Payment> = (1..=10)
        .map(|i| bank_payment(i * 7, i as i64 * 1001, "Amina"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let (manifest, paths) = release_to_dir(&spec("BANK", 3), &payments, dir.path());
    validate("pain.001.001.10.xsd", &paths);
    let counts: Vec<u64> = manifest.files.iter().map(|f| f.nb_of_txs).collect();
    assert_eq!(counts, [3, 3, 3, 1]);
    let mut ids = Vec::new();
    let mut msg_ids = HashSet::new();
    for (i, (path, listed)) in paths.iter().zip(&manifest.files).enumerate() {
        let check = check_file(path, &mut ids);
        let expected: i64 = payments[i * 3..(i * 3 + 3).min(10)]
            .iter()
            .map(|p| p.amount.centimes())
            .sum();
        assert_eq!(check.declared.ctrl_sum.centimes(), expected);
        assert_eq!(check.payment_infos.len(), 1);
        assert_eq!(listed.ctrl_sum, check.declared.ctrl_sum.to_string());
        assert_eq!(listed.msg_id, check.msg_id);
        assert!(check.msg_id.len() <= 35 && msg_ids.insert(check.msg_id.clone()));
        // The digest in the manifest is the digest of the bytes on disk.
        assert_eq!(listed.sha256, sha256_hex(&std::fs::read(path).unwrap()));
    }
    assert_eq!(manifest.files[3].msg_id, "ASD-202611-BANK-R001-F00004");
    assert_eq!(ids.len(), 10);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 10);
}

#[test]
fn manifest_digest_and_sha256sums() {
    let payments: Vec<Payment> = (1..=5)
        .map(|i| wallet_payment(i, 50_000, "Youssef"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let (manifest, _) = release_to_dir(&spec("WAFACASH", 2), &payments, dir.path());
    let (mut json, mut digest) = (Vec::new(), Vec::new());
    manifest.write(&mut json, &mut digest).unwrap();
    let digest = String::from_utf8(digest).unwrap();
    assert_eq!(
        digest,
        format!(
            "{}  ASD-202611-WAFACASH-R001.manifest.json\n",
            sha256_hex(&json)
        )
    );
    assert_eq!(manifest.sha256_hex(), sha256_hex(&json));
    let back: Manifest = serde_json::from_slice(&json).unwrap();
    assert_eq!(back, manifest);
    assert_eq!(back.nb_of_txs, 5);
    assert_eq!(back.ctrl_sum, "2500.00");
    assert_eq!(manifest.sha256sums().lines().count(), 3);
}

#[test]
fn reissues_get_distinct_end_to_end_ids() {
    let mut second = bank_payment(42, 1000, "Said");
    second.issue = 2;
    let payments = [bank_payment(42, 1000, "Said"), second];
    let dir = tempfile::tempdir().unwrap();
    let (_, paths) = release_to_dir(&spec("BANK", 10), &payments, dir.path());
    let mut ids = Vec::new();
    check_file(&paths[0], &mut ids);
    assert_eq!(ids, ["ASD-202611-000000042-1", "ASD-202611-000000042-2"]);
    let decoded = EndToEndRef::parse(&ids[1]).unwrap();
    assert_eq!(
        (decoded.payment_id, decoded.issue, decoded.cycle.to_string()),
        (42, 2, "2026-11".into())
    );
}

#[test]
fn invalid_input_is_refused_with_the_payment_named() {
    let s = spec("BANK", 10);
    let out_of_order = [bank_payment(2, 100, "A"), bank_payment(1, 100, "B")];
    assert!(matches!(
        plan_release(&s, &out_of_order),
        Err(PaymentsError::OutOfOrder { .. })
    ));
    let duplicate = [bank_payment(1, 100, "A"), bank_payment(1, 100, "A")];
    assert!(matches!(
        plan_release(&s, &duplicate),
        Err(PaymentsError::OutOfOrder { .. })
    ));
    let zero = [bank_payment(1, 0, "A")];
    let err = plan_release(&s, &zero).unwrap_err().to_string();
    assert!(
        err.contains("payment 1") && err.contains("positive"),
        "{err}"
    );
    let mut long_ref = wallet_payment(1, 100, "A");
    long_ref.instrument = PaymentInstrument::Wallet {
        provider: "W".into(),
        reference: "R".repeat(35),
    };
    assert!(
        plan_release(&s, [&long_ref])
            .unwrap_err()
            .to_string()
            .contains("34")
    );
    let mut bad = s.clone();
    bad.provider = "wafa cash".into();
    assert!(matches!(
        plan_release(&bad, &zero),
        Err(PaymentsError::InvalidSpec(_))
    ));
    bad = s.clone();
    bad.debtor.agent = sanad_payments::DebtorAgent::Bic("bkam".into());
    assert!(matches!(
        plan_release(&bad, &zero),
        Err(PaymentsError::InvalidSpec(_))
    ));
}

#[test]
fn second_pass_that_differs_from_the_plan_is_an_error() {
    let s = spec("BANK", 2);
    let planned = [
        bank_payment(1, 100, "A"),
        bank_payment(2, 200, "B"),
        bank_payment(3, 300, "C"),
    ];
    let plan = plan_release(&s, &planned).unwrap();
    let sink = |_: &sanad_payments::FilePlan| Ok(Vec::new());
    let changed = [
        bank_payment(1, 100, "A"),
        bank_payment(2, 201, "B"),
        bank_payment(3, 300, "C"),
    ];
    let err = write_release(&s, &plan, &changed, sink).unwrap_err();
    assert!(
        matches!(err, PaymentsError::SummaryMismatch { .. }),
        "{err}"
    );
    let fewer = &planned[..2];
    assert!(matches!(
        write_release(&s, &plan, fewer, sink),
        Err(PaymentsError::SummaryMismatch { .. })
    ));
    let more = [
        bank_payment(1, 100, "A"),
        bank_payment(2, 200, "B"),
        bank_payment(3, 300, "C"),
        bank_payment(4, 1, "D"),
    ];
    assert!(matches!(
        write_release(&s, &plan, &more, sink),
        Err(PaymentsError::SummaryMismatch { .. })
    ));
    assert!(write_release(&s, &plan, &planned, sink).is_ok());
}

#[test]
fn empty_release_has_no_files() {
    let s = spec("BANK", 10);
    let plan = plan_release(&s, std::iter::empty::<Payment>()).unwrap();
    assert!(plan.files.is_empty());
    let m = write_release(&s, &plan, std::iter::empty::<Payment>(), |_| Ok(Vec::new())).unwrap();
    assert_eq!((m.nb_of_txs, m.ctrl_sum.as_str()), (0, "0.00"));
}

fn random_payment(rng: &mut Rng, id: u64) -> Payment {
    let cents = match rng.below(10) {
        0 => 1,
        1 => 100_000_000,
        2 => 99_999_999_999, // 999,999,999.99 MAD
        _ => 1 + rng.below(500_000) as i64,
    };
    let names = [
        "Zineb",
        "Ḥasan أحمد",
        "Ève Lœwe",
        "",
        "مريم",
        "Jean-Luc D'Arc",
    ];
    let name = names[rng.below(names.len() as u64) as usize];
    match rng.below(3) {
        0 => bank_payment(id, cents, name),
        1 => wallet_payment(id, cents, name),
        _ => cashout_payment(id, cents, name),
    }
}

/// Many random batches: every file consistent, split sizes right, totals exact,
/// EndToEndIds unique across all batches; a sample of files validated against the XSD.
#[test]
fn property_random_batches() {
    let dir = tempfile::tempdir().unwrap();
    let mut to_validate = Vec::new();
    let mut all_ids = HashSet::new();
    for seed in 0..150u64 {
        let mut rng = Rng::new(seed);
        let n = rng.below(120);
        let mut id = 0;
        let payments: Vec<Payment> = (0..n)
            .map(|_| {
                id += 1 + rng.below(1000);
                random_payment(&mut rng, id)
            })
            .collect();
        let mut s = spec("P", 1 + rng.below(40) as u32);
        s.release_seq = seed as u16 + 1;
        let plan = plan_release(&s, &payments).unwrap();
        let captured = std::cell::RefCell::new(Vec::new());
        let manifest = write_release(&s, &plan, &payments, |_| {
            captured.borrow_mut().push(Vec::new());
            Ok(CaptureLast(&captured))
        })
        .unwrap();
        let files = captured.into_inner();

        let max = u64::from(s.max_txs_per_file);
        assert_eq!(files.len() as u64, n.div_ceil(max), "seed {seed}");
        let mut total = Money::ZERO;
        for (i, bytes) in files.iter().enumerate() {
            let mut ids = Vec::new();
            let check = check_pain001(&bytes[..], |e, _| ids.push(e.to_string())).unwrap();
            assert!(check.is_consistent(), "seed {seed} file {i}: {check:?}");
            let expected_count = if i + 1 < files.len() {
                max
            } else {
                n - max * (files.len() as u64 - 1)
            };
            assert_eq!(check.declared.nb_of_txs, expected_count, "seed {seed}");
            assert_eq!(manifest.files[i].sha256, sha256_hex(bytes));
            total += check.declared.ctrl_sum;
            for e in ids {
                assert!(e.len() <= 35);
                assert!(
                    all_ids.insert((seed, e)),
                    "duplicate EndToEndId, seed {seed}"
                );
            }
            if seed % 10 == 0 {
                let path = dir.path().join(format!("s{seed}-{i}.xml"));
                std::fs::write(&path, bytes).unwrap();
                to_validate.push(path);
            }
        }
        let expected_total: Money = payments.iter().map(|p| p.amount).sum();
        assert_eq!(total, expected_total, "seed {seed}");
        assert_eq!(plan.total.ctrl_sum, expected_total);
    }
    assert!(to_validate.len() > 20);
    validate("pain.001.001.10.xsd", &to_validate);
}

/// A writer appending to the last opened buffer, so the test keeps each file's bytes.
struct CaptureLast<'a>(&'a std::cell::RefCell<Vec<Vec<u8>>>);

impl std::io::Write for CaptureLast<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .borrow_mut()
            .last_mut()
            .expect("opened")
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

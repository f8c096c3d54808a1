//! The monthly cycle end to end on a demo database: maker-checker, ISO 20022 files that
//! validate against the official schema, idempotent release, bank returns applied once, and
//! rejected payments re-issued the next month.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sanad_domain::{Money, Rib};
use sanad_payments::bank_sim::{self, BankResponse, Outcome, ResponseHeader};

fn sanad(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sanad"))
        .current_dir(dir)
        .args(args)
        .env("SANAD_LOG", "error")
        .output()
        .expect("sanad runs")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const DB: &str = "sqlite://sanad-demo.db";

fn schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../payments/schemas/pain.001.001.10.xsd")
}

/// Every transaction of the released files: (EndToEndId, amount, file MsgId).
fn released(dir: &Path) -> Vec<(String, Money, String)> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    for f in files {
        let xmllint = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(schema())
            .arg(&f)
            .output()
            .expect("xmllint is installed (libxml2-utils)");
        assert!(
            xmllint.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&xmllint.stderr)
        );
        let msg = f.file_stem().unwrap().to_string_lossy().into_owned();
        let mut txs = Vec::new();
        let check = sanad_payments::check_pain001(
            std::io::BufReader::new(std::fs::File::open(&f).unwrap()),
            |id, amount| txs.push((id.to_owned(), amount)),
        )
        .unwrap();
        assert!(check.is_consistent(), "{}: control sums", f.display());
        out.extend(txs.into_iter().map(|(id, a)| (id, a, msg.clone())));
    }
    out
}

/// The count on the status line that starts with `label`.
fn count(status: &str, label: &str) -> usize {
    let line = status
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no '{label}' in {status}"));
    line[label.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn header(original: &str, n: u32) -> ResponseHeader {
    ResponseHeader {
        msg_id: format!("BANKRESP-{n}"),
        created_at: chrono::NaiveDate::from_ymd_opt(2026, 12, 2)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap(),
        original_msg_id: original.into(),
        booking_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
        account: Rib::parse("011780000012345678901296").unwrap(),
    }
}

#[test]
fn a_cycle_pays_once_reconciles_and_reissues() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(sanad(
        d,
        &[
            "demo",
            "--households",
            "600",
            "--seed",
            "5",
            "--no-serve",
            "--cycles",
            "0",
            "--as-of",
            "2026-11-20",
        ],
    ));
    let prepared = ok(sanad(
        d,
        &[
            "payroll",
            "prepare",
            "--month",
            "2026-11",
            "--by",
            "payments",
            "--database-url",
            DB,
        ],
    ));
    assert!(prepared.contains("prepared by payments"), "{prepared}");
    let again = ok(sanad(
        d,
        &[
            "payroll",
            "prepare",
            "--month",
            "2026-11",
            "--by",
            "payments",
            "--database-url",
            DB,
        ],
    ));
    assert!(again.contains("already prepared, unchanged"), "{again}");

    let own = sanad(
        d,
        &[
            "payroll",
            "approve",
            "--month",
            "2026-11",
            "--by",
            "payments",
            "--database-url",
            DB,
        ],
    );
    assert!(
        !own.status.success()
            && String::from_utf8_lossy(&own.stderr).contains("cannot also approve")
    );
    let early = sanad(
        d,
        &[
            "payroll",
            "release",
            "--month",
            "2026-11",
            "--by",
            "payments",
            "--out",
            "pay",
            "--database-url",
            DB,
        ],
    );
    assert!(!early.status.success(), "no release before approval");
    assert!(!d.join("pay/2026-11").exists());
    ok(sanad(
        d,
        &[
            "payroll",
            "approve",
            "--month",
            "2026-11",
            "--by",
            "approver",
            "--database-url",
            DB,
        ],
    ));
    let out = ok(sanad(
        d,
        &[
            "payroll",
            "release",
            "--month",
            "2026-11",
            "--by",
            "payments",
            "--out",
            "pay",
            "--max-per-file",
            "40",
            "--database-url",
            DB,
        ],
    ));

    let txs = released(&d.join("pay/2026-11"));
    // A "payment issued" notice per payment to a household with a phone.
    let notices = out
        .lines()
        .find(|l| l.ends_with("\"payment issued\" notices queued"))
        .unwrap_or_else(|| panic!("{out}"));
    let queued: usize = notices.split(' ').next().unwrap().parse().unwrap();
    assert!(
        queued > 0 && queued <= txs.len(),
        "{queued} notices for {} payments",
        txs.len()
    );
    let ids: std::collections::HashSet<&str> = txs.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(ids.len(), txs.len(), "EndToEndIds are unique");
    // The released month replays line by line from the registry (issue 3 item 7).
    let replay = ok(sanad(
        d,
        &[
            "payroll",
            "replay",
            "--month",
            "2026-11",
            "--json",
            "--database-url",
            DB,
        ],
    ));
    let replay: serde_json::Value = serde_json::from_str(&replay).unwrap();
    let lines = replay["lines"].as_u64().unwrap();
    assert!(lines >= txs.len() as u64, "{replay}");
    assert_eq!(replay["identical"].as_u64(), Some(lines), "{replay}");
    let unprepared = sanad(
        d,
        &[
            "payroll",
            "replay",
            "--month",
            "2026-12",
            "--database-url",
            DB,
        ],
    );
    assert!(
        !unprepared.status.success()
            && String::from_utf8_lossy(&unprepared.stderr).contains("no lines stored"),
        "{unprepared:?}"
    );
    let status = ok(sanad(
        d,
        &[
            "payroll",
            "status",
            "--month",
            "2026-11",
            "--database-url",
            DB,
        ],
    ));
    let total: Money = txs.iter().map(|t| t.1).sum();
    assert_eq!(count(&status, "payments sent"), txs.len(), "{status}");
    assert!(
        txs.len() > 40,
        "the release was split: {} payments",
        txs.len()
    );

    // A second release regenerates nothing new and keeps the recorded digests.
    let manifest_before = std::fs::read_dir(d.join("pay/2026-11")).unwrap().count();
    let rerun = ok(sanad(
        d,
        &[
            "payroll",
            "release",
            "--month",
            "2026-11",
            "--by",
            "payments",
            "--out",
            "pay",
            "--max-per-file",
            "40",
            "--database-url",
            DB,
        ],
    ));
    assert!(
        rerun.contains("already released") && rerun.contains("0 \"payment issued\" notices queued"),
        "no notice twice: {rerun}"
    );
    assert_eq!(
        std::fs::read_dir(d.join("pay/2026-11")).unwrap().count(),
        manifest_before
    );
    assert_eq!(
        released(&d.join("pay/2026-11"))
            .iter()
            .map(|t| t.1)
            .sum::<Money>(),
        total
    );

    // The bank rejects two payments — one account is closed (AC04), one for no stated reason
    // (MS03) — and settles three; a foreign payment is unmatched.
    let (rejected, settled) = (&txs[..2], &txs[2..5]);
    let reasons = ["AC04", "MS03"];
    let mut responses: Vec<BankResponse> = rejected
        .iter()
        .zip(reasons)
        .map(|(t, r)| BankResponse {
            end_to_end_id: t.0.clone(),
            amount: t.1,
            outcome: Outcome::Rejected { reason: r.into() },
        })
        .collect();
    responses.push(BankResponse {
        end_to_end_id: "OTHER-PAYER-1".into(),
        amount: Money::from_centimes(100),
        outcome: Outcome::Rejected {
            reason: "AC01".into(),
        },
    });
    let (pain002, _) =
        bank_sim::write_pain002(&header(&rejected[0].2, 1), &responses, Vec::new()).unwrap();
    std::fs::write(d.join("pain002.xml"), pain002).unwrap();
    let settle: Vec<BankResponse> = settled
        .iter()
        .map(|t| BankResponse {
            end_to_end_id: t.0.clone(),
            amount: t.1,
            outcome: Outcome::Settled,
        })
        .collect();
    let (camt, _) =
        bank_sim::write_camt054(&header(&settled[0].2, 2), &settle, 10, Vec::new()).unwrap();
    std::fs::write(d.join("camt054.xml"), camt).unwrap();

    let first = ok(sanad(
        d,
        &["payments", "import", "pain002.xml", "--database-url", DB],
    ));
    assert!(
        first.contains("2 rejected")
            && first.contains("1 unmatched")
            && first.contains("OTHER-PAYER-1"),
        "{first}"
    );
    let twice = ok(sanad(
        d,
        &["payments", "import", "pain002.xml", "--database-url", DB],
    ));
    assert!(
        twice.contains("already imported; nothing changed"),
        "{twice}"
    );
    let camt_out = ok(sanad(
        d,
        &["payments", "import", "camt054.xml", "--database-url", DB],
    ));
    assert!(camt_out.contains("3 settled"), "{camt_out}");
    let status = ok(sanad(
        d,
        &[
            "payroll",
            "status",
            "--month",
            "2026-11",
            "--database-url",
            DB,
        ],
    ));
    assert_eq!(
        (
            count(&status, "payments rejected"),
            count(&status, "payments settled")
        ),
        (2, 3),
        "{status}"
    );

    // December: the payment rejected for no stated reason is sent again on top of December's
    // entitlement; the household whose account is closed is held until it gives a new one.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = rt
        .block_on(sanad_store_sqlite::SqliteStore::open(&format!(
            "sqlite://{}",
            d.join("sanad-demo.db").display()
        )))
        .unwrap();
    let line_of = |rsu: &str| -> serde_json::Value {
        use sanad_store::PayrollStore;
        let lines = rt.block_on(store.payroll_lines("2026-12")).unwrap();
        let line = lines
            .iter()
            .find(|l| l.rsu_id == rsu)
            .expect("still a beneficiary");
        let body: serde_json::Value = serde_json::from_str(&line.body).unwrap();
        assert_eq!(
            line.amount,
            body["current"].as_i64().unwrap() + body["reissue"].as_i64().unwrap()
                - body["recovery"].as_i64().unwrap()
                + body["arrears"].as_i64().unwrap()
        );
        body
    };
    let november = rt
        .block_on(sanad_store::PayrollStore::payments(&store, "2026-11"))
        .unwrap();
    let bounced: Vec<_> = rejected
        .iter()
        .zip(reasons)
        .map(|(r, reason)| {
            let p = november
                .iter()
                .find(|p| p.end_to_end_id == r.0)
                .unwrap()
                .clone();
            assert_eq!(
                (p.status.as_str(), p.reason.as_deref()),
                ("rejected", Some(reason))
            );
            p
        })
        .collect();
    let (closed, other) = (&bounced[0], &bounced[1]);
    ok(sanad(
        d,
        &[
            "payroll",
            "prepare",
            "--month",
            "2026-12",
            "--by",
            "payments",
            "--database-url",
            DB,
        ],
    ));
    assert_eq!(
        line_of(&other.rsu_id)["reissue"].as_i64(),
        Some(other.amount),
        "sent again to the same account"
    );
    let held = line_of(&closed.rsu_id);
    assert_eq!(
        (held["status"].as_str(), held["reissue"].as_i64()),
        (Some("withheld"), Some(0)),
        "not sent to a closed account: {held}"
    );
    // The household gives a new account: the next preparation re-issues the held payment there.
    let scope = sanad_store::Scope::National;
    let id = sanad_domain::RsuId::parse(&closed.rsu_id).unwrap();
    let h = rt
        .block_on(sanad_store::RegistryStore::household(&store, &scope, &id))
        .unwrap()
        .unwrap();
    let new_rib = sanad_domain::Rib::with_key("0077800000123456789012").unwrap();
    let moved = sanad_store::conformance::with(&h, |p| {
        p.instrument = Some(sanad_domain::PaymentInstrument::Bank {
            rib: new_rib.clone(),
        })
    });
    rt.block_on(sanad_store::RegistryStore::upsert_households(
        &store,
        &[moved],
        sanad_store::Write::Apply,
    ))
    .unwrap();
    ok(sanad(
        d,
        &[
            "payroll",
            "prepare",
            "--month",
            "2026-12",
            "--by",
            "payments",
            "--database-url",
            DB,
        ],
    ));
    let fixed = line_of(&closed.rsu_id);
    assert_eq!(
        (fixed["status"].as_str(), fixed["reissue"].as_i64()),
        (Some("pay"), Some(closed.amount)),
        "{fixed}"
    );
    assert_eq!(
        fixed["instrument"]["rib"].as_str(),
        Some(new_rib.to_string().as_str())
    );
    ok(sanad(
        d,
        &[
            "payroll",
            "approve",
            "--month",
            "2026-12",
            "--by",
            "approver",
            "--database-url",
            DB,
        ],
    ));
    ok(sanad(
        d,
        &[
            "payroll",
            "release",
            "--month",
            "2026-12",
            "--by",
            "payments",
            "--out",
            "pay",
            "--database-url",
            DB,
        ],
    ));
    released(&d.join("pay/2026-12"));
    let december = rt
        .block_on(sanad_store::PayrollStore::payments(&store, "2026-12"))
        .unwrap();
    let sent = december.iter().find(|p| p.rsu_id == closed.rsu_id).unwrap();
    assert_eq!(
        sent.account.as_deref(),
        Some(new_rib.to_string().as_str()),
        "the payment records the account it went to"
    );
    let settled_line = line_of(
        &november
            .iter()
            .find(|p| p.end_to_end_id == settled[0].0)
            .unwrap()
            .rsu_id,
    );
    assert_eq!(
        settled_line["reissue"].as_i64(),
        Some(0),
        "a settled payment is not sent again"
    );
    let audit = ok(sanad(d, &["audit", "verify", "--database-url", DB]));
    assert!(audit.contains("audit log intact"), "{audit}");
}

/// Kill `sanad` with SIGKILL at pseudo-random moments of prepare, release and the import of
/// the bank's camt.054, restart, and check the outcome equals an uninterrupted run: same
/// payments, none twice, none lost, the same statuses.
#[test]
fn killed_prepare_and_release_resume_to_the_same_result() {
    let reference = tempfile::tempdir().unwrap();
    let crashy = tempfile::tempdir().unwrap();
    for d in [reference.path(), crashy.path()] {
        ok(sanad(
            d,
            &[
                "demo",
                "--households",
                "1500",
                "--seed",
                "9",
                "--no-serve",
                "--cycles",
                "0",
                "--as-of",
                "2026-11-20",
            ],
        ));
    }
    let steps: [&[&str]; 4] = [
        &[
            "payroll",
            "prepare",
            "--month",
            "2026-11",
            "--by",
            "payments",
            "--database-url",
            DB,
        ],
        &[
            "payroll",
            "approve",
            "--month",
            "2026-11",
            "--by",
            "approver",
            "--database-url",
            DB,
        ],
        &[
            "payroll",
            "release",
            "--month",
            "2026-11",
            "--by",
            "payments",
            "--out",
            "pay",
            "--max-per-file",
            "100",
            "--database-url",
            DB,
        ],
        // Small batches: the import commits many times, so kills fall between and within them.
        &[
            "payments",
            "import",
            "camt054.xml",
            "--batch",
            "25",
            "--database-url",
            DB,
        ],
    ];
    for step in &steps[..3] {
        ok(sanad(reference.path(), step));
    }
    // The bank settles the payments and returns one in nine (same file in both folders).
    let responses: Vec<BankResponse> = released(&reference.path().join("pay/2026-11"))
        .iter()
        .enumerate()
        .map(|(i, t)| BankResponse {
            end_to_end_id: t.0.clone(),
            amount: t.1,
            outcome: if i % 9 == 4 {
                Outcome::Returned {
                    reason: "AC04".into(),
                }
            } else {
                Outcome::Settled
            },
        })
        .collect();
    let (camt, _) = bank_sim::write_camt054(&header("ANY", 3), &responses, 7, Vec::new()).unwrap();
    for d in [reference.path(), crashy.path()] {
        std::fs::write(d.join("camt054.xml"), &camt).unwrap();
    }
    ok(sanad(reference.path(), steps[3]));
    // Pseudo-random delays (xorshift, fixed seed); when a run finishes before its kill, the
    // next delays are drawn shorter, so each step is killed mid-way at least 8 times.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut kills = 0;
    for step in steps {
        let (mut step_kills, mut max_ms, mut attempts) = (0, 400u64, 0);
        while step_kills < 8 && attempts < 60 {
            attempts += 1;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let delay = std::time::Duration::from_millis(x % max_ms);
            let mut child = Command::new(env!("CARGO_BIN_EXE_sanad"))
                .current_dir(crashy.path())
                .args(step)
                .env("SANAD_LOG", "error")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(delay);
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                step_kills += 1;
            } else {
                max_ms = (max_ms * 2 / 3).max(5);
            }
            child.wait().unwrap();
        }
        eprintln!("{} {}: killed mid-way {step_kills} times", step[0], step[1]);
        assert!(
            step_kills >= 4,
            "{} {}: killed {step_kills} times",
            step[0],
            step[1]
        );
        kills += step_kills;
        ok(sanad(crashy.path(), step));
    }
    eprintln!("{kills} runs killed mid-way");
    assert!(kills >= 20, "only {kills} runs were killed mid-way");
    let a = released(&reference.path().join("pay/2026-11"));
    let b = released(&crashy.path().join("pay/2026-11"));
    assert_eq!(a, b, "the same payments, in the same files");
    let status = |d: &Path| {
        ok(sanad(
            d,
            &[
                "payroll",
                "status",
                "--month",
                "2026-11",
                "--database-url",
                DB,
            ],
        ))
        .lines()
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n")
    };
    assert_eq!(status(reference.path()), status(crashy.path()));
    let s = status(crashy.path());
    assert!(
        count(&s, "payments settled") > 0 && count(&s, "payments returned") > 0,
        "{s}"
    );
    let again = ok(sanad(crashy.path(), steps[3]));
    assert!(again.contains("already imported"), "{again}");
    assert!(
        !crashy.path().join("pay/.2026-11.partial").exists(),
        "no partial directory is left"
    );
    let audit = ok(sanad(
        crashy.path(),
        &["audit", "verify", "--database-url", DB],
    ));
    assert!(audit.contains("audit log intact"), "{audit}");
}

/// A payroll that would exceed the year's appropriation of a component is refused, with the
/// figures; within it, it is prepared and the budget shows commitment and forecast.
#[test]
fn the_appropriation_caps_the_payroll() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(sanad(
        d,
        &[
            "demo",
            "--households",
            "400",
            "--seed",
            "4",
            "--no-serve",
            "--cycles",
            "0",
            "--as-of",
            "2026-11-20",
        ],
    ));
    let components = [
        "child_allowance",
        "orphan_allowance",
        "disability_supplement",
        "floor_top_up",
        "flat_rate",
        "birth_grant",
        "school_start_grant",
    ];
    for c in components {
        ok(sanad(
            d,
            &[
                "payroll",
                "budget-set",
                "--year",
                "2026",
                "--component",
                c,
                "--amount",
                "10000000",
                "--by",
                "budget",
                "--database-url",
                DB,
            ],
        ));
    }
    ok(sanad(
        d,
        &[
            "payroll",
            "budget-set",
            "--year",
            "2026",
            "--component",
            "flat_rate",
            "--amount",
            "1000",
            "--by",
            "budget",
            "--database-url",
            DB,
        ],
    ));
    let refused = sanad(
        d,
        &[
            "payroll",
            "prepare",
            "--month",
            "2026-11",
            "--by",
            "payments",
            "--database-url",
            DB,
        ],
    );
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success()
            && err.contains("exceeds the appropriation")
            && err.contains("flat_rate"),
        "{err}"
    );
    assert!(
        ok(sanad(
            d,
            &[
                "payroll",
                "status",
                "--month",
                "2026-11",
                "--database-url",
                DB
            ]
        ))
        .contains("not prepared")
    );

    ok(sanad(
        d,
        &[
            "payroll",
            "budget-set",
            "--year",
            "2026",
            "--component",
            "flat_rate",
            "--amount",
            "10000000",
            "--by",
            "budget",
            "--database-url",
            DB,
        ],
    ));
    ok(sanad(
        d,
        &[
            "payroll",
            "prepare",
            "--month",
            "2026-11",
            "--by",
            "payments",
            "--database-url",
            DB,
        ],
    ));
    let budget = ok(sanad(
        d,
        &[
            "payroll",
            "budget",
            "--month",
            "2026-11",
            "--database-url",
            DB,
        ],
    ));
    assert!(
        budget
            .lines()
            .any(|l| l.starts_with("flat_rate") && l.contains("10 000 000")),
        "{budget}"
    );
    let bad = sanad(
        d,
        &[
            "payroll",
            "budget-set",
            "--year",
            "2026",
            "--component",
            "bonus",
            "--amount",
            "1",
            "--by",
            "budget",
            "--database-url",
            DB,
        ],
    );
    assert!(
        !bad.status.success()
            && String::from_utf8_lossy(&bad.stderr).contains("not a component code")
    );
}

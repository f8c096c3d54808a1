//! The `sanad` binary end to end on SQLite: exit codes, the rejects file, the JSON interfaces.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sanad(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sanad"))
        .args(args)
        .env("SANAD_LOG", "error")
        .output()
        .expect("sanad runs")
}

fn docs(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs")
        .join(name)
}

#[test]
fn import_reports_rejects_exits_2_and_reruns_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.jsonl");
    std::fs::copy(docs("examples/rsu-feed.jsonl"), &feed).unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let out = sanad(&[
        "import",
        "rsu",
        feed.to_str().unwrap(),
        "--database-url",
        &db,
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("3 new, 0 updated, 0 unchanged, 7 rejected"),
        "{stderr}"
    );
    let rejects = std::fs::read_to_string(dir.path().join("feed.jsonl.rejected.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 8, "{rejects}");
    assert!(
        rejects
            .lines()
            .next()
            .unwrap()
            .starts_with("file,line,rsu_id,field,reason")
    );
    assert!(
        rejects.contains(",6,100000000005,commune,unknown commune code"),
        "{rejects}"
    );
    let again = sanad(&[
        "import",
        "rsu",
        feed.to_str().unwrap(),
        "--database-url",
        &db,
    ]);
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains("0 new, 0 updated, 3 unchanged, 7 rejected")
    );
}

#[test]
fn entitlement_prints_the_documented_json() {
    let out = sanad(&[
        "entitlement",
        "--month",
        "2026-11",
        "--input",
        docs("examples/household.json").to_str().unwrap(),
        "--explain",
        "ar",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rule_set"], "asd-2026-11");
    assert_eq!(v["monthly_total_centimes"], 60000);
    assert_eq!(v["lines"][0]["parameter"], "child.bands[0].not_in_school");
    assert!(v["explanation"][0].as_str().unwrap().contains("درهم"));
}

#[test]
fn a_bad_input_names_its_field_and_a_bad_rule_file_its_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("h.json");
    let text = std::fs::read_to_string(docs("examples/household.json"))
        .unwrap()
        .replacen("public_primary", "college", 1);
    std::fs::write(&input, text).unwrap();
    let out = sanad(&[
        "entitlement",
        "--month",
        "2026-11",
        "--input",
        input.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("members[2].schooling"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let rules = dir.path().join("r.toml");
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/asd-2026-11.toml"),
    )
    .unwrap();
    std::fs::write(&rules, shipped.replace("floor = 500", "floor = -1")).unwrap();
    let out = sanad(&["rules", "validate", rules.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("household.floor"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn publishing_needs_a_second_user() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let rules = dir.path().join("r.toml");
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/asd-2026-11.toml"),
    )
    .unwrap();
    std::fs::write(
        &rules,
        shipped
            .replace("id = \"asd-2026-11\"", "id = \"asd-2027-01\"")
            .replace(
                "effective_from = \"2026-11-01\"",
                "effective_from = \"2027-01-01\"",
            ),
    )
    .unwrap();
    assert!(
        sanad(&[
            "rules",
            "publish",
            rules.to_str().unwrap(),
            "--by",
            "amina",
            "--database-url",
            &db
        ])
        .status
        .success()
    );
    let own = sanad(&[
        "rules",
        "approve",
        "asd-2027-01",
        "--by",
        "amina",
        "--database-url",
        &db,
    ]);
    assert!(!own.status.success());
    assert!(String::from_utf8_lossy(&own.stderr).contains("another user"));
    assert!(
        sanad(&[
            "rules",
            "approve",
            "asd-2027-01",
            "--by",
            "karim",
            "--database-url",
            &db
        ])
        .status
        .success()
    );
    let list = String::from_utf8_lossy(&sanad(&["rules", "list", "--database-url", &db]).stdout)
        .to_string();
    assert!(
        list.contains("asd-2027-01") && list.contains("approved"),
        "{list}"
    );
    // The approved set is in force from its date for `sanad entitlement --database-url`.
    let input = docs("examples/household.json");
    let with_db = sanad(&[
        "entitlement",
        "--month",
        "2027-02",
        "--input",
        input.to_str().unwrap(),
        "--database-url",
        &db,
    ]);
    let v: serde_json::Value = serde_json::from_slice(&with_db.stdout).unwrap();
    assert_eq!(v["rule_set"], "asd-2027-01");
    let shipped_only = sanad(&[
        "entitlement",
        "--month",
        "2027-02",
        "--input",
        input.to_str().unwrap(),
    ]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&shipped_only.stdout).unwrap()["rule_set"],
        "asd-2026-11"
    );
}

fn eval_data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../evaluation/tests")
        .join(name)
        .display()
        .to_string()
}

fn close(a: &serde_json::Value, b: &serde_json::Value, rel: f64) -> bool {
    let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
    (a - b).abs() <= rel * b.abs().max(1e-12)
}

/// `sanad eval` prints the documented JSON with the reference packages' numbers.
#[test]
fn eval_ols_and_rdd_match_the_reference_fixtures() {
    let fx: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(eval_data("fixtures/ols_mroz.json")).unwrap(),
    )
    .unwrap();
    let out = sanad(&[
        "eval",
        "ols",
        "--csv",
        &eval_data("data/mroz.csv"),
        "--y",
        "lwage",
        "--x",
        "educ,exper,expersq",
        "--cluster",
        "age",
        "--vcov",
        "cr1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (i, name) in ["(Intercept)", "educ", "exper", "expersq"]
        .iter()
        .enumerate()
    {
        assert!(
            close(&v["coef"][name], &fx["cr1"]["coef"][i], 1e-6),
            "coef {name}"
        );
        assert!(
            close(&v["se"][name], &fx["cr1"]["se"][i], 1e-4),
            "se {name}"
        );
    }
    assert_eq!(v["clusters"], fx["cr1"]["clusters"]);

    let rd: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(eval_data("fixtures/rdd_senate.json")).unwrap(),
    )
    .unwrap();
    let out = sanad(&[
        "eval",
        "rdd",
        "--csv",
        &eval_data("data/senate.csv"),
        "--y",
        "vote",
        "--x",
        "margin",
        "--cutoff",
        "0",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "h",
        "b",
        "tau_conventional",
        "tau_bias_corrected",
        "se_robust",
        "ci_robust_low",
        "ci_robust_high",
    ] {
        assert!(
            close(&v[key], &rd["default"][key], 1e-6),
            "{key}: {} vs {}",
            v[key],
            rd["default"][key]
        );
    }
    let bad = sanad(&[
        "eval",
        "ols",
        "--csv",
        &eval_data("data/mroz.csv"),
        "--y",
        "lwage",
        "--x",
        "nosuch",
    ]);
    assert!(
        !bad.status.success()
            && String::from_utf8_lossy(&bad.stderr).contains("no column named 'nosuch'")
    );
}

/// A cross-check list applies whole, or reports every problem and changes nothing.
#[test]
fn lists_import_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("l.db").display());
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../applications/examples/pensions.csv");
    let out = sanad(&[
        "lists",
        "import",
        example.to_str().unwrap(),
        "--database-url",
        &db,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("pensions list of"));
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "# list=pensions as_of=2026-10-31 source=CMR\nidcs,fund,sector\n12,CMR,public\nnot-an-idcs,CMR,public\n").unwrap();
    let out = sanad(&[
        "lists",
        "import",
        bad.to_str().unwrap(),
        "--database-url",
        &db,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv:3: idcs")
            && err.contains("bad.csv:4: idcs")
            && err.contains("nothing imported"),
        "{err}"
    );
}

/// The demo's history: households apply in the first cycle's month against lists derived
/// from its registry (some approved, some rejected with reasons, some left for review); the
/// agent works through the review queue the next month; the payroll pays the approved —
/// late approvals with their first month as arrears — and a last wave applies today.
#[test]
fn the_demo_takes_applications_and_pays_the_approved() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "demo",
        "--households",
        "800",
        "--seed",
        "3",
        "--no-serve",
        "--cycles",
        "2",
        "--as-of",
        "2026-11-20",
    ];
    let out = Command::new(env!("CARGO_BIN_EXE_sanad"))
        .current_dir(dir.path())
        .args(args)
        .env("SANAD_LOG", "error")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |prefix: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no '{prefix}' in {stdout}"))
            .to_owned()
    };
    let first = line("applications in 2026-10:");
    for status in ["approved", "rejected", "in_review"] {
        assert!(first.contains(status), "{first}");
    }
    let number = |l: &str, after: &str| -> u32 {
        l.split(after)
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{l}"))
    };
    let approved_first = number(&first, "(");
    let reviewed = number(&line("review queue worked through early 2026-11:"), ": ");
    assert!(reviewed > 0);
    assert!(
        line("applications on 2026-11-20:")
            .starts_with("applications on 2026-11-20: 300 applications")
    );
    assert!(
        line("life events:").ends_with("declared on 2026-11-03, effective 2026-10-01"),
        "births and deaths of October, settled by November's payroll"
    );
    // October pays the automatic approvals alone; November adds those approved on review.
    let paid = |month: &str| number(&line(&format!("payroll {month}:")), ": ");
    assert!(
        paid("2026-10") <= approved_first,
        "only approved households are paid: {stdout}"
    );
    assert!(paid("2026-11") > paid("2026-10"), "{stdout}");
    let arrears = |month: &str| {
        line(&format!("payroll {month}:"))
            .split(" MAD (")
            .nth(1)
            .unwrap()
            .split(" MAD arrears")
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        arrears("2026-10"),
        "0",
        "the first cycle owes no past month"
    );
    assert_ne!(
        arrears("2026-11"),
        "0",
        "late approvals are paid October as arrears"
    );
    let db = format!("sqlite://{}", dir.path().join("sanad-demo.db").display());
    let status = Command::new(env!("CARGO_BIN_EXE_sanad"))
        .args([
            "payroll",
            "status",
            "--month",
            "2026-11",
            "--database-url",
            &db,
        ])
        .output()
        .unwrap();
    assert!(status.status.success());
}

/// A score refresh with a malformed row applies nothing; a good one records the new scores,
/// re-evaluates the household it moves over the threshold, and changes nothing when re-run.
#[test]
fn a_score_refresh_is_checked_whole_then_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.jsonl");
    std::fs::copy(docs("examples/rsu-feed.jsonl"), &feed).unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    sanad(&[
        "import",
        "rsu",
        feed.to_str().unwrap(),
        "--database-url",
        &db,
    ]);
    let refresh = dir.path().join("refresh.csv");
    let run_on = |on: &str| {
        sanad(&[
            "import",
            "scores",
            refresh.to_str().unwrap(),
            "--database-url",
            &db,
            "--on",
            on,
        ])
    };
    let run = || run_on("2026-11-20");
    std::fs::write(&refresh, "rsu_id,score,computed_on,valid_from\n100000000001,12.5,2026-10-20,2026-11-01\n100000000002,ten,2026-10-20,2026-11-01\n").unwrap();
    let bad = run();
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("refresh.csv:3: score:") && stderr.contains("nothing applied"),
        "{stderr}"
    );
    std::fs::write(&refresh, "rsu_id,score,computed_on,valid_from\n100000000001,12.5,2026-10-20,2026-11-01\n100000000002,7.0,2026-10-20,2026-11-01\n").unwrap();
    let good = run();
    let stdout = String::from_utf8_lossy(&good.stdout);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(
        stdout.contains("2 rows: 2 new scores, 1 households moved across the threshold"),
        "{stdout}"
    );
    let again = String::from_utf8_lossy(&run().stdout).to_string();
    assert!(
        again.contains("2 rows: 0 new scores, 0 households moved"),
        "{again}"
    );
    // A refresh dated after today is refused before anything is read or applied.
    let tomorrow = (chrono::Local::now().date_naive() + chrono::Days::new(1)).to_string();
    std::fs::write(
        &refresh,
        "rsu_id,score,computed_on,valid_from\n100000000001,3.5,2026-11-01,2026-11-02\n",
    )
    .unwrap();
    let future = run_on(&tomorrow);
    let stderr = String::from_utf8_lossy(&future.stderr);
    assert!(
        !future.status.success()
            && stderr.contains("is after today")
            && stderr.contains("nothing applied"),
        "{stderr}"
    );
    let after = String::from_utf8_lossy(&run().stdout).to_string();
    assert!(after.contains("1 rows: 1 new scores"), "{after}");
}

/// A refresh read and decided a chunk ahead of the one being written gives what one run per
/// row gives, including a household named again two chunks later (its second score must see
/// its first).
#[test]
fn a_refresh_in_overlapped_chunks_gives_what_one_run_per_row_gives() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.jsonl");
    std::fs::copy(docs("examples/rsu-feed.jsonl"), &feed).unwrap();
    let rows = [
        "100000000001,12.5,2026-10-20,2026-11-01",
        "100000000002,7.0,2026-10-20,2026-11-01",
        "100000000001,9.0,2026-10-21,2026-11-01",
    ];
    let header = "rsu_id,score,computed_on,valid_from\n";
    let refresh = |db: &str, file: &Path, lines: &[&str], chunk: &str| {
        std::fs::write(file, format!("{header}{}\n", lines.join("\n"))).unwrap();
        let out = sanad(&[
            "import",
            "scores",
            file.to_str().unwrap(),
            "--database-url",
            db,
            "--on",
            "2026-11-20",
            "--chunk",
            chunk,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let db = |name: &str| {
        let url = format!("sqlite://{}", dir.path().join(name).display());
        sanad(&[
            "import",
            "rsu",
            feed.to_str().unwrap(),
            "--database-url",
            &url,
        ]);
        url
    };
    let (chunked, one_by_one) = (db("chunked.db"), db("rows.db"));
    let file = dir.path().join("refresh.csv");
    let summary = refresh(&chunked, &file, &rows, "1");
    assert!(
        summary.contains("3 rows: 3 new scores, 2 households moved across the threshold (re-evaluated, 1 suspended)"),
        "{summary}"
    );
    let singles: Vec<String> = rows
        .iter()
        .map(|row| refresh(&one_by_one, &file, &[row], "1"))
        .collect();
    let moved = |s: &str| s.contains("1 households moved");
    assert_eq!(
        singles.iter().filter(|s| moved(s)).count(),
        2,
        "{singles:?}"
    );
    assert!(singles[0].contains("1 suspended"), "{singles:?}");
}

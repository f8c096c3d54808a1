//! `sanad applications import` and `sanad notify send` end to end on SQLite: a bad file is
//! reported line by line and takes nothing; a good one goes through the web form's service,
//! queues each receipt in the household's language, and the worker delivers them to a file.

use std::path::Path;
use std::process::{Command, Output};

fn sanad(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sanad"))
        .args(args)
        .env("SANAD_LOG", "error")
        .env("SANAD_NEW_PASSWORD", "a long enough password 2026")
        .output()
        .expect("sanad runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_bulk_file_applies_whole_or_not_at_all_and_its_receipts_are_sent() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    // A copy: the import writes its rejects beside the feed.
    let feed = dir.path().join("feed.jsonl");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/rsu-feed.jsonl"),
        &feed,
    )
    .unwrap();
    sanad(&[
        "import",
        "rsu",
        feed.to_str().unwrap(),
        "--database-url",
        &db,
    ]);
    let agent = sanad(&[
        "admin",
        "create-user",
        "--username",
        "amina",
        "--display-name",
        "Amina",
        "--role",
        "antenna_agent",
        "--scope",
        "national",
        "--database-url",
        &db,
    ]);
    assert!(agent.status.success(), "{}", text(&agent));
    let outbox = dir.path().join("outbox.jsonl");
    let sender = format!("file:{}", outbox.display());

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "household_id,components,channel,submitted_on,language\n\
         100000000001,child_allowance,,2026-11-02,ar\n\
         12345,child_allowance,,,\n\
         100000000002,housing,,,\n\
         100000000002,flat_rate,fax,2026-13-01,de\n\
         100000000001,child_allowance;flat_rate,,,\n\
         999999999999,flat_rate,,,\n",
    )
    .unwrap();
    let out = sanad(&[
        "applications",
        "import",
        bad.to_str().unwrap(),
        "--by",
        "amina",
        "--database-url",
        &db,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = text(&out);
    for want in [
        "bad.csv:3: household_id:",
        "bad.csv:4: components: 'housing'",
        "bad.csv:5: channel: 'fax'",
        "bad.csv:5: submitted_on: '2026-13-01'",
        "bad.csv:5: language: 'de'",
        "bad.csv:6: components: child_allowance is asked again",
        "bad.csv:7: household_id: household 999999999999 not found",
        "nothing imported",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    assert!(!err.contains("bad.csv:2:"), "line 2 is valid: {err}");

    // Rows valid in form but refused by the service: a household unknown or outside the scope.
    let unknown = dir.path().join("unknown.csv");
    std::fs::write(
        &unknown,
        "household_id,components\n100000000001,child_allowance\n999999999999,flat_rate\n",
    )
    .unwrap();
    let out = sanad(&[
        "applications",
        "import",
        unknown.to_str().unwrap(),
        "--by",
        "amina",
        "--database-url",
        &db,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("unknown.csv:3: household_id: household 999999999999 not found"),
        "{}",
        text(&out)
    );
    let sent = sanad(&["notify", "send", "--sender", &sender, "--database-url", &db]);
    assert!(
        text(&sent).contains("outbox: 0 sent"),
        "nothing was taken, nothing queued: {}",
        text(&sent)
    );

    let good = dir.path().join("good.csv");
    std::fs::write(&good, "household_id,components,submitted_on,language\n100000000001,child_allowance,2026-11-02,ar\n100000000002,flat_rate,,fr\n").unwrap();
    let dry = sanad(&[
        "applications",
        "import",
        good.to_str().unwrap(),
        "--by",
        "amina",
        "--dry-run",
        "--database-url",
        &db,
    ]);
    assert!(
        dry.status.success() && text(&dry).contains("2 application(s) valid; nothing taken"),
        "{}",
        text(&dry)
    );
    // Edited templates: a bad file is refused with its line, a good one changes the wording.
    let templates = dir.path().join("templates.txt");
    std::fs::write(
        &templates,
        "# ours\n[receipt.fr]\nANSS : demande {numero} reçue.\n",
    )
    .unwrap();
    let refused = sanad(&[
        "applications",
        "import",
        good.to_str().unwrap(),
        "--by",
        "amina",
        "--templates",
        templates.to_str().unwrap(),
        "--database-url",
        &db,
    ]);
    assert!(
        !refused.status.success()
            && text(&refused)
                .contains("templates.txt:2: [receipt.fr]: unknown placeholder {numero}"),
        "{}",
        text(&refused)
    );
    std::fs::write(
        &templates,
        "# ours\n[receipt.fr]\nANSS : demande {receipt} reçue le {submitted_on}.\n",
    )
    .unwrap();
    let out = sanad(&[
        "applications",
        "import",
        good.to_str().unwrap(),
        "--by",
        "amina",
        "--templates",
        templates.to_str().unwrap(),
        "--database-url",
        &db,
    ]);
    assert!(
        out.status.success() && text(&out).contains("2 application(s) taken"),
        "{}",
        text(&out)
    );
    let again = sanad(&[
        "applications",
        "import",
        good.to_str().unwrap(),
        "--by",
        "amina",
        "--database-url",
        &db,
    ]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "the same applications are open now: {}",
        text(&again)
    );
    assert!(
        text(&again).contains("good.csv:2: components:")
            && text(&again).contains("good.csv:3: components:"),
        "{}",
        text(&again)
    );

    let sent = sanad(&["notify", "send", "--sender", &sender, "--database-url", &db]);
    assert!(sent.status.success(), "{}", text(&sent));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&outbox)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let receipts: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["id"].as_str().unwrap().starts_with("receipt:"))
        .collect();
    assert_eq!(receipts.len(), 2, "{lines:?}");
    let first = receipts
        .iter()
        .find(|l| l["household"] == "100000000001")
        .unwrap();
    assert_eq!(first["language"], "ar");
    assert!(
        first["body"].as_str().unwrap().contains("02/11/2026"),
        "received on the file's date: {first}"
    );
    let second = receipts
        .iter()
        .find(|l| l["household"] == "100000000002")
        .unwrap();
    assert!(
        second["body"]
            .as_str()
            .unwrap()
            .starts_with("ANSS : demande ASD-")
            && second["body"].as_str().unwrap().ends_with(
                "reçue le 29/11/2026."
                    .replace(
                        "29/11/2026",
                        &chrono::Local::now()
                            .date_naive()
                            .format("%d/%m/%Y")
                            .to_string()
                    )
                    .as_str()
            ),
        "the edited French template: {second}"
    );
    assert!(
        first["body"].as_str().unwrap().starts_with("سند"),
        "the Arabic template is the default still: {first}"
    );
    let twice = sanad(&["notify", "send", "--sender", &sender, "--database-url", &db]);
    assert!(
        text(&twice).contains("outbox: 0 sent"),
        "a sent message is not sent again: {}",
        text(&twice)
    );
}

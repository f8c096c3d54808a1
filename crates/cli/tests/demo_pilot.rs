//! `sanad demo` seeds the accompanying-measures pilot: the catalogue and plan, enrolments in
//! the pilot antenna, the Tangier agent's cases with open follow-up alerts, and the
//! pre-registered design whose stored assignment can be drawn again from its body.

use std::process::Command;

use sanad_store::{PilotStore, RegistryStore, Scope};

#[tokio::test]
async fn the_demo_seeds_the_pilot_antenna() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sanad"))
        .current_dir(dir.path())
        .args([
            "demo",
            "--households",
            "3000",
            "--seed",
            "3",
            "--no-serve",
            "--cycles",
            "0",
        ])
        .env("SANAD_LOG", "error")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("pilot: antenna 01.511"))
        .unwrap_or_else(|| panic!("{stdout}"));

    let store = sanad_store_sqlite::SqliteStore::open(&format!(
        "sqlite://{}",
        dir.path().join("sanad-demo.db").display()
    ))
    .await
    .unwrap();
    assert_eq!(
        store.measures().await.unwrap().len(),
        sanad_pilot::Catalogue::shipped().measures().len()
    );
    let enrolments = store.enrolments(&Scope::National).await.unwrap();
    assert!(
        enrolments.len() >= 6 && enrolments.iter().all(|e| e.antenna == "01.511"),
        "{line}"
    );

    // The agent's caseload: six cases, and the follow-up alerts the demo means to show.
    let tanger = Scope::parse("regions:01").unwrap();
    let rows = store
        .open_cases(&tanger, Some("agent-tanger"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 6, "{line}");
    let cases: Vec<sanad_pilot::Case> = rows
        .iter()
        .map(|r| sanad_web::service::pilot::case_from_row(r).unwrap())
        .collect();
    let book = sanad_pilot::CaseBook::from_cases(cases).unwrap();
    let today = chrono::Local::now().date_naive();
    let codes: std::collections::BTreeSet<&str> =
        sanad_pilot::alerts(&book, &sanad_pilot::AlertPolicy::default(), today)
            .iter()
            .map(|a| a.code.as_str())
            .collect();
    for code in [
        "visit_overdue",
        "goal_overdue",
        "referral_no_response",
        "repeated_absence",
    ] {
        assert!(codes.contains(code), "{code} missing from {codes:?}");
    }
    assert!(
        store
            .open_cases(&Scope::parse("regions:06").unwrap(), None)
            .await
            .unwrap()
            .is_empty(),
        "Casablanca's agents see none of them"
    );

    // The design is frozen with its hash, and its assignment is reproducible from the body.
    let designs = store.designs().await.unwrap();
    assert_eq!(designs.len(), 1);
    let design: sanad_evaluation::assign::Design = serde_json::from_str(&designs[0].body).unwrap();
    assert_eq!(design.hash(), designs[0].hash);
    assert!(
        line.contains(&designs[0].hash),
        "the hash is printed: {line}"
    );
    let stored = store
        .assignments(&Scope::National, &designs[0].id)
        .await
        .unwrap();
    let households = store
        .list_households(&Scope::Antennas(vec!["01.511".into()]), None, 600)
        .await
        .unwrap();
    let mut input = sanad_evaluation::assign::AssignInput {
        ids: vec![],
        strata: vec![vec![]],
        clusters: None,
    };
    for h in &households {
        input.ids.push(h.rsu_id.to_string());
        input.strata[0].push(h.commune.clone());
    }
    let again = sanad_evaluation::assign::assign(&design, &input).unwrap();
    let mut redrawn: Vec<(String, String)> =
        again.units.into_iter().map(|u| (u.id, u.arm)).collect();
    redrawn.sort();
    assert_eq!(
        stored
            .into_iter()
            .map(|a| (a.unit, a.arm))
            .collect::<Vec<_>>(),
        redrawn,
        "the same seed draws the same assignment"
    );
    let counts = store.assignment_counts(&designs[0].id).await.unwrap();
    assert_eq!(
        counts.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["control", "treatment"]
    );
    assert!(
        (counts[0].1 - counts[1].1).abs() <= 3,
        "1:1 within each of a few communes: {counts:?}"
    );

    // Both survey rounds over the assigned households; the arms' difference in differences of
    // mean income is the demo's known effect (250 MAD), exactly.
    let rounds = store.outcome_rounds().await.unwrap();
    assert_eq!(
        rounds.iter().map(|r| r.round.as_str()).collect::<Vec<_>>(),
        ["baseline", "followup"]
    );
    assert!(
        rounds
            .iter()
            .all(|r| r.households == counts[0].1 + counts[1].1)
    );
    let arm: std::collections::HashMap<String, String> = store
        .assignments(&Scope::National, &designs[0].id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.unit, a.arm))
        .collect();
    let mut sums: std::collections::HashMap<(String, String), (f64, f64)> = Default::default();
    for o in store.outcomes(&Scope::National).await.unwrap() {
        let v: f64 = o.value.unwrap().parse().unwrap();
        let e = sums.entry((arm[&o.rsu_id].clone(), o.round)).or_default();
        *e = (e.0 + v, e.1 + 1.0);
    }
    let mean = |a: &str, r: &str| {
        let (s, n) = sums[&(a.to_owned(), r.to_owned())];
        s / n
    };
    let did = (mean("treatment", "followup") - mean("treatment", "baseline"))
        - (mean("control", "followup") - mean("control", "baseline"));
    assert!((did - 250.0).abs() < 1e-9, "{did}");
}

//! `sanad pilot catalogue load|show` and `sanad pilot design register|assign` end to end on
//! SQLite: a bad catalogue file is refused whole with its line, a good one is stored and shown
//! in the format it was read from; a design is frozen once with the hash printed, and its
//! assignment is drawn once over the active households of the plan's antennas.

use std::path::Path;
use std::process::{Command, Output};

use sanad_store::{PilotStore, Scope};

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

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/examples")
        .join(name)
}

fn setup(dir: &Path) -> String {
    let db = format!("sqlite://{}", dir.join("p.db").display());
    setup_at(dir, db)
}

/// The example feed and one user per pilot role, in the store at `db`.
fn setup_at(dir: &Path, db: String) -> String {
    let feed = dir.join("feed.jsonl");
    std::fs::copy(example("rsu-feed.jsonl"), &feed).unwrap();
    // The example feed carries deliberately bad rows: the good households are imported.
    sanad(&[
        "import",
        "rsu",
        feed.to_str().unwrap(),
        "--database-url",
        &db,
    ]);
    for (user, role) in [
        ("admin", "administrator"),
        ("analyst", "me_analyst"),
        ("agent", "antenna_agent"),
    ] {
        let out = sanad(&[
            "admin",
            "create-user",
            "--username",
            user,
            "--display-name",
            user,
            "--role",
            role,
            "--scope",
            "national",
            "--database-url",
            &db,
        ]);
        assert!(out.status.success(), "{}", text(&out));
    }
    db
}

#[tokio::test]
async fn the_catalogue_file_is_loaded_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let good = std::fs::read_to_string(example("pilot-catalogue.toml")).unwrap();
    // A second pilot antenna in wave 1: refused with the antenna's line, nothing stored.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        good.replace(
            "province = \"04.421\"\nwave = 2",
            "province = \"04.421\"\nwave = 1",
        ),
    )
    .unwrap();
    let out = sanad(&[
        "pilot",
        "catalogue",
        "load",
        bad.to_str().unwrap(),
        "--by",
        "admin",
        "--database-url",
        &db,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("bad.toml line 28: antennas: wave 1 must hold exactly one antenna"),
        "{}",
        text(&out)
    );
    let unknown = dir.path().join("unknown.toml");
    std::fs::write(
        &unknown,
        good.replace(
            "capacity_per_antenna = 400",
            "capacity_per_antenna = 400\nplaces = 3",
        ),
    )
    .unwrap();
    let out = sanad(&[
        "pilot",
        "catalogue",
        "load",
        unknown.to_str().unwrap(),
        "--by",
        "admin",
        "--database-url",
        &db,
    ]);
    assert!(
        out.status.code() == Some(2)
            && text(&out).contains("unknown.toml line 20")
            && text(&out).contains("places"),
        "{}",
        text(&out)
    );
    assert_eq!(
        sanad(&["pilot", "catalogue", "show", "--database-url", &db])
            .status
            .code(),
        Some(2),
        "nothing stored"
    );
    // Only an administrator loads it.
    let out = sanad(&[
        "pilot",
        "catalogue",
        "load",
        example("pilot-catalogue.toml").to_str().unwrap(),
        "--by",
        "analyst",
        "--database-url",
        &db,
    ]);
    assert!(
        out.status.code() == Some(2) && text(&out).contains("may not"),
        "{}",
        text(&out)
    );
    let out = sanad(&[
        "pilot",
        "catalogue",
        "load",
        example("pilot-catalogue.toml").to_str().unwrap(),
        "--by",
        "admin",
        "--database-url",
        &db,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out)
            .contains("catalogue 2028-01-pilot: 2 measures; rollout plan: 3 antennas in 3 waves"),
        "{}",
        text(&out)
    );
    // Shown in the file's own format (JSON): loading it again changes nothing.
    let shown = sanad(&["pilot", "catalogue", "show", "--database-url", &db]);
    assert!(shown.status.success());
    let json = dir.path().join("shown.json");
    std::fs::write(&json, &shown.stdout).unwrap();
    assert!(
        sanad(&[
            "pilot",
            "catalogue",
            "load",
            json.to_str().unwrap(),
            "--by",
            "admin",
            "--database-url",
            &db
        ])
        .status
        .success()
    );
    assert_eq!(
        sanad(&["pilot", "catalogue", "show", "--database-url", &db]).stdout,
        shown.stdout
    );
    let store = sanad_store_sqlite::SqliteStore::open(&db).await.unwrap();
    assert_eq!(
        store
            .antennas()
            .await
            .unwrap()
            .iter()
            .map(|a| a.province.as_str())
            .collect::<Vec<_>>(),
        ["01.511", "04.421", "03.231"]
    );
}

#[tokio::test]
async fn a_design_is_registered_once_and_assigned_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let file = example("pilot-design.toml");
    // No plan yet: registration works, the draw is refused (no antennas to draw from).
    let out = sanad(&[
        "pilot",
        "design",
        "register",
        file.to_str().unwrap(),
        "--by",
        "agent",
        "--database-url",
        &db,
    ]);
    assert!(
        out.status.code() == Some(2) && text(&out).contains("may not"),
        "{}",
        text(&out)
    );
    let out = sanad(&[
        "pilot",
        "design",
        "register",
        file.to_str().unwrap(),
        "--by",
        "analyst",
        "--database-url",
        &db,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let (_, design) = sanad_web::service::pilot_admin::parse_design(
        "d",
        &std::fs::read_to_string(&file).unwrap(),
    )
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{} pilot-2028-households", design.hash()),
        "the hash is printed"
    );
    let again = sanad(&[
        "pilot",
        "design",
        "register",
        file.to_str().unwrap(),
        "--by",
        "analyst",
        "--database-url",
        &db,
    ]);
    assert!(
        again.status.code() == Some(2) && text(&again).contains("already exists"),
        "{}",
        text(&again)
    );
    let out = sanad(&[
        "pilot",
        "design",
        "assign",
        "pilot-2028-households",
        "--by",
        "analyst",
        "--database-url",
        &db,
    ]);
    assert!(
        out.status.code() == Some(2) && text(&out).contains("no pilot catalogue"),
        "{}",
        text(&out)
    );

    assert!(
        sanad(&[
            "pilot",
            "catalogue",
            "load",
            example("pilot-catalogue.toml").to_str().unwrap(),
            "--by",
            "admin",
            "--database-url",
            &db
        ])
        .status
        .success()
    );
    let out = sanad(&[
        "pilot",
        "design",
        "assign",
        "pilot-2028-households",
        "--by",
        "analyst",
        "--database-url",
        &db,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let total: i64 = printed["arms"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_i64().unwrap())
        .sum();
    let out = sanad(&[
        "pilot",
        "design",
        "assign",
        "pilot-2028-households",
        "--by",
        "analyst",
        "--database-url",
        &db,
    ]);
    assert!(
        out.status.code() == Some(2) && text(&out).contains("already assigned"),
        "{}",
        text(&out)
    );

    // The stored draw is the one the design's body gives over the plan's active households.
    let store = sanad_store_sqlite::SqliteStore::open(&db).await.unwrap();
    let stored = store
        .assignments(&Scope::National, "pilot-2028-households")
        .await
        .unwrap();
    assert_eq!(stored.len() as i64, total);
    let plan = Scope::Antennas(vec!["01.511".into(), "04.421".into(), "03.231".into()]);
    let households = sanad_store::RegistryStore::list_households(&store, &plan, None, 100)
        .await
        .unwrap();
    let active: Vec<_> = households.iter().filter(|h| h.status == "active").collect();
    assert!(
        !active.is_empty() && active.len() < 10 && active.len() as i64 == total,
        "{} of {}",
        active.len(),
        households.len()
    );
    let input = sanad_evaluation::assign::AssignInput {
        ids: active.iter().map(|h| h.rsu_id.to_string()).collect(),
        strata: vec![active.iter().map(|h| h.province.clone()).collect()],
        clusters: None,
    };
    let mut redrawn: Vec<(String, String)> = sanad_evaluation::assign::assign(&design, &input)
        .unwrap()
        .units
        .into_iter()
        .map(|u| (u.id, u.arm))
        .collect();
    redrawn.sort();
    assert_eq!(
        stored
            .into_iter()
            .map(|a| (a.unit, a.arm))
            .collect::<Vec<_>>(),
        redrawn
    );
}

#[tokio::test]
async fn survey_rounds_go_in_whole_and_the_analysis_dataset_comes_out_pseudonymised() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    assert!(
        sanad(&[
            "pilot",
            "catalogue",
            "load",
            example("pilot-catalogue.toml").to_str().unwrap(),
            "--by",
            "admin",
            "--database-url",
            &db
        ])
        .status
        .success()
    );
    assert!(
        sanad(&[
            "pilot",
            "design",
            "register",
            example("pilot-design.toml").to_str().unwrap(),
            "--by",
            "analyst",
            "--database-url",
            &db
        ])
        .status
        .success()
    );
    assert!(
        sanad(&[
            "pilot",
            "design",
            "assign",
            "pilot-2028-households",
            "--by",
            "analyst",
            "--database-url",
            &db
        ])
        .status
        .success()
    );
    let codebook =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../evaluation/examples/survey_codebook.csv");
    let header = "unit_id,hh_size,head_female,area,n_children,enrol,zscore,income,interview_date\n";
    let write = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, format!("{header}{body}")).unwrap();
        p
    };
    let import = |file: &Path, round: &str, by: &str| {
        sanad(&[
            "pilot",
            "outcomes",
            "import",
            file.to_str().unwrap(),
            "--codebook",
            codebook.to_str().unwrap(),
            "--round",
            round,
            "--by",
            by,
            "--database-url",
            &db,
        ])
    };
    // Every problem with its line; nothing stored.
    let bad = write(
        "bad.csv",
        "100000000001,5,0,1,2,0.5,-1.2,1850,2025-02-03\n100000000004,40,0,1,2,0.5,-1.2,1850,2025-02-03\n999999999999,4,1,1,1,1,-0.4,-98,2025-02-03\nHH1,4,1,1,1,1,-0.4,900,2025-02-03\n",
    );
    let out = import(&bad, "baseline", "analyst");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = text(&out);
    assert!(err.contains("bad.csv line 3 column hh_size: '40'"), "{err}");
    assert!(
        !err.contains("line 4") && !err.contains("line 5"),
        "the codebook violation stops before the registry is asked: {err}"
    );
    let unknown = write(
        "unknown.csv",
        "100000000001,5,0,1,2,0.5,-1.2,1850,2025-02-03\n999999999999,4,1,1,1,1,-0.4,-98,2025-02-03\nHH1,4,1,1,1,1,-0.4,900,2025-02-03\n",
    );
    let err = text(&import(&unknown, "baseline", "analyst"));
    assert!(
        err.contains("unknown.csv line 3 column unit_id: '999999999999' is not a household")
            && err.contains("unknown.csv line 4 column unit_id: 'HH1'")
            && err.contains("nothing imported"),
        "{err}"
    );
    let store = sanad_store_sqlite::SqliteStore::open(&db).await.unwrap();
    assert!(store.outcome_rounds().await.unwrap().is_empty());
    let baseline = write(
        "baseline.csv",
        "100000000001,5,0,1,2,0.5,-1.21,1850,2025-02-03\n100000000003,4,1,2,1,1,-0.40,-98,2025-02-04\n",
    );
    let out = import(&baseline, "baseline", "agent");
    assert!(
        out.status.code() == Some(2) && text(&out).contains("may not"),
        "{}",
        text(&out)
    );
    let out = import(&baseline, "baseline", "analyst");
    assert!(
        out.status.success() && text(&out).contains("baseline round of 2 households (16 cells)"),
        "{}",
        text(&out)
    );
    let followup = write(
        "followup.csv",
        "100000000001,5,0,1,2,1,-0.95,2040,2026-02-10\n",
    );
    assert!(import(&followup, "followup", "analyst").status.success());
    assert_eq!(store.outcomes(&Scope::National).await.unwrap().len(), 24);

    // The school-enrolment list names two members of household 1 (one of them for two years).
    let list = dir.path().join("school.csv");
    std::fs::write(&list, "# list=school_enrolment as_of=2026-10-15 source=MASSAR\nidcs,school_year,level\n0000000133,2025-2026,primary\n0000000133,2026-2027,primary\n0000000141,2026-2027,college\n").unwrap();
    let out = sanad(&[
        "lists",
        "import",
        list.to_str().unwrap(),
        "--database-url",
        &db,
    ]);
    assert!(out.status.success(), "{}", text(&out));

    // The analysis dataset: pseudonymised, one row per assigned household.
    let key = dir.path().join("key");
    std::fs::write(&key, "a secret key of the data owner\n").unwrap();
    let csv = dir.path().join("analysis.csv");
    let out = sanad(&[
        "pilot",
        "outcomes",
        "export",
        "pilot-2028-households",
        "--key-file",
        key.to_str().unwrap(),
        "--out-csv",
        csv.to_str().unwrap(),
        "--by",
        "analyst",
        "--database-url",
        &db,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let assigned = store
        .assignments(&Scope::National, "pilot-2028-households")
        .await
        .unwrap();
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["rows"].as_u64().unwrap() as usize, assigned.len());
    let data = std::fs::read_to_string(&csv).unwrap();
    assert!(
        !data.contains("10000000000"),
        "no RSU id in the dataset: {data}"
    );
    let mut rows = csv::Reader::from_reader(data.as_bytes());
    let head: Vec<String> = rows.headers().unwrap().iter().map(str::to_owned).collect();
    for col in [
        "pid",
        "stratum",
        "arm",
        "treat",
        "income_bl",
        "income",
        "payments_received",
        "payments_received_centimes",
        "takeup",
    ] {
        assert!(head.iter().any(|h| h == col), "{col} in {head:?}");
    }
    let pid =
        sanad_evaluation::export::pseudonym(b"a secret key of the data owner", "100000000001");
    let row = rows
        .records()
        .map(|r| r.unwrap())
        .find(|r| r[0] == pid)
        .expect("household 1 is assigned, under its pseudonym");
    let col = |name: &str| row[head.iter().position(|h| h == name).unwrap()].to_owned();
    assert_eq!(
        (
            col("income_bl").as_str(),
            col("income").as_str(),
            col("payments_received").as_str()
        ),
        ("1850", "2040", "0")
    );
    assert_eq!(col("takeup"), "0", "not enrolled in a measure");
    assert_eq!(col("members_in_school_list"), "2");
    let arm = assigned
        .iter()
        .find(|a| a.unit == "100000000001")
        .unwrap()
        .arm
        .clone();
    assert_eq!(
        (col("arm"), col("treat")),
        (
            arm.clone(),
            if arm == "control" {
                "0".into()
            } else {
                "1".into()
            }
        )
    );
    // The file is what `sanad eval` reads: numeric columns, one row per household.
    let frame = sanad_evaluation::data::Frame::from_path(&csv).unwrap();
    let selected = frame
        .select(&["treat", "payments_received"], &["pid"])
        .unwrap();
    assert_eq!(selected.n, assigned.len());
}

// ---- administrative outcomes: health visits and CNSS affiliation (issue 7) ----

/// A fresh PostgreSQL schema for the CLI (created and migrated here), as a database URL.
async fn pg_db() -> String {
    let url = std::env::var("SANAD_TEST_PG_URL")
        .expect("SANAD_TEST_PG_URL is not set: run the tests with scripts/test");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000;
    let schema = format!("t{}_cli{nanos}", std::process::id());
    sanad_store_postgres::PgStore::open_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options[search_path]={schema}")
}

async fn admin_outcomes_per_household(dir: &Path, db: String) {
    let db = setup_at(dir, db);
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--database-url", &db]);
        sanad(&all)
    };
    for args in [
        vec![
            "pilot",
            "catalogue",
            "load",
            example("pilot-catalogue.toml").to_str().unwrap(),
            "--by",
            "admin",
        ],
        vec![
            "pilot",
            "design",
            "register",
            example("pilot-design.toml").to_str().unwrap(),
            "--by",
            "analyst",
        ],
        vec![
            "pilot",
            "design",
            "assign",
            "pilot-2028-households",
            "--by",
            "analyst",
        ],
    ] {
        let out = run(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    let lists = Path::new(env!("CARGO_MANIFEST_DIR")).join("../applications/examples");
    // A bad list: every problem as FILE:LINE: FIELD: REASON, nothing stored.
    let bad = dir.join("visits.csv");
    std::fs::write(
        &bad,
        "# list=health_visits as_of=2027-06-30 source=MS-SIS\nidcs,visit_date,centre,visit_type\n0000000117,2027-01-20,ESSP-03,consultation\n0000000117,2027-07-20,ESSP-03,consultation\n",
    )
    .unwrap();
    let out = run(&["lists", "import", bad.to_str().unwrap()]);
    let printed = text(&out);
    assert!(
        out.status.code() == Some(2)
            && printed.contains(&format!(
                "{}:4: visit_date: 2027-07-20 is after the list's date 2027-06-30",
                bad.display()
            )),
        "{printed}"
    );
    for f in ["health_visits.csv", "cnss_affiliation.csv"] {
        let out = run(&["lists", "import", lists.join(f).to_str().unwrap()]);
        assert!(out.status.success(), "{f}: {}", text(&out));
    }
    let key = dir.join("key");
    std::fs::write(&key, "a secret key of the data owner\n").unwrap();
    let export = |window: &[&str]| {
        let csv = dir.join("analysis.csv");
        let mut args = vec![
            "pilot",
            "outcomes",
            "export",
            "pilot-2028-households",
            "--key-file",
            key.to_str().unwrap(),
            "--out-csv",
            csv.to_str().unwrap(),
            "--by",
            "analyst",
        ];
        args.extend(window);
        let out = run(&args);
        assert!(out.status.success(), "{}", text(&out));
        let data = std::fs::read_to_string(&csv).unwrap();
        let mut rows = csv::Reader::from_reader(data.as_bytes());
        let head: Vec<String> = rows.headers().unwrap().iter().map(str::to_owned).collect();
        let by_pid: std::collections::HashMap<String, Vec<String>> = rows
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[0].to_owned(), r.iter().map(str::to_owned).collect())
            })
            .collect();
        move |rsu: &str, col: &str| {
            let pid = sanad_evaluation::export::pseudonym(b"a secret key of the data owner", rsu);
            let i = head
                .iter()
                .position(|h| h == col)
                .unwrap_or_else(|| panic!("{col} in {head:?}"));
            by_pid.get(&pid).map(|r| r[i].clone())
        }
    };
    // Household 1 (members 117, 125, 133, 141): four visits in the first half of 2027; nobody
    // affiliated on 1 January (117's first period ended, the second starts in February), two
    // members at the end of June. Household 3 (members 315, 323): a visit in December 2026, an
    // affiliation that ended in January 2027.
    let cell = export(&["--from", "2027-01-01", "--to", "2027-06-30"]);
    let hh1 = |c: &str| cell("100000000001", c).expect("household 1 is assigned");
    assert_eq!(
        [
            "health_visits",
            "formal_employed_members_bl",
            "formal_employed_members",
            "any_formal_employment"
        ]
        .map(hh1),
        ["4", "0", "2", "1"]
    );
    assert_eq!(
        [
            "health_visits",
            "formal_employed_members_bl",
            "formal_employed_members",
            "any_formal_employment"
        ]
        .map(|c| cell("100000000003", c).expect("household 3 is assigned")),
        ["0", "1", "0", "0"]
    );
    // Without --to the window ends at each list's date (2027-06-30).
    let cell = export(&["--from", "2026-12-01"]);
    assert_eq!(
        cell("100000000001", "health_visits").unwrap(),
        "4",
        "all four visits"
    );
    assert_eq!(
        cell("100000000003", "health_visits").unwrap(),
        "1",
        "December's visit"
    );
    assert_eq!(
        cell("100000000001", "formal_employed_members").unwrap(),
        "2"
    );
    // A window that ends before it starts is refused.
    let out = run(&[
        "pilot",
        "outcomes",
        "export",
        "pilot-2028-households",
        "--key-file",
        key.to_str().unwrap(),
        "--out-csv",
        dir.join("x.csv").to_str().unwrap(),
        "--from",
        "2027-07-01",
        "--to",
        "2027-06-30",
        "--by",
        "analyst",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[tokio::test]
async fn admin_outcomes_come_out_per_household_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("p.db").display());
    admin_outcomes_per_household(dir.path(), db).await;
}

#[tokio::test]
async fn admin_outcomes_come_out_per_household_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    admin_outcomes_per_household(dir.path(), pg_db().await).await;
}

#[tokio::test]
async fn a_cluster_design_exports_its_clusters_pseudonymised() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--database-url", &db]);
        sanad(&all)
    };
    let design = dir.path().join("cluster.toml");
    std::fs::write(
        &design,
        "id = \"by-province\"\nseed = 3\nunit = \"rsu_id\"\ncluster = \"province\"\n\n[[arms]]\nname = \"control\"\nshare = 0.5\n\n[[arms]]\nname = \"treatment\"\nshare = 0.5\n",
    )
    .unwrap();
    let catalogue = example("pilot-catalogue.toml");
    for args in [
        vec![
            "pilot",
            "catalogue",
            "load",
            catalogue.to_str().unwrap(),
            "--by",
            "admin",
        ],
        vec![
            "pilot",
            "design",
            "register",
            design.to_str().unwrap(),
            "--by",
            "analyst",
        ],
        vec![
            "pilot",
            "design",
            "assign",
            "by-province",
            "--by",
            "analyst",
        ],
    ] {
        let out = run(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    let key = dir.path().join("key");
    std::fs::write(&key, "a secret key of the data owner\n").unwrap();
    let csv = dir.path().join("a.csv");
    let out = run(&[
        "pilot",
        "outcomes",
        "export",
        "by-province",
        "--key-file",
        key.to_str().unwrap(),
        "--out-csv",
        csv.to_str().unwrap(),
        "--by",
        "analyst",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let data = std::fs::read_to_string(&csv).unwrap();
    assert!(!data.contains("01.511"), "the province is pseudonymised");
    let mut rows = csv::Reader::from_reader(data.as_bytes());
    let head: Vec<String> = rows.headers().unwrap().iter().map(str::to_owned).collect();
    let at = head
        .iter()
        .position(|h| h == "cluster")
        .expect("a cluster column");
    let k = b"a secret key of the data owner";
    let pid = sanad_evaluation::export::pseudonym(k, "100000000001");
    let row = rows
        .records()
        .map(Result::unwrap)
        .find(|r| r[0] == pid)
        .expect("household 1 is assigned");
    assert_eq!(
        &row[at],
        sanad_evaluation::export::pseudonym(k, "01.511"),
        "household 1 lives in the province it was drawn with"
    );
}

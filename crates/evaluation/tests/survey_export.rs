//! Survey import against the example codebook, the pseudonymised export
//! (CSV and Parquet read back by the crate's own reader) and the new
//! `cli` functions.

use std::path::PathBuf;

use sanad_evaluation::cli::{self, ExportArgs, ReportArgs, SurveyArgs};
use sanad_evaluation::data::{Factor, Frame};
use sanad_evaluation::export;
use sanad_evaluation::ols::{OlsInput, ols};
use sanad_evaluation::parquet::{self, ColumnData};
use sanad_evaluation::pilot::{self, PilotConfig};
use sanad_evaluation::report::Lang;
use sanad_evaluation::survey::{self, Cell, Codebook, Round, VarType};

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn codebook() -> Codebook {
    let f = std::fs::File::open(example("survey_codebook.csv")).unwrap();
    Codebook::from_reader(f, "survey_codebook.csv").unwrap()
}

fn import(name: &str) -> Result<survey::Dataset, Vec<survey::Violation>> {
    let f = std::fs::File::open(example(name)).unwrap();
    survey::import(f, name, &codebook(), None)
}

fn scratch_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sanad-eval-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn example_codebook_and_surveys_validate() {
    let cb = codebook();
    assert_eq!(cb.variables.len(), 8);
    assert_eq!(cb.get("area").unwrap().kind, VarType::Categorical);
    assert_eq!(
        cb.get("income").unwrap().label_ar,
        "الدخل الشهري للأسرة (درهم)"
    );
    let base = import("survey_baseline.csv").unwrap();
    let fu = import("survey_followup.csv").unwrap();
    assert_eq!(base.records.len(), 5);
    let j = base.index("income").unwrap();
    assert_eq!(base.records[1].values[j], Cell::MissingCode(-98.0));
    let z = base.index("zscore").unwrap();
    assert_eq!(base.records[4].values[z], Cell::Blank);
    let d = base.index("interview_date").unwrap();
    assert_eq!(
        base.records[0].values[d],
        Cell::Value(survey::parse_date("2025-02-03").unwrap())
    );
    let all = base.merge(fu).unwrap();
    let inc = all.column("income", Round::Followup).unwrap();
    assert_eq!(inc.len(), 4);
    assert_eq!(inc[3], ("HH00005".to_string(), None));
    // Wide form: one row per unit, usable by the estimators.
    let wide = all.wide().unwrap();
    assert_eq!(wide.n_rows(), 5);
    let sel = wide
        .select(&["enrol", "enrol_bl", "zscore_bl"], &["unit_id"])
        .unwrap();
    assert_eq!((sel.n, sel.n_dropped), (3, 2));
    let fit = ols(OlsInput::new(
        sel.num("enrol").to_vec(),
        vec![sel.num("enrol_bl").to_vec()],
        vec!["enrol_bl".into()],
    ));
    assert!(fit.is_ok());
    assert_eq!(Factor::from_labels(sel.lab("unit_id")).n_levels(), 3);
}

#[test]
fn every_violation_is_reported_with_line_and_column() {
    let v = import("survey_invalid.csv").unwrap_err();
    let text: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    let has = |s: &str| text.iter().any(|t| t.contains(s));
    assert!(
        has("survey_invalid.csv line 1 column phone: '' column is not in the codebook"),
        "{text:#?}"
    );
    assert!(has(
        "line 2 column head_female: '2' is not an allowed code (0|1)"
    ));
    assert!(has(
        "line 3 column round: 'midline' is not baseline or followup"
    ));
    assert!(has("line 3 column area: '3' is not an allowed code (1|2)"));
    assert!(has(
        "line 3 column enrol: '1.5' is outside the allowed range 0..1"
    ));
    assert!(has("line 3 column income: 'abc' is not a number"));
    assert!(has(
        "line 3 column interview_date: '2025-02-30' is not a date YYYY-MM-DD"
    ));
    assert!(has(
        "line 4 column unit_id: 'HH00001' is interviewed twice in this round (first on line 2)"
    ));
    assert_eq!(v.len(), 8, "{text:#?}");
}

#[test]
fn codebook_errors_are_reported() {
    let cb = "variable,label_fr,label_ar,label_en,type,allowed,missing_codes\n\
              x,,,,numeric,5..1,\n\
              x,,,,binary,,\n\
              c,,,,categorical,a|b,\n\
              d,,,,text,,\n\
              m,,,,numeric,,-99|x\n";
    let v = Codebook::from_reader(cb.as_bytes(), "cb.csv").unwrap_err();
    let t: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    assert_eq!(t.len(), 5, "{t:#?}");
    assert!(t[0].starts_with("cb.csv line 2 column allowed: '5..1'"));
    assert!(t[1].contains("line 3 column variable: 'x' duplicates line 2"));
    assert!(t[2].contains("line 4 column allowed"));
    assert!(t[3].contains("line 5 column type: 'text'"));
    assert!(t[4].contains("line 6 column missing_codes"));
    // A file without a round column needs the round from the caller.
    let csv = "unit_id,hh_size,head_female,area,n_children,enrol,zscore,income,interview_date\nA,3,0,1,1,1,0,100,2025-03-01\n";
    assert!(survey::import(csv.as_bytes(), "s.csv", &codebook(), None).is_err());
    let d = survey::import(csv.as_bytes(), "s.csv", &codebook(), Some(Round::Followup)).unwrap();
    assert_eq!(d.records[0].round, Round::Followup);
}

#[test]
fn survey_cli_reports_violations_as_json() {
    let v = cli::survey(&SurveyArgs {
        codebook: example("survey_codebook.csv"),
        csv: example("survey_invalid.csv"),
        round: None,
    })
    .unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["violations"][1]["line"], 2);
    assert_eq!(v["violations"][1]["column"], "head_female");
}

#[test]
fn export_pseudonymises_and_round_trips() {
    let dir = scratch_dir("export");
    let p = pilot::generate(&PilotConfig::default()).unwrap();
    let data = dir.join("households.csv");
    p.households_csv(std::fs::File::create(&data).unwrap())
        .unwrap();
    let key = "a-secret-key-of-the-data-owner-42";
    std::fs::write(dir.join("key"), format!("{key}\n")).unwrap();
    let keep: Vec<String> = ["stratum", "treat", "takeup", "income_bl", "income"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let args = ExportArgs {
        csv: data.clone(),
        id: "hh_id".into(),
        keep,
        hash: vec!["douar".into()],
        key_file: dir.join("key"),
        out_csv: Some(dir.join("out.csv")),
        out_parquet: Some(dir.join("out.parquet")),
    };
    let v = cli::export(&args).unwrap();
    assert_eq!(v["rows"], 1200);
    assert_eq!(v["columns"][0]["name"], "pid");
    assert_eq!(v["columns"][3]["type"], "int64");
    let csv = std::fs::read_to_string(dir.join("out.csv")).unwrap();
    let pq = std::fs::read(dir.join("out.parquet")).unwrap();
    for secret in [key, "HH00001", "D01", &p.households[0].head_name] {
        assert!(!csv.contains(secret), "{secret} in csv");
        assert!(
            !pq.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} in parquet"
        );
    }
    assert!(csv.contains(&export::pseudonym(key.as_bytes(), "HH00001")));
    // Parquet structure: magic at both ends, footer length inside the file.
    assert_eq!(&pq[..4], b"PAR1");
    assert_eq!(&pq[pq.len() - 4..], b"PAR1");
    let footer = u32::from_le_bytes(pq[pq.len() - 8..pq.len() - 4].try_into().unwrap()) as usize;
    assert!(footer > 0 && footer + 12 < pq.len());
    // Same table in both files.
    let t = parquet::read(&pq).unwrap();
    let f = Frame::from_reader(csv.as_bytes(), "out.csv").unwrap();
    assert_eq!(t.n_rows(), f.n_rows());
    for col in &t.columns {
        let cells = f.column(&col.name).unwrap();
        for (i, cell) in cells.iter().enumerate() {
            let same = match &col.data {
                ColumnData::Int64(v) => cell.parse::<i64>().unwrap() == v[i],
                ColumnData::Double(v) if v[i].is_nan() => cell.is_empty(),
                ColumnData::Double(v) => cell.parse::<f64>().unwrap() == v[i],
                ColumnData::Utf8(v) => *cell == v[i],
            };
            assert!(same, "{} row {i}", col.name);
        }
    }
    // Identifiers are refused.
    let bad = ExportArgs {
        keep: vec!["head_name".into()],
        ..args
    };
    assert!(
        cli::export(&bad)
            .unwrap_err()
            .to_string()
            .contains("head_name")
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn report_cli_from_csv_files() {
    let dir = scratch_dir("report");
    let p = pilot::generate(&PilotConfig::default()).unwrap();
    let path = |n: &str| dir.join(n);
    p.households_csv(std::fs::File::create(path("hh.csv")).unwrap())
        .unwrap();
    p.panel_csv(std::fs::File::create(path("panel.csv")).unwrap())
        .unwrap();
    p.rd_csv(std::fs::File::create(path("rd.csv")).unwrap())
        .unwrap();
    // The arguments are JSON-deserialisable as the binary will pass them.
    let mut args = serde_json::to_value(ReportArgs {
        csv: path("hh.csv"),
        rd_csv: Some(path("rd.csv")),
        did_csv: Some(path("panel.csv")),
        spec: p.report_spec(),
        lang: Lang::En,
    })
    .unwrap();
    args["lang"] = "ar".into();
    let args: ReportArgs = serde_json::from_value(args).unwrap();
    let html = cli::report(&args).unwrap();
    assert!(html.contains("dir=\"rtl\"") && html.contains(&p.design_hash));
    // A wrong pre-registered hash is shown as a mismatch, not hidden.
    let mut wrong = args.clone();
    wrong.spec.design_hash = Some("00".repeat(32));
    wrong.lang = Lang::En;
    assert!(cli::report(&wrong).unwrap().contains("DOES NOT match"));
    std::fs::remove_dir_all(dir).unwrap();
}

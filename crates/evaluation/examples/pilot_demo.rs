//! Writes the synthetic pilot, its report (fr, ar, en) and the pseudonymised
//! export to a directory:
//! `cargo run -p sanad-evaluation --example pilot_demo -- OUT_DIR [seed]`.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use sanad_evaluation::export::{self, ExportSpec};
use sanad_evaluation::pilot::{self, PilotConfig};
use sanad_evaluation::report::{self, Lang};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().ok_or("usage: pilot_demo OUT_DIR [seed]")?);
    let mut config = PilotConfig::default();
    if let Some(seed) = args.next() {
        config.seed = seed.parse()?;
    }
    std::fs::create_dir_all(&out)?;
    let p = pilot::generate(&config)?;
    p.households_csv(BufWriter::new(File::create(
        out.join("pilot_households.csv"),
    )?))?;
    p.panel_csv(BufWriter::new(File::create(out.join("pilot_panel.csv"))?))?;
    p.rd_csv(BufWriter::new(File::create(out.join("pilot_rd.csv"))?))?;
    let (main, panel, rd) = p.frames()?;
    let r = report::analyse(&p.report_spec(), &main, Some(&rd), Some(&panel))?;
    for lang in [Lang::Fr, Lang::Ar, Lang::En] {
        let html = report::standalone_html(&r, lang);
        std::fs::write(out.join(format!("pilot_report_{}.html", lang.code())), html)?;
    }
    // Demo key only: a real key is secret and kept by the data owner.
    let key = b"demo-key-not-secret-0123456789";
    let keep: Vec<String> = [
        "stratum",
        "treat",
        "takeup",
        "observed",
        "hh_size",
        "head_female",
        "enrol_bl",
        "zscore_bl",
        "income_bl",
        "enrol",
        "zscore",
        "income",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let hash = vec!["douar".to_string()];
    let spec = ExportSpec {
        id: "hh_id",
        keep: &keep,
        hash: &hash,
        key,
    };
    let table = export::analysis_table(&main, &spec)?;
    export::write_csv(
        &table,
        BufWriter::new(File::create(out.join("pilot_analysis.csv"))?),
    )?;
    export::write_parquet(
        &table,
        BufWriter::new(File::create(out.join("pilot_analysis.parquet"))?),
    )?;
    println!("{}", serde_json::to_string_pretty(&p.truth)?);
    Ok(())
}

//! Writes the synthetic pilot, its report (fr, ar, en) and the pseudonymised export to a
//! directory: `cargo run -p sanad-evaluation --example pilot_demo -- OUT_DIR [seed]`
//! (the same as `sanad eval pilot --out OUT_DIR --seed SEED`).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().ok_or("usage: pilot_demo OUT_DIR [seed]")?);
    let seed = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(sanad_evaluation::pilot::PilotConfig::default().seed);
    let (_, truth) = sanad_evaluation::pilot::write_demo(&out, seed)?;
    println!("{}", serde_json::to_string_pretty(&truth)?);
    Ok(())
}

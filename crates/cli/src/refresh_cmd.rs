//! `sanad import scores`: a national RSU score refresh. The file is checked whole first (a bad
//! row stops everything, each reported with its line and field); then it is applied a chunk per
//! transaction, each chunk read and decided while the one before it is written. A run cut short
//! is resumed by running it again: rows already held change nothing.

use std::io::BufReader;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use sanad_applications::events::{ScoreUpdate, ScoreUpdates};

use crate::{commands, progress};

pub async fn refresh(
    file: &Path,
    url: &str,
    on: Option<chrono::NaiveDate>,
    by: &str,
    chunk: usize,
) -> anyhow::Result<ExitCode> {
    let today = chrono::Local::now().date_naive();
    let on = on.unwrap_or(today);
    // A household is read against today's date: a score computed "later" would make it
    // unreadable until then.
    anyhow::ensure!(
        on <= today,
        "--on {on} is after today ({today}): a refresh cannot be dated in the future; nothing applied"
    );
    let Some(updates) = read(file)? else {
        return Ok(ExitCode::FAILURE);
    };
    let store = commands::open_store(url).await?;
    let state =
        sanad_web::AppState::new(store, sanad_web::SecurityConfig::default()).with_today(on);
    let actor = commands::cli_actor(by);
    let bar = progress::count(updates.len() as u64, "scores");
    let mut total = sanad_web::service::RefreshSummary::default();
    let mut add = |s: sanad_web::service::RefreshSummary, rows: usize| {
        total.rows += s.rows;
        total.new_scores += s.new_scores;
        total.moved += s.moved;
        total.suspended += s.suspended;
        total.refused.extend(s.refused);
        bar.inc(rows as u64);
    };
    let in_file = |e: sanad_web::WebError| anyhow::anyhow!("{}: {e}", file.display());
    let (plan, save) = (
        |part| sanad_web::service::plan_refresh(&state, &actor, part, on),
        |plan| sanad_web::service::save_refresh(&state, &actor, plan),
    );
    // Each chunk is read and decided while the one before is written, on the second core,
    // unless the two share a household: its reads must then see the earlier chunk's writes.
    let mut previous: Option<(&[ScoreUpdate], sanad_web::service::RefreshPlan)> = None;
    for part in updates.chunks(chunk) {
        let planned = match previous.take() {
            Some((before, done)) if disjoint(before, part) => {
                let (saved, planned) = tokio::join!(save(done), plan(part));
                add(saved.map_err(in_file)?, before.len());
                planned
            }
            Some((before, done)) => {
                add(save(done).await.map_err(in_file)?, before.len());
                plan(part).await
            }
            None => plan(part).await,
        };
        previous = Some((part, planned.map_err(in_file)?));
    }
    if let Some((before, done)) = previous {
        add(save(done).await.map_err(in_file)?, before.len());
    }
    bar.finish_and_clear();
    for (line, reason) in &total.refused {
        eprintln!("{}:{line}: {reason}", file.display());
    }
    println!(
        "{} rows: {} new scores, {} households moved across the threshold (re-evaluated, {} suspended), {} rows refused",
        total.rows,
        total.new_scores,
        total.moved,
        total.suspended,
        total.refused.len()
    );
    Ok(if total.refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Whether two chunks name no household in common.
fn disjoint(a: &[ScoreUpdate], b: &[ScoreUpdate]) -> bool {
    let held: std::collections::HashSet<&str> = a.iter().map(|u| u.rsu_id.as_str()).collect();
    !b.iter().any(|u| held.contains(u.rsu_id.as_str()))
}

/// Every row of the file, or `None` after reporting each bad one.
fn read(file: &Path) -> anyhow::Result<Option<Vec<ScoreUpdate>>> {
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let bar = progress::bytes(f.metadata()?.len(), "checking");
    let rows = ScoreUpdates::new(
        &file.display().to_string(),
        BufReader::with_capacity(1 << 20, bar.wrap_read(f)),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (mut updates, mut errors) = (Vec::new(), 0usize);
    for row in rows {
        match row {
            Ok(u) => updates.push(u),
            Err(es) => {
                errors += es.len();
                for e in es {
                    eprintln!("{e}");
                }
            }
        }
    }
    bar.finish_and_clear();
    if errors > 0 {
        eprintln!("{errors} errors: nothing applied");
        return Ok(None);
    }
    Ok(Some(updates))
}

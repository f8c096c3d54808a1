//! `sanad rules …`, `sanad entitlement` and `sanad simulate`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use sanad_domain::Month;
use sanad_rules::explain::{self, Lang};
use sanad_rules::io::HouseholdInput;
use sanad_rules::{RuleBook, RuleSet};
use sanad_store::{RuleSetStatus, Scope, Store};

use crate::commands::open_store;
use crate::progress;

#[derive(Subcommand)]
pub enum RulesCmd {
    /// The shipped rule sets and those published in the database.
    List {
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = crate::DEFAULT_DB)]
        database_url: String,
    },
    /// Print a rule set (an id or a file) as TOML.
    Show { rule_set: String },
    /// Parameters that differ between two rule sets (ids or files).
    Diff { a: String, b: String },
    /// Check rule files; each error names its parameter.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Propose a rule file for publication (a second user must approve it).
    Publish {
        file: PathBuf,
        #[arg(long)]
        by: String,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = crate::DEFAULT_DB)]
        database_url: String,
    },
    /// Approve a proposed rule set; refused for the user who proposed it.
    Approve {
        id: String,
        #[arg(long)]
        by: String,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = crate::DEFAULT_DB)]
        database_url: String,
    },
}

fn read_rules(path: &Path) -> anyhow::Result<RuleSet> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    RuleSet::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A rule set named by a file path or by an id among the shipped ones.
fn resolve(name: &str) -> anyhow::Result<RuleSet> {
    if Path::new(name).exists() {
        return read_rules(Path::new(name));
    }
    RuleBook::shipped()
        .get(name)
        .cloned()
        .with_context(|| format!("no rule set or file named '{name}'"))
}

/// The shipped schedules, superseded by approved ones from the database on the same date.
pub async fn rule_book(store: &dyn Store) -> anyhow::Result<RuleBook> {
    let mut sets: Vec<RuleSet> = RuleBook::shipped().sets().to_vec();
    for s in store
        .rule_sets()
        .await?
        .into_iter()
        .filter(|s| s.status == RuleSetStatus::Approved)
    {
        let rs =
            RuleSet::from_toml(&s.body).with_context(|| format!("stored rule set {}", s.id))?;
        sets.retain(|x| x.effective_from != rs.effective_from);
        sets.push(rs);
    }
    Ok(RuleBook::new(sets)?)
}

pub async fn rules(cmd: RulesCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        RulesCmd::List { database_url } => {
            let store = open_store(&database_url).await?;
            println!("{:<22} {:<12} {:<10} title", "id", "effective", "status");
            for rs in RuleBook::shipped().sets() {
                println!(
                    "{:<22} {:<12} {:<10} {}",
                    rs.id, rs.effective_from, "shipped", rs.title
                );
            }
            for s in store.rule_sets().await? {
                let who = match &s.approved_by {
                    Some(a) => format!("by {} and {a}", s.proposed_by),
                    None => format!("by {}, awaiting approval", s.proposed_by),
                };
                println!(
                    "{:<22} {:<12} {:<10} ({who})",
                    s.id,
                    s.effective_from,
                    s.status.as_str()
                );
            }
        }
        RulesCmd::Show { rule_set } => print!("{}", resolve(&rule_set)?.to_toml()),
        RulesCmd::Diff { a, b } => {
            let changes = sanad_rules::diff::diff(&resolve(&a)?, &resolve(&b)?);
            for c in &changes {
                println!(
                    "{:<45} {:>14} → {}",
                    c.parameter,
                    c.before.as_deref().unwrap_or("—"),
                    c.after.as_deref().unwrap_or("—")
                );
            }
            if changes.is_empty() {
                println!("no differences");
            }
        }
        RulesCmd::Validate { files } => {
            let mut bad = 0;
            for f in &files {
                match read_rules(f) {
                    Ok(rs) => println!(
                        "{}: ok ({}, from {})",
                        f.display(),
                        rs.id,
                        rs.effective_from
                    ),
                    Err(e) => {
                        bad += 1;
                        println!("{e}");
                    }
                }
            }
            if bad > 0 {
                return Ok(ExitCode::FAILURE);
            }
        }
        RulesCmd::Publish {
            file,
            by,
            database_url,
        } => {
            let rs = read_rules(&file)?;
            let store = open_store(&database_url).await?;
            let body = std::fs::read_to_string(&file)?;
            store
                .propose_rule_set(
                    &rs.id,
                    rs.effective_from,
                    &body,
                    &crate::commands::cli_actor(&by),
                )
                .await?;
            println!(
                "rule set {} (from {}) proposed by {by}; another user must approve it: sanad rules approve {} --by USER",
                rs.id, rs.effective_from, rs.id
            );
        }
        RulesCmd::Approve {
            id,
            by,
            database_url,
        } => {
            let store = open_store(&database_url).await?;
            let s = store
                .approve_rule_set(&id, &crate::commands::cli_actor(&by))
                .await?;
            println!(
                "rule set {} approved by {by}; in force from {}",
                s.id, s.effective_from
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn entitlement(
    month: Month,
    rules: Option<PathBuf>,
    input: &Path,
    explain_in: Option<String>,
    book: &RuleBook,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(input)
        .with_context(|| format!("cannot read {}", input.display()))?;
    let household = HouseholdInput::from_json(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    let rs = match rules {
        Some(p) => read_rules(&p)?,
        None => book
            .for_month(month)
            .cloned()
            .with_context(|| format!("no rule set is in force in {month}"))?,
    };
    let (decision, _) = household.evaluate(&rs, month);
    let output = household.output(&rs, month, &decision);
    let Some(lang) = explain_in else {
        println!("{}", serde_json::to_string_pretty(&output)?);
        return Ok(ExitCode::SUCCESS);
    };
    let mut out = serde_json::to_value(output)?;
    {
        let lang = Lang::parse(&lang).with_context(|| format!("'{lang}' is not fr, ar or en"))?;
        let mut text = explain::reasons(&decision, &rs, household.score, lang);
        text.extend(explain::lines(&decision, lang));
        out["explanation"] = serde_json::json!(text);
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

pub struct Scenario {
    pub rules: Option<PathBuf>,
    pub threshold: Option<String>,
    pub set: Vec<String>,
}

pub async fn simulate(
    month: Month,
    url: &str,
    scenario: Scenario,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let store = open_store(url).await?;
    let book = rule_book(&*store).await?;
    let baseline = book
        .for_month(month)
        .cloned()
        .with_context(|| format!("no rule set is in force in {month}"))?;
    let mut sets: Vec<(String, String)> = scenario
        .set
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .with_context(|| format!("--set {s}: expected name=value"))
        })
        .collect::<anyhow::Result<_>>()?;
    if let Some(t) = scenario.threshold {
        sets.push(("eligibility.score_threshold".into(), t));
    }
    let scn = match scenario.rules {
        Some(p) => read_rules(&p)?.with_overrides(&sets)?,
        None if sets.is_empty() => {
            bail!("give a scenario: --rules FILE, --threshold X or --set name=value")
        }
        None => baseline.with_overrides(&sets)?,
    };
    let bar = progress::count(0, "loading");
    let load = std::time::Instant::now();
    let pop = store
        .load_population(&Scope::National, &|n| bar.set_position(n))
        .await?;
    bar.finish_and_clear();
    let loaded = load.elapsed();
    let run = std::time::Instant::now();
    let report = sanad_analytics::simulate(&pop, &baseline, &scn, month);
    let ran = run.elapsed();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", crate::report::simulation_table(&report));
    }
    eprintln!(
        "{} households loaded in {loaded:.1?}; both rule sets evaluated in {ran:.2?}",
        pop.households.len()
    );
    Ok(ExitCode::SUCCESS)
}

//! `sanad pilot …` (issue 7): evaluation designs registered and assigned, the measures
//! catalogue and rollout plan loaded and shown. The CLI acts as the user `--by` (their role
//! applies) through the same service functions as the pages.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use sanad_store::Store;
use sanad_web::auth::{Principal, Via};
use sanad_web::service::pilot_admin as admin;

use crate::DEFAULT_DB;
use crate::commands::{cli_actor, open_store};

#[derive(Subcommand)]
pub enum PilotCmd {
    /// Pre-registered evaluation designs.
    Design {
        #[command(subcommand)]
        cmd: DesignCmd,
    },
    /// The measures catalogue and the antenna rollout plan.
    Catalogue {
        #[command(subcommand)]
        cmd: CatalogueCmd,
    },
    /// Survey outcomes into the database, and the pseudonymised analysis dataset out of it.
    Outcomes {
        #[command(subcommand)]
        cmd: OutcomesCmd,
    },
}

#[derive(Subcommand)]
pub enum OutcomesCmd {
    /// Import a baseline or follow-up survey round (CSV) checked against its codebook; whole
    /// or nothing, every problem printed with its line; a round imported again is replaced.
    Import {
        file: PathBuf,
        #[arg(long)]
        codebook: PathBuf,
        /// `baseline` or `followup`.
        #[arg(long)]
        round: String,
        #[arg(long)]
        by: String,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
    /// Write a design's analysis dataset (assignment, survey rounds, payments received,
    /// school-enrolment list) pseudonymised with the key in `--key-file`, for `sanad eval`.
    Export {
        design: String,
        #[arg(long)]
        key_file: PathBuf,
        #[arg(long)]
        out_csv: Option<PathBuf>,
        #[arg(long)]
        out_parquet: Option<PathBuf>,
        /// Start of the follow-up window of the administrative outcomes (default: the
        /// design's registration date).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// End of the window (default: each outcome list's as_of date).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        #[arg(long)]
        by: String,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
}

#[derive(Subcommand)]
pub enum DesignCmd {
    /// Check and register a design file (JSON or TOML, docs/formats.md); prints its SHA-256.
    Register {
        file: PathBuf,
        #[arg(long)]
        by: String,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
    /// Draw a registered design's assignment over the eligible households and store it (once);
    /// prints the units per arm as JSON.
    Assign {
        id: String,
        #[arg(long)]
        by: String,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
}

#[derive(Subcommand)]
pub enum CatalogueCmd {
    /// Check a catalogue file (measures and rollout plan, JSON or TOML) and store it whole.
    Load {
        file: PathBuf,
        #[arg(long)]
        by: String,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
    /// Print the stored catalogue and rollout plan as JSON, in the format `load` reads.
    Show {
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
}

/// The CLI acting as the user `by`, with their role and scope.
pub(crate) async fn principal(store: &dyn Store, by: &str) -> anyhow::Result<Principal> {
    let u = store
        .user(by)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| anyhow::anyhow!("--by: no active user '{by}'"))?;
    Ok(Principal {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role,
        scope: u.scope.clone(),
        locale: sanad_web::i18n::Locale::En,
        via: Via::Token {
            id: "cli-pilot".into(),
            scopes: vec!["pilot:write".into(), "stats:read".into()],
        },
    })
}

fn read(file: &Path) -> anyhow::Result<(String, String)> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok((name, text))
}

/// A refused or invalid request is the user's error (exit 2), with the service's message.
fn refused(e: sanad_web::WebError, by: &str) -> anyhow::Result<ExitCode> {
    match e {
        sanad_web::WebError::Forbidden => eprintln!("error: '{by}' may not do this (role)"),
        sanad_web::WebError::NotFound => eprintln!("error: not found"),
        sanad_web::WebError::Store(e) => return Err(e.into()),
        other => eprintln!("error: {other}"),
    }
    Ok(ExitCode::from(2))
}

pub async fn pilot(cmd: PilotCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        PilotCmd::Design {
            cmd:
                DesignCmd::Register {
                    file,
                    by,
                    database_url,
                },
        } => {
            let (name, text) = read(&file)?;
            let store = open_store(&database_url).await?;
            let p = principal(&*store, &by).await?;
            let state = sanad_web::AppState::new(store, sanad_web::SecurityConfig::default());
            match admin::register_design(&state, &p, &cli_actor(&by), &name, &text).await {
                Ok(row) => {
                    println!("{} {}", row.hash, row.id);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e, &by),
            }
        }
        PilotCmd::Design {
            cmd:
                DesignCmd::Assign {
                    id,
                    by,
                    database_url,
                },
        } => {
            let store = open_store(&database_url).await?;
            let p = principal(&*store, &by).await?;
            let state = sanad_web::AppState::new(store, sanad_web::SecurityConfig::default());
            match admin::assign_design(&state, &p, &cli_actor(&by), &id).await {
                Ok(counts) => {
                    let arms: serde_json::Map<String, serde_json::Value> =
                        counts.into_iter().map(|(a, n)| (a, n.into())).collect();
                    println!("{}", serde_json::json!({ "design": id, "arms": arms }));
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e, &by),
            }
        }
        PilotCmd::Catalogue {
            cmd:
                CatalogueCmd::Load {
                    file,
                    by,
                    database_url,
                },
        } => {
            let (name, text) = read(&file)?;
            let store = open_store(&database_url).await?;
            let p = principal(&*store, &by).await?;
            let state = sanad_web::AppState::new(store, sanad_web::SecurityConfig::default());
            match admin::load_catalogue(&state, &p, &cli_actor(&by), &name, &text).await {
                Ok(pilot) => {
                    println!(
                        "catalogue {}: {} measures; rollout plan: {} antennas in {} waves",
                        pilot.catalogue.version(),
                        pilot.catalogue.measures().len(),
                        pilot.plan.antennas().len(),
                        pilot.plan.waves()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e, &by),
            }
        }
        PilotCmd::Outcomes {
            cmd:
                OutcomesCmd::Import {
                    file,
                    codebook,
                    round,
                    by,
                    database_url,
                },
        } => {
            let (name, text) = read(&file)?;
            let (cb_name, cb_text) = read(&codebook)?;
            let store = open_store(&database_url).await?;
            let p = principal(&*store, &by).await?;
            let state = sanad_web::AppState::new(store, sanad_web::SecurityConfig::default());
            match admin::import_outcomes(
                &state,
                &p,
                &cli_actor(&by),
                (&cb_name, &cb_text),
                (&name, &text),
                &round,
            )
            .await
            {
                Ok(done) => {
                    println!(
                        "{name}: {} round of {} households ({} cells) imported; sha256 {}",
                        done.round, done.households, done.cells, done.sha256
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(sanad_web::WebError::Invalid(lines)) => {
                    eprintln!("{lines}");
                    eprintln!("{name}: nothing imported");
                    Ok(ExitCode::from(2))
                }
                Err(e) => refused(e, &by),
            }
        }
        PilotCmd::Outcomes {
            cmd:
                OutcomesCmd::Export {
                    design,
                    key_file,
                    out_csv,
                    out_parquet,
                    from,
                    to,
                    by,
                    database_url,
                },
        } => {
            anyhow::ensure!(
                out_csv.is_some() || out_parquet.is_some(),
                "give --out-csv, --out-parquet or both"
            );
            let key = std::fs::read(&key_file)
                .with_context(|| format!("cannot read {}", key_file.display()))?;
            let key = key.trim_ascii_end();
            let store = open_store(&database_url).await?;
            let p = principal(&*store, &by).await?;
            let state = sanad_web::AppState::new(store, sanad_web::SecurityConfig::default());
            let table = match admin::analysis_dataset(
                &state,
                &p,
                &design,
                key,
                sanad_web::service::pilot_outcomes::Window { from, to },
            )
            .await
            {
                Ok(t) => t,
                Err(e) => return refused(e, &by),
            };
            if let Some(path) = &out_csv {
                let f = std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                sanad_evaluation::export::write_csv(&table, std::io::BufWriter::new(f))?;
            }
            if let Some(path) = &out_parquet {
                let f = std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                sanad_evaluation::export::write_parquet(&table, std::io::BufWriter::new(f))?;
            }
            let rows = table.n_rows();
            let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            println!(
                "{}",
                serde_json::json!({ "design": design, "rows": rows, "columns": columns })
            );
            Ok(ExitCode::SUCCESS)
        }
        PilotCmd::Catalogue {
            cmd: CatalogueCmd::Show { database_url },
        } => {
            let store = open_store(&database_url).await?;
            let state = sanad_web::AppState::new(store, sanad_web::SecurityConfig::default());
            let pilot = sanad_web::service::pilot::stored_pilot(&state)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let Some(pilot) = pilot else {
                eprintln!("no pilot catalogue is stored yet");
                return Ok(ExitCode::from(2));
            };
            // The catalogue file's own format, so what is shown can be edited and loaded again.
            let mut json = serde_json::to_value(&pilot.catalogue)?;
            if let (Some(out), serde_json::Value::Object(plan)) =
                (json.as_object_mut(), serde_json::to_value(&pilot.plan)?)
            {
                out.extend(plan);
            }
            println!("{}", serde_json::to_string_pretty(&json)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

//! `sanad`: the one binary. Each subcommand parses its arguments, opens what it needs and
//! hands over to a library crate; no domain logic lives here.

mod admin_cmd;
mod bench;
mod bench_payroll;
mod demo_apps;
// pilot (issue 7)
mod commands;
mod demo_pilot;
mod eval_cmd;
mod notify_cmd;
mod payroll_cmd;
// pilot administration (issue 7)
mod pilot_cmd;
mod progress;
mod refresh_cmd;
mod report;
mod rules_cmd;

use std::path::PathBuf;

/// mimalloc for every allocation, SQLite's included (`override`): bulk paths allocate a value
/// per cell on two threads, and glibc's allocator spent a third of a national refresh's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

pub const DEFAULT_DB: &str = "sqlite://sanad.db";

#[derive(Parser)]
#[command(
    name = "sanad",
    version,
    about = "Sanad — direct social aid, end to end"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reset ./sanad-demo.db, synthesise and import a population, and serve it.
    Demo {
        #[arg(long, default_value_t = 20_000)]
        households: u64,
        #[arg(long, default_value_t = 8080)]
        port: u16,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Prepare the database and exit without serving.
        #[arg(long)]
        no_serve: bool,
        /// Monthly payroll cycles to run, ending with the current month (payment files and
        /// simulated bank returns under ./sanad-demo-payments/).
        #[arg(long, default_value_t = 3)]
        cycles: u32,
        /// Take the demo's "today" to be this date (YYYY-MM-DD) instead of the clock's.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
    },
    /// Serve the web application and API.
    Serve {
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Send cookies without the Secure flag, for a server reached over plain HTTP
        /// (behind TLS, leave this off).
        #[arg(long, env = "SANAD_INSECURE_COOKIES")]
        insecure_cookies: bool,
        #[command(flatten)]
        outbox: commands::OutboxArgs,
    },
    /// Impact-evaluation estimators on a CSV file, printing JSON.
    Eval {
        #[command(subcommand)]
        cmd: eval_cmd::EvalCmd,
    },
    /// The monthly payroll: prepare (maker), approve (checker), release (payment files), status.
    Payroll {
        #[command(subcommand)]
        cmd: payroll_cmd::PayrollCmd,
    },
    /// Bank return files (pain.002, camt.054).
    Payments {
        #[command(subcommand)]
        cmd: payroll_cmd::PaymentsCmd,
    },
    /// Cross-check lists from other administrations, for verifying applications.
    Lists {
        #[command(subcommand)]
        cmd: admin_cmd::ListsCmd,
    },
    /// Users and access.
    Admin {
        #[command(subcommand)]
        cmd: admin_cmd::AdminCmd,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        cmd: admin_cmd::AuditCmd,
    },
    /// Import a feed file.
    Import {
        #[command(subcommand)]
        feed: ImportFeed,
    },
    /// Write a synthetic national population in the RSU feed format.
    Synth {
        #[arg(long)]
        households: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// Share of households carrying one deliberate data error (0–1).
        #[arg(long, default_value_t = 0.01)]
        dirt_rate: f64,
        /// The feed's extract date (default: today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
    },
    /// Rule sets: list, show, diff, validate, publish, approve.
    Rules {
        #[command(subcommand)]
        cmd: rules_cmd::RulesCmd,
    },
    /// Compute one household's entitlement for a month (JSON in, JSON out; docs/entitlement.md).
    Entitlement {
        #[arg(long)]
        month: sanad_domain::Month,
        /// A rule file; default: the shipped rule set in force that month.
        #[arg(long)]
        rules: Option<PathBuf>,
        #[arg(long)]
        input: PathBuf,
        /// Add the decision in words, in fr, ar or en.
        #[arg(long)]
        explain: Option<String>,
        /// Also use the rule sets approved in this database (default: the shipped ones only).
        #[arg(long, env = "SANAD_DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Cost and effect of a rule change over the whole registry, against the rules in force.
    Simulate {
        #[arg(long)]
        month: sanad_domain::Month,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
        /// A scenario rule file (overrides apply on top of it).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Shorthand for --set eligibility.score_threshold=X.
        #[arg(long)]
        threshold: Option<String>,
        /// Change one parameter: --set child.bands[0].young_or_in_school=350
        #[arg(long = "set")]
        set: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// The notification outbox: deliver due messages.
    Notify {
        #[command(subcommand)]
        cmd: notify_cmd::NotifyCmd,
    },
    /// Applications: bulk intake from a CSV file.
    Applications {
        #[command(subcommand)]
        cmd: notify_cmd::ApplicationsCmd,
    },
    /// The accompanying-measures pilot: evaluation designs, the catalogue and rollout plan.
    Pilot {
        #[command(subcommand)]
        cmd: pilot_cmd::PilotCmd,
    },
    /// Measure lookups against a database (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        what: bench::Bench,
    },
}

#[derive(Subcommand)]
enum ImportFeed {
    /// RSU/RNP households (JSON lines, docs/formats.md).
    Rsu {
        file: PathBuf,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
        /// Check every row and report, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Apply nothing unless every row is valid.
        #[arg(long, conflicts_with = "dry_run")]
        all_or_nothing: bool,
        /// Where to write every rejected row as CSV (default: <file>.rejected.csv).
        #[arg(long)]
        rejects: Option<PathBuf>,
        #[arg(long, default_value_t = 5_000)]
        batch_size: usize,
    },
    /// A national RSU score refresh (CSV: rsu_id,score,computed_on,valid_from; docs/formats.md).
    Scores {
        file: PathBuf,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
        /// The day the refresh is taken (default: today).
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
        /// Who runs it, for the audit log (default: the system account).
        #[arg(long, default_value = "rsu-feed")]
        by: String,
        /// Rows per transaction.
        #[arg(long, default_value_t = 100_000)]
        chunk: usize,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SANAD_LOG")
                .unwrap_or_else(|_| "info,sqlx=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<std::process::ExitCode> {
    use commands::*;
    match command {
        Command::Demo {
            households,
            port,
            seed,
            no_serve,
            cycles,
            as_of,
        } => demo(households, port, seed, no_serve, cycles, as_of).await,
        Command::Serve {
            database_url,
            bind,
            port,
            insecure_cookies,
            outbox,
        } => serve(&database_url, &bind, port, !insecure_cookies, outbox).await,
        Command::Notify { cmd } => notify_cmd::notify(cmd).await,
        Command::Applications { cmd } => notify_cmd::applications(cmd).await,
        Command::Admin { cmd } => admin_cmd::admin(cmd).await,
        Command::Lists { cmd } => admin_cmd::lists(cmd).await,
        Command::Eval { cmd } => eval_cmd::eval(cmd),
        Command::Payroll { cmd } => payroll_cmd::payroll(cmd).await,
        Command::Payments { cmd } => payroll_cmd::payments(cmd).await,
        Command::Audit { cmd } => admin_cmd::audit(cmd).await,
        Command::Import {
            feed:
                ImportFeed::Rsu {
                    file,
                    database_url,
                    dry_run,
                    all_or_nothing,
                    rejects,
                    batch_size,
                },
        } => {
            import_rsu(
                &file,
                &database_url,
                dry_run,
                all_or_nothing,
                rejects,
                batch_size,
            )
            .await
        }
        Command::Import {
            feed:
                ImportFeed::Scores {
                    file,
                    database_url,
                    on,
                    by,
                    chunk,
                },
        } => refresh_cmd::refresh(&file, &database_url, on, &by, chunk.max(1)).await,
        Command::Synth {
            households,
            seed,
            out,
            dirt_rate,
            as_of,
        } => synth(households, seed, &out, dirt_rate, as_of),
        Command::Bench { what } => bench::run(what).await,
        Command::Pilot { cmd } => pilot_cmd::pilot(cmd).await,
        Command::Rules { cmd } => rules_cmd::rules(cmd).await,
        Command::Entitlement {
            month,
            rules,
            input,
            explain,
            database_url,
        } => {
            let book = match &database_url {
                Some(url) => {
                    sanad_payroll::run::rule_book(&*commands::open_store(url).await?).await?
                }
                None => sanad_rules::RuleBook::shipped(),
            };
            rules_cmd::entitlement(month, rules, &input, explain, &book)
        }
        Command::Simulate {
            month,
            database_url,
            rules,
            threshold,
            set,
            json,
        } => {
            rules_cmd::simulate(
                month,
                &database_url,
                rules_cmd::Scenario {
                    rules,
                    threshold,
                    set,
                },
                json,
            )
            .await
        }
    }
}

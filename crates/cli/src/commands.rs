//! The subcommands' bodies.

use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use sanad_domain::Month;
use sanad_registry::import::{self, ImportOptions, ImportReport, Mode};
use sanad_store::Store;

use crate::progress;

/// Open the store a URL names: `postgres://…` or `sqlite://path` (a bare path means SQLite).
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(sanad_store_postgres::PgStore::open(url).await?))
    } else {
        Ok(Arc::new(sanad_store_sqlite::SqliteStore::open(url).await?))
    }
}

/// The audit identity of a command-line action: the user named by `--by` (or the operating
/// system account) and a request id that ties together what one invocation did.
pub fn cli_actor(user: &str) -> sanad_store::Actor {
    let at = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    sanad_store::Actor::new(user, format!("cli-{at}-{}", std::process::id()))
}

pub fn synth(
    households: u64,
    seed: u64,
    out: &Path,
    dirt_rate: f64,
    as_of: Option<chrono::NaiveDate>,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&dirt_rate),
        "--dirt-rate must be between 0 and 1, got {dirt_rate}"
    );
    let cfg = sanad_synth::SynthConfig {
        households,
        seed,
        as_of: as_of.unwrap_or_else(today),
        dirt_rate,
    };
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let bar = progress::count(households, "synth");
    let stats = sanad_synth::write_feed(&cfg, BufWriter::with_capacity(1 << 20, file), |done| {
        bar.set_position(done)
    })
    .with_context(|| format!("writing {}", out.display()))?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {} households, {} persons ({} with a deliberate error) to {}",
        stats.households,
        stats.persons,
        stats.dirty,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

/// Exit status 0 when every row was good, 2 when some were rejected (the rest applied).
pub async fn import_rsu(
    file: &Path,
    url: &str,
    dry_run: bool,
    all_or_nothing: bool,
    rejects: Option<PathBuf>,
    batch_size: usize,
) -> anyhow::Result<ExitCode> {
    let store = open_store(url).await?;
    let mode = match (dry_run, all_or_nothing) {
        (true, _) => Mode::DryRun,
        (_, true) => Mode::AllOrNothing,
        _ => Mode::GoodRows,
    };
    let report = import_with_bar(store, file, mode, batch_size).await?;
    print_report(&report);
    if report.rejected.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let path = rejects.unwrap_or_else(|| import::rejects_path(file));
    write_rejects(&report, &path)?;
    eprintln!("every rejected row is listed in {}", path.display());
    Ok(ExitCode::from(2))
}

pub async fn import_with_bar(
    store: Arc<dyn Store>,
    file: &Path,
    mode: Mode,
    batch_size: usize,
) -> anyhow::Result<ImportReport> {
    let bar = progress::bytes(import::file_len(file), "import");
    let opts = ImportOptions {
        mode,
        batch_size,
        as_of: None,
    };
    let started = std::time::Instant::now();
    let report = import::import_file(file, store, &opts, |p| match p {
        import::Progress::Bytes(b) => bar.set_position(b),
        import::Progress::BuildingIndexes => {
            tracing::debug!(secs = started.elapsed().as_secs_f64(), "rows written");
            progress::spin(&bar, "building indexes");
        }
    })
    .await?;
    tracing::debug!(secs = started.elapsed().as_secs_f64(), "import done");
    bar.finish_and_clear();
    Ok(report)
}

fn print_report(r: &ImportReport) {
    let verb = if r.applied {
        "applied"
    } else {
        "checked (nothing written)"
    };
    eprintln!(
        "{}: {} households read, {verb}: {} new, {} updated, {} unchanged, {} rejected",
        r.file,
        r.households_read,
        r.inserted,
        r.updated,
        r.unchanged,
        r.rejected.len()
    );
    for rej in r.rejected.iter().take(20) {
        eprintln!("  {rej}");
    }
    if r.rejected.len() > 20 {
        eprintln!("  … and {} more", r.rejected.len() - 20);
    }
}

fn write_rejects(r: &ImportReport, path: &Path) -> anyhow::Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record(["file", "line", "rsu_id", "field", "reason"])?;
    for x in &r.rejected {
        w.write_record([
            x.file.as_str(),
            &x.line.to_string(),
            x.rsu_id.as_deref().unwrap_or(""),
            &x.field,
            &x.reason,
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// The server's notifications: templates, and the background delivery of the outbox.
#[derive(clap::Args, Clone)]
pub struct OutboxArgs {
    /// Where the outbox worker delivers: `file:PATH` (JSON lines) or an SMS gateway's `http://host:port/path`.
    #[arg(long, env = "SANAD_NOTIFY_SENDER", default_value = crate::notify_cmd::DEFAULT_SENDER)]
    pub notify_sender: String,
    /// Seconds between two deliveries of due messages; 0: no worker in this process (run `sanad notify send`).
    #[arg(long, default_value_t = 60)]
    pub notify_every: u64,
    /// Notification templates overriding the defaults (see docs/applications.md).
    #[arg(long, env = "SANAD_TEMPLATES")]
    pub templates: Option<PathBuf>,
}

pub async fn serve(
    url: &str,
    bind: &str,
    port: u16,
    secure_cookies: bool,
    outbox: OutboxArgs,
) -> anyhow::Result<ExitCode> {
    let store = open_store(url).await?;
    if store.users().await?.is_empty() {
        println!(
            "no user yet: create the first administrator with `sanad admin create-user --username NAME --display-name \"…\"`"
        );
    }
    listen(store, bind, port, secure_cookies, outbox).await
}

async fn listen(
    store: Arc<dyn Store>,
    bind: &str,
    port: u16,
    secure_cookies: bool,
    outbox: OutboxArgs,
) -> anyhow::Result<ExitCode> {
    let cfg = crate::notify_cmd::notify_config(outbox.templates.as_deref())?;
    if outbox.notify_every > 0 {
        let sender = sanad_web::notify::sender_from_spec(&outbox.notify_sender)
            .map_err(|e| anyhow::anyhow!("--notify-sender: {e}"))?;
        sanad_web::notify::spawn_worker(
            store.clone(),
            sender,
            cfg.retry,
            std::time::Duration::from_secs(outbox.notify_every),
        );
        println!(
            "notifications: delivered every {}s to {}",
            outbox.notify_every, outbox.notify_sender
        );
    }
    let listener = tokio::net::TcpListener::bind((bind, port))
        .await
        .with_context(|| format!("cannot listen on {bind}:{port}"))?;
    let addr = listener.local_addr()?;
    println!("Sanad is running at http://{addr}/  (Ctrl-C to stop)");
    let security = sanad_web::SecurityConfig {
        secure_cookies,
        ..Default::default()
    };
    sanad_web::serve(
        sanad_web::AppState::new(store, security).with_notify(cfg),
        listener,
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// The demo's shared password (printed with the accounts; never used outside the demo).
pub const DEMO_PASSWORD: &str = "sanad-demo-2026";

/// One account per role. Antenna roles see one region (Casablanca-Settat) or one antenna.
pub const DEMO_ACCOUNTS: [(&str, &str, &str, &str); 9] = [
    ("agent", "Amina Agent", "antenna_agent", "regions:06"),
    (
        "supervisor",
        "Said Superviseur",
        "antenna_supervisor",
        "regions:06",
    ),
    (
        "appeals",
        "Rachid Recours",
        "appeals_officer",
        "regions:06,07",
    ),
    ("payments", "Nadia Paiements", "payment_officer", "national"),
    (
        "approver",
        "Karim Ordonnateur",
        "payment_approver",
        "national",
    ),
    ("analyst", "Leila Analyste", "me_analyst", "national"),
    ("auditor", "Omar Auditeur", "auditor", "national"),
    ("admin", "Admin Sanad", "administrator", "national"),
    (
        "agent-tanger",
        "Youssef Agent Tanger",
        "antenna_agent",
        "regions:01",
    ),
];

pub async fn create_demo_accounts(store: &dyn Store) -> anyhow::Result<()> {
    let hash = sanad_web::auth::hash_password(DEMO_PASSWORD);
    for (username, name, role, scope) in DEMO_ACCOUNTS {
        let role = sanad_domain::Role::parse(role).map_err(anyhow::Error::msg)?;
        let scope = sanad_store::Scope::parse(scope).map_err(anyhow::Error::msg)?;
        let mut u = sanad_web::service::new_user(username, name, role, scope, "fr", "unused");
        u.password_hash = hash.clone();
        store.create_user(&u, &cli_actor("demo")).await?;
    }
    Ok(())
}

pub const DEMO_DB: &str = "sanad-demo.db";
pub const DEMO_FEED: &str = "sanad-demo.rsu.jsonl";
/// Payment files and bank returns of the demo's cycles.
/// Where the demo's notices are delivered (one JSON line per message).
pub const DEMO_OUTBOX: &str = "sanad-demo-outbox.jsonl";
pub const DEMO_PAYMENTS: &str = "sanad-demo-payments";
/// The accompanying-measures pilot: data, evaluation report, pseudonymised export.
pub const DEMO_PILOT: &str = "sanad-demo-pilot";

/// Households that apply on the demo's last day; the others applied before its first cycle.
const DEMO_TODAYS_APPLICATIONS: usize = 300;

/// The programme's recent past, as it would have happened: households apply during the
/// first cycle's month (those the checks cannot settle wait for an agent, who reviews them
/// early the next month — so the next cycle pays their first month as arrears); each month's
/// payroll is prepared, approved, released and answered by the banks; and on `today` a last
/// wave applies, taken after this month's payroll, some still in the review queue. Early this
/// month, agents declare a few births and deaths of last month, which this cycle settles.
async fn demo_history(
    store: &Arc<dyn Store>,
    today: chrono::NaiveDate,
    cycles: u32,
) -> anyhow::Result<()> {
    use crate::demo_apps;
    let all = demo_apps::households(&**store).await?;
    let (backlog, todays) = all.split_at(all.len().saturating_sub(DEMO_TODAYS_APPLICATIONS));
    let current = Month::of(today);
    let first = current.plus(1 - cycles.max(1) as i32);
    let opened = first.first_day();
    // The year's appropriation by component, about 7 000 MAD a household (29 bn MAD for the
    // national caseload, scaled), so that budget control and its chart have something to show.
    const SHARES: [(&str, i64); 7] = [
        ("child_allowance", 55),
        ("orphan_allowance", 3),
        ("disability_supplement", 2),
        ("floor_top_up", 10),
        ("flat_rate", 25),
        ("birth_grant", 2),
        ("school_start_grant", 3),
    ];
    for year in [first.year(), current.year()] {
        for (component, percent) in SHARES {
            store
                .set_appropriation(
                    year,
                    component,
                    all.len() as i64 * 7_000_00 * percent / 100,
                    &cli_actor("budget"),
                )
                .await?;
        }
    }
    demo_apps::import_lists(&**store, &all, opened).await?;
    let taken = demo_apps::take(store, backlog, |i| {
        (opened + chrono::Duration::days((i % 20) as i64)).min(today)
    })
    .await?;
    println!("applications in {first}: {taken}");
    for back in (0..cycles as i32).rev() {
        let month = current.plus(-back);
        if month == first.next() {
            let reviewed =
                demo_apps::review(store, month.first_day() + chrono::Duration::days(4)).await?;
            println!("review queue worked through early {month}: {reviewed} applications decided");
        }
        if month == current && month != first {
            println!(
                "life events: {}",
                demo_apps::events(
                    store,
                    backlog,
                    (month.first_day() + chrono::Duration::days(2)).min(today)
                )
                .await?
            );
        }
        crate::payroll_cmd::demo_cycle(&**store, Path::new(DEMO_PAYMENTS), month).await?;
    }
    demo_apps::import_lists(&**store, &all, today).await?;
    let taken = demo_apps::take(store, todays, |_| today).await?;
    println!("applications on {today}: {taken}; cross-check lists imported");
    Ok(())
}

pub async fn demo(
    households: u64,
    port: u16,
    seed: u64,
    no_serve: bool,
    cycles: u32,
    as_of: Option<chrono::NaiveDate>,
) -> anyhow::Result<ExitCode> {
    if Path::new(DEMO_PAYMENTS).exists() {
        std::fs::remove_dir_all(DEMO_PAYMENTS)
            .with_context(|| format!("cannot reset {DEMO_PAYMENTS}"))?;
    }
    if Path::new(DEMO_OUTBOX).exists() {
        std::fs::remove_file(DEMO_OUTBOX).with_context(|| format!("cannot reset {DEMO_OUTBOX}"))?;
    }
    for suffix in ["", "-wal", "-shm", "-load"] {
        let p = format!("{DEMO_DB}{suffix}");
        if Path::new(&p).exists() {
            std::fs::remove_file(&p).with_context(|| format!("cannot reset {p}"))?;
        }
    }
    synth(households, seed, Path::new(DEMO_FEED), 0.01, None)?;
    let store = open_store(&format!("sqlite://{DEMO_DB}")).await?;
    let report =
        import_with_bar(store.clone(), Path::new(DEMO_FEED), Mode::GoodRows, 5_000).await?;
    print_report(&report);
    println!(
        "demo database: {DEMO_DB} ({} households imported; rejected rows show the import's checks)",
        report.inserted
    );
    create_demo_accounts(&*store).await?;
    demo_history(&store, as_of.unwrap_or_else(today), cycles).await?;
    crate::demo_pilot::demo_pilot(store.clone(), as_of.unwrap_or_else(today)).await?;
    sanad_evaluation::pilot::write_demo(Path::new(DEMO_PILOT), 11)?;
    println!(
        "pilot evaluation: {DEMO_PILOT}/pilot_report_fr.html (also _ar, _en), data and pseudonymised export beside it"
    );
    println!("demo accounts (password for all: {DEMO_PASSWORD}):");
    for (username, name, role, scope) in DEMO_ACCOUNTS {
        println!("  {username:<13} {role:<19} {scope:<14} {name}");
    }
    if no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    // The demo listens on localhost over plain HTTP: cookies cannot be Secure there. Its
    // notices go to a file, every 10 seconds.
    let outbox = OutboxArgs {
        notify_sender: format!("file:{DEMO_OUTBOX}"),
        notify_every: 10,
        templates: None,
    };
    listen(store, "127.0.0.1", port, false, outbox).await
}

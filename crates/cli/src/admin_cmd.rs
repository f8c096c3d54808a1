//! `sanad admin create-user` (the first administrator on a fresh server) and
//! `sanad audit verify`.

use std::io::BufRead;
use std::process::ExitCode;

use clap::Subcommand;
use sanad_domain::Role;
use sanad_store::{Scope, Store};

use crate::DEFAULT_DB;
use crate::commands::{cli_actor, open_store};

#[derive(Subcommand)]
pub enum AdminCmd {
    /// Create a user. The password is read from SANAD_NEW_PASSWORD, else from the first line of stdin.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// antenna_agent, antenna_supervisor, appeals_officer, payment_officer, payment_approver, me_analyst, auditor or administrator.
        #[arg(long, default_value = "administrator")]
        role: String,
        /// national, regions:01,04 or antennas:01.511.
        #[arg(long, default_value = "national")]
        scope: String,
        #[arg(long, default_value = "fr")]
        locale: String,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Check the audit log's hash chain; exit 1 if any record was modified, inserted or deleted.
    Verify {
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
        /// The head hash recorded earlier, to detect records removed from the end.
        #[arg(long)]
        expect_head: Option<String>,
    },
}

pub async fn admin(cmd: AdminCmd) -> anyhow::Result<ExitCode> {
    let AdminCmd::CreateUser {
        username,
        display_name,
        role,
        scope,
        locale,
        database_url,
    } = cmd;
    let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("--role: {e}"))?;
    let scope = Scope::parse(&scope).map_err(|e| anyhow::anyhow!("--scope: {e}"))?;
    let password = match std::env::var("SANAD_NEW_PASSWORD") {
        Ok(p) => p,
        Err(_) => std::io::stdin()
            .lock()
            .lines()
            .next()
            .transpose()?
            .unwrap_or_default(),
    };
    sanad_web::auth::check_password_strength(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = open_store(&database_url).await?;
    let user =
        sanad_web::service::new_user(&username, &display_name, role, scope, &locale, &password);
    let by = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    store.create_user(&user, &cli_actor(&by)).await?;
    println!("user {username} created ({role}, {})", user.scope);
    Ok(ExitCode::SUCCESS)
}

pub async fn audit(cmd: AuditCmd) -> anyhow::Result<ExitCode> {
    let AuditCmd::Verify {
        database_url,
        expect_head,
    } = cmd;
    let store = open_store(&database_url).await?;
    verify(&*store, expect_head.as_deref()).await
}

async fn verify(store: &dyn Store, expect_head: Option<&str>) -> anyhow::Result<ExitCode> {
    let v = sanad_store::audit::verify(store, expect_head).await?;
    for p in &v.problems {
        println!("BROKEN {p}");
    }
    println!(
        "{} records checked; head {}",
        v.records,
        v.head.as_deref().unwrap_or("(empty log)")
    );
    Ok(if v.ok() {
        println!("audit log intact");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[derive(Subcommand)]
pub enum ListsCmd {
    /// Import a cross-check list (the kind is read from its header line). A file applies whole:
    /// with any bad row, every problem is printed with its line and field, and nothing changes.
    Import {
        file: std::path::PathBuf,
        #[arg(long, default_value = "lists")]
        by: String,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
}

pub async fn lists(cmd: ListsCmd) -> anyhow::Result<ExitCode> {
    let ListsCmd::Import {
        file,
        by,
        database_url,
    } = cmd;
    let name = file.display().to_string();
    let reader = std::fs::File::open(&file).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let (meta, rows) =
        match sanad_applications::lists::parse_any(&name, std::io::BufReader::new(reader)) {
            Ok(parsed) => parsed,
            Err(errors) => {
                for e in &errors {
                    eprintln!("{}:{}: {}: {}", e.file, e.line, e.field, e.reason);
                }
                eprintln!("{name}: {} problem(s); nothing imported", errors.len());
                return Ok(ExitCode::from(2));
            }
        };
    let store = open_store(&database_url).await?;
    store
        .replace_list(
            meta.kind.code(),
            &serde_json::to_string(&meta)?,
            &rows,
            &cli_actor(&by),
        )
        .await?;
    println!(
        "{name}: {} list of {} ({}), {} rows imported",
        meta.kind.code(),
        meta.as_of,
        meta.source,
        rows.len()
    );
    Ok(ExitCode::SUCCESS)
}

//! `sanad notify send` (deliver the outbox's due messages) and `sanad applications import`
//! (bulk intake through the same service as the web form). Formats in docs/formats.md.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Subcommand;
use sanad_applications::notify::{Language, Templates};
use sanad_applications::{Channel, Requested};
use sanad_store::Store;
use sanad_web::auth::{Principal, Via};
use sanad_web::notify::NotifyConfig;
use sanad_web::service::{self, ApplicationForm};

use crate::DEFAULT_DB;
use crate::commands::{cli_actor, open_store};

/// Where the file sender writes by default (one JSON line per message).
pub const DEFAULT_SENDER: &str = "file:sanad-outbox.jsonl";

#[derive(Subcommand)]
pub enum NotifyCmd {
    /// Deliver every message due now, once each; failures are retried later with backoff
    /// (run it again, or let `sanad serve` do it every minute).
    Send {
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
        /// `file:PATH` (one JSON line per message) or an SMS gateway's `http://host:port/path`.
        #[arg(long, env = "SANAD_NOTIFY_SENDER", default_value = DEFAULT_SENDER)]
        sender: String,
    },
}

#[derive(Subcommand)]
pub enum ApplicationsCmd {
    /// Take applications from a CSV file, as the user `--by` (their role and scope apply).
    /// The file is checked whole first: with any bad row, every problem is printed with its
    /// line and field, and nothing is taken.
    Import {
        file: PathBuf,
        /// The agent taking the applications (an existing user).
        #[arg(long)]
        by: String,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
        /// Check every row, take none.
        #[arg(long)]
        dry_run: bool,
        /// Notification templates overriding the defaults (see docs/applications.md).
        #[arg(long, env = "SANAD_TEMPLATES")]
        templates: Option<PathBuf>,
    },
}

/// The default templates, with the sections of `path` replacing theirs.
pub fn notify_config(path: Option<&Path>) -> anyhow::Result<NotifyConfig> {
    let mut cfg = NotifyConfig::default();
    if let Some(p) = path {
        let text =
            std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        cfg.templates = Templates::defaults()
            .overlay(&text)
            .map_err(|e| anyhow::anyhow!("{}:{}: {}", p.display(), e.line, e.reason))?;
    }
    Ok(cfg)
}

pub async fn notify(cmd: NotifyCmd) -> anyhow::Result<ExitCode> {
    let NotifyCmd::Send {
        database_url,
        sender,
    } = cmd;
    let sender = sanad_web::notify::sender_from_spec(&sender)
        .map_err(|e| anyhow::anyhow!("--sender: {e}"))?;
    let store = open_store(&database_url).await?;
    let policy = NotifyConfig::default().retry;
    let s =
        sanad_web::notify::deliver_due(&*store, &sender, &policy, sanad_web::notify::now(), 100)
            .await?;
    println!(
        "outbox: {} sent, {} to retry later, {} given up",
        s.sent, s.retrying, s.failed
    );
    Ok(ExitCode::SUCCESS)
}

/// One row of an import file, parsed.
struct Row {
    line: u64,
    form: ApplicationForm,
    submitted_on: NaiveDate,
}

/// A problem with a row: `file:line: field: reason`.
struct Problem {
    line: u64,
    field: &'static str,
    reason: String,
}

fn wire<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.trim().to_owned())).ok()
}

const COLUMNS: [&str; 5] = [
    "household_id",
    "components",
    "channel",
    "submitted_on",
    "language",
];

/// Parse every row: the good rows and the problems of the others (a component asked twice for
/// a household in the file is refused too).
fn parse(text: &str, today: NaiveDate) -> (Vec<Row>, Vec<Problem>) {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return (
                Vec::new(),
                vec![Problem {
                    line: 1,
                    field: "header",
                    reason: e.to_string(),
                }],
            );
        }
    };
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let mut problems = Vec::new();
    for h in headers.iter().filter(|h| !COLUMNS.contains(&h.trim())) {
        problems.push(Problem {
            line: 1,
            field: "header",
            reason: format!("unknown column '{h}' (columns: {})", COLUMNS.join(", ")),
        });
    }
    for required in ["household_id", "components"] {
        if col(required).is_none() {
            problems.push(Problem {
                line: 1,
                field: "header",
                reason: format!("missing column '{required}'"),
            });
        }
    }
    if !problems.is_empty() {
        return (Vec::new(), problems);
    }
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(Problem {
                    line,
                    field: "row",
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let get = |name: &str| {
            col(name)
                .and_then(|i| record.get(i))
                .map(str::trim)
                .unwrap_or("")
        };
        let before = problems.len();
        let mut bad = |field: &'static str, reason: String| {
            problems.push(Problem {
                line,
                field,
                reason,
            })
        };
        let household_id = get("household_id");
        if let Err(e) = sanad_domain::RsuId::parse(household_id) {
            bad("household_id", e);
        }
        let components: Vec<Requested> = get("components")
            .split(';')
            .filter(|c| !c.trim().is_empty())
            .filter_map(|c| {
                let r = wire(c);
                if r.is_none() {
                    bad(
                        "components",
                        format!("'{}' is not child_allowance or flat_rate", c.trim()),
                    );
                }
                r
            })
            .collect();
        if components.is_empty() && get("components").is_empty() {
            bad(
                "components",
                "empty (child_allowance, flat_rate or both separated by ';')".into(),
            );
        }
        let channel = match get("channel") {
            "" => Channel::Bulk,
            c => wire(c).unwrap_or_else(|| {
                bad("channel", format!("'{c}' is not web, api, agent or bulk"));
                Channel::Bulk
            }),
        };
        let submitted_on = match get("submitted_on") {
            "" => today,
            d => d.parse().unwrap_or_else(|_| {
                bad("submitted_on", format!("'{d}' is not a date (YYYY-MM-DD)"));
                today
            }),
        };
        let language = match get("language") {
            "" => None,
            l => {
                let parsed = wire::<Language>(l);
                if parsed.is_none() {
                    bad("language", format!("'{l}' is not fr or ar"));
                }
                parsed
            }
        };
        for c in &components {
            if !seen.insert((household_id.to_owned(), *c)) {
                bad(
                    "components",
                    format!(
                        "{} is asked again for household {household_id} in this file",
                        service::wire_name(c)
                    ),
                );
            }
        }
        if problems.len() == before {
            let form = ApplicationForm {
                household_id: household_id.to_owned(),
                components,
                channel: Some(channel),
                language,
            };
            rows.push(Row {
                line,
                form,
                submitted_on,
            });
        }
    }
    (rows, problems)
}

/// The CLI acting as the user `by`, with their role and scope.
async fn principal(store: &dyn Store, by: &str) -> anyhow::Result<Principal> {
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
        locale: sanad_web::i18n::Locale::Fr,
        via: Via::Token {
            id: "cli-import".into(),
            scopes: vec!["households:read".into(), "applications:write".into()],
        },
    })
}

fn report(name: &str, problems: &[Problem]) -> ExitCode {
    for p in problems {
        eprintln!("{name}:{}: {}: {}", p.line, p.field, p.reason);
    }
    eprintln!("{name}: {} problem(s); nothing imported", problems.len());
    ExitCode::from(2)
}

pub async fn applications(cmd: ApplicationsCmd) -> anyhow::Result<ExitCode> {
    let ApplicationsCmd::Import {
        file,
        by,
        database_url,
        dry_run,
        templates,
    } = cmd;
    let name = file.display().to_string();
    let text = std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let today = chrono::Local::now().date_naive();
    let (rows, mut problems) = parse(&text, today);
    if rows.is_empty() && !problems.is_empty() {
        return Ok(report(&name, &problems));
    }
    let store = open_store(&database_url).await?;
    let p = principal(&*store, &by).await?;
    let state = sanad_web::AppState::new(store.clone(), sanad_web::SecurityConfig::default())
        .with_notify(notify_config(templates.as_deref())?);
    // Every well-formed row as the service would take it, before taking any.
    let check = crate::progress::count(rows.len() as u64, "checking");
    for r in &rows {
        if let Err(e) = service::check_application(&state, &p, &r.form, r.submitted_on).await {
            let field = match &e {
                sanad_web::WebError::Refused(_) => "components",
                sanad_web::WebError::Invalid(m) if m.starts_with("submitted_on") => "submitted_on",
                _ => "household_id",
            };
            let reason = match e {
                sanad_web::WebError::NotFound => format!(
                    "household {} not found in the scope of '{by}'",
                    r.form.household_id
                ),
                sanad_web::WebError::Forbidden => format!("'{by}' may not take applications"),
                other => other.to_string(),
            };
            problems.push(Problem {
                line: r.line,
                field,
                reason,
            });
        }
        check.inc(1);
    }
    check.finish_and_clear();
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Ok(report(&name, &problems));
    }
    if dry_run {
        println!(
            "{name}: {} application(s) valid; nothing taken (dry run)",
            rows.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let req = sanad_web::RequestId(cli_actor(&by).request_id);
    let bar = crate::progress::count(rows.len() as u64, "taking");
    let mut counts = std::collections::BTreeMap::<String, u32>::new();
    // The rows received on one day are taken together, in one transaction (the service's
    // batch path): a failure leaves none of that day's rows half-applied.
    let mut by_day = std::collections::BTreeMap::<chrono::NaiveDate, Vec<&Row>>::new();
    for r in &rows {
        by_day.entry(r.submitted_on).or_default().push(r);
    }
    let mut taken_before = 0;
    for (day, day_rows) in &by_day {
        let forms: Vec<service::ApplicationForm> =
            day_rows.iter().map(|r| r.form.clone()).collect();
        let taken =
            service::submit_applications(&state, &p, &req, &forms, Channel::Bulk, *day).await;
        let files = taken.map_err(|e| {
            // The service names a refused form by its rank in the batch ("application 3: …").
            let msg = e.to_string();
            let ranked = msg.strip_prefix("application ").and_then(|t| t.split_once(": ")).and_then(|(n, why)| Some((day_rows.get(n.parse::<usize>().ok()?.checked_sub(1)?)?.line, why.to_owned())));
            let (line, why) = match (ranked, day_rows.as_slice()) {
                (Some(found), _) => found,
                (None, [only]) => (only.line, msg),
                (None, _) => (day_rows[0].line, msg),
            };
            anyhow::anyhow!("{name}:{line}: {why}; none of the {} row(s) received on {day} was taken ({taken_before} of earlier days were)", day_rows.len())
        })?;
        for file in &files {
            *counts.entry(service::wire_name(&file.status)).or_default() += 1;
        }
        taken_before += files.len();
        bar.inc(files.len() as u64);
    }
    bar.finish_and_clear();
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    println!(
        "{name}: {} application(s) taken ({})",
        rows.len(),
        summary.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

//! `sanad payroll prepare|approve|release|status|replay` and `sanad payments import`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use sanad_domain::{Money, Month, Rib};
use sanad_payroll::returns;
use sanad_payroll::run::{self, ReleaseConfig};

use crate::DEFAULT_DB;
use crate::commands::{cli_actor, open_store};
use crate::report::mad;

#[derive(Subcommand)]
pub enum PayrollCmd {
    /// Compute the month's payroll (maker). Re-running replaces a prepared payroll.
    Prepare {
        #[arg(long)]
        month: Month,
        #[arg(long)]
        by: String,
        /// Notification templates overriding the defaults, for the termination notices of
        /// households whose suspension ran out (see docs/applications.md).
        #[arg(long)]
        templates: Option<PathBuf>,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
    /// Approve the prepared payroll (checker: another user).
    Approve {
        #[arg(long)]
        month: Month,
        #[arg(long)]
        by: String,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
    /// Write the ISO 20022 pain.001 files and their manifests, post the ledger, lock the payroll.
    Release {
        #[arg(long)]
        month: Month,
        #[arg(long)]
        by: String,
        /// Files go to OUT/YYYY-MM/.
        #[arg(long, default_value = "payments")]
        out: PathBuf,
        #[arg(long, default_value_t = 50_000)]
        max_per_file: u32,
        /// The agency's account (24-digit RIB).
        #[arg(long, env = "SANAD_DEBTOR_RIB", default_value = run::DEMO_DEBTOR_RIB)]
        debtor_rib: String,
        /// The agency's bank BIC.
        #[arg(long, env = "SANAD_DEBTOR_BIC", default_value = run::DEFAULT_DEBTOR_BIC)]
        debtor_bic: String,
        /// Notification templates overriding the defaults, for the "payment issued" notices
        /// (see docs/applications.md).
        #[arg(long)]
        templates: Option<PathBuf>,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
    /// Set the year's appropriation for a component (a payroll exceeding it is refused).
    BudgetSet {
        #[arg(long)]
        year: i32,
        /// child_allowance, orphan_allowance, disability_supplement, floor_top_up, flat_rate, birth_grant or school_start_grant.
        #[arg(long)]
        component: String,
        /// In MAD, e.g. 12000000000 or 1250.50.
        #[arg(long)]
        amount: String,
        #[arg(long)]
        by: String,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
    /// The prepared payroll against the year's appropriation: committed, executed, forecast.
    Budget {
        #[arg(long)]
        month: Month,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
    /// Recompute a past month's lines under the rule set each names, from today's registry:
    /// each is identical, or its household changed since, or it differs (exit 1).
    Replay {
        #[arg(long)]
        month: Month,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
    /// The cycle's state, totals and payments.
    Status {
        #[arg(long)]
        month: Month,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
}

#[derive(Subcommand)]
pub enum PaymentsCmd {
    /// Apply a bank return file (pain.002 status report or camt.054 notification). Applying
    /// the same file again changes nothing; an interrupted import, run again, resumes where it
    /// stopped.
    Import {
        file: PathBuf,
        #[arg(long, default_value = "bank-returns")]
        by: String,
        /// Transactions applied per database transaction (memory grows with it).
        #[arg(long, default_value_t = returns::RETURNS_BATCH)]
        batch: usize,
        #[arg(long, env = "SANAD_DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
    },
}

pub async fn payroll(cmd: PayrollCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        PayrollCmd::Prepare {
            month,
            by,
            templates,
            database_url,
        } => {
            let store = open_store(&database_url).await?;
            let templates = crate::notify_cmd::notify_config(templates.as_deref())?.templates;
            let p = run::prepare(&*store, month, &cli_actor(&by), &templates).await?;
            let (paid, total) = (p.totals.all.paying, p.totals.all.amount);
            let verb = if p.changed {
                "prepared"
            } else {
                "already prepared, unchanged"
            };
            println!(
                "payroll {month} {verb} by {by}: {} households, {paid} payments, {} MAD",
                p.totals.all.households,
                mad(total.centimes())
            );
            if let Some(v) =
                run::variance_vs_previous(&*store, month, run::VARIANCE_THRESHOLD).await?
            {
                let a = &v.all;
                println!(
                    "against {}: {} new, {} dropped, {} changed by more than 20 %; {} → {} MAD",
                    v.previous,
                    a.new,
                    a.dropped,
                    a.changed,
                    mad(a.amount_before.centimes()),
                    mad(a.amount_after.centimes())
                );
            }
            println!(
                "another user must approve it: sanad payroll approve --month {month} --by USER"
            );
        }
        PayrollCmd::Approve {
            month,
            by,
            database_url,
        } => {
            let store = open_store(&database_url).await?;
            run::approve(&*store, month, &cli_actor(&by)).await?;
            println!(
                "payroll {month} approved by {by}; release it: sanad payroll release --month {month} --by USER"
            );
        }
        PayrollCmd::Release {
            month,
            by,
            out,
            max_per_file,
            debtor_rib,
            debtor_bic,
            templates,
            database_url,
        } => {
            let store = open_store(&database_url).await?;
            let account =
                Rib::parse(&debtor_rib).map_err(|e| anyhow::anyhow!("--debtor-rib: {e}"))?;
            let mut cfg = ReleaseConfig::anss(out, max_per_file, account, &debtor_bic);
            cfg.templates = crate::notify_cmd::notify_config(templates.as_deref())?.templates;
            let r = run::release(&*store, month, &cli_actor(&by), &cfg).await?;
            let verb = if r.changed {
                "released"
            } else {
                "was already released; files checked"
            };
            println!(
                "payroll {month} {verb}: {} payments in {} files under {}",
                r.payments,
                r.files.len(),
                r.dir.display()
            );
            println!("{} \"payment issued\" notices queued", r.notices);
            for f in &r.files {
                println!(
                    "  {}  {:>7} tx  {:>16} MAD  sha256 {}",
                    f.file_name,
                    f.txs,
                    mad(f.ctrl_sum),
                    f.sha256
                );
            }
        }
        PayrollCmd::BudgetSet {
            year,
            component,
            amount,
            by,
            database_url,
        } => {
            sanad_payroll::codes::component_from_code(&component).ok_or_else(|| {
                anyhow::anyhow!("--component: '{component}' is not a component code")
            })?;
            let amount = Money::parse_mad(&amount).map_err(|e| anyhow::anyhow!("--amount: {e}"))?;
            let store = open_store(&database_url).await?;
            store
                .set_appropriation(year, &component, amount.centimes(), &cli_actor(&by))
                .await?;
            println!(
                "appropriation {year} {component}: {} MAD",
                mad(amount.centimes())
            );
        }
        PayrollCmd::Budget {
            month,
            database_url,
        } => {
            let store = open_store(&database_url).await?;
            let payroll = run::stored_summary(&*store, month).await?;
            match run::budget(&*store, &payroll).await? {
                None => println!(
                    "no appropriation set for {}: sanad payroll budget-set --year {} …",
                    month.year(),
                    month.year()
                ),
                Some(r) => {
                    println!(
                        "{:<22} {:>18} {:>18} {:>16} {:>18} {:>18}",
                        "component",
                        "appropriation",
                        "committed before",
                        "this payroll",
                        "available after",
                        "year forecast"
                    );
                    for l in &r.lines {
                        let flag = if l.forecast_over { "  over" } else { "" };
                        println!(
                            "{:<22} {:>18} {:>18} {:>16} {:>18} {:>18}{flag}",
                            l.component.code(),
                            mad(l.appropriation.centimes()),
                            mad(l.committed_before.centimes()),
                            mad(l.payroll.centimes()),
                            mad(l.available.centimes()),
                            mad(l.forecast.centimes())
                        );
                    }
                }
            }
        }
        PayrollCmd::Status {
            month,
            database_url,
        } => {
            let store = open_store(&database_url).await?;
            status(&*store, month).await?;
        }
        PayrollCmd::Replay {
            month,
            json,
            database_url,
        } => {
            let store = open_store(&database_url).await?;
            return replay(&*store, month, json).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn replay(
    store: &dyn sanad_store::Store,
    month: Month,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let m = month.to_string();
    let total: i64 = store
        .payroll_line_counts(&m)
        .await?
        .iter()
        .map(|t| t.count)
        .sum();
    if total == 0 {
        anyhow::bail!("payroll {month}: no lines stored (not prepared)");
    }
    let bar = crate::progress::count(total as u64, "replay");
    let r = run::replay_month(store, month, |n| bar.inc(n)).await?;
    bar.finish_and_clear();
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!(
            "payroll {month} replayed: {} lines, {} identical, {} household changed since, {} differ",
            r.lines, r.identical, r.household_changed, r.differs
        );
        if r.unstamped > 0 {
            println!(
                "  {} lines stored before lines kept their snapshot: not replayable",
                r.unstamped
            );
        }
        if r.unknown_rule_set > 0 {
            println!(
                "  {} lines name a rule set no longer known",
                r.unknown_rule_set
            );
        }
        for h in &r.differing {
            println!("  differs {h}");
        }
    }
    Ok(if r.differs > 0 || r.unknown_rule_set > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn status(store: &dyn sanad_store::Store, month: Month) -> anyhow::Result<()> {
    let Some(body) = store.cycle(&month.to_string()).await? else {
        println!("payroll {month}: not prepared");
        return Ok(());
    };
    let cycle: sanad_payroll::Cycle = serde_json::from_str(&body)?;
    println!(
        "payroll {month}: {:?} (prepared by {}, approved by {}, released by {})",
        cycle.status(),
        cycle.prepared_by().unwrap_or("-"),
        cycle.approved_by().unwrap_or("-"),
        cycle.released_by().unwrap_or("-")
    );
    let lines = store.payroll_lines(&month.to_string()).await?;
    let mut by_status: std::collections::BTreeMap<&str, (usize, i64)> = Default::default();
    for l in &lines {
        let e = by_status.entry(l.status.as_str()).or_default();
        (e.0, e.1) = (e.0 + 1, e.1 + l.amount);
    }
    for (s, (n, amount)) in by_status {
        println!("  {s:<9} {n:>9} households  {:>18} MAD", mad(amount));
    }
    let mut payments: std::collections::BTreeMap<String, (usize, i64)> = Default::default();
    for p in store.payments(&month.to_string()).await? {
        let e = payments.entry(p.status).or_default();
        (e.0, e.1) = (e.0 + 1, e.1 + p.amount);
    }
    for (s, (n, amount)) in payments {
        println!("  payments {s:<9} {n:>9}  {:>18} MAD", mad(amount));
    }
    Ok(())
}

pub async fn payments(cmd: PaymentsCmd) -> anyhow::Result<ExitCode> {
    let PaymentsCmd::Import {
        file,
        by,
        batch,
        database_url,
    } = cmd;
    anyhow::ensure!(batch > 0, "--batch: must be at least 1");
    let store = open_store(&database_url).await?;
    // Two passes over the file: checked and hashed, then applied.
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let bar = crate::progress::bytes(2 * size, "returns");
    let shown = bar.clone();
    let progress = Arc::new(move |n: u64| shown.set_position(n));
    let r = returns::import_returns(&*store, &file, &cli_actor(&by), batch, progress).await?;
    bar.finish_and_clear();
    if r.already_imported {
        println!("{}: already imported; nothing changed", file.display());
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} ({}): {} accepted, {} rejected, {} settled, {} returned, {} unchanged, {} unmatched",
        file.display(),
        r.message,
        r.accepted,
        r.rejected,
        r.settled,
        r.returned,
        r.unchanged,
        r.unmatched_total
    );
    if let Some(line) = r.resumed_after_line {
        println!("  resumed after line {line}, where an interrupted import of this file stopped");
    }
    for u in r.unmatched.iter().take(20) {
        println!("  unmatched {u}");
    }
    for w in &r.warnings {
        println!("  warning {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// One month of the demo's payment history: the cycle prepared, approved by a second user
/// and released, with the banks' answers (about 2 % rejected, the rest settled) imported, so
/// that the next cycle re-issues some rejects and holds the others.
pub async fn demo_cycle(
    store: &dyn sanad_store::Store,
    out: &std::path::Path,
    month: Month,
) -> anyhow::Result<()> {
    use sanad_payments::bank_sim::{self, BankResponse, Outcome, ResponseHeader};
    let account = Rib::parse(run::DEMO_DEBTOR_RIB).map_err(anyhow::Error::msg)?;
    let cfg = ReleaseConfig::anss(
        out.join("files"),
        5_000,
        account.clone(),
        run::DEFAULT_DEBTOR_BIC,
    );
    let p = run::prepare(store, month, &cli_actor("payments"), &cfg.templates).await?;
    run::approve(store, month, &cli_actor("approver")).await?;
    let r = run::release(store, month, &cli_actor("payments"), &cfg).await?;
    let payments = store.payments(&month.to_string()).await?;
    let booked = month.last_day() + chrono::Duration::days(2);
    let header = |n: &str| ResponseHeader {
        msg_id: format!("DEMOBANK-{month}-{n}"),
        created_at: booked.and_hms_opt(8, 0, 0).expect("valid time"),
        original_msg_id: r
            .files
            .first()
            .map(|f| f.msg_id.clone())
            .unwrap_or_default(),
        booking_date: booked,
        account: account.clone(),
    };
    let response = |p: &sanad_store::payroll::PaymentRow, outcome| BankResponse {
        end_to_end_id: p.end_to_end_id.clone(),
        amount: Money::from_centimes(p.amount),
        outcome,
    };
    // A closed account (held until the household gives another) and an unexplained rejection
    // (sent again by the next cycle), each about once in a hundred payments.
    let (rejects, rest): (Vec<_>, Vec<_>) = payments
        .iter()
        .enumerate()
        .partition(|(i, _)| i % 97 == 13 || i % 97 == 47);
    let rejects: Vec<BankResponse> = rejects
        .into_iter()
        .map(|(i, p)| {
            response(
                p,
                Outcome::Rejected {
                    reason: if i % 97 == 13 { "AC04" } else { "MS03" }.into(),
                },
            )
        })
        .collect();
    let settled: Vec<BankResponse> = rest
        .into_iter()
        .map(|(_, p)| response(p, Outcome::Settled))
        .collect();
    let pain002 = out.join(format!("returns/{month}-pain002.xml"));
    let camt054 = out.join(format!("returns/{month}-camt054.xml"));
    std::fs::create_dir_all(out.join("returns"))?;
    bank_sim::write_pain002(&header("STS"), &rejects, std::fs::File::create(&pain002)?)?;
    bank_sim::write_camt054(
        &header("NTF"),
        &settled,
        500,
        std::fs::File::create(&camt054)?,
    )?;
    for f in [&pain002, &camt054] {
        let (by, batch) = (cli_actor("bank-returns"), returns::RETURNS_BATCH);
        returns::import_returns(store, f, &by, batch, Arc::new(|_| {})).await?;
    }
    let (total, arrears) = (p.totals.all.amount, p.totals.all.arrears);
    println!(
        "payroll {month}: {} payments, {} MAD ({} MAD arrears), {} files; bank: {} rejected, {} settled",
        payments.len(),
        mad(total.centimes()),
        mad(arrears.centimes()),
        r.files.len(),
        rejects.len(),
        settled.len()
    );
    Ok(())
}

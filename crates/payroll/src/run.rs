//! The payroll's edge: the monthly cycle and bank returns run against a [`Store`]. The
//! decisions are the pure modules' (`cycle`, `ledger`, `state`); this module only reads
//! their inputs, saves their outputs, and writes the payment files.
//!
//! Every step can be run again: prepare replaces a prepared cycle (or does nothing when the
//! result is the same), release regenerates byte-identical files when a crash came between
//! saving and renaming, and a return file is applied once (by its SHA-256).

use std::collections::{BTreeMap, HashMap};
use std::io::BufReader;
use std::path::{Path, PathBuf};

use sanad_domain::{Date, Month, PaymentInstrument, RsuId};
use sanad_payments::{Debtor, EndToEndRef, ReleaseSpec, ReturnKind};
use sanad_rules::{RuleBook, Snapshot};
use sanad_store::payroll::{EntryRow, FileRow, LineRow, PaymentRow, StatusUpdate};
use sanad_store::{Actor, RuleSetStatus, Scope, Store, StoreError};

use crate::PayrollError;
use crate::awards;
use crate::cycle::{Beneficiary, CycleParams, LineStatus, Payroll, PayrollLine, run_cycle};
use crate::held;
use crate::ledger::PaymentStatus;
use crate::ledger::{Entry, Kind, Ledger, Origin, settle_entry};
use crate::state::{Cycle, Status};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Payroll(#[from] PayrollError),
    #[error(transparent)]
    Payments(#[from] sanad_payments::PaymentsError),
    #[error("{0}")]
    Refused(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("stored payroll data is unreadable: {0}")]
    Corrupt(String),
}

type Result<T> = std::result::Result<T, RunError>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn corrupt(e: impl std::fmt::Display) -> RunError {
    RunError::Corrupt(e.to_string())
}

/// Where and how payment files are written.
#[derive(Debug, Clone)]
pub struct ReleaseConfig {
    pub out_dir: PathBuf,
    pub max_txs_per_file: u32,
    pub debtor: Debtor,
    /// The wording of the "payment issued" notices (the defaults, or an edited file).
    pub templates: sanad_applications::notify::Templates,
}

impl ReleaseConfig {
    /// The agency as debtor: its account and its bank's BIC (deployment settings).
    pub fn anss(
        out_dir: PathBuf,
        max_txs_per_file: u32,
        account: sanad_domain::Rib,
        bic: &str,
    ) -> ReleaseConfig {
        let debtor = Debtor {
            name: "AGENCE NATIONALE DE SOUTIEN SOCIAL".into(),
            account,
            agent: sanad_payments::DebtorAgent::Bic(bic.into()),
        };
        ReleaseConfig {
            out_dir,
            max_txs_per_file,
            debtor,
            templates: sanad_applications::notify::Templates::defaults(),
        }
    }
}

/// The demo and test account of the agency (a valid RIB, not a real one).
pub const DEMO_DEBTOR_RIB: &str = "011780000012345678901296";
/// Bank Al-Maghrib's BIC, the default debtor agent.
pub const DEFAULT_DEBTOR_BIC: &str = "BKAMMAMR";

/// The rule sets in force: shipped, and approved in the database.
pub async fn rule_book(store: &dyn Store) -> Result<RuleBook> {
    let stored = store.rule_sets().await?;
    let approved = stored
        .iter()
        .filter(|s| s.status == RuleSetStatus::Approved)
        .map(|s| s.body.as_str());
    RuleBook::in_force(approved).map_err(corrupt)
}

async fn load_cycle(store: &dyn Store, month: Month) -> Result<Cycle> {
    match store.cycle(&month.to_string()).await? {
        Some(body) => serde_json::from_str(&body).map_err(corrupt),
        None => Ok(Cycle::new(month)),
    }
}

/// Every ledger entry, replayed into books.
pub async fn load_ledger(store: &dyn Store) -> Result<Ledger> {
    let mut entries = Vec::new();
    let mut after = 0;
    loop {
        let page = store.ledger_entries(after, 50_000).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (_, body) in &page {
            entries.push(serde_json::from_str::<Entry>(body).map_err(corrupt)?);
        }
    }
    Ok(Ledger::replay(entries)?)
}

/// Households with an award running this month or arrears of a late one, and every household
/// the ledger still owes something. Each is paid only the aid it was awarded.
/// Also returns the households whose suspension notice ran out, with the last month their
/// awards run (`awards::termination`): they are paid as if already ended.
async fn beneficiaries(
    store: &dyn Store,
    book: &RuleBook,
    month: Month,
    ledger: &Ledger,
) -> Result<(Vec<Beneficiary>, Vec<(String, String)>)> {
    let rules = book
        .for_month(month)
        .ok_or_else(|| RunError::Refused(format!("no rule set in force in {month}")))?;
    let population = store.load_population(&Scope::National, &|_| {}).await?;
    let instruments: HashMap<RsuId, PaymentInstrument> = store
        .payment_instruments(&Scope::National)
        .await?
        .into_iter()
        .collect();
    let grants = grants(store).await?;
    let changed = changed_since(store, month).await?;
    let bounced: HashMap<String, held::Bounce> = store
        .bounced_payments()
        .await?
        .into_iter()
        .map(|p| {
            (
                p.reference,
                held::Bounce {
                    account: p.account,
                    reason: p.reason,
                },
            )
        })
        .collect();
    let (mut out, mut ends) = (Vec::new(), Vec::new());
    for h in &population.households {
        let household = RsuId::parse(&format!("{:012}", h.id)).map_err(corrupt)?;
        let granted = grants.get(&household).map_or(&[][..], Vec::as_slice);
        let held = ledger.book(&household);
        if granted.is_empty() && held.is_none() {
            continue;
        }
        let decide_with = |m: Month, mine: &[awards::Grant]| -> Result<sanad_rules::Decision> {
            let rules = book
                .for_month(m)
                .ok_or_else(|| RunError::Refused(format!("no rule set in force in {m}")))?;
            let on = sanad_rules::engine::reference_date(rules, m);
            let snap = Snapshot {
                score: population.score_at(h, on),
                resident: true,
                members: population.members_of(h),
            };
            let mut decision = sanad_rules::Decision::default();
            sanad_rules::evaluate(rules, &snap, m, &mut decision);
            awards::restrict(&mut decision, mine, m);
            Ok(decision)
        };
        // This month's decision is reused: the past months are evaluated only for a household
        // paid nothing now.
        let current = decide_with(month, granted)?;
        let pays_now = current.monthly_total > sanad_domain::Money::ZERO;
        let payable = |m: Month| {
            if m == month {
                pays_now
            } else {
                decide_with(m, granted).is_ok_and(|d| d.monthly_total > sanad_domain::Money::ZERO)
            }
        };
        let ended = awards::termination(
            granted,
            held,
            month,
            sanad_applications::reevaluation::DEFAULT_NOTICE_MONTHS,
            payable,
        )
        .map(|last| {
            ends.push((household.to_string(), last.to_string()));
            awards::ended_at(granted, last)
        });
        let mine = ended.as_deref().unwrap_or(granted);
        let decide = |m: Month| decide_with(m, mine);
        let decision = if ended.is_some() {
            decide(month)?
        } else {
            current
        };
        let retro = awards::months_to_settle(mine, held, month, changed.get(&household).copied())
            .into_iter()
            .map(|(m, receipt)| {
                Ok(crate::Retro {
                    month: m,
                    decision: decide(m)?,
                    reference: format!("{receipt}/{m}"),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // Payments still held (came back, not re-issued) that bounced on this very account.
        let waiting = held
            .into_iter()
            .flat_map(|b| b.payments())
            .filter(|x| x.status == PaymentStatus::Returned && x.reissued_by.is_none());
        let instrument = held::usable(
            instruments.get(&household),
            waiting.filter_map(|x| bounced.get(&x.reference)),
        );
        out.push(Beneficiary {
            instrument,
            reference: format!("DEC-{month}-{household}-{}", rules.id),
            household,
            region: h.region,
            decision,
            retro,
        });
    }
    Ok((out, ends))
}

/// Households a life event changed within the arrears look-back, with the month it took effect.
async fn changed_since(store: &dyn Store, month: Month) -> Result<HashMap<RsuId, Month>> {
    let from = month
        .plus(-awards::ARREARS_LOOKBACK_MONTHS)
        .first_day()
        .to_string();
    let mut out = HashMap::new();
    for (rsu, effective) in store.events_since(&from).await? {
        let day = effective
            .parse::<chrono::NaiveDate>()
            .map_err(|e| corrupt(format!("life event of {rsu}: {e}")))?;
        out.insert(RsuId::parse(&rsu).map_err(corrupt)?, Month::of(day));
    }
    Ok(out)
}

/// Every award, by household.
async fn grants(store: &dyn Store) -> Result<HashMap<RsuId, Vec<awards::Grant>>> {
    let mut out: HashMap<RsuId, Vec<awards::Grant>> = HashMap::new();
    for a in store.awards(&Scope::National).await? {
        let aid = sanad_applications::Requested::parse(&a.component).ok_or_else(|| {
            corrupt(format!(
                "award {}: unknown component '{}'",
                a.receipt, a.component
            ))
        })?;
        let month = |s: &str| {
            s.parse::<Month>()
                .map_err(|e| corrupt(format!("award {}: {e}", a.receipt)))
        };
        let grant = awards::Grant {
            aid,
            start: month(&a.start_month)?,
            end: a.end_month.as_deref().map(month).transpose()?,
            receipt: a.receipt.clone(),
        };
        out.entry(RsuId::parse(&a.rsu_id).map_err(corrupt)?)
            .or_default()
            .push(grant);
    }
    Ok(out)
}

/// What `prepare` did.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub payroll: Payroll,
    /// False when the cycle was already prepared with exactly this result.
    pub changed: bool,
}

/// Prepare the month's payroll. `templates` word the termination notices of households whose
/// suspension notice has run out.
pub async fn prepare(
    store: &dyn Store,
    month: Month,
    actor: &Actor,
    templates: &sanad_applications::notify::Templates,
) -> Result<Prepared> {
    let cycle = load_cycle(store, month).await?;
    let book = rule_book(store).await?;
    let rules = book
        .for_month(month)
        .ok_or_else(|| RunError::Refused(format!("no rule set in force in {month}")))?;
    let ledger = load_ledger(store).await?;
    let params = CycleParams::from_rules(month, &rules.payment);
    let (listed, ends) = beneficiaries(store, &book, month, &ledger).await?;
    let payroll = run_cycle(&params, &listed, &ledger)?;
    // Budget control: a payroll that would exceed the year's appropriation is refused.
    if let Some(a) = appropriation(store, month.year()).await? {
        crate::check_budget(&a, &year_to_date(store, month).await?, &payroll)?;
    }
    // Awards whose suspension notice ran out end (once: an ended award is not ended again).
    // Its own transaction: a prepare run again finds them ended and lists the same payroll.
    if !ends.is_empty() {
        let ends = with_termination_notices(store, ends, templates).await?;
        store.end_awards(&ends, "notice_expired", actor).await?;
    }
    let digest = payroll.digest();
    if cycle.status() == Status::Prepared && cycle.inputs() == Some(digest) {
        return Ok(Prepared {
            payroll,
            changed: false,
        });
    }
    // Prepared from other data (a registry change, a new account): the preparer's new run
    // replaces the old one until approval; both are audited.
    let cycle = if cycle.status() == Status::Prepared {
        cycle.reopen()?
    } else {
        cycle
    };
    let next = cycle.prepare(&actor.user, digest)?;
    let lines = payroll
        .lines
        .iter()
        .map(line_row)
        .collect::<Result<Vec<_>>>()?;
    let entries = payroll
        .entries
        .iter()
        .map(|e| serde_json::to_string(e).map_err(corrupt))
        .collect::<Result<Vec<_>>>()?;
    let body = serde_json::to_string(&next).map_err(corrupt)?;
    store
        .save_prepared(&month.to_string(), &body, &lines, &entries, actor)
        .await?;
    Ok(Prepared {
        payroll,
        changed: true,
    })
}

fn line_row(l: &PayrollLine) -> Result<LineRow> {
    Ok(LineRow {
        rsu_id: l.household.to_string(),
        region: l.region.to_string(),
        status: l.status.code().into(),
        amount: l.amount.centimes(),
        body: serde_json::to_string(l).map_err(corrupt)?,
    })
}

/// The prepared payroll as stored (lines and the entries it will post).
pub async fn stored_payroll(store: &dyn Store, month: Month) -> Result<Payroll> {
    let m = month.to_string();
    let lines = store
        .payroll_lines(&m)
        .await?
        .iter()
        .map(|l| serde_json::from_str::<PayrollLine>(&l.body).map_err(corrupt))
        .collect::<Result<Vec<_>>>()?;
    let entries = store
        .pending_entries(&m)
        .await?
        .iter()
        .map(|e| serde_json::from_str::<Entry>(e).map_err(corrupt))
        .collect::<Result<Vec<_>>>()?;
    let totals = crate::cycle::totals(&lines, &entries);
    Ok(Payroll {
        month,
        run_date: month.last_day(),
        lines,
        entries,
        totals,
    })
}

/// The year's appropriation, if one is set.
async fn appropriation(store: &dyn Store, year: i32) -> Result<Option<crate::Appropriation>> {
    let rows = store.appropriations(year).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut amounts = crate::ByComponent::new();
    for (code, centimes) in rows {
        let c = crate::codes::component_from_code(&code).ok_or_else(|| {
            RunError::Corrupt(format!("appropriation for unknown component '{code}'"))
        })?;
        amounts.set(c, sanad_domain::Money::from_centimes(centimes));
    }
    Ok(Some(crate::Appropriation { year, amounts }))
}

/// What the year has committed before `month` (its approved and released payrolls) and
/// executed (money confirmed received, net of returns).
async fn year_to_date(store: &dyn Store, month: Month) -> Result<crate::YearToDate> {
    let mut payrolls = Vec::new();
    let mut m = Month::new(month.year(), 1).expect("January exists");
    while m < month {
        let cycle = load_cycle(store, m).await?;
        if matches!(
            cycle.status(),
            Status::Approved | Status::Released | Status::Locked
        ) {
            payrolls.push(stored_payroll(store, m).await?);
        }
        m = m.next();
    }
    let ledger = load_ledger(store).await?;
    Ok(crate::YearToDate {
        committed: crate::budget::committed_in_year(&payrolls, month.year()),
        executed: crate::budget::executed_in_year(ledger.entries(), month.year()),
    })
}

/// The payroll against the year's appropriation; `None` when none is set.
pub async fn budget(store: &dyn Store, payroll: &Payroll) -> Result<Option<crate::BudgetReport>> {
    let Some(a) = appropriation(store, payroll.month.year()).await? else {
        return Ok(None);
    };
    let ytd = year_to_date(store, payroll.month).await?;
    Ok(Some(crate::budget::budget_report(&a, &ytd, payroll)?))
}

/// The prepared payroll against the previous month's: new and dropped households, amounts
/// changed by more than `threshold`, by region. `None` when either month has no payroll.
pub async fn variance_vs_previous(
    store: &dyn Store,
    month: Month,
    threshold: crate::Threshold,
) -> Result<Option<crate::VarianceReport>> {
    let (prev, cur) = (
        stored_payroll(store, month.prev()).await?,
        stored_payroll(store, month).await?,
    );
    if prev.lines.is_empty() || cur.lines.is_empty() {
        return Ok(None);
    }
    Ok(Some(crate::variance(&prev, &cur, threshold)))
}

/// The default variance threshold: 20 % of the previous amount.
pub const VARIANCE_THRESHOLD: crate::Threshold = crate::Threshold {
    percent: Some(20),
    amount: None,
};

/// The checker approves what the maker prepared: the stored payroll's digest must be the
/// prepared one, and the checker another user.
pub async fn approve(store: &dyn Store, month: Month, actor: &Actor) -> Result<Cycle> {
    let cycle = load_cycle(store, month).await?;
    let digest = stored_payroll(store, month).await?.digest();
    let next = cycle.approve(&actor.user, digest)?;
    if next.status() == cycle.status() {
        return Ok(next); // approved already by this user: nothing to record again
    }
    store
        .save_cycle(
            &month.to_string(),
            "approved",
            &serde_json::to_string(&next).map_err(corrupt)?,
            "approve",
            actor,
        )
        .await?;
    Ok(next)
}

/// What `release` wrote.
#[derive(Debug, Clone)]
pub struct Released {
    pub dir: PathBuf,
    pub files: Vec<FileRow>,
    pub payments: usize,
    /// False when the cycle was already released (files regenerated if they were missing).
    pub changed: bool,
    /// "Payment issued" notices queued by this run (none twice: a run again queues only
    /// those a crash left out).
    pub notices: u64,
}

/// The provider a payment goes through: the bank (its 3-digit code in the RIB) or the
/// wallet / cash-out operator.
pub fn provider_of(i: &PaymentInstrument) -> String {
    let clean = |s: &str| {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .flat_map(|c| c.to_uppercase())
            .take(12)
            .collect::<String>()
    };
    match i {
        PaymentInstrument::Bank { rib } => format!("BANK{}", rib.bank_code()),
        PaymentInstrument::Wallet { provider, .. }
        | PaymentInstrument::CashOut { provider, .. } => clean(provider),
    }
}

/// Payments of the cycle by provider, numbered in RSU id order (payment id = position).
fn payments_by_provider(
    month: Month,
    lines: &[PayrollLine],
    names: &HashMap<String, String>,
) -> BTreeMap<String, Vec<(sanad_payments::Payment, PaymentRow)>> {
    let mut out: BTreeMap<String, Vec<_>> = BTreeMap::new();
    let paid = lines.iter().filter(|l| l.status == LineStatus::Pay);
    for (i, l) in paid.enumerate() {
        let (Some(instrument), Some(reference)) = (&l.instrument, &l.payment) else {
            continue;
        };
        let id = EndToEndRef {
            cycle: month,
            payment_id: i as u64 + 1,
            issue: 1,
        };
        let provider = provider_of(instrument);
        let name = names
            .get(&l.household.to_string())
            .cloned()
            .unwrap_or_else(|| format!("BENEFICIAIRE {}", l.household));
        let payment = sanad_payments::Payment {
            payment_id: id.payment_id,
            issue: 1,
            beneficiary_name: name,
            instrument: instrument.clone(),
            amount: l.amount,
        };
        let row = PaymentRow {
            end_to_end_id: id.to_id().unwrap_or_default(),
            month: month.to_string(),
            rsu_id: l.household.to_string(),
            reference: reference.clone(),
            provider: provider.clone(),
            amount: l.amount.centimes(),
            status: "sent".into(),
            reason: None,
            file_name: String::new(),
            account: Some(held::account_key(instrument)),
        };
        out.entry(provider).or_default().push((payment, row));
    }
    out
}

/// Heads of household's names (Latin script), for the payment files.
async fn payee_names(store: &dyn Store) -> Result<HashMap<String, String>> {
    let mut names = HashMap::new();
    let mut after: Option<RsuId> = None;
    loop {
        let page = store
            .list_households(&Scope::National, after.as_ref(), 500)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.rsu_id.clone());
        names.extend(
            page.into_iter()
                .map(|h| (h.rsu_id.to_string(), h.head_name)),
        );
    }
    Ok(names)
}

pub async fn release(
    store: &dyn Store,
    month: Month,
    actor: &Actor,
    cfg: &ReleaseConfig,
) -> Result<Released> {
    let cycle = load_cycle(store, month).await?;
    let payroll = stored_payroll(store, month).await?;
    let dir = cfg.out_dir.join(month.to_string());
    let already = matches!(cycle.status(), Status::Released | Status::Locked);
    if !already {
        // Checked before anything is written: only an approved cycle may be released.
        cycle.release(&actor.user, payroll.digest())?;
    }
    let names = payee_names(store).await?;
    let by_provider = payments_by_provider(month, &payroll.lines, &names);
    let tmp = cfg.out_dir.join(format!(".{month}.partial"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let (files, payments) = write_files(month, cfg, &tmp, &by_provider)?;
    if already {
        let mut again = finish_again(store, month, &tmp, &dir, files).await?;
        again.notices =
            queue_payment_notices(store, month, &cfg.templates, chrono::Utc::now().naive_utc())
                .await?;
        return Ok(again);
    }
    let next = cycle.release(&actor.user, payroll.digest())?;
    let entries = payroll
        .entries
        .iter()
        .map(entry_row)
        .collect::<Result<Vec<_>>>()?;
    store
        .save_release(
            &month.to_string(),
            &serde_json::to_string(&next).map_err(corrupt)?,
            &entries,
            &payments,
            &files,
            actor,
        )
        .await?;
    replace_dir(&tmp, &dir)?;
    let notices =
        queue_payment_notices(store, month, &cfg.templates, chrono::Utc::now().naive_utc()).await?;
    Ok(Released {
        dir,
        payments: payments.len(),
        files,
        changed: true,
        notices,
    })
}

/// Messages per outbox transaction when a release queues its notices.
const NOTICE_BATCH: usize = 20_000;

/// Queue a "payment issued" notice for every payment of a released `month` to a household
/// with a phone, in the language of its latest application, as `payment:<EndToEndId>`: a
/// release run again queues none twice. Returns how many were added.
pub async fn queue_payment_notices(
    store: &dyn Store,
    month: Month,
    templates: &sanad_applications::notify::Templates,
    at: chrono::NaiveDateTime,
) -> Result<u64> {
    use sanad_applications::notify::Notice;
    let stamp = sanad_store::outbox::stamp(at);
    let mut added = 0;
    let targets = store.payment_notice_targets(&month.to_string()).await?;
    for chunk in targets.chunks(NOTICE_BATCH) {
        let mut rows = Vec::with_capacity(chunk.len());
        for t in chunk {
            let notice = Notice::PaymentIssued {
                month,
                amount: sanad_domain::Money::from_centimes(t.amount),
                reference: t.end_to_end_id.clone(),
            };
            let id = format!("payment:{}", t.end_to_end_id);
            let to = (t.rsu_id.as_str(), t.phone.as_str());
            rows.push(sms(templates, id, to, &t.language, &notice, &stamp)?);
        }
        added += store.enqueue_many(&rows).await?;
    }
    Ok(added)
}

/// A notice worded in the household's language (French unless it asked for Arabic), queued as
/// an SMS to `to` (household, phone).
fn sms(
    templates: &sanad_applications::notify::Templates,
    id: String,
    to: (&str, &str),
    language: &str,
    notice: &sanad_applications::notify::Notice,
    stamp: &str,
) -> Result<sanad_store::MessageRow> {
    let lang = sanad_applications::notify::Language::parse(language).unwrap_or_default();
    let body = templates.render(notice, lang).map_err(corrupt)?;
    Ok(sanad_store::MessageRow::sms(
        id,
        to,
        lang.code(),
        notice.template(),
        body,
        stamp,
    ))
}

/// The awards to end, each with its termination notice to the household's phone in its
/// language (none without a phone), dated today.
async fn with_termination_notices(
    store: &dyn Store,
    ends: Vec<(String, String)>,
    templates: &sanad_applications::notify::Templates,
) -> Result<Vec<sanad_store::AwardEnd>> {
    use sanad_applications::notify::Notice;
    let ids: Vec<String> = ends.iter().map(|(h, _)| h.clone()).collect();
    let contacts: HashMap<String, sanad_store::outbox::NoticeContact> = store
        .notice_contacts(&ids)
        .await?
        .into_iter()
        .map(|c| (c.rsu_id.clone(), c))
        .collect();
    let now = chrono::Utc::now().naive_utc();
    let stamp = sanad_store::outbox::stamp(now);
    let policy = sanad_applications::DeadlinePolicy::default();
    let mut out = Vec::with_capacity(ends.len());
    for (rsu_id, last) in ends {
        let month = last.parse::<Month>().map_err(corrupt)?;
        let notice = Notice::termination(month, now.date(), &policy);
        let id = format!("termination:{rsu_id}:{last}");
        let notice = contacts
            .get(&rsu_id)
            .map(|c| {
                sms(
                    templates,
                    id,
                    (&c.rsu_id, &c.phone),
                    &c.language,
                    &notice,
                    &stamp,
                )
            })
            .transpose()?;
        out.push(sanad_store::AwardEnd {
            rsu_id,
            last_month: last,
            notice,
        });
    }
    Ok(out)
}

/// A released cycle asked again: its files are regenerated (they are deterministic) and
/// checked against the recorded digests; they replace the directory only if it is missing.
async fn finish_again(
    store: &dyn Store,
    month: Month,
    tmp: &Path,
    dir: &Path,
    files: Vec<FileRow>,
) -> Result<Released> {
    let recorded = store.payment_files(&month.to_string()).await?;
    let digests = |fs: &[FileRow]| {
        fs.iter()
            .map(|f| (f.file_name.clone(), f.sha256.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    if digests(&recorded) != digests(&files) {
        return Err(RunError::Refused(format!(
            "cycle {month} is released, but its files would now differ from the recorded ones"
        )));
    }
    if dir.exists() {
        std::fs::remove_dir_all(tmp).map_err(io(tmp))?;
    } else {
        replace_dir(tmp, dir)?;
    }
    let payments = store.payments(&month.to_string()).await?.len();
    Ok(Released {
        dir: dir.to_owned(),
        files: recorded,
        payments,
        changed: false,
        notices: 0,
    })
}

fn replace_dir(tmp: &Path, dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::rename(tmp, dir).map_err(io(dir))
}

/// One release per provider; files and manifests into `tmp`.
fn write_files(
    month: Month,
    cfg: &ReleaseConfig,
    tmp: &Path,
    by_provider: &BTreeMap<String, Vec<(sanad_payments::Payment, PaymentRow)>>,
) -> Result<(Vec<FileRow>, Vec<PaymentRow>)> {
    let mut files = Vec::new();
    let mut rows = Vec::new();
    for (provider, items) in by_provider {
        let spec = ReleaseSpec {
            debtor: cfg.debtor.clone(),
            cycle: month,
            provider: provider.clone(),
            release_seq: 1,
            execution_date: month.last_day(),
            // Fixed per cycle, so that a regenerated file is byte-identical.
            created_at: month
                .first_day()
                .and_hms_opt(0, 0, 0)
                .expect("midnight exists"),
            max_txs_per_file: cfg.max_txs_per_file,
        };
        let payments: Vec<&sanad_payments::Payment> = items.iter().map(|(p, _)| p).collect();
        let plan = sanad_payments::plan_release(&spec, payments.iter().copied())?;
        let manifest =
            sanad_payments::write_release(&spec, &plan, payments.iter().copied(), |f| {
                std::fs::File::create(tmp.join(&f.file_name)).map(std::io::BufWriter::new)
            })?;
        let mpath = tmp.join(manifest.file_name());
        std::fs::write(&mpath, manifest.to_json()).map_err(io(&mpath))?;
        let mut next = 0usize;
        for (plan_file, listed) in plan.files.iter().zip(&manifest.files) {
            let n = plan_file.summary.nb_of_txs as usize;
            for (_, row) in &items[next..next + n] {
                rows.push(PaymentRow {
                    file_name: listed.name.clone(),
                    ..row.clone()
                });
            }
            next += n;
            files.push(FileRow {
                file_name: listed.name.clone(),
                month: month.to_string(),
                provider: provider.clone(),
                msg_id: listed.msg_id.clone(),
                txs: listed.nb_of_txs as i64,
                ctrl_sum: plan_file.summary.ctrl_sum.centimes(),
                sha256: listed.sha256.clone(),
            });
        }
    }
    Ok((files, rows))
}

fn entry_row(e: &Entry) -> Result<EntryRow> {
    Ok(EntryRow {
        household: e.household().to_string(),
        kind: e.kind().code().into(),
        reference: e.reference().into(),
        body: serde_json::to_string(e).map_err(corrupt)?,
    })
}

/// What a return file did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReturnsReport {
    pub file: String,
    pub message: String,
    pub already_imported: bool,
    pub accepted: usize,
    pub rejected: usize,
    pub settled: usize,
    pub returned: usize,
    pub unchanged: usize,
    /// Lines naming a payment Sanad did not send (other payers' files, or errors).
    pub unmatched: Vec<String>,
    pub warnings: Vec<String>,
}

/// The payments of every cycle an EndToEndId of ours names, by EndToEndId (one query per cycle).
async fn payments_of_cycles(
    store: &dyn Store,
    ids: impl Iterator<Item = &str>,
) -> Result<HashMap<String, PaymentRow>> {
    let months: std::collections::BTreeSet<Month> = ids
        .filter_map(EndToEndRef::parse)
        .map(|r| r.cycle)
        .collect();
    let mut out = HashMap::new();
    for m in months {
        out.extend(
            store
                .payments(&m.to_string())
                .await?
                .into_iter()
                .map(|p| (p.end_to_end_id.clone(), p)),
        );
    }
    Ok(out)
}

/// Read a pain.002 or camt.054 file and apply it: statuses, and ledger entries for
/// rejected, settled and returned payments. A file is applied once.
pub async fn import_returns(
    store: &dyn Store,
    path: &Path,
    actor: &Actor,
) -> Result<ReturnsReport> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let sha = sanad_payments::sha256_hex(&bytes);
    let mut report = ReturnsReport {
        file: path.display().to_string(),
        ..Default::default()
    };
    if store.returns_imported(&sha).await? {
        report.already_imported = true;
        return Ok(report);
    }
    let mut events = Vec::new();
    let summary =
        sanad_payments::read_returns(BufReader::new(bytes.as_slice()), |e| events.push(e))?;
    report.message = format!("{:?}", summary.message);
    report.warnings = summary
        .warnings
        .iter()
        .map(|w| format!("line {}: {}: {}", w.line, w.element, w.message))
        .collect();
    let mut ledger = load_ledger(store).await?;
    let known = payments_of_cycles(store, events.iter().map(|e| e.end_to_end_id.as_str())).await?;
    let (mut updates, mut entries) = (Vec::new(), Vec::new());
    for ev in events {
        let Some(payment) = known.get(&ev.end_to_end_id).cloned() else {
            report.unmatched.push(format!(
                "line {}: {} is not a payment of this programme",
                ev.source_line, ev.end_to_end_id
            ));
            continue;
        };
        let (status, kind, reason) = match &ev.kind {
            ReturnKind::Accepted => ("accepted", None, None),
            ReturnKind::Rejected { reason } => ("rejected", Some(Kind::Rejected), reason.clone()),
            ReturnKind::Settled => ("settled", Some(Kind::Confirmed), None),
            ReturnKind::Returned { reason } => ("returned", Some(Kind::Returned), reason.clone()),
            ReturnKind::Pending | ReturnKind::Other => {
                report.unchanged += 1;
                continue;
            }
        };
        if payment.status == status {
            report.unchanged += 1;
            continue;
        }
        if let Some(kind) = kind {
            let household = RsuId::parse(&payment.rsu_id).map_err(corrupt)?;
            let date: Date = ev
                .booking_date
                .unwrap_or_else(|| chrono::Local::now().date_naive());
            let book = ledger.book(&household).ok_or_else(|| {
                RunError::Corrupt(format!("payment {} has no ledger", payment.reference))
            })?;
            let entry = settle_entry(
                book,
                &Origin::new(&household, date, payment.reference.clone()),
                kind,
            )?;
            entries.push(entry_row(&entry)?);
            ledger.post(entry)?;
        }
        match status {
            "accepted" => report.accepted += 1,
            "rejected" => report.rejected += 1,
            "settled" => report.settled += 1,
            _ => report.returned += 1,
        }
        updates.push(StatusUpdate {
            end_to_end_id: payment.end_to_end_id,
            status: status.into(),
            reason,
        });
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let summary_json = serde_json::to_string(&report).map_err(corrupt)?;
    store
        .save_returns(&sha, &name, &summary_json, &updates, &entries, actor)
        .await?;
    Ok(report)
}

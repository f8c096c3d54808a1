//! The payroll's edge: the monthly cycle and bank returns run against a [`Store`]. The
//! decisions are the pure modules' (`cycle`, `ledger`, `state`); this module only reads
//! their inputs, saves their outputs, and writes the payment files.
//!
//! Every step can be run again: prepare replaces a prepared cycle (or does nothing when the
//! result is the same), release regenerates byte-identical files when a crash came between
//! saving and renaming, and a return file is applied once (by its SHA-256).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use sanad_domain::{Date, Month, PaymentInstrument, RsuId};
use sanad_payments::{BatchSummary, Debtor, EndToEndRef, FilePlan, ReleasePlan, ReleaseSpec};
use sanad_rules::ruleset::RuleSet;
use sanad_rules::{RuleBook, Snapshot};
use sanad_store::payroll::{BookRow, EntryRow, FileRow, LedgerRow, LineRow, PaymentRow};
use sanad_store::population::{PopHousehold, Population};
use sanad_store::{Actor, RuleSetStatus, Store, StoreError};

use crate::PayrollError;
use crate::awards;
use crate::cycle::{
    Beneficiary, CycleParams, Digester, LineHead, LineStatus, Payroll, PayrollLine, Totals,
    TotalsBuilder,
};
use crate::held;
use crate::ledger::PaymentStatus;
use crate::ledger::{Entry, HouseholdBook, Ledger};
use crate::replay::{self, ReplayReport};
use crate::state::{Cycle, Digest, Status};

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

pub(crate) type Result<T> = std::result::Result<T, RunError>;

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.display().to_string(),
        source,
    }
}

pub(crate) fn corrupt(e: impl std::fmt::Display) -> RunError {
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

/// Households per page of the streamed cycle: what one page reads and writes at a time.
pub const PAGE: u32 = 10_000;

/// What the pure planner needs of a page of households `(after, upto]`, read in a few range
/// queries: the registry's households, their awards, ledger books, bounced payments and
/// payment instruments.
struct PageInputs {
    population: Population,
    grants: HashMap<RsuId, Vec<awards::Grant>>,
    ledger: Ledger,
    /// Books to store again (`page_ledger`).
    books: Vec<BookRow>,
    instruments: HashMap<RsuId, PaymentInstrument>,
    bounced: HashMap<String, held::Bounce>,
}

/// The awards of the households `(after, upto]`, by household.
async fn grants_between(
    store: &dyn Store,
    after: &str,
    upto: &str,
) -> Result<HashMap<RsuId, Vec<awards::Grant>>> {
    let mut grants: HashMap<RsuId, Vec<awards::Grant>> = HashMap::new();
    for a in store.awards_between(after, upto).await? {
        let (household, grant) = grant(&a)?;
        grants.entry(household).or_default().push(grant);
    }
    Ok(grants)
}

async fn page_inputs(store: &dyn Store, after: &str, upto: &str) -> Result<PageInputs> {
    let population = store.population_between(after, upto).await?;
    let grants = grants_between(store, after, upto).await?;
    let (ledger, books) = page_ledger(store.ledger_between(after, upto).await?)?;
    let mut instruments = HashMap::new();
    for p in store.payees_between(after, upto).await? {
        if let Some(i) = p.instrument {
            instruments.insert(RsuId::parse(&p.rsu_id).map_err(corrupt)?, i);
        }
    }
    let bounced = store
        .bounced_between(after, upto)
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
    Ok(PageInputs {
        population,
        grants,
        ledger,
        books,
        instruments,
        bounced,
    })
}

/// Entries a household's book may gather after its stored book before a prepare stores it
/// again (at least): what a cycle reads of a book stays bounded, while a book grows by two or
/// three entries a month and is rewritten only every few months.
pub const BOOK_AFTER: usize = 8;

/// The entries a household's book gathers before it is stored again: `BOOK_AFTER` and up to
/// three more, by the id's last digit. A launch wave's households all start together, and
/// would otherwise all have their books rewritten in the same month.
pub fn book_after(household: &str) -> usize {
    BOOK_AFTER + household.bytes().last().map_or(0, |d| usize::from(d) % 4)
}

/// A page's ledger, from its stored books and the entries posted since, and the books to store
/// again: those with `book_after` entries or more since. Only posted entries are in them.
fn page_ledger(rows: Vec<LedgerRow>) -> Result<(Ledger, Vec<BookRow>)> {
    let (mut books, mut entries) = (Vec::new(), Vec::new());
    let mut since: HashMap<String, (usize, i64)> = HashMap::new();
    for r in rows {
        if r.book {
            let book: HouseholdBook = serde_json::from_str(&r.body).map_err(corrupt)?;
            books.push((RsuId::parse(&r.household).map_err(corrupt)?, book));
        } else {
            entries.push(serde_json::from_str::<Entry>(&r.body).map_err(corrupt)?);
            let (n, last) = since.entry(r.household).or_default();
            (*n, *last) = (*n + 1, r.seq);
        }
    }
    let ledger = Ledger::resume(books, entries)?;
    let mut store = Vec::new();
    for (household, (n, upto_seq)) in since {
        if n < book_after(&household) {
            continue;
        }
        let book = (ledger.book(&RsuId::parse(&household).map_err(corrupt)?))
            .ok_or_else(|| corrupt(format!("no book for {household}")))?;
        store.push(BookRow {
            body: serde_json::to_string(book).map_err(corrupt)?,
            household,
            upto_seq,
        });
    }
    Ok((ledger, store))
}

/// What stays the same over every page of a cycle (owned: pages are planned on a blocking
/// thread while the page before is written and the page after read).
struct CycleContext {
    book: RuleBook,
    month: Month,
    params: CycleParams,
    rule_set: String,
    changed: HashMap<RsuId, Month>,
}

fn in_force(book: &RuleBook, m: Month) -> Result<&RuleSet> {
    book.for_month(m)
        .ok_or_else(|| RunError::Refused(format!("no rule set in force in {m}")))
}

/// What the rules see of a registry household for month `m` under `rules`.
fn snapshot<'p>(
    population: &'p Population,
    h: &PopHousehold,
    rules: &RuleSet,
    m: Month,
) -> Snapshot<'p> {
    Snapshot {
        score: population.score_at(h, sanad_rules::engine::reference_date(rules, m)),
        resident: true,
        members: population.members_of(h),
    }
}

/// A household with an award or a ledger book, in the cycle: paid only the aid it was awarded.
/// Records in `ends` a household whose suspension notice ran out, with the last month its
/// awards run (`awards::termination`): it is paid as if already ended.
fn beneficiary(
    cx: &CycleContext,
    page: &PageInputs,
    h: &PopHousehold,
    household: RsuId,
    ends: &mut Vec<(String, String)>,
) -> Result<Beneficiary> {
    let (book, month, population) = (&cx.book, cx.month, &page.population);
    let granted = page.grants.get(&household).map_or(&[][..], Vec::as_slice);
    let held = page.ledger.book(&household);
    let decide_with = |m: Month, mine: &[awards::Grant]| -> Result<sanad_rules::Decision> {
        let rules = in_force(book, m)?;
        Ok(replay::decide(
            rules,
            &snapshot(population, h, rules, m),
            mine,
            m,
        ))
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
    let retro = awards::months_to_settle(mine, held, month, cx.changed.get(&household).copied())
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
        page.instruments.get(&household),
        waiting.filter_map(|x| page.bounced.get(&x.reference)),
    );
    let rules = in_force(book, month)?;
    let stamp = replay::stamp(
        rules,
        &snapshot(population, h, rules, month),
        mine,
        month,
        &decision,
    );
    Ok(Beneficiary {
        instrument,
        stamp: Some(stamp),
        reference: format!("DEC-{month}-{household}-{}", cx.rule_set),
        household,
        region: h.region,
        decision,
        retro,
    })
}

/// One page of the cycle, in RSU id order: the lines of the households in the registry with
/// an award or a book, and every entry (a household no longer in the registry only has its
/// uncashed payments taken back), each household's entries in the order they post.
fn plan_page(
    cx: &CycleContext,
    keys: &[String],
    page: &PageInputs,
    ends: &mut Vec<(String, String)>,
) -> Result<(Vec<PayrollLine>, Vec<Entry>)> {
    let (mut lines, mut entries) = (Vec::with_capacity(keys.len()), Vec::new());
    for key in keys {
        let household = RsuId::parse(key).map_err(corrupt)?;
        let id: u64 = key.parse().map_err(corrupt)?;
        let held = page.ledger.book(&household);
        let granted = page.grants.contains_key(&household);
        match page.population.find(id) {
            Some(h) if granted || held.is_some() => {
                let b = beneficiary(cx, page, h, household, ends)?;
                let plan = crate::cycle::plan_household(&cx.params, &b, held)?;
                lines.push(plan.line);
                entries.extend(plan.entries);
            }
            _ => {
                if let Some(book) = held {
                    entries.extend(crate::cycle::expire_uncashed(&cx.params, &household, book)?);
                }
            }
        }
    }
    Ok((lines, entries))
}

/// What the pages of a cycle add up to, carried from one page's planning to the next.
struct Accumulated {
    digest: Digester,
    totals: TotalsBuilder,
    /// Sequence number of the next pending entry.
    seq: i64,
    /// Households whose suspension notice ran out, with the last month of their awards.
    ends: Vec<(String, String)>,
}

impl Accumulated {
    fn new(month: Month, run_date: Date) -> Self {
        Accumulated {
            digest: Digester::new(month, run_date),
            totals: TotalsBuilder::default(),
            seq: 0,
            ends: Vec::new(),
        }
    }
}

/// A planned page, encoded for the store.
struct PlannedPage {
    lines: Vec<LineRow>,
    entries: Vec<(i64, EntryRow)>,
    books: Vec<BookRow>,
}

/// Plan a page, add it to the digest and totals, and encode its rows; the page's books to
/// store again go with them.
fn plan_and_encode(
    cx: &CycleContext,
    keys: &[String],
    inputs: PageInputs,
    acc: &mut Accumulated,
) -> Result<PlannedPage> {
    let (lines, entries) = plan_page(cx, keys, &inputs, &mut acc.ends)?;
    let mut rows = Vec::with_capacity(entries.len());
    for e in &entries {
        acc.digest.entry(e);
        acc.totals.entry(e);
        rows.push((acc.seq, entry_row(e)?));
        acc.seq += 1;
    }
    let mut line_rows = Vec::with_capacity(lines.len());
    for l in &lines {
        acc.digest.line(l);
        acc.totals.line(l);
        line_rows.push(line_row(l)?);
    }
    Ok(PlannedPage {
        lines: line_rows,
        entries: rows,
        books: inputs.books,
    })
}

/// An award as the payroll reads it.
fn grant(a: &sanad_store::AwardRow) -> Result<(RsuId, awards::Grant)> {
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
    Ok((RsuId::parse(&a.rsu_id).map_err(corrupt)?, grant))
}

/// What `prepare` did: the payroll's totals and digest (its lines and entries are stored,
/// not held: read them with [`stored_payroll`] or a page at a time).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub month: Month,
    pub totals: Totals,
    pub digest: Digest,
    /// False when the cycle was already prepared with exactly this result.
    pub changed: bool,
}

/// Prepare the month's payroll, [`PAGE`] households at a time. `templates` word the
/// termination notices of households whose suspension notice has run out.
pub async fn prepare(
    store: &dyn Store,
    month: Month,
    actor: &Actor,
    templates: &sanad_applications::notify::Templates,
) -> Result<Prepared> {
    prepare_paged(store, month, actor, templates, PAGE).await
}

/// Prepare, reading and writing `page` households at a time. The households with an award or
/// a ledger book are walked in RSU id order; each page's lines and pending entries are
/// written as soon as planned; the cycle is saved prepared (with the digest of what was
/// written) only at the end. A prepare killed midway leaves the cycle as it was with partial
/// rows, which approval refuses (their digest is not the prepared one) and a new prepare
/// replaces. A cycle already approved or released is only recomputed, never rewritten: the
/// same result is accepted, another refused.
pub async fn prepare_paged(
    store: &dyn Store,
    month: Month,
    actor: &Actor,
    templates: &sanad_applications::notify::Templates,
    page: u32,
) -> Result<Prepared> {
    let cycle = load_cycle(store, month).await?;
    let book = rule_book(store).await?;
    let rules = book
        .for_month(month)
        .ok_or_else(|| RunError::Refused(format!("no rule set in force in {month}")))?;
    let params = CycleParams::from_rules(month, &rules.payment);
    params.validate()?;
    let rule_set = rules.id.to_string();
    let cx = std::sync::Arc::new(CycleContext {
        book,
        month,
        params,
        rule_set,
        changed: changed_since(store, month).await?,
    });
    let m = month.to_string();
    let write = matches!(cycle.status(), Status::Draft | Status::Prepared);
    if write {
        store.clear_prepared(&m).await?;
    }
    // Three pages in flight: page n+1 is read and page n−1 written while page n is planned.
    let read = |after: String| async move {
        let keys = store.payroll_keys(&after, page.max(1)).await?;
        let Some(last) = keys.last().cloned() else {
            return Ok(None);
        };
        let inputs = page_inputs(store, &after, &last).await?;
        Ok::<_, RunError>(Some((keys, inputs, last)))
    };
    let save = |planned: Option<PlannedPage>| {
        let m = &m;
        async move {
            match planned {
                Some(p) if write => {
                    store.add_prepared(m, &p.lines, &p.entries).await?;
                    if !p.books.is_empty() {
                        store.save_books(&p.books).await?;
                    }
                }
                _ => {}
            }
            Ok::<_, RunError>(())
        }
    };
    let mut acc = Accumulated::new(month, cx.params.run_date);
    let (mut current, mut planned) = (read(String::new()).await?, None);
    let mut busy = [std::time::Duration::ZERO; 3];
    while let Some((keys, inputs, last)) = current {
        let cx = cx.clone();
        let plan = on_blocking_thread("planning a page", move || {
            let page = plan_and_encode(&cx, &keys, inputs, &mut acc);
            (page, acc)
        });
        let (((page, back), planning), ((), writing), (next, reading)) =
            futures_util::future::try_join3(
                timed(plan),
                timed(save(planned.take())),
                timed(read(last)),
            )
            .await?;
        busy = [busy[0] + reading, busy[1] + planning, busy[2] + writing];
        acc = back;
        (planned, current) = (Some(page?), next);
    }
    let ((), writing) = timed(save(planned)).await?;
    busy[2] += writing;
    let [reading, planning, writing] = busy.map(|d| d.as_secs_f64());
    // Each stage's busy time; they overlap, so the slowest one bounds the prepare.
    tracing::debug!(
        "prepare {month}: reading {reading:.1} s, planning {planning:.1} s, writing {writing:.1} s"
    );
    let Accumulated {
        digest,
        totals,
        ends,
        ..
    } = acc;
    let (digest, totals) = (digest.finish(), totals.finish());
    // Budget control: a payroll that would exceed the year's appropriation is refused.
    if let Some(a) = appropriation(store, month.year()).await? {
        let summary = Payroll {
            month,
            run_date: cx.params.run_date,
            lines: Vec::new(),
            entries: Vec::new(),
            totals: totals.clone(),
        };
        if let Err(e) = crate::check_budget(&a, &year_to_date(store, month).await?, &summary) {
            if write && cycle.status() == Status::Draft {
                store.clear_prepared(&m).await?;
            }
            return Err(e.into());
        }
    }
    // Awards whose suspension notice ran out end (once: an ended award is not ended again),
    // with their termination notices. Its own transaction: a prepare run again finds them
    // ended and lists the same payroll.
    if !ends.is_empty() {
        let ends = with_termination_notices(store, ends, templates).await?;
        store.end_awards(&ends, "notice_expired", actor).await?;
    }
    let done = |changed| Prepared {
        month,
        totals: totals.clone(),
        digest,
        changed,
    };
    if cycle.status() == Status::Prepared && cycle.inputs() == Some(digest) {
        return Ok(done(false));
    }
    // Prepared from other data (a registry change, a new account): the preparer's new run
    // replaces the old one until approval; both are audited.
    let cycle = if cycle.status() == Status::Prepared {
        cycle.reopen()?
    } else {
        cycle
    };
    let next = cycle.prepare(&actor.user, digest)?;
    if !write {
        return Ok(done(false)); // approved already, with this very payroll
    }
    let body = serde_json::to_string(&next).map_err(corrupt)?;
    store
        .finish_prepared(
            &m,
            &body,
            totals.all.households,
            totals.all.amount.centimes(),
            actor,
        )
        .await?;
    Ok(done(true))
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

/// A page of the stored lines after `after`, in RSU id order.
async fn lines_page(store: &dyn Store, month: &str, after: &str) -> Result<Vec<PayrollLine>> {
    store
        .payroll_lines_page(month, after, PAGE)
        .await?
        .iter()
        .map(|l| serde_json::from_str::<PayrollLine>(&l.body).map_err(corrupt))
        .collect()
}

/// Walk stored rows a page at a time: each page is parsed on a blocking thread while the
/// next one is fetched, then handed to `f`, in order.
async fn walk<K, R, T, Fut>(
    fetch: impl Fn(K) -> Fut,
    first: K,
    key: fn(&R) -> K,
    parse: fn(&R) -> Result<T>,
    mut f: impl FnMut(Vec<T>) -> Result<()>,
) -> Result<()>
where
    R: Send + 'static,
    T: Send + 'static,
    Fut: std::future::Future<Output = Result<Vec<R>>>,
{
    let mut rows = fetch(first).await?;
    while let Some(last) = rows.last() {
        let after = key(last);
        let parsing =
            on_blocking_thread("reading a page", move || rows.iter().map(parse).collect());
        let parsed = async { parsing.await? };
        let (page, next) = futures_util::future::try_join(parsed, fetch(after)).await?;
        f(page)?;
        rows = next;
    }
    Ok(())
}

/// Every page of the month's stored lines, in RSU id order, read as `T` (a whole
/// [`PayrollLine`], or its figures alone: [`LineHead`]).
async fn each_line_page<T: serde::de::DeserializeOwned + Send + 'static>(
    store: &dyn Store,
    month: &str,
    f: impl FnMut(Vec<T>) -> Result<()>,
) -> Result<()> {
    let fetch =
        |after: String| async move { Ok(store.payroll_lines_page(month, &after, PAGE).await?) };
    let parse = |r: &LineRow| serde_json::from_str::<T>(&r.body).map_err(corrupt);
    walk(fetch, String::new(), |r| r.rsu_id.clone(), parse, f).await
}

/// Feed every stored pending entry of `month` to `f`, a page at a time, in posting order.
async fn each_pending_page(
    store: &dyn Store,
    month: &str,
    f: impl FnMut(Vec<Entry>) -> Result<()>,
) -> Result<()> {
    let fetch =
        |after: i64| async move { Ok(store.pending_entries_page(month, after, PAGE).await?) };
    let parse = |(_, e): &(i64, String)| serde_json::from_str::<Entry>(e).map_err(corrupt);
    walk(fetch, -1, |(seq, _)| *seq, parse, f).await
}

/// The digest of the stored entries of `month`, walked beside its lines.
async fn entries_digest(store: &dyn Store, month: Month) -> Result<Digester> {
    let mut d = Digester::new(month, month.last_day());
    each_pending_page(store, &month.to_string(), |entries| {
        entries.iter().for_each(|e| d.entry(e));
        Ok(())
    })
    .await?;
    Ok(d)
}

/// Recompute every stored line of `month` from today's registry and awards under the rule set
/// each line names (see [`replay`]), a page of households at a time. `progress` is told how
/// many lines each page held.
pub async fn replay_month(
    store: &dyn Store,
    month: Month,
    mut progress: impl FnMut(u64),
) -> Result<ReplayReport> {
    let book = rule_book(store).await?;
    let m = month.to_string();
    let mut report = ReplayReport::new(month);
    let mut after = String::new();
    loop {
        let lines = lines_page(store, &m, &after).await?;
        let Some(last) = lines.last().map(|l| l.household.to_string()) else {
            return Ok(report);
        };
        let population = store.population_between(&after, &last).await?;
        let grants = grants_between(store, &after, &last).await?;
        for l in &lines {
            let rules = l.decided.as_ref().and_then(|d| book.get(&d.rule_set));
            let id: u64 = l.household.as_str().parse().map_err(corrupt)?;
            let mine = grants.get(&l.household).map_or(&[][..], Vec::as_slice);
            let snap = match (rules, population.find(id)) {
                (Some(rules), Some(h)) => Some(snapshot(&population, h, rules, month)),
                _ => None,
            };
            let outcome = replay::check(l, month, rules, snap.as_ref().map(|s| (s, mine)));
            report.count(&l.household, outcome);
        }
        progress(lines.len() as u64);
        after = last;
    }
}

/// The digest of the stored payroll, read a page at a time: what the checker approves and
/// the release checks is exactly what is stored.
pub async fn stored_digest(store: &dyn Store, month: Month) -> Result<Digest> {
    let m = month.to_string();
    let lines = async {
        let mut d = Digester::new(month, month.last_day());
        each_line_page(store, &m, |page: Vec<LineHead>| {
            page.iter().for_each(|l| d.line(l));
            Ok(())
        })
        .await?;
        Ok(d)
    };
    let (lines, entries) =
        futures_util::future::try_join(lines, entries_digest(store, month)).await?;
    Ok(lines.finish_with_entries_of(entries))
}

/// The stored payroll's totals, read a page at a time (its lines and entries are not kept):
/// what the budget report needs.
pub async fn stored_summary(store: &dyn Store, month: Month) -> Result<Payroll> {
    let (m, mut t) = (month.to_string(), TotalsBuilder::default());
    each_line_page(store, &m, |page: Vec<LineHead>| {
        page.iter().for_each(|l| t.line(l));
        Ok(())
    })
    .await?;
    each_pending_page(store, &m, |entries| {
        entries.iter().for_each(|e| t.entry(e));
        Ok(())
    })
    .await?;
    Ok(Payroll {
        month,
        run_date: month.last_day(),
        lines: Vec::new(),
        entries: Vec::new(),
        totals: t.finish(),
    })
}

/// What the year has committed before `month` (its approved and released payrolls) and
/// executed (money confirmed received, net of returns), summed a page of entries at a time.
async fn year_to_date(store: &dyn Store, month: Month) -> Result<crate::YearToDate> {
    let mut committed = crate::ByComponent::new();
    let mut m = Month::new(month.year(), 1).expect("January exists");
    while m < month {
        let cycle = load_cycle(store, m).await?;
        if matches!(
            cycle.status(),
            Status::Approved | Status::Released | Status::Locked
        ) {
            let mut t = TotalsBuilder::default();
            each_pending_page(store, &m.to_string(), |entries| {
                entries.iter().for_each(|e| t.entry(e));
                Ok(())
            })
            .await?;
            for (c, amount) in t.finish().committed().iter() {
                committed.add(c, amount);
            }
        }
        m = m.next();
    }
    let mut executed = crate::ByComponent::new();
    let mut after = 0;
    loop {
        let page = store.ledger_entries(after, 50_000).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        let entries = page
            .iter()
            .map(|(_, body)| serde_json::from_str::<Entry>(body).map_err(corrupt))
            .collect::<Result<Vec<_>>>()?;
        for (c, amount) in crate::budget::executed_in_year(&entries, month.year()).iter() {
            executed.add(c, amount);
        }
    }
    Ok(crate::YearToDate {
        committed,
        executed,
    })
}

/// The payroll against the year's appropriation; `None` when none is set. Only the payroll's
/// month and totals are read.
pub async fn budget(store: &dyn Store, payroll: &Payroll) -> Result<Option<crate::BudgetReport>> {
    let Some(a) = appropriation(store, payroll.month.year()).await? else {
        return Ok(None);
    };
    let ytd = year_to_date(store, payroll.month).await?;
    Ok(Some(crate::budget::budget_report(&a, &ytd, payroll)?))
}

/// The prepared payroll against the previous month's: new and dropped households, amounts
/// changed by more than `threshold`, by region. `None` when either month has no payroll.
/// Both months' lines are merged by RSU id a page at a time, from their stored columns.
pub async fn variance_vs_previous(
    store: &dyn Store,
    month: Month,
    threshold: crate::Threshold,
) -> Result<Option<crate::VarianceReport>> {
    let mut prev = LineCursor::new(month.prev());
    let mut cur = LineCursor::new(month);
    if prev.peek(store).await?.is_none() || cur.peek(store).await?.is_none() {
        return Ok(None);
    }
    let mut r = crate::VarianceReport::empty(month.prev(), month, threshold);
    loop {
        let a = prev.peek(store).await?.map(|l| l.household.clone());
        let b = cur.peek(store).await?.map(|l| l.household.clone());
        let order = match (a, b) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(a), Some(b)) => a.cmp(&b),
        };
        let (a, b) = match order {
            std::cmp::Ordering::Less => (prev.next(), None),
            std::cmp::Ordering::Greater => (None, cur.next()),
            std::cmp::Ordering::Equal => (prev.next(), cur.next()),
        };
        r.compare(a.as_ref(), b.as_ref());
    }
    Ok(Some(r))
}

/// A month's stored lines read a page at a time, as the columns beside their bodies give them
/// (household, region, status, amount: what the variance compares).
struct LineCursor {
    month: String,
    after: String,
    page: std::collections::VecDeque<PayrollLine>,
    done: bool,
}

impl LineCursor {
    fn new(month: Month) -> Self {
        LineCursor {
            month: month.to_string(),
            after: String::new(),
            page: Default::default(),
            done: false,
        }
    }

    async fn peek(&mut self, store: &dyn Store) -> Result<Option<&PayrollLine>> {
        if self.page.is_empty() && !self.done {
            let rows = store
                .payroll_lines_page(&self.month, &self.after, PAGE)
                .await?;
            self.done = rows.is_empty();
            for r in rows {
                self.page.push_back(line_of_row(&r)?);
                self.after = r.rsu_id;
            }
        }
        Ok(self.page.front())
    }

    fn next(&mut self) -> Option<PayrollLine> {
        self.page.pop_front()
    }
}

/// The stored columns of a line (not its body): enough to compare amounts.
fn line_of_row(r: &LineRow) -> Result<PayrollLine> {
    let status = match r.status.as_str() {
        "pay" => LineStatus::Pay,
        "withheld" => LineStatus::Withheld,
        _ => LineStatus::Nothing,
    };
    let zero = sanad_domain::Money::ZERO;
    Ok(PayrollLine {
        household: RsuId::parse(&r.rsu_id).map_err(corrupt)?,
        region: sanad_domain::RegionCode::parse(&r.region).map_err(corrupt)?,
        status,
        instrument: None,
        payment: None,
        current: zero,
        arrears: zero,
        reissue: zero,
        recovery: zero,
        amount: sanad_domain::Money::from_centimes(r.amount),
        debt_after: zero,
        explanation: Vec::new(),
        decided: None,
    })
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
    let digest = stored_digest(store, month).await?;
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

/// The release of one provider for a cycle: its spec and its files as the first pass plans them.
struct ProviderRelease {
    spec: ReleaseSpec,
    files: Vec<FilePlan>,
    total: BatchSummary,
    /// The last payment planned, to check the order (EndToEndIds strictly increasing).
    previous: Option<(u64, u16)>,
}

impl ProviderRelease {
    fn new(month: Month, cfg: &ReleaseConfig, provider: &str) -> Self {
        ProviderRelease {
            spec: ReleaseSpec {
                debtor: cfg.debtor.clone(),
                cycle: month,
                provider: provider.to_owned(),
                release_seq: 1,
                execution_date: month.last_day(),
                // Fixed per cycle, so that a regenerated file is byte-identical.
                created_at: month
                    .first_day()
                    .and_hms_opt(0, 0, 0)
                    .expect("midnight exists"),
                max_txs_per_file: cfg.max_txs_per_file,
            },
            files: Vec::new(),
            total: BatchSummary::default(),
            previous: None,
        }
    }

    /// Count a payment into the next file with room (first pass); checked as the writer will.
    fn plan(&mut self, p: &sanad_payments::Payment) -> Result<()> {
        sanad_payments::check_payment(self.spec.cycle, p, self.previous)?;
        self.previous = Some(p.key());
        let max = u64::from(self.spec.max_txs_per_file.max(1));
        if self.files.last().is_none_or(|f| f.summary.nb_of_txs == max) {
            let file_seq = self.files.len() as u32 + 1;
            let msg_id = sanad_payments::ids::msg_id(
                self.spec.cycle,
                &self.spec.provider,
                self.spec.release_seq,
                file_seq,
            );
            self.files.push(FilePlan {
                file_seq,
                file_name: format!("{msg_id}.xml"),
                msg_id,
                summary: BatchSummary::default(),
            });
        }
        let f = &mut self.files.last_mut().expect("pushed above").summary;
        f.nb_of_txs += 1;
        f.ctrl_sum += p.amount;
        self.total.nb_of_txs += 1;
        self.total.ctrl_sum += p.amount;
        Ok(())
    }
}

type FileWriter =
    sanad_payments::Pain001Writer<sanad_payments::HashingWriter<std::io::BufWriter<std::fs::File>>>;

/// A provider's release being written (second pass): the file open, what is written.
#[derive(Default)]
struct ProviderOut {
    file: usize,
    in_file: u64,
    writer: Option<FileWriter>,
    listed: Vec<sanad_payments::ManifestFile>,
}

/// A paid line as a payment (its number is its position among the paid lines, in RSU id
/// order) and its payment row, or `None` for a line that pays nothing.
fn payment_of(
    month: Month,
    number: u64,
    l: &PayrollLine,
    name: impl FnOnce() -> String,
) -> Option<(String, sanad_payments::Payment, PaymentRow)> {
    let (Some(instrument), Some(reference)) = (&l.instrument, &l.payment) else {
        return None;
    };
    let id = EndToEndRef {
        cycle: month,
        payment_id: number,
        issue: 1,
    };
    let provider = provider_of(instrument);
    let payment = sanad_payments::Payment {
        payment_id: id.payment_id,
        issue: 1,
        beneficiary_name: name(),
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
    Some((provider, payment, row))
}

/// First pass over the stored payroll: its digest, and each provider's files planned.
async fn plan_release(
    store: &dyn Store,
    month: Month,
    cfg: &ReleaseConfig,
) -> Result<(Digest, BTreeMap<String, ProviderRelease>)> {
    let m = month.to_string();
    let mut d = Digester::new(month, month.last_day());
    let mut plans: BTreeMap<String, ProviderRelease> = BTreeMap::new();
    let mut number = 0u64;
    let lines = each_line_page(store, &m, |page: Vec<PayrollLine>| {
        for l in &page {
            d.line(l);
            if l.status != LineStatus::Pay {
                continue;
            }
            number += 1;
            if let Some((provider, payment, _)) = payment_of(month, number, l, String::new) {
                plans
                    .entry(provider.clone())
                    .or_insert_with(|| ProviderRelease::new(month, cfg, &provider))
                    .plan(&payment)?;
            }
        }
        Ok(())
    });
    let ((), entries) = futures_util::future::try_join(lines, entries_digest(store, month)).await?;
    Ok((d.finish_with_entries_of(entries), plans))
}

/// The second pass's files: every provider's pain.001 files written into `tmp` as the paid
/// lines come, in RSU id order. It owns what it needs, so a page is written on a blocking
/// thread while the next page is read and the one before posted.
struct FilesWriter {
    month: Month,
    tmp: PathBuf,
    plans: BTreeMap<String, ProviderRelease>,
    outs: BTreeMap<String, ProviderOut>,
    /// Paid lines met so far: a payment's number.
    number: u64,
}

/// The stored payroll no longer matches the first pass's plan for `provider`.
fn changed(month: Month, provider: &str) -> RunError {
    RunError::Corrupt(format!(
        "release {month} {provider}: the payroll changed while it was written"
    ))
}

impl FilesWriter {
    /// Write a page's payments into their files; returns their payment rows.
    fn page(
        &mut self,
        page: &[PayrollLine],
        names: &HashMap<String, String>,
    ) -> Result<Vec<PaymentRow>> {
        let mut rows = Vec::new();
        for l in page.iter().filter(|l| l.status == LineStatus::Pay) {
            self.number += 1;
            let name = || {
                names
                    .get(&l.household.to_string())
                    .cloned()
                    .unwrap_or_else(|| format!("BENEFICIAIRE {}", l.household))
            };
            let Some((provider, payment, row)) = payment_of(self.month, self.number, l, name)
            else {
                continue;
            };
            let file_name = self.push(&provider, &payment)?;
            rows.push(PaymentRow { file_name, ..row });
        }
        Ok(rows)
    }

    /// Add a payment to its provider's current file (opened if need be, closed when full);
    /// returns the file's name.
    fn push(&mut self, provider: &str, payment: &sanad_payments::Payment) -> Result<String> {
        let month = self.month;
        let plan = self
            .plans
            .get(provider)
            .ok_or_else(|| changed(month, provider))?;
        let out = self.outs.entry(provider.to_owned()).or_default();
        let file = plan
            .files
            .get(out.file)
            .ok_or_else(|| changed(month, provider))?;
        if out.writer.is_none() {
            let path = self.tmp.join(&file.file_name);
            let f = std::fs::File::create(&path).map_err(io(&path))?;
            let w = sanad_payments::HashingWriter::new(std::io::BufWriter::new(f));
            out.writer = Some(sanad_payments::Pain001Writer::begin(&plan.spec, file, w)?);
        }
        out.writer.as_mut().expect("opened above").push(payment)?;
        out.in_file += 1;
        if out.in_file == file.summary.nb_of_txs {
            let (hashing, written) = out.writer.take().expect("open above").finish()?;
            let (mut inner, sha256) = hashing.finish();
            // A buffered writer reports a failed final write only here, not when dropped.
            std::io::Write::flush(&mut inner).map_err(io(&self.tmp))?;
            out.listed.push(sanad_payments::ManifestFile {
                name: file.file_name.clone(),
                msg_id: file.msg_id.clone(),
                nb_of_txs: written.nb_of_txs,
                ctrl_sum: sanad_payments::amount::format_amount(written.ctrl_sum),
                sha256,
            });
            (out.file, out.in_file) = (out.file + 1, 0);
        }
        Ok(file.file_name.clone())
    }

    /// Every file closed: each provider's manifest written; the files' rows.
    fn finish(mut self) -> Result<Vec<FileRow>> {
        let mut files = Vec::new();
        for (provider, plan) in &self.plans {
            let out = self.outs.remove(provider).unwrap_or_default();
            if out.writer.is_some() || out.listed.len() != plan.files.len() {
                return Err(changed(self.month, provider));
            }
            let release = ReleasePlan {
                release_id: plan.spec.release_id(),
                files: plan.files.clone(),
                total: plan.total,
            };
            let manifest = sanad_payments::Manifest::new(&plan.spec, &release, out.listed);
            let mpath = self.tmp.join(manifest.file_name());
            std::fs::write(&mpath, manifest.to_json()).map_err(io(&mpath))?;
            for (f, listed) in plan.files.iter().zip(&manifest.files) {
                files.push(FileRow {
                    file_name: listed.name.clone(),
                    month: self.month.to_string(),
                    provider: provider.clone(),
                    msg_id: listed.msg_id.clone(),
                    txs: listed.nb_of_txs as i64,
                    ctrl_sum: f.summary.ctrl_sum.centimes(),
                    sha256: listed.sha256.clone(),
                });
            }
        }
        Ok(files)
    }
}

/// A page of the stored lines after `after`, its heads of household's names (Latin script,
/// for the payment files) and its last RSU id; `None` past the last.
async fn pay_page(
    store: &dyn Store,
    month: &str,
    after: String,
) -> Result<Option<(Vec<PayrollLine>, HashMap<String, String>, String)>> {
    let page = lines_page(store, month, &after).await?;
    let Some(last) = page.last() else {
        return Ok(None);
    };
    let upto = last.household.to_string();
    let names = store
        .payees_between(&after, &upto)
        .await?
        .into_iter()
        .map(|p| (p.rsu_id, p.head_name))
        .collect();
    Ok(Some((page, names, upto)))
}

/// Second pass: write every provider's files into `tmp` as the paid lines come, a page at a
/// time, and (unless `post` is false: a released cycle asked again) post each page's payments.
/// Three pages in flight: page n+1 is read and page n−1 posted while page n is written.
async fn write_release(
    store: &dyn Store,
    month: Month,
    tmp: &Path,
    plans: BTreeMap<String, ProviderRelease>,
    post: bool,
) -> Result<(Vec<FileRow>, u64)> {
    let m = month.to_string();
    let mut w = FilesWriter {
        month,
        tmp: tmp.to_owned(),
        plans,
        outs: BTreeMap::new(),
        number: 0,
    };
    let (mut payments, mut written) = (0u64, Vec::new());
    let posting = |rows: Vec<PaymentRow>| async move {
        if post && !rows.is_empty() {
            store.post_payments(&rows).await?;
        }
        Ok::<_, RunError>(())
    };
    let mut current = pay_page(store, &m, String::new()).await?;
    while let Some((page, names, upto)) = current {
        let write = on_blocking_thread("writing a payment file", move || {
            let rows = w.page(&page, &names);
            (rows, w)
        });
        let ((rows, back), (), next) = futures_util::future::try_join3(
            write,
            posting(std::mem::take(&mut written)),
            pay_page(store, &m, upto),
        )
        .await?;
        w = back;
        written = rows?;
        payments += written.len() as u64;
        current = next;
    }
    posting(written).await?;
    let files = on_blocking_thread("writing a manifest", move || w.finish()).await??;
    Ok((files, payments))
}

/// Release an approved cycle: pain.001 files per provider, written while the stored lines are
/// read a page at a time; payments and ledger entries posted in chunks that skip what is
/// already there (a release killed midway is run again: it posts nothing twice and writes
/// the same files); the cycle saved released last, with the files' digests.
pub async fn release(
    store: &dyn Store,
    month: Month,
    actor: &Actor,
    cfg: &ReleaseConfig,
) -> Result<Released> {
    let cycle = load_cycle(store, month).await?;
    let dir = cfg.out_dir.join(month.to_string());
    let already = matches!(cycle.status(), Status::Released | Status::Locked);
    let mut phases = Phases::start(format!("release {month}"));
    let (digest, plans) = plan_release(store, month, cfg).await?;
    phases.done("first pass");
    // Checked before anything is written: only an approved cycle may be released.
    let next = if already {
        None
    } else {
        Some(cycle.release(&actor.user, digest)?)
    };
    let tmp = cfg.out_dir.join(format!(".{month}.partial"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let (files, payments) = write_release(store, month, &tmp, plans, next.is_some()).await?;
    phases.done("files and payments");
    let Some(next) = next else {
        let mut again = finish_again(store, month, &tmp, &dir, files).await?;
        again.notices =
            queue_payment_notices(store, month, &cfg.templates, chrono::Utc::now().naive_utc())
                .await?;
        return Ok(again);
    };
    let m = month.to_string();
    let mut after = -1;
    while let Some(last) = store.post_pending(&m, after, POST_CHUNK).await? {
        after = last;
    }
    phases.done("ledger entries");
    store
        .finish_release(
            &m,
            &serde_json::to_string(&next).map_err(corrupt)?,
            payments,
            &files,
            actor,
        )
        .await?;
    replace_dir(&tmp, &dir)?;
    phases.done("saved");
    let notices =
        queue_payment_notices(store, month, &cfg.templates, chrono::Utc::now().naive_utc()).await?;
    phases.done("notices");
    Ok(Released {
        dir,
        payments: payments as usize,
        files,
        changed: true,
        notices,
    })
}

/// Run CPU work on a blocking thread, beside the reads and writes in flight; `what` names the
/// work if its thread fails.
pub(crate) async fn on_blocking_thread<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RunError::Refused(format!("{what} failed: {e}")))
}

/// A pipeline stage's result and how long it took.
pub(crate) async fn timed<T, E>(
    f: impl std::future::Future<Output = std::result::Result<T, E>>,
) -> std::result::Result<(T, std::time::Duration), E> {
    let t = std::time::Instant::now();
    f.await.map(|v| (v, t.elapsed()))
}

/// A long operation's phases timed, each logged at debug level as it ends (no personal data).
pub(crate) struct Phases {
    what: String,
    at: std::time::Instant,
}

impl Phases {
    pub(crate) fn start(what: impl Into<String>) -> Self {
        Phases {
            what: what.into(),
            at: std::time::Instant::now(),
        }
    }

    pub(crate) fn done(&mut self, phase: &str) {
        let seconds = self.at.elapsed().as_secs_f64();
        tracing::debug!("{}: {phase} in {seconds:.1} s", self.what);
        self.at = std::time::Instant::now();
    }
}

/// Pending entries a release posts per transaction, inside the database.
const POST_CHUNK: u32 = 100_000;

/// Messages per outbox transaction when a release queues its notices.
const NOTICE_BATCH: u32 = 20_000;

/// Queue a "payment issued" notice for every payment of a released `month` to a household
/// with a phone, in the language of its latest application, as `payment:<EndToEndId>`: a
/// release run again queues none twice. Returns how many were added.
pub async fn queue_payment_notices(
    store: &dyn Store,
    month: Month,
    templates: &sanad_applications::notify::Templates,
    at: chrono::NaiveDateTime,
) -> Result<u64> {
    let stamp = sanad_store::outbox::stamp(at);
    let m = month.to_string();
    let targets = |after: String| {
        let m = &m;
        async move {
            Ok(store
                .payment_notice_targets(m, &after, NOTICE_BATCH)
                .await?)
        }
    };
    let queue = |rows: Vec<sanad_store::MessageRow>| async move {
        Ok::<_, RunError>(store.enqueue_many(&rows).await?)
    };
    let templates = std::sync::Arc::new(templates.clone());
    // Three batches in flight: batch n is worded on a blocking thread while batch n+1 is
    // read and batch n−1 queued.
    let (mut added, mut worded) = (0, Vec::new());
    let mut page = targets(String::new()).await?;
    while let Some(last) = page.last() {
        let after = last.end_to_end_id.clone();
        let (templates, stamp) = (templates.clone(), stamp.clone());
        let word = async move {
            on_blocking_thread("wording notices", move || {
                payment_notices(&templates, month, &page, &stamp)
            })
            .await?
        };
        let (rows, n, next) = futures_util::future::try_join3(
            word,
            queue(std::mem::take(&mut worded)),
            targets(after),
        )
        .await?;
        added += n;
        (worded, page) = (rows, next);
    }
    Ok(added + queue(worded).await?)
}

/// The "payment issued" SMS of a batch of payments, each as `payment:<EndToEndId>`.
fn payment_notices(
    templates: &sanad_applications::notify::Templates,
    month: Month,
    page: &[sanad_store::outbox::PaymentNoticeRow],
    stamp: &str,
) -> Result<Vec<sanad_store::MessageRow>> {
    use sanad_applications::notify::Notice;
    page.iter()
        .map(|t| {
            let notice = Notice::PaymentIssued {
                month,
                amount: sanad_domain::Money::from_centimes(t.amount),
                reference: t.end_to_end_id.clone(),
            };
            let id = format!("payment:{}", t.end_to_end_id);
            let to = (t.rsu_id.as_str(), t.phone.as_str());
            sms(templates, id, to, &t.language, &notice, stamp)
        })
        .collect()
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
    let payments = store.payment_count(&month.to_string()).await? as usize;
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

pub(crate) fn entry_row(e: &Entry) -> Result<EntryRow> {
    Ok(EntryRow {
        household: e.household().to_string(),
        kind: e.kind().code().into(),
        reference: e.reference().into(),
        body: serde_json::to_string(e).map_err(corrupt)?,
    })
}

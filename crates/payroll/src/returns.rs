//! Bank returns (pain.002 status reports, camt.054 notifications) applied to the store,
//! streaming: a national camt.054 has 4 M entries, so neither the file nor the ledger is held
//! whole.
//!
//! The file is read twice. The first pass checks the whole message and hashes the file; a
//! malformed file is refused with nothing applied, and a file already imported (by its
//! SHA-256) changes nothing. The second pass applies the events in batches (`RETURNS_BATCH`
//! by default), each in one transaction with how far the file got, reading only the
//! batch's payments and their own ledger entries. Interrupted, the same import resumes
//! after the last batch applied; the file is recorded as imported with its last batch.

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sanad_domain::{Date, RsuId};
use sanad_payments::{HashingReader, ReturnEvent, ReturnKind, ReturnsReader, ReturnsSummary};
use sanad_store::payroll::{EntryRow, SentPayment, StatusUpdate};
use sanad_store::{Actor, Store};

use crate::ledger::{Entry, Kind, Origin, PaymentTrail, settle_payment};
use crate::run::{Phases, Result, RunError, corrupt, entry_row, io, on_blocking_thread, timed};

/// Events applied per transaction by default: what one batch reads and holds.
pub const RETURNS_BATCH: usize = 50_000;
/// Unmatched lines a report lists; all are counted.
pub const UNMATCHED_LISTED: usize = 1_000;

/// Bytes read so far, over both passes (the file's size twice in all).
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// What a return file did.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ReturnsReport {
    pub file: String,
    pub message: String,
    pub already_imported: bool,
    /// Resumed after an interruption, from the line after this one.
    pub resumed_after_line: Option<u64>,
    pub accepted: usize,
    pub rejected: usize,
    pub settled: usize,
    pub returned: usize,
    pub unchanged: usize,
    /// Lines naming a payment Sanad did not send (other payers' files, or errors): the first
    /// `UNMATCHED_LISTED`.
    pub unmatched: Vec<String>,
    pub unmatched_total: usize,
    pub warnings: Vec<String>,
}

/// Read a pain.002 or camt.054 file and apply it: statuses, and ledger entries for
/// rejected, settled and returned payments, `batch` events per transaction. A file is applied
/// once.
pub async fn import_returns(
    store: &dyn Store,
    path: &Path,
    actor: &Actor,
    batch: usize,
    progress: Progress,
) -> Result<ReturnsReport> {
    let mut phases = Phases::start("returns");
    let (sha, summary) = check(path, progress.clone()).await?;
    phases.done("first pass");
    let name = (path.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if store.returns_imported(&sha).await? {
        return Ok(ReturnsReport {
            file: path.display().to_string(),
            already_imported: true,
            ..Default::default()
        });
    }
    let (done, mut report) = match store.returns_progress(&sha).await? {
        Some((line, json)) => {
            let mut r: ReturnsReport = serde_json::from_str(&json).map_err(corrupt)?;
            r.resumed_after_line = Some(line as u64);
            (line as u64, r)
        }
        None => (0, ReturnsReport::default()),
    };
    report.file = path.display().to_string();
    report.message = format!("{:?}", summary.message);
    report.warnings = (summary.warnings.iter())
        .map(|w| format!("line {}: {}: {}", w.line, w.element, w.message))
        .collect();
    let (batches, mut rx) = tokio::sync::mpsc::channel::<Vec<ReturnEvent>>(2);
    let size = std::fs::metadata(path).map_err(io(path))?.len();
    let reader = tokio::task::spawn_blocking({
        let path = path.to_owned();
        move || {
            read_batches(&path, done, batch.max(1), batches, move |n| {
                progress(size + n)
            })
        }
    });
    // Batch n + 1 is read and decided while batch n is written; it waits for that write
    // only where the two share a payment.
    let mut writing: Option<Written> = None;
    let mut busy = [Duration::ZERO; 3];
    while let Some(events) = rx.recv().await {
        let line = events.last().map_or(done, |e| e.source_line);
        let previous = writing.take();
        let (written, wait) = tokio::sync::oneshot::channel::<()>();
        let write = async {
            if let Some(w) = &previous {
                save(store, &sha, &name, w).await?;
            }
            let _ = written.send(());
            Ok::<_, RunError>(())
        };
        let ((_, saving), (updates, entries, next, [reading, deciding])) =
            futures_util::future::try_join(
                timed(write),
                plan(store, events, report.clone(), previous.as_ref(), wait),
            )
            .await?;
        busy = [busy[0] + reading, busy[1] + deciding, busy[2] + saving];
        report = next;
        writing = Some(Written {
            line,
            report: serde_json::to_string(&report).map_err(corrupt)?,
            payments: updates.iter().map(|u| u.end_to_end_id.clone()).collect(),
            updates,
            entries,
        });
    }
    if let Some(w) = &writing {
        busy[2] += timed(save(store, &sha, &name, w)).await?.1;
    }
    reader.await.map_err(corrupt)??;
    // Each stage's busy time; they overlap, so the slowest one bounds the import.
    let [reading, deciding, writing] = busy.map(|d| d.as_secs_f64());
    phases.done(&format!(
        "applied (reading {reading:.1} s, deciding {deciding:.1} s, writing {writing:.1} s)"
    ));
    let json = serde_json::to_string(&report).map_err(corrupt)?;
    store
        .save_returns(&sha, &name, &json, &[], &[], actor)
        .await?;
    Ok(report)
}

/// The first pass: the file's SHA-256 and its summary, or the error that makes it unreadable.
/// The hash and the check each take a core; both read the file, the second from the OS's cache.
async fn check(path: &Path, progress: Progress) -> Result<(String, ReturnsSummary)> {
    let hash = on_blocking_thread("hashing the file", {
        let path = path.to_owned();
        move || {
            let file = std::fs::File::open(&path).map_err(io(&path))?;
            HashingReader::new(BufReader::with_capacity(1 << 20, file))
                .finish()
                .map_err(io(&path))
        }
    });
    let read = on_blocking_thread("checking the file", {
        let path = path.to_owned();
        move || -> Result<ReturnsSummary> {
            let file = std::fs::File::open(&path).map_err(io(&path))?;
            let mut reader = ReturnsReader::new(BufReader::new(Counted::new(file, progress)))?;
            for item in reader.by_ref() {
                match item {
                    Err(e) if e.is_fatal() => return Err(e.into()),
                    _ => {}
                }
            }
            Ok(reader.into_parts().0)
        }
    });
    let (sha, summary) = futures_util::future::try_join(hash, read).await?;
    Ok((sha?, summary?))
}

/// The second pass: the events after line `done`, in batches, until the receiver hangs up.
fn read_batches(
    path: &Path,
    done: u64,
    size: usize,
    batches: tokio::sync::mpsc::Sender<Vec<ReturnEvent>>,
    progress: impl Fn(u64) + Send + Sync + 'static,
) -> Result<()> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    let counted = Counted::new(file, Arc::new(progress));
    let mut batch = Vec::with_capacity(size);
    for item in ReturnsReader::new(BufReader::new(counted))? {
        match item {
            Ok(ev) if ev.source_line > done => batch.push(ev),
            Err(e) if e.is_fatal() => return Err(e.into()),
            _ => {}
        }
        if batch.len() == size && batches.blocking_send(std::mem::take(&mut batch)).is_err() {
            return Ok(()); // the applying side stopped: its error is the import's
        }
    }
    if !batch.is_empty() {
        let _ = batches.blocking_send(batch);
    }
    Ok(())
}

/// A batch decided, waiting to be written with how far the file got.
struct Written {
    /// The batch's last line.
    line: u64,
    /// The report after it (JSON).
    report: String,
    payments: HashSet<String>,
    updates: Vec<StatusUpdate>,
    entries: Vec<EntryRow>,
}

async fn save(store: &dyn Store, sha: &str, name: &str, w: &Written) -> Result<()> {
    let line = w.line as i64;
    (store.save_returns_batch(sha, name, line, &w.report, &w.updates, &w.entries)).await?;
    Ok(())
}

/// What a batch does: its status updates and ledger entries, and the report counting them.
/// Reads the batch's payments and their own ledger entries (not their households' books),
/// after the batch being written (`busy`) is where the two share a payment (`wait` ends when
/// it is). The decisions are made on a blocking thread, so that the write goes on.
async fn plan(
    store: &dyn Store,
    events: Vec<ReturnEvent>,
    report: ReturnsReport,
    busy: Option<&Written>,
    wait: tokio::sync::oneshot::Receiver<()>,
) -> Result<(
    Vec<StatusUpdate>,
    Vec<EntryRow>,
    ReturnsReport,
    [Duration; 2],
)> {
    let ids: Vec<String> = events.iter().map(|e| e.end_to_end_id.clone()).collect();
    if busy.is_some_and(|b| ids.iter().any(|i| b.payments.contains(i))) {
        let _ = wait.await; // a failed write fails the import: its error is returned
    }
    let (payments, reading) = timed(store.sent_payments(&ids)).await?;
    let decided = on_blocking_thread("deciding returns", move || {
        decide(&events, payments, report)
    });
    let (decided, deciding) = timed(decided).await?;
    let (updates, entries, report) = decided?;
    Ok((updates, entries, report, [reading, deciding]))
}

/// The status updates and ledger entries of a batch, counted into `report`, from its
/// payments and their own ledger entries. A payment named twice moves on from its new status.
fn decide(
    events: &[ReturnEvent],
    payments: Vec<SentPayment>,
    mut report: ReturnsReport,
) -> Result<(Vec<StatusUpdate>, Vec<EntryRow>, ReturnsReport)> {
    let mut trail = PaymentTrail::default();
    for body in payments.iter().flat_map(|p| &p.entries) {
        trail.follow(&serde_json::from_str::<Entry>(body).map_err(corrupt)?)?;
    }
    let mut known: HashMap<String, SentPayment> = (payments.into_iter())
        .map(|p| (p.end_to_end_id.clone(), p))
        .collect();
    let (mut updates, mut entries) = (Vec::new(), Vec::new());
    for ev in events {
        let Some(payment) = known.get_mut(&ev.end_to_end_id) else {
            report.unmatched_total += 1;
            if report.unmatched.len() < UNMATCHED_LISTED {
                report.unmatched.push(format!(
                    "line {}: {} is not a payment of this programme",
                    ev.source_line, ev.end_to_end_id
                ));
            }
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
            let sent = trail.payment(&payment.reference).ok_or_else(|| {
                RunError::Corrupt(format!("payment {} has no ledger entry", payment.reference))
            })?;
            let origin = Origin::new(&household, date, payment.reference.clone());
            let entry = settle_payment(sent, &origin, kind)?;
            entries.push(entry_row(&entry)?);
            trail.follow(&entry)?;
        }
        match status {
            "accepted" => report.accepted += 1,
            "rejected" => report.rejected += 1,
            "settled" => report.settled += 1,
            _ => report.returned += 1,
        }
        payment.status = status.into();
        updates.push(StatusUpdate {
            end_to_end_id: payment.end_to_end_id.clone(),
            status: status.into(),
            reason,
        });
    }
    Ok((updates, entries, report))
}

/// Reports the bytes read through it, every mebibyte.
struct Counted<R> {
    inner: R,
    read: u64,
    reported: u64,
    progress: Progress,
}

impl<R> Counted<R> {
    fn new(inner: R, progress: Progress) -> Self {
        Counted {
            inner,
            read: 0,
            reported: 0,
            progress,
        }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if n == 0 || self.read - self.reported >= 1 << 20 {
            self.reported = self.read;
            (self.progress)(self.read);
        }
        Ok(n)
    }
}

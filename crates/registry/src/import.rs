//! Streaming import of an RSU feed file into a store.
//!
//! A reader thread parses and validates lines while the caller's task writes batches, so
//! both cores work and memory stays bounded by a few batches. Every rejected row is
//! reported with file, line, field and reason; nothing of a rejected household is applied.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;

use chrono::NaiveDate;
use sanad_domain::Household;
use sanad_store::{Outcome, RegistryStore, StoreError, Write};
use serde::Serialize;

use crate::feed::{FeedHeader, FeedHousehold};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {reason}")]
    Header {
        file: String,
        line: u64,
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Apply the good rows, report the bad ones.
    GoodRows,
    /// Apply nothing unless every row is good.
    AllOrNothing,
    /// Check everything, write nothing.
    DryRun,
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub mode: Mode,
    /// Households per transaction.
    pub batch_size: usize,
    /// The date validation is relative to when the file has no header (default: today).
    pub as_of: Option<NaiveDate>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            mode: Mode::GoodRows,
            batch_size: 5_000,
            as_of: None,
        }
    }
}

/// One rejected row, located precisely enough to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub file: String,
    pub line: u64,
    pub rsu_id: Option<String>,
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let id = self
            .rsu_id
            .as_deref()
            .map(|i| format!(" household {i}"))
            .unwrap_or_default();
        write!(
            f,
            "{}:{}:{id} {}: {}",
            self.file, self.line, self.field, self.reason
        )
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub file: String,
    pub as_of: Option<NaiveDate>,
    pub applied: bool,
    pub households_read: u64,
    pub persons_read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: Vec<Rejection>,
}

/// What the reader thread hands to the writer.
struct Batch {
    households: Vec<Household>,
    lines: Vec<u64>,
    rejected: Vec<Rejection>,
    bytes_read: u64,
    households_read: u64,
}

/// What an import reports while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The bytes of the file read and written so far (the file size is known up front, so a
    /// caller can draw a bar).
    Bytes(u64),
    /// Every row is written; the indexes of a load into an empty registry are being built
    /// (minutes at national scale).
    BuildingIndexes,
}

/// Import `path` into `store`, telling `progress` how far it is.
pub async fn import_file(
    path: &Path,
    store: Arc<dyn RegistryStore>,
    opts: &ImportOptions,
    mut progress: impl FnMut(Progress),
) -> Result<ImportReport, ImportError> {
    if opts.mode == Mode::AllOrNothing {
        let check = ImportOptions {
            mode: Mode::DryRun,
            ..opts.clone()
        };
        let report = run(path, store.clone(), &check, &mut progress).await?;
        if !report.rejected.is_empty() {
            return Ok(report);
        }
    }
    run(path, store, opts, &mut progress).await
}

async fn run(
    path: &Path,
    store: Arc<dyn RegistryStore>,
    opts: &ImportOptions,
    progress: &mut impl FnMut(Progress),
) -> Result<ImportReport, ImportError> {
    let file_name = path.display().to_string();
    let file = File::open(path).map_err(|source| ImportError::Io {
        file: file_name.clone(),
        source,
    })?;
    let feed_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = LineReader::new(BufReader::with_capacity(1 << 20, file), file_name.clone());
    let as_of = read_header(&mut reader)?
        .map(|h| h.as_of)
        .or(opts.as_of)
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let write = if opts.mode == Mode::DryRun {
        Write::DryRun
    } else {
        Write::Apply
    };
    let mut report = ImportReport {
        file: file_name,
        as_of: Some(as_of),
        applied: write == Write::Apply,
        ..Default::default()
    };

    let (tx, rx) = mpsc::channel::<Result<Batch, ImportError>>(4);
    let batch_size = opts.batch_size.max(1);
    let bulk = write == Write::Apply && store.bulk_load_begin().await?;
    let write = if bulk { Write::Load } else { write };
    let reader_thread = std::thread::spawn(move || {
        produce(reader, SeenIds::for_feed(feed_bytes), as_of, batch_size, tx)
    });
    // Into an empty registry every batch only inserts, and rows of different batches never
    // share an id (in-file duplicates are rejected), so two batches may be in flight: one is
    // prepared while the other is written. Otherwise batches go one by one, in file order.
    let in_flight = if bulk { 2 } else { 1 };
    let result = consume(rx, &store, write, in_flight, &mut report, progress).await;
    // On a store error the receiver is gone, so the reader stops at its next send.
    reader_thread.join().expect("reader thread does not panic");
    if bulk {
        progress(Progress::BuildingIndexes);
        store.bulk_load_end().await?;
    }
    result.map(|()| {
        report.rejected.sort_by_key(|r| r.line);
        report
    })
}

/// A batch being written.
struct InFlight {
    task: tokio::task::JoinHandle<Result<Vec<Outcome>, StoreError>>,
    households: Arc<Vec<Household>>,
    lines: Vec<u64>,
    bytes_read: u64,
}

async fn consume(
    mut rx: mpsc::Receiver<Result<Batch, ImportError>>,
    store: &Arc<dyn RegistryStore>,
    write: Write,
    in_flight: usize,
    report: &mut ImportReport,
    progress: &mut impl FnMut(Progress),
) -> Result<(), ImportError> {
    let mut pending: VecDeque<InFlight> = VecDeque::new();
    let result = drive(
        &mut rx,
        store,
        write,
        in_flight,
        &mut pending,
        report,
        progress,
    )
    .await;
    // After an error, batches still being written are abandoned: their transactions roll back.
    for p in pending {
        p.task.abort();
    }
    result
}

async fn drive(
    rx: &mut mpsc::Receiver<Result<Batch, ImportError>>,
    store: &Arc<dyn RegistryStore>,
    write: Write,
    in_flight: usize,
    pending: &mut VecDeque<InFlight>,
    report: &mut ImportReport,
    progress: &mut impl FnMut(Progress),
) -> Result<(), ImportError> {
    while let Some(batch) = rx.recv().await {
        let batch = batch?;
        report.households_read += batch.households_read;
        report.persons_read += batch
            .households
            .iter()
            .map(|h| h.members.len() as u64)
            .sum::<u64>();
        report.rejected.extend(batch.rejected);
        let households = Arc::new(batch.households);
        let (store, hh) = (store.clone(), households.clone());
        let task = tokio::spawn(async move { store.upsert_households(&hh, write).await });
        pending.push_back(InFlight {
            task,
            households,
            lines: batch.lines,
            bytes_read: batch.bytes_read,
        });
        if pending.len() >= in_flight {
            settle(
                pending.pop_front().expect("one is pending"),
                report,
                progress,
            )
            .await?;
        }
    }
    while let Some(p) = pending.pop_front() {
        settle(p, report, progress).await?;
    }
    Ok(())
}

/// Wait for a batch's write and count its outcomes.
async fn settle(
    p: InFlight,
    report: &mut ImportReport,
    progress: &mut impl FnMut(Progress),
) -> Result<(), ImportError> {
    let outcomes = p
        .task
        .await
        .map_err(|e| StoreError::Database(format!("write task failed: {e}")))??;
    for ((outcome, h), line) in outcomes.into_iter().zip(p.households.iter()).zip(&p.lines) {
        match outcome {
            Outcome::Inserted => report.inserted += 1,
            Outcome::Updated => report.updated += 1,
            Outcome::Unchanged => report.unchanged += 1,
            Outcome::Rejected(e) => report.rejected.push(Rejection {
                file: report.file.clone(),
                line: *line,
                rsu_id: Some(h.rsu_id.to_string()),
                field: e.field,
                reason: e.reason,
            }),
        }
    }
    progress(Progress::Bytes(p.bytes_read));
    Ok(())
}

/// Reads lines with their numbers and the running byte count.
struct LineReader<R> {
    inner: R,
    file: String,
    line: u64,
    bytes: u64,
    buf: String,
}

impl<R: BufRead> LineReader<R> {
    fn new(inner: R, file: String) -> Self {
        LineReader {
            inner,
            file,
            line: 0,
            bytes: 0,
            buf: String::new(),
        }
    }

    /// The next line (without its newline) and its number, or `None` at the end.
    fn next_line(&mut self) -> Result<Option<(u64, &str)>, ImportError> {
        self.buf.clear();
        let n = self
            .inner
            .read_line(&mut self.buf)
            .map_err(|source| ImportError::Io {
                file: self.file.clone(),
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        self.bytes += n as u64;
        Ok(Some((self.line, self.buf.trim_end_matches(['\n', '\r']))))
    }
}

/// Consume the header line if the file has one. A line that is neither a header nor a
/// household stops the import: the file is not a Sanad RSU feed.
fn read_header<R: BufRead>(r: &mut LineReader<R>) -> Result<Option<FeedHeader>, ImportError> {
    let mut peek = [0u8; 12];
    let available = r.inner.fill_buf().map_err(|source| ImportError::Io {
        file: r.file.clone(),
        source,
    })?;
    let n = available.len().min(peek.len());
    peek[..n].copy_from_slice(&available[..n]);
    if !peek[..n].starts_with(b"{\"feed\"") {
        return Ok(None);
    }
    let file = r.file.clone();
    let text = r
        .next_line()?
        .map(|(_, t)| t.to_owned())
        .unwrap_or_default();
    let header: FeedHeader = serde_json::from_str(&text).map_err(|e| ImportError::Header {
        file: file.clone(),
        line: 1,
        reason: e.to_string(),
    })?;
    if header.feed != FeedHeader::FEED || header.version != FeedHeader::VERSION {
        return Err(ImportError::Header {
            file,
            line: 1,
            reason: format!(
                "this is feed '{}' version {}; expected '{}' version {}",
                header.feed,
                header.version,
                FeedHeader::FEED,
                FeedHeader::VERSION
            ),
        });
    }
    Ok(Some(header))
}

/// Where an identifier was first seen in the file, to reject later duplicates. Keys are
/// packed into integers: at national scale (19 M persons) string keys would cost gigabytes.
struct SeenIds {
    households: IdMap<u64>,
    /// Keyed by the IDCS without its check digit, which fits in 32 bits: a national file's
    /// 19 M persons then take 8 bytes each.
    persons: IdMap<u32>,
    cnies: IdMap<u64>,
}

/// Identifier → line. The keys come from a file, not from an adversary who could aim at
/// collisions, so one multiplication mixes them well enough; SipHash cost 4 % of a load.
type IdMap<K> = HashMap<K, u32, std::hash::BuildHasherDefault<MixHasher>>;

/// Bytes of feed per household, rounded up (a synthetic national file has about 1,280), so
/// that the maps are sized from the file's length without over-reserving; an underestimate
/// costs one more growth of a map.
const BYTES_PER_HOUSEHOLD: u64 = 1_500;

#[derive(Default)]
struct MixHasher(u64);

impl std::hash::Hasher for MixHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        // Fibonacci hashing: the high bits, which the table also reads, depend on every bit.
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

fn digits_key(s: &str) -> u64 {
    s.parse().expect("validated identifiers are all digits")
}

/// An exact, collision-free integer for a CNIE (1–2 letters, 1–6 digits, leading zeros kept).
fn cnie_key(c: &sanad_domain::Cnie) -> u64 {
    let s = c.as_str();
    let letters = s
        .bytes()
        .take_while(u8::is_ascii_uppercase)
        .collect::<Vec<_>>();
    let digits = &s[letters.len()..];
    let l1 = u64::from(letters[0] - b'A' + 1);
    let l2 = letters.get(1).map_or(0, |b| u64::from(b - b'A' + 1));
    let number = 10u64.pow(digits.len() as u32) + digits_key(digits);
    (l1 * 27 + l2) * 10_000_000 + number
}

impl SeenIds {
    /// Maps sized for a feed of `bytes`, so that a national load does not rehash them as
    /// they grow (page faults and moves were 5 % of its samples).
    fn for_feed(bytes: u64) -> SeenIds {
        let households = usize::try_from(bytes / BYTES_PER_HOUSEHOLD).unwrap_or(0);
        fn map<K>(n: usize) -> IdMap<K> {
            HashMap::with_capacity_and_hasher(n, Default::default())
        }
        SeenIds {
            households: map(households),
            persons: map(households / 2 * 7),
            cnies: map(households * 2),
        }
    }

    /// Register a valid household's ids, or name the first clash with an earlier line.
    fn claim(&mut self, h: &Household, line: u64) -> Result<(), (String, String)> {
        if let Some(first) = self.households.get(&digits_key(h.rsu_id.as_str())) {
            return Err((
                "rsu_id".into(),
                format!("household {} already appears on line {first}", h.rsu_id),
            ));
        }
        for (i, m) in h.members.iter().enumerate() {
            if let Some(first) = self.persons.get(&idcs_key(&m.idcs)) {
                return Err((
                    format!("members[{i}].idcs"),
                    format!(
                        "person {} already appears in the household on line {first}",
                        m.idcs
                    ),
                ));
            }
            if let Some(c) = &m.cnie
                && let Some(first) = self.cnies.get(&cnie_key(c))
            {
                return Err((
                    format!("members[{i}].cnie"),
                    format!("CNIE {c} already appears on line {first}"),
                ));
            }
        }
        // A feed of more than 4 billion lines is not one this reader will meet.
        let line = u32::try_from(line).unwrap_or(u32::MAX);
        self.households.insert(digits_key(h.rsu_id.as_str()), line);
        for m in &h.members {
            self.persons.entry(idcs_key(&m.idcs)).or_insert(line);
            if let Some(c) = &m.cnie {
                self.cnies.insert(cnie_key(c), line);
            }
        }
        Ok(())
    }
}

/// An IDCS without its check digit, which the body determines: nine digits.
fn idcs_key(idcs: &sanad_domain::Idcs) -> u32 {
    let body = &idcs.as_str()[..9];
    body.parse().expect("a validated IDCS is ten digits")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cnie_keys_are_distinct() {
        let k = |s: &str| cnie_key(&sanad_domain::Cnie::parse(s).unwrap());
        let all = [
            "K123", "K0123", "KA123", "A1", "Z999999", "ZZ999999", "AZ1", "B1",
        ];
        let keys: std::collections::HashSet<u64> = all.iter().map(|s| k(s)).collect();
        assert_eq!(keys.len(), all.len());
    }
}

/// Parse one line into a valid household, or the rejections it earns.
fn parse_line(
    text: &str,
    as_of: NaiveDate,
) -> Result<Household, (Option<String>, Vec<(String, String)>)> {
    let record: FeedHousehold =
        serde_json::from_str(text).map_err(|e| (None, vec![json_error_field(&e)]))?;
    // Borrowed from the line: copied only for a rejection.
    let id = record.rsu_id.clone();
    record.into_household(as_of).map_err(|errs| {
        let reasons = errs.into_iter().map(|e| (e.field, e.reason)).collect();
        (Some(id.into_owned()), reasons)
    })
}

/// serde_json names a missing or unknown field in its message; surface it as the field.
fn json_error_field(e: &serde_json::Error) -> (String, String) {
    let msg = e.to_string();
    let field = msg
        .split('`')
        .nth(1)
        .filter(|_| msg.contains("field"))
        .unwrap_or("(json)")
        .to_owned();
    (field, msg)
}

fn produce<R: BufRead>(
    mut reader: LineReader<R>,
    mut seen: SeenIds,
    as_of: NaiveDate,
    batch_size: usize,
    tx: mpsc::Sender<Result<Batch, ImportError>>,
) {
    let new_batch = || Batch {
        households: Vec::with_capacity(batch_size),
        lines: Vec::new(),
        rejected: Vec::new(),
        bytes_read: 0,
        households_read: 0,
    };
    let mut batch = new_batch();
    loop {
        let (line_no, parsed) = match reader.next_line() {
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
            Ok(None) => break,
            Ok(Some((_, text))) if text.trim().is_empty() => continue,
            Ok(Some((n, text))) => (n, parse_line(text, as_of)),
        };
        batch.households_read += 1;
        let file = &reader.file;
        let reject = |rsu_id: Option<String>, (field, reason): (String, String)| Rejection {
            file: file.clone(),
            line: line_no,
            rsu_id,
            field,
            reason,
        };
        match parsed {
            Ok(h) => match seen.claim(&h, line_no) {
                Ok(()) => {
                    batch.households.push(h);
                    batch.lines.push(line_no);
                }
                Err(e) => batch.rejected.push(reject(Some(h.rsu_id.to_string()), e)),
            },
            Err((id, errs)) => batch
                .rejected
                .extend(errs.into_iter().map(|e| reject(id.clone(), e))),
        }
        if batch.households.len() >= batch_size {
            batch.bytes_read = reader.bytes;
            if tx
                .blocking_send(Ok(std::mem::replace(&mut batch, new_batch())))
                .is_err()
            {
                return;
            }
        }
    }
    batch.bytes_read = reader.bytes;
    let _ = tx.blocking_send(Ok(batch));
}

/// The file's size, for a progress bar.
pub fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Default location of the rejection report next to an input file.
pub fn rejects_path(input: &Path) -> PathBuf {
    let mut p = input.as_os_str().to_owned();
    p.push(".rejected.csv");
    PathBuf::from(p)
}

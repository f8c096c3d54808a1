//! Writing the feed: two workers render chunks of lines, the caller's thread writes them in
//! chunk order, so the bytes never depend on thread timing and memory stays a few chunks.

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, sync_channel};

use sanad_registry::feed::FeedHeader;

use crate::{SynthConfig, SynthStats};

const CHUNK: u64 = 4_096;
const WORKERS: u64 = 2;
/// Chunks a worker may run ahead of the writer.
const AHEAD: usize = 2;
const PROGRESS_EVERY: u64 = 10_000;

struct Chunk {
    bytes: Vec<u8>,
    stats: SynthStats,
}

fn render(cfg: &SynthConfig, chunk: u64) -> Chunk {
    let (start, end) = (chunk * CHUNK, ((chunk + 1) * CHUNK).min(cfg.households));
    let mut bytes = Vec::with_capacity((end - start) as usize * 2_048);
    let mut stats = SynthStats::default();
    for index in start..end {
        let (h, dirt) = crate::household_and_dirt(cfg, index);
        serde_json::to_writer(&mut bytes, &h).expect("writing to a Vec cannot fail");
        bytes.push(b'\n');
        stats.households += 1;
        stats.persons += h.members.len() as u64;
        stats.dirty += u64::from(dirt.is_some());
    }
    Chunk { bytes, stats }
}

pub(crate) fn write_feed<W: Write>(
    cfg: &SynthConfig,
    mut out: W,
    mut progress: impl FnMut(u64),
) -> io::Result<SynthStats> {
    serde_json::to_writer(&mut out, &FeedHeader::new(cfg.as_of))?;
    out.write_all(b"\n")?;
    let chunks = cfg.households.div_ceil(CHUNK);
    let mut stats = SynthStats::default();
    let mut reported = 0;
    std::thread::scope(|s| -> io::Result<()> {
        // One channel per worker: chunk c comes from worker c % WORKERS, so reading the
        // channels in turn restores the order without a reorder buffer.
        let lanes: Vec<Receiver<Chunk>> = (0..WORKERS)
            .map(|w| {
                let (tx, rx) = sync_channel(AHEAD);
                s.spawn(move || {
                    for c in (w..chunks).step_by(WORKERS as usize) {
                        if tx.send(render(cfg, c)).is_err() {
                            return; // the writer stopped on an error
                        }
                    }
                });
                rx
            })
            .collect();
        for c in 0..chunks {
            // A closed lane means its worker panicked; the scope re-raises that panic.
            let Ok(chunk) = lanes[(c % WORKERS) as usize].recv() else {
                break;
            };
            out.write_all(&chunk.bytes)?;
            stats.add(chunk.stats);
            if stats.households - reported >= PROGRESS_EVERY || stats.households == cfg.households {
                reported = stats.households;
                progress(reported);
            }
        }
        Ok(())
    })?;
    out.flush()?;
    Ok(stats)
}

//! Deciding what to do with each household of a batch, from what the database already holds.
//! Pure, so both backends decide identically and the rules are unit-tested without a database.

use std::collections::HashMap;

use sanad_domain::{FieldError, Household};

/// What happened (or, in a dry run, would happen) to one household of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Inserted,
    Updated,
    Unchanged,
    Rejected(FieldError),
}

/// The households of a batch to write, and the outcome of every one.
#[derive(Debug)]
pub struct BatchPlan {
    pub outcomes: Vec<Outcome>,
    /// Indexes into the batch of the households to write, with their content hash.
    pub to_write: Vec<(usize, i64)>,
}

/// A stable 64-bit FNV-1a hash of a household's canonical JSON: equal hashes mean a
/// re-imported record changes nothing, so the row is not rewritten.
pub fn content_hash(h: &Household) -> i64 {
    let bytes = serde_json::to_vec(&**h).expect("households serialise");
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        x ^= u64::from(b);
        x = x.wrapping_mul(0x0100_0000_01b3);
    }
    x as i64
}

impl BatchPlan {
    /// `existing`: content hash per RSU id already stored. `owners`: the household each
    /// already-known IDCS belongs to ('' when detached). A person may not move between households through
    /// the feed: that is a life event, declared and audited on its own.
    pub fn new(batch: &[Household], existing: &HashMap<String, i64>, owners: &HashMap<String, String>) -> BatchPlan {
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut to_write = Vec::with_capacity(batch.len());
        for (i, h) in batch.iter().enumerate() {
            let id = h.rsu_id.as_str();
            let conflict = h.members.iter().enumerate().find_map(|(m, p)| {
                owners.get(p.idcs.as_str()).filter(|owner| !owner.is_empty() && owner.as_str() != id).map(|owner| (m, owner))
            });
            if let Some((m, owner)) = conflict {
                outcomes.push(Outcome::Rejected(FieldError::new(
                    format!("members[{m}].idcs"),
                    format!("person {} already belongs to household {owner}", h.members[m].idcs),
                )));
                continue;
            }
            let hash = content_hash(h);
            match existing.get(id) {
                Some(&old) if old == hash => outcomes.push(Outcome::Unchanged),
                Some(_) => {
                    outcomes.push(Outcome::Updated);
                    to_write.push((i, hash));
                }
                None => {
                    outcomes.push(Outcome::Inserted);
                    to_write.push((i, hash));
                }
            }
        }
        BatchPlan { outcomes, to_write }
    }
}

//! The audit log: append-only records of every change to personal, eligibility or
//! financial data, each carrying the SHA-256 of the record before it. Changing,
//! inserting or deleting a record breaks the chain, which [`verify`] detects. Deleting
//! the newest records is caught by comparing the head hash with one kept elsewhere
//! (`sanad audit verify --expect-head`).

use async_trait::async_trait;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Result;

/// Who is acting, and under which request: stamped on every audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user: String,
    pub request_id: String,
}

impl Actor {
    pub fn new(user: impl Into<String>, request_id: impl Into<String>) -> Actor {
        Actor {
            user: user.into(),
            request_id: request_id.into(),
        }
    }
}

/// A change to record. `before`/`after` are JSON documents of the entity's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub region: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Change {
    pub fn new(action: &str, entity: &str, entity_id: &str) -> Change {
        Change {
            action: action.into(),
            entity: entity.into(),
            entity_id: entity_id.into(),
            region: None,
            before: None,
            after: None,
        }
    }
    pub fn before(mut self, v: &impl Serialize) -> Change {
        self.before = Some(serde_json::to_string(v).expect("audit states serialise"));
        self
    }
    pub fn after(mut self, v: &impl Serialize) -> Change {
        self.after = Some(serde_json::to_string(v).expect("audit states serialise"));
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub region: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 over every field, each length-prefixed so no two records hash the same text.
pub fn record_hash(r: &AuditRecord) -> String {
    let mut h = Sha256::new();
    let seq = r.seq.to_string();
    let fields: [Option<&str>; 11] = [
        Some(&seq),
        Some(&r.at),
        Some(&r.actor),
        Some(&r.action),
        Some(&r.entity),
        Some(&r.entity_id),
        r.region.as_deref(),
        r.before.as_deref(),
        r.after.as_deref(),
        Some(&r.request_id),
        Some(&r.prev_hash),
    ];
    for f in fields {
        match f {
            None => h.update(b"-"),
            Some(s) => {
                h.update(s.len().to_string().as_bytes());
                h.update(b":");
                h.update(s.as_bytes());
            }
        }
    }
    hex(&h.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The record that follows `prev` (or starts the chain), hashed.
pub fn next_record(
    prev: Option<(i64, &str)>,
    at: String,
    actor: &Actor,
    c: &Change,
) -> AuditRecord {
    let (seq, prev_hash) = prev.map_or((1, GENESIS.to_owned()), |(s, h)| (s + 1, h.to_owned()));
    let mut r = AuditRecord {
        seq,
        at,
        actor: actor.user.clone(),
        action: c.action.clone(),
        entity: c.entity.clone(),
        entity_id: c.entity_id.clone(),
        region: c.region.clone(),
        before: c.before.clone(),
        after: c.after.clone(),
        request_id: actor.request_id.clone(),
        prev_hash,
        hash: String::new(),
    };
    r.hash = record_hash(&r);
    r
}

/// What a verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub records: u64,
    pub head: Option<String>,
    /// Each break, naming the record and what is wrong with it.
    pub problems: Vec<String>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Walks records in `seq` order, feeding [`Verifier::push`] one at a time so a chain of
/// millions never has to be in memory.
#[derive(Debug, Default)]
pub struct Verifier {
    v: Verification,
    last: Option<(i64, String)>,
}

impl Verifier {
    pub fn push(&mut self, r: &AuditRecord) {
        let (want_seq, want_prev) = self
            .last
            .as_ref()
            .map_or((1, GENESIS), |(s, h)| (s + 1, h.as_str()));
        let p = &mut self.v.problems;
        if r.seq != want_seq {
            p.push(format!(
                "record {}: expected sequence {want_seq} (a record was deleted or inserted)",
                r.seq
            ));
        }
        if r.prev_hash != want_prev {
            p.push(format!(
                "record {}: does not follow the record before it (deleted, inserted or reordered)",
                r.seq
            ));
        }
        if record_hash(r) != r.hash {
            p.push(format!(
                "record {}: content does not match its hash (modified)",
                r.seq
            ));
        }
        self.v.records += 1;
        self.last = Some((r.seq, r.hash.clone()));
    }

    pub fn finish(mut self, expect_head: Option<&str>) -> Verification {
        self.v.head = self.last.map(|(_, h)| h);
        if let Some(want) = expect_head
            && self.v.head.as_deref() != Some(want)
        {
            self.v.problems.push(format!("the newest record's hash is not the expected head {want} (records removed from the end?)"));
        }
        self.v
    }
}

/// Which records to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Inclusive bounds on `at` (RFC 3339 prefixes such as `2026-11-29`).
    pub from: Option<String>,
    pub to: Option<String>,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Append one record on its own (changes made elsewhere append in their own transaction).
    async fn audit(&self, actor: &Actor, change: &Change) -> Result<AuditRecord>;
    /// Records matching `filter`, newest first, before `before_seq` (keyset pagination).
    async fn audit_records(
        &self,
        filter: &AuditFilter,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>>;
    /// Records in sequence order after `after_seq`, for verification and export.
    async fn audit_chain(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>>;
}

/// Walk the whole chain in pages and check it.
pub async fn verify(store: &dyn AuditStore, expect_head: Option<&str>) -> Result<Verification> {
    let mut v = Verifier::default();
    let mut after = 0;
    loop {
        let page = store.audit_chain(after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        page.iter().for_each(|r| v.push(r));
    }
    Ok(v.finish(expect_head))
}

pub mod sql {
    pub const LAST: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
    pub const COLUMNS: [&str; 12] = [
        "seq",
        "at",
        "actor",
        "action",
        "entity",
        "entity_id",
        "region",
        "before",
        "after",
        "request_id",
        "prev_hash",
        "hash",
    ];
    pub const CHAIN: &str = "SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2";

    /// Filtered listing; every filter is a bound parameter, unused ones bound to ''.
    pub const LIST: &str = "SELECT * FROM audit_log WHERE seq < $1 \
         AND ($2 = '' OR actor = $2) AND ($3 = '' OR action = $3) AND ($4 = '' OR entity = $4) \
         AND ($5 = '' OR entity_id = $5) AND ($6 = '' OR at >= $6) AND ($7 = '' OR at <= $7) \
         ORDER BY seq DESC LIMIT $8";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<AuditRecord> {
        let actor = Actor::new("amina", "req-1");
        let mut out: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let prev = out.last().map(|r| (r.seq, r.hash.as_str()));
            let c = Change::new("update", "household", &format!("{i:012}"))
                .after(&serde_json::json!({"i": i}));
            out.push(next_record(
                prev,
                format!("2026-11-29T10:00:0{i}Z"),
                &actor,
                &c,
            ));
        }
        out
    }

    fn verify(rs: &[AuditRecord], head: Option<&str>) -> Verification {
        let mut v = Verifier::default();
        rs.iter().for_each(|r| v.push(r));
        v.finish(head)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let rs = chain(5);
        let v = verify(&rs, Some(&rs[4].hash));
        assert!(v.ok(), "{:?}", v.problems);
        assert_eq!(
            (v.records, v.head.as_deref()),
            (5, Some(rs[4].hash.as_str()))
        );
        assert_eq!(rs[0].prev_hash, GENESIS);
    }

    #[test]
    fn modification_insertion_and_deletion_are_detected() {
        let rs = chain(5);
        let mut modified = rs.clone();
        modified[2].after = Some("{\"i\":99}".into());
        assert!(
            verify(&modified, None)
                .problems
                .iter()
                .any(|p| p.starts_with("record 3:") && p.contains("modified"))
        );

        let mut deleted = rs.clone();
        deleted.remove(1);
        assert!(!verify(&deleted, None).ok());

        let mut inserted = rs.clone();
        let forged = next_record(
            Some((rs[1].seq, &rs[1].hash)),
            "2026-11-29T10:00:02Z".into(),
            &Actor::new("x", "r"),
            &Change::new("delete", "user", "y"),
        );
        inserted.insert(2, forged);
        assert!(!verify(&inserted, None).ok());

        let truncated = &rs[..4];
        assert!(
            verify(truncated, None).ok(),
            "truncation alone keeps the chain whole"
        );
        assert!(
            !verify(truncated, Some(&rs[4].hash)).ok(),
            "but not the expected head"
        );
    }

    #[test]
    fn fields_are_unambiguous() {
        let rs = chain(1);
        let mut shifted = rs[0].clone();
        (shifted.actor, shifted.action) =
            (format!("{}u", rs[0].actor), rs[0].action[1..].to_owned());
        assert_ne!(record_hash(&shifted), rs[0].hash);
    }
}

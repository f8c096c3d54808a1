//! The notification outbox as stored: what is said is decided by `sanad-applications`
//! (templates, retry policy); the store keeps each message and its delivery state, and hands
//! due messages to one worker at a time.

use async_trait::async_trait;
use chrono::NaiveDateTime;

use crate::audit::Actor;
use crate::{Result, Scope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    /// Chosen by the caller from what the message is about (`receipt:<receipt>`), so the
    /// same notice is never queued twice.
    pub id: String,
    pub rsu_id: String,
    /// `sms` or `email`.
    pub channel: String,
    pub recipient: String,
    /// `fr` or `ar`.
    pub language: String,
    /// The template's name: `receipt`, `approved`, `rejected`…
    pub template: String,
    pub body: String,
    /// `queued`, `failed` (retry due at `next_attempt_at`), `sent`, `dead`, `delivered`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub delivery_id: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    /// When the gateway reported the message delivered.
    pub delivered_at: Option<String>,
}

impl MessageRow {
    /// An SMS to `phone`, queued and due at `at` (a [`stamp`]).
    pub fn sms(
        id: String,
        contact: (&str, &str),
        language: &str,
        template: &str,
        body: String,
        at: &str,
    ) -> MessageRow {
        let (rsu_id, phone) = contact;
        MessageRow {
            id,
            rsu_id: rsu_id.to_owned(),
            channel: "sms".into(),
            recipient: phone.to_owned(),
            language: language.to_owned(),
            template: template.to_owned(),
            body,
            status: "queued".into(),
            attempts: 0,
            next_attempt_at: Some(at.to_owned()),
            last_error: None,
            delivery_id: None,
            created_at: at.to_owned(),
            sent_at: None,
            delivered_at: None,
        }
    }
}

/// A payment of a released month with what its "payment issued" notice needs: the household's
/// phone and the language of its latest application (`fr` unless that one asked for `ar`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentNoticeRow {
    pub end_to_end_id: String,
    pub rsu_id: String,
    pub amount: i64,
    pub phone: String,
    pub language: String,
}

/// Where a household's notices go: its phone and the language of its latest application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeContact {
    pub rsu_id: String,
    pub phone: String,
    pub language: String,
}

/// What a gateway's delivery report does to a sent message: `delivered` at `at`, or `failed`
/// (retried at `retry_at`) or `dead` (given up), with the gateway's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryUpdate {
    pub status: String,
    pub at: NaiveDateTime,
    pub error: Option<String>,
    pub retry_at: Option<NaiveDateTime>,
}

/// Timestamps as stored (UTC, milliseconds, sorts as text), like [`crate::generic::now`].
pub fn stamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Queue a message (due at `next_attempt_at`); `false` if one with this id exists already.
    async fn enqueue(&self, m: &MessageRow) -> Result<bool>;
    /// Up to `limit` messages due at `now` (queued or failed), oldest due first, each leased
    /// to the caller until `lease_until`: another worker does not see them before then, and
    /// a worker that dies leaves them due again after it.
    async fn claim_due(
        &self,
        now: NaiveDateTime,
        lease_until: NaiveDateTime,
        limit: u32,
    ) -> Result<Vec<MessageRow>>;
    /// An attempt the gateway accepted.
    async fn mark_sent(&self, id: &str, delivery_id: &str, at: NaiveDateTime) -> Result<()>;
    /// An attempt that failed: retried at `retry_at` (status `failed`), or given up (`dead`).
    async fn mark_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<NaiveDateTime>,
    ) -> Result<()>;
    /// A dead message queued again by a person, with its attempts reset; audited.
    /// `NotFound` unless it is dead and its household in `scope`.
    async fn retry_message(
        &self,
        scope: &Scope,
        id: &str,
        now: NaiveDateTime,
        actor: &Actor,
    ) -> Result<()>;
    /// Messages in `scope`, newest first, of one status or all.
    async fn messages(
        &self,
        scope: &Scope,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<MessageRow>>;
    /// Messages per status in `scope`.
    async fn message_counts(&self, scope: &Scope) -> Result<Vec<(String, i64)>>;
    /// A household's messages in `scope`, oldest first.
    async fn messages_of(&self, scope: &Scope, rsu_id: &str) -> Result<Vec<MessageRow>>;

    // Payment notices and delivery reports.
    /// Queue many messages in one transaction (as [`Self::enqueue`] does each); returns how
    /// many were added (an id already queued is kept as it is).
    async fn enqueue_many(&self, messages: &[MessageRow]) -> Result<u64>;
    /// The payments of `month` to households with a phone, by EndToEndId: at most `limit`
    /// after `after` ('' for the first), so a national release queues them a page at a time.
    async fn payment_notice_targets(
        &self,
        month: &str,
        after: &str,
        limit: u32,
    ) -> Result<Vec<PaymentNoticeRow>>;
    /// Where the notices of these households go; households without a phone are left out.
    async fn notice_contacts(&self, rsu_ids: &[String]) -> Result<Vec<NoticeContact>>;
    /// The message a gateway delivery id belongs to, if its household is in `scope`.
    async fn message_by_delivery(
        &self,
        scope: &Scope,
        delivery_id: &str,
    ) -> Result<Option<MessageRow>>;
    /// Apply a delivery report to the message `id` if it is still `sent` under `delivery_id`;
    /// `false` when it is not (a report already applied: nothing changes).
    async fn record_delivery(
        &self,
        id: &str,
        delivery_id: &str,
        update: &DeliveryUpdate,
    ) -> Result<bool>;
}

pub mod sql {
    use crate::Scope;

    const COLUMNS: &str = "m.id, m.rsu_id, m.channel, m.recipient, m.language, m.template, m.body, m.status, m.attempts, \
         m.next_attempt_at, m.last_error, m.delivery_id, m.created_at, m.sent_at, m.delivered_at";

    /// The columns a new message is inserted with (status `queued`, no attempt yet).
    pub const INSERT_COLUMNS: [&str; 11] = [
        "id",
        "rsu_id",
        "channel",
        "recipient",
        "language",
        "template",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ];

    pub fn insert_cells(m: &super::MessageRow) -> Vec<crate::generic::Cell> {
        use crate::generic::Cell::*;
        let t = |v: &String| Text(v.clone());
        vec![
            t(&m.id),
            t(&m.rsu_id),
            t(&m.channel),
            t(&m.recipient),
            t(&m.language),
            t(&m.template),
            t(&m.body),
            Text("queued".into()),
            Int(0),
            OptText(m.next_attempt_at.clone()),
            t(&m.created_at),
        ]
    }

    /// The outer condition is checked again on the row a concurrent claim may have changed
    /// (PostgreSQL re-evaluates it after the lock), so no message is claimed twice.
    pub const CLAIM: &str = "UPDATE outbox SET next_attempt_at = $2 WHERE status IN ('queued', 'failed') AND next_attempt_at <= $1 AND id IN \
         (SELECT id FROM outbox WHERE status IN ('queued', 'failed') AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $3) \
         RETURNING id, rsu_id, channel, recipient, language, template, body, status, attempts, next_attempt_at, last_error, delivery_id, created_at, sent_at, delivered_at";
    pub const SENT: &str = "UPDATE outbox SET status = 'sent', attempts = attempts + 1, delivery_id = $2, sent_at = $3, next_attempt_at = NULL, last_error = NULL WHERE id = $1 RETURNING id";
    pub const FAILED: &str = "UPDATE outbox SET status = $4, attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1 RETURNING id";
    pub const RETRY: &str = "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = $2, last_error = NULL WHERE id = $1 AND status = 'dead'";

    // Payment notices and delivery reports.
    /// The language of household `h`'s latest application, French when it has none.
    const LANGUAGE: &str = "COALESCE((SELECT a.language FROM applications a WHERE a.rsu_id = h.rsu_id \
         ORDER BY a.submitted_on DESC, a.receipt DESC LIMIT 1), 'fr') AS language";
    pub fn payment_targets() -> String {
        format!(
            "SELECT p.end_to_end_id, p.rsu_id, p.amount, h.phone, {LANGUAGE} \
             FROM payments p JOIN households h ON h.rsu_id = p.rsu_id \
             WHERE p.month = $1 AND p.end_to_end_id > $2 AND h.phone IS NOT NULL ORDER BY p.end_to_end_id LIMIT $3"
        )
    }
    /// Completed with `IN (…)` by the store.
    pub fn contacts_prefix() -> String {
        format!(
            "SELECT h.rsu_id, h.phone, {LANGUAGE} FROM households h WHERE h.phone IS NOT NULL AND h.rsu_id"
        )
    }
    pub const DELIVERED: &str = "UPDATE outbox SET status = 'delivered', delivered_at = $3 WHERE id = $1 AND delivery_id = $2 AND status = 'sent' RETURNING id";
    pub const DELIVERY_FAILED: &str = "UPDATE outbox SET status = $3, last_error = $4, next_attempt_at = $5 WHERE id = $1 AND delivery_id = $2 AND status = 'sent' RETURNING id";
    pub fn by_delivery(scope: &Scope) -> String {
        scoped(scope, "AND m.delivery_id = $1")
    }

    fn scoped(scope: &Scope, tail: &str) -> String {
        format!(
            "SELECT {COLUMNS} FROM outbox m JOIN households h ON h.rsu_id = m.rsu_id WHERE {} {tail}",
            scope.sql("h")
        )
    }
    /// One message, if its household is in the scope.
    pub fn get(scope: &Scope) -> String {
        scoped(scope, "AND m.id = $1")
    }
    /// `$1`: a status or '' for all; `$2`: the limit.
    pub fn list(scope: &Scope) -> String {
        scoped(
            scope,
            "AND ($1 = '' OR m.status = $1) ORDER BY m.created_at DESC, m.id DESC LIMIT $2",
        )
    }
    pub fn of(scope: &Scope) -> String {
        scoped(scope, "AND m.rsu_id = $1 ORDER BY m.created_at, m.id")
    }
    pub fn counts(scope: &Scope) -> String {
        format!(
            "SELECT m.status, count(*) AS n FROM outbox m JOIN households h ON h.rsu_id = m.rsu_id WHERE {} GROUP BY m.status ORDER BY m.status",
            scope.sql("h")
        )
    }
}

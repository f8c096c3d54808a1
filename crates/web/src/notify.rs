//! Notifications, wired: the notices an operation queues (rendered from the templates in the
//! household's language, to the household's phone) and the worker that delivers due messages
//! with the pure crate's retry policy. Wording and backoff live in `sanad_applications::notify`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use sanad_applications::notify::{
    self, DispatchSummary, Language, Message, MessageStatus, Notice, RetryPolicy, Sender, Templates,
};
use sanad_domain::Household;
use sanad_store::outbox::stamp;
use sanad_store::{MessageRow, Store, StoreError};

/// What the notices say and how their delivery is retried.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub templates: Templates,
    pub retry: RetryPolicy,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            templates: Templates::defaults(),
            retry: RetryPolicy::default(),
        }
    }
}

/// A sender usable from the worker (the senders block: each send runs on a blocking thread).
pub type SharedSender = Arc<dyn Sender + Send + Sync>;

pub fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

pub fn parse_language(code: &str) -> Option<Language> {
    Language::parse(code)
}

/// The outbox row of `notice` for `h`, due at once; `None` when the household has no phone
/// (the only channel the registry gives an address for).
pub fn message_row(
    cfg: &NotifyConfig,
    h: &Household,
    id: String,
    notice: &Notice,
    lang: Language,
    at: NaiveDateTime,
) -> Result<Option<MessageRow>, String> {
    let Some(phone) = &h.phone else {
        return Ok(None);
    };
    let body = cfg
        .templates
        .render(notice, lang)
        .map_err(|e| e.to_string())?;
    Ok(Some(MessageRow::sms(
        id,
        (&h.rsu_id.to_string(), phone.as_str()),
        lang.code(),
        notice.template(),
        body,
        &stamp(at),
    )))
}

/// Queue `notice` for `h` under `id` (once: an id already queued is kept). A failure is
/// logged, not returned: the operation that caused the notice is already saved.
pub async fn queue(
    store: &dyn Store,
    cfg: &NotifyConfig,
    h: &Household,
    id: String,
    notice: &Notice,
    lang: Language,
) {
    let result = match message_row(cfg, h, id.clone(), notice, lang, now()) {
        Ok(Some(row)) => store
            .enqueue(&row)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!(message = %id, error = %e, "notice not queued");
    }
}

/// The pure message of a stored row, for the senders and the retry policy.
fn message(row: &MessageRow) -> Result<Message, StoreError> {
    let corrupt = |e: String| StoreError::Corrupt(format!("message {}: {e}", row.id));
    Ok(Message {
        id: row.id.clone(),
        household: sanad_domain::RsuId::parse(&row.rsu_id).map_err(corrupt)?,
        channel: if row.channel == "email" {
            notify::Channel::Email
        } else {
            notify::Channel::Sms
        },
        to: row.recipient.clone(),
        language: parse_language(&row.language)
            .ok_or_else(|| corrupt(format!("language '{}'", row.language)))?,
        body: row.body.clone(),
        status: MessageStatus::Queued,
        attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
        next_attempt_at: None,
        last_error: None,
        delivery_id: None,
    })
}

/// How long a claimed message is reserved for this worker before another may take it.
const LEASE: TimeDelta = TimeDelta::minutes(5);

/// Deliver every message due at `now`, batch by batch, recording each attempt: sent, failed
/// with its next attempt time, or dead once the policy gives up.
pub async fn deliver_due(
    store: &dyn Store,
    sender: &SharedSender,
    policy: &RetryPolicy,
    now: NaiveDateTime,
    batch: u32,
) -> Result<DispatchSummary, StoreError> {
    let mut summary = DispatchSummary::default();
    loop {
        let rows = store.claim_due(now, now + LEASE, batch).await?;
        if rows.is_empty() {
            return Ok(summary);
        }
        for row in &rows {
            let mut m = message(row)?;
            let s = sender.clone();
            let m2 = m.clone();
            let outcome = tokio::task::spawn_blocking(move || s.send(&m2))
                .await
                .map_err(|e| StoreError::Database(format!("sender: {e}")))?;
            match outcome {
                Ok(id) => {
                    store.mark_sent(&row.id, &id.0, now).await?;
                    summary.sent += 1;
                }
                Err(e) => {
                    m.record_failure(&e, now, policy);
                    let retry_at = (m.status == MessageStatus::Queued)
                        .then_some(m.next_attempt_at)
                        .flatten();
                    store.mark_failed(&row.id, &e.to_string(), retry_at).await?;
                    if retry_at.is_some() {
                        summary.retrying += 1
                    } else {
                        summary.failed += 1
                    }
                }
            }
        }
    }
}

/// Deliver due messages every `every`, until the process ends (for `sanad serve` and `demo`).
pub fn spawn_worker(
    store: Arc<dyn Store>,
    sender: SharedSender,
    policy: RetryPolicy,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match deliver_due(&*store, &sender, &policy, now(), 100).await {
                Ok(s) if s != DispatchSummary::default() => tracing::info!(
                    sent = s.sent,
                    retrying = s.retrying,
                    failed = s.failed,
                    "outbox"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox worker"),
            }
        }
    })
}

/// `file:PATH`, or an `http://host:port/path` URL (an SMS gateway, see `HttpSmsSender`).
pub fn sender_from_spec(spec: &str) -> Result<SharedSender, String> {
    if let Some(path) = spec.strip_prefix("file:") {
        return Ok(Arc::new(notify::FileSender { path: path.into() }));
    }
    if spec.starts_with("http://") || spec.starts_with("https://") {
        return Ok(Arc::new(notify::HttpSmsSender::new(
            spec,
            Duration::from_secs(10),
            Vec::new(),
        )?));
    }
    Err(format!("'{spec}' is not file:PATH or http:URL"))
}

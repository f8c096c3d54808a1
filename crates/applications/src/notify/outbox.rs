//! The outbox: messages waiting to go, and what happened to each. The retry policy is a pure
//! function of the number of attempts; the caller supplies the clock and stores the messages.

use chrono::{NaiveDateTime, TimeDelta};
use sanad_domain::{Phone, RsuId};
use serde::{Deserialize, Serialize};

use super::send::{DeliveryId, SendError, Sender};
use super::templates::Language;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Sms,
    Email,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Waiting for its first attempt, or for a retry at `next_attempt_at`.
    Queued,
    /// Accepted by the gateway.
    Sent,
    /// Given up: a permanent refusal, or too many attempts.
    Failed,
    /// The gateway reported delivery to the handset or mailbox.
    Delivered,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub household: RsuId,
    pub channel: Channel,
    /// A phone number in E.164 form (SMS) or an e-mail address.
    pub to: String,
    pub language: Language,
    pub body: String,
    pub status: MessageStatus,
    pub attempts: u32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub delivery_id: Option<String>,
}

fn email(s: &str) -> Result<String, String> {
    let ok = s.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
    });
    if ok && !s.chars().any(char::is_whitespace) {
        Ok(s.to_owned())
    } else {
        Err(format!("'{s}' is not an e-mail address"))
    }
}

impl Message {
    /// A queued message, due at once. The recipient is checked for its channel.
    pub fn new(
        id: String,
        household: RsuId,
        channel: Channel,
        to: &str,
        language: Language,
        body: String,
        now: NaiveDateTime,
    ) -> Result<Message, String> {
        let to = match channel {
            Channel::Sms => Phone::parse(to)?.as_str().to_owned(),
            Channel::Email => email(to)?,
        };
        Ok(Message {
            id,
            household,
            channel,
            to,
            language,
            body,
            status: MessageStatus::Queued,
            attempts: 0,
            next_attempt_at: Some(now),
            last_error: None,
            delivery_id: None,
        })
    }

    pub fn is_due(&self, now: NaiveDateTime) -> bool {
        self.status == MessageStatus::Queued && self.next_attempt_at.is_none_or(|t| t <= now)
    }

    pub fn record_sent(&mut self, delivery: DeliveryId) {
        self.attempts += 1;
        self.status = MessageStatus::Sent;
        self.delivery_id = Some(delivery.0);
        self.next_attempt_at = None;
        self.last_error = None;
    }

    /// A failed attempt: retried later if the error is transient and attempts remain.
    pub fn record_failure(&mut self, error: &SendError, now: NaiveDateTime, policy: &RetryPolicy) {
        self.attempts += 1;
        self.last_error = Some(error.to_string());
        let delay = match error {
            SendError::Transient(_) => policy.delay_after(self.attempts),
            SendError::Permanent(_) => None,
        };
        (self.status, self.next_attempt_at) = match delay {
            Some(d) => (MessageStatus::Queued, Some(now + d)),
            None => (MessageStatus::Failed, None),
        };
    }

    /// A delivery report for a sent message.
    pub fn record_delivered(&mut self) -> Result<(), String> {
        if self.status != MessageStatus::Sent {
            return Err(format!(
                "message {} is {:?}, not sent",
                self.id, self.status
            ));
        }
        self.status = MessageStatus::Delivered;
        Ok(())
    }
}

/// Exponential backoff: after the n-th failed attempt wait `base × factor^(n−1)`, at most
/// `max_delay`; give up after `max_attempts` attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub base_delay_secs: u32,
    pub factor: u32,
    pub max_delay_secs: u32,
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 1 min, 2, 4, 8, 16, then give up after the sixth attempt (about half an hour in all).
    fn default() -> Self {
        RetryPolicy {
            base_delay_secs: 60,
            factor: 2,
            max_delay_secs: 3600,
            max_attempts: 6,
        }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt, after `attempts` attempts; `None`: give up.
    pub fn delay_after(&self, attempts: u32) -> Option<TimeDelta> {
        if attempts == 0 || attempts >= self.max_attempts {
            return None;
        }
        let growth = u64::from(self.factor)
            .checked_pow(attempts - 1)
            .unwrap_or(u64::MAX);
        let secs = u64::from(self.base_delay_secs)
            .saturating_mul(growth)
            .min(u64::from(self.max_delay_secs));
        Some(TimeDelta::seconds(secs as i64))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DispatchSummary {
    pub sent: u32,
    pub retrying: u32,
    pub failed: u32,
}

/// Try every due message once with `sender`, recording what happened on each.
pub fn dispatch(
    messages: &mut [Message],
    sender: &dyn Sender,
    now: NaiveDateTime,
    policy: &RetryPolicy,
) -> DispatchSummary {
    let mut summary = DispatchSummary::default();
    for m in messages.iter_mut().filter(|m| m.is_due(now)) {
        match sender.send(m) {
            Ok(id) => {
                m.record_sent(id);
                summary.sent += 1;
            }
            Err(e) => {
                m.record_failure(&e, now, policy);
                if m.status == MessageStatus::Failed {
                    summary.failed += 1;
                } else {
                    summary.retrying += 1;
                }
            }
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn sms(id: &str) -> Message {
        Message::new(
            id.into(),
            RsuId::parse("100000000001").unwrap(),
            Channel::Sms,
            "0612345678",
            Language::Ar,
            "نص".into(),
            at("2026-03-02 09:00:00"),
        )
        .unwrap()
    }

    /// Answers with the scripted results in turn.
    struct Scripted(RefCell<Vec<Result<DeliveryId, SendError>>>);
    impl Sender for Scripted {
        fn send(&self, _: &Message) -> Result<DeliveryId, SendError> {
            self.0.borrow_mut().remove(0)
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_then_gives_up() {
        let p = RetryPolicy::default();
        let delays: Vec<i64> = (1..=6)
            .map(|n| p.delay_after(n).map_or(-1, |d| d.num_seconds()))
            .collect();
        assert_eq!(delays, [60, 120, 240, 480, 960, -1]);
        let capped = RetryPolicy {
            base_delay_secs: 600,
            factor: 3,
            max_delay_secs: 3600,
            max_attempts: 40,
        };
        assert_eq!(capped.delay_after(2).unwrap().num_seconds(), 1800);
        assert_eq!(capped.delay_after(3).unwrap().num_seconds(), 3600);
        assert_eq!(
            capped.delay_after(39).unwrap().num_seconds(),
            3600,
            "no overflow far out"
        );
    }

    #[test]
    fn transient_errors_retry_permanent_ones_fail() {
        let policy = RetryPolicy {
            max_attempts: 3,
            ..Default::default()
        };
        let mut msgs = vec![sms("a"), sms("b")];
        let sender = Scripted(RefCell::new(vec![
            Err(SendError::Transient("503".into())),
            Err(SendError::Permanent("400 bad number".into())),
            Err(SendError::Transient("timeout".into())),
            Err(SendError::Transient("503".into())),
        ]));
        let t0 = at("2026-03-02 09:00:00");
        assert_eq!(
            dispatch(&mut msgs, &sender, t0, &policy),
            DispatchSummary {
                sent: 0,
                retrying: 1,
                failed: 1
            }
        );
        assert_eq!(
            (msgs[1].status, msgs[1].last_error.as_deref()),
            (MessageStatus::Failed, Some("permanent: 400 bad number"))
        );
        assert_eq!(msgs[0].next_attempt_at, Some(at("2026-03-02 09:01:00")));
        assert_eq!(
            dispatch(&mut msgs, &sender, at("2026-03-02 09:00:59"), &policy),
            DispatchSummary::default(),
            "not due yet"
        );
        assert_eq!(
            dispatch(&mut msgs, &sender, at("2026-03-02 09:01:00"), &policy).retrying,
            1
        );
        assert_eq!(msgs[0].next_attempt_at, Some(at("2026-03-02 09:03:00")));
        assert_eq!(
            dispatch(&mut msgs, &sender, at("2026-03-02 09:03:00"), &policy).failed,
            1
        );
        assert_eq!(
            (msgs[0].status, msgs[0].attempts),
            (MessageStatus::Failed, 3)
        );
    }

    #[test]
    fn recipients_and_delivery_reports() {
        assert_eq!(sms("a").to, "+212612345678");
        let now = at("2026-03-02 09:00:00");
        let h = RsuId::parse("100000000001").unwrap();
        assert!(
            Message::new(
                "e".into(),
                h.clone(),
                Channel::Email,
                "a@b.ma",
                Language::Fr,
                "x".into(),
                now
            )
            .is_ok()
        );
        for bad in ["a@b", "@b.ma", "a b@c.ma", "a@.ma"] {
            assert!(
                Message::new(
                    "e".into(),
                    h.clone(),
                    Channel::Email,
                    bad,
                    Language::Fr,
                    "x".into(),
                    now
                )
                .is_err(),
                "{bad}"
            );
        }
        assert!(
            Message::new(
                "s".into(),
                h,
                Channel::Sms,
                "a@b.ma",
                Language::Fr,
                "x".into(),
                now
            )
            .is_err()
        );
        let mut m = sms("a");
        assert!(m.record_delivered().is_err());
        m.record_sent(DeliveryId("gw-1".into()));
        m.record_delivered().unwrap();
        assert_eq!(
            (m.status, m.delivery_id.as_deref(), m.is_due(now)),
            (MessageStatus::Delivered, Some("gw-1"), false)
        );
    }
}

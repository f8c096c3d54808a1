//! The sender interface and the default sender, which writes messages to a file.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::outbox::Message;

/// The gateway's identifier of an accepted message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryId(pub String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: timeouts, refused connections, 5xx, 429.
    #[error("transient: {0}")]
    Transient(String),
    /// Trying again will not help: a refused recipient, a 4xx.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// Sends one message. Synchronous: the caller decides how many run at once.
pub trait Sender {
    fn send(&self, msg: &Message) -> Result<DeliveryId, SendError>;
}

/// Appends each message as one JSON line to a file: the default, for development, audits and
/// an operator's own gateway that reads the file.
#[derive(Debug, Clone)]
pub struct FileSender {
    pub path: PathBuf,
}

#[derive(Serialize)]
struct Line<'a> {
    id: &'a str,
    household: &'a str,
    channel: super::outbox::Channel,
    to: &'a str,
    language: super::templates::Language,
    body: &'a str,
    attempt: u32,
}

impl Sender for FileSender {
    fn send(&self, msg: &Message) -> Result<DeliveryId, SendError> {
        let line = Line {
            id: &msg.id,
            household: msg.household.as_str(),
            channel: msg.channel,
            to: &msg.to,
            language: msg.language,
            body: &msg.body,
            attempt: msg.attempts + 1,
        };
        let mut text = serde_json::to_string(&line).expect("messages serialise");
        text.push('\n');
        let fail =
            |e: std::io::Error| SendError::Transient(format!("{}: {e}", self.path.display()));
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(fail)?;
        // One write per line: concurrent appenders do not interleave within a line.
        file.write_all(text.as_bytes()).map_err(fail)?;
        Ok(DeliveryId(format!("file:{}", msg.id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{Channel, Language};
    use sanad_domain::RsuId;

    #[test]
    fn appends_json_lines() {
        let path = std::env::temp_dir().join(format!("sanad-outbox-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let sender = FileSender { path: path.clone() };
        let now = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let h = RsuId::parse("100000000001").unwrap();
        for (id, body) in [("m1", "Reçu\nligne 2"), ("m2", "سند")] {
            let m = Message::new(
                id.into(),
                h.clone(),
                Channel::Sms,
                "0612345678",
                Language::Fr,
                body.into(),
                now,
            )
            .unwrap();
            assert_eq!(sender.send(&m).unwrap(), DeliveryId(format!("file:{id}")));
        }
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines.len(),
            2,
            "a newline in a body stays inside its JSON line"
        );
        assert_eq!(lines[0]["body"], "Reçu\nligne 2");
        assert_eq!(
            (lines[1]["to"].as_str(), lines[1]["attempt"].as_u64()),
            (Some("+212612345678"), Some(1))
        );
        let unwritable = FileSender {
            path: "/nonexistent-dir/x.jsonl".into(),
        };
        let m = Message::new(
            "m3".into(),
            h,
            Channel::Sms,
            "0612345678",
            Language::Fr,
            "x".into(),
            now,
        )
        .unwrap();
        assert!(matches!(unwritable.send(&m), Err(SendError::Transient(_))));
    }
}

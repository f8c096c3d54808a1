//! The outbox worker end to end: messages queued in a real SQLite store, delivered by the
//! HTTP SMS sender to a stub gateway (a tokio listener on 127.0.0.1) that fails once, then
//! retried after the policy's delay and recorded as sent.

use std::sync::Arc;

use chrono::TimeDelta;
use sanad_applications::ReceiptNumber;
use sanad_applications::notify::{Language, Notice, RetryPolicy};
use sanad_store::conformance::sample;
use sanad_store::{RegistryStore, Scope, Store, Write};
use sanad_web::notify::{NotifyConfig, deliver_due, message_row, sender_from_spec};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// Answer each connection with the next scripted response; hand over each request body.
async fn stub(
    responses: Vec<&'static str>,
) -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<serde_json::Value>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/sms",
        listener.local_addr().unwrap().port()
    );
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        for response in responses {
            let (stream, _) = listener.accept().await.unwrap();
            let (read, mut write) = stream.into_split();
            let mut reader = BufReader::new(read);
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).await.unwrap();
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).await.unwrap();
            tx.send(serde_json::from_slice(&body).unwrap()).unwrap();
            write.write_all(response.as_bytes()).await.unwrap();
            write.shutdown().await.unwrap();
        }
    });
    (url, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_failure_is_retried_after_the_backoff_then_sent() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        sanad_store_sqlite::SqliteStore::open(&dir.path().join("n.db").display().to_string())
            .await
            .unwrap();
    let h = sample(1, "01");
    store
        .upsert_households(std::slice::from_ref(&h), Write::Apply)
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let cfg = NotifyConfig::default();
    let t0 = chrono::NaiveDate::from_ymd_opt(2026, 11, 2)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let receipt = ReceiptNumber::new(2026, 7).unwrap();
    let notice = Notice::Receipt {
        receipt,
        submitted_on: t0.date(),
        decision_by: t0.date() + TimeDelta::days(30),
    };
    let row = message_row(
        &cfg,
        &h,
        format!("receipt:{receipt}"),
        &notice,
        Language::Ar,
        t0,
    )
    .unwrap()
    .expect("the sample household has a phone");
    assert!(store.enqueue(&row).await.unwrap());

    let (url, mut seen) = stub(vec![
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy",
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{\"id\":\"gw-901\"}",
    ])
    .await;
    let sender = sender_from_spec(&url).unwrap();
    let policy = RetryPolicy::default();
    let first = deliver_due(&*store, &sender, &policy, t0, 10)
        .await
        .unwrap();
    assert_eq!((first.sent, first.retrying, first.failed), (0, 1, 0));
    let m = &store.messages(&Scope::National, None, 10).await.unwrap()[0];
    assert_eq!(
        (m.status.as_str(), m.attempts, m.last_error.as_deref()),
        ("failed", 1, Some("transient: HTTP 503: busy"))
    );
    assert_eq!(
        m.next_attempt_at.as_deref(),
        Some("2026-11-02T09:01:00.000Z"),
        "the first retry after one minute"
    );

    let early = deliver_due(&*store, &sender, &policy, t0 + TimeDelta::seconds(59), 10)
        .await
        .unwrap();
    assert_eq!(
        early.sent + early.retrying + early.failed,
        0,
        "not due before its retry time"
    );
    let second = deliver_due(&*store, &sender, &policy, t0 + TimeDelta::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!((second.sent, second.retrying), (1, 0));
    let m = &store
        .messages(&Scope::National, Some("sent"), 10)
        .await
        .unwrap()[0];
    assert_eq!(
        (m.attempts, m.delivery_id.as_deref(), m.sent_at.as_deref()),
        (2, Some("gw-901"), Some("2026-11-02T09:01:00.000Z"))
    );

    for _ in 0..2 {
        let body = seen.recv().await.unwrap();
        assert_eq!(body["id"], format!("receipt:{receipt}"));
        assert_eq!(
            (body["to"].as_str(), body["language"].as_str()),
            (Some("+212600000001"), Some("ar"))
        );
        assert!(
            body["body"]
                .as_str()
                .unwrap()
                .contains(&receipt.to_string())
                && body["body"].as_str().unwrap().contains("سند"),
            "{body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_refusal_is_dead_at_once_and_the_file_sender_writes_lines() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        sanad_store_sqlite::SqliteStore::open(&dir.path().join("n.db").display().to_string())
            .await
            .unwrap();
    let (a, b) = (sample(1, "01"), sample(2, "04"));
    store
        .upsert_households(&[a.clone(), b.clone()], Write::Apply)
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let cfg = NotifyConfig::default();
    let t0 = chrono::NaiveDate::from_ymd_opt(2026, 11, 2)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let notice = |n| Notice::Receipt {
        receipt: ReceiptNumber::new(2026, n).unwrap(),
        submitted_on: t0.date(),
        decision_by: t0.date(),
    };
    store
        .enqueue(
            &message_row(&cfg, &a, "receipt:1".into(), &notice(1), Language::Fr, t0)
                .unwrap()
                .unwrap(),
        )
        .await
        .unwrap();
    let (url, _seen) = stub(vec![
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 14\r\nConnection: close\r\n\r\ninvalid number",
    ])
    .await;
    let s = deliver_due(
        &*store,
        &sender_from_spec(&url).unwrap(),
        &RetryPolicy::default(),
        t0,
        10,
    )
    .await
    .unwrap();
    assert_eq!((s.sent, s.retrying, s.failed), (0, 0, 1));
    assert_eq!(
        store
            .messages(&Scope::National, Some("dead"), 10)
            .await
            .unwrap()
            .len(),
        1
    );

    store
        .enqueue(
            &message_row(&cfg, &b, "receipt:2".into(), &notice(2), Language::Fr, t0)
                .unwrap()
                .unwrap(),
        )
        .await
        .unwrap();
    let path = dir.path().join("outbox.jsonl");
    let file = sender_from_spec(&format!("file:{}", path.display())).unwrap();
    assert_eq!(
        deliver_due(&*store, &file, &RetryPolicy::default(), t0, 10)
            .await
            .unwrap()
            .sent,
        1
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        (line["id"].as_str(), line["household"].as_str()),
        (Some("receipt:2"), Some("500000000002"))
    );
    assert!(
        line["body"]
            .as_str()
            .unwrap()
            .starts_with("Sanad : votre demande"),
        "{line}"
    );
    assert!(sender_from_spec("ftp://x").is_err());
}

/// `sanad serve` and `demo` run the worker in the background: a queued message reaches the
/// file sender without anyone asking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_worker_delivers_what_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        sanad_store_sqlite::SqliteStore::open(&dir.path().join("n.db").display().to_string())
            .await
            .unwrap();
    let h = sample(3, "04");
    store
        .upsert_households(std::slice::from_ref(&h), Write::Apply)
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let path = dir.path().join("bg.jsonl");
    let worker = sanad_web::notify::spawn_worker(
        store.clone(),
        sender_from_spec(&format!("file:{}", path.display())).unwrap(),
        RetryPolicy::default(),
        std::time::Duration::from_millis(50),
    );
    let notice = Notice::Receipt {
        receipt: ReceiptNumber::new(2026, 3).unwrap(),
        submitted_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        decision_by: chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
    };
    let row = message_row(
        &NotifyConfig::default(),
        &h,
        "receipt:bg".into(),
        &notice,
        Language::Fr,
        sanad_web::notify::now(),
    )
    .unwrap()
    .unwrap();
    store.enqueue(&row).await.unwrap();
    let mut sent = Vec::new();
    for _ in 0..100 {
        sent = store
            .messages(&Scope::National, Some("sent"), 10)
            .await
            .unwrap();
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    worker.abort();
    assert_eq!(sent.len(), 1, "delivered within five seconds");
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("\"id\":\"receipt:bg\"")
    );
}

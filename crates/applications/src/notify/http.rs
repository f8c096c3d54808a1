//! An SMS gateway over plain HTTP: one `POST` of a JSON body per message, with a minimal
//! HTTP/1.1 client on `std::net::TcpStream` (no new dependency).
//!
//! Out of scope: `https` (put a TLS-terminating proxy, e.g. the gateway's own or a local
//! stunnel/nginx, in front, and point this sender at it), redirects, keep-alive, proxies.
//!
//! Request body: `{"id": "...", "to": "+2126...", "body": "...", "language": "fr"}`.
//! Response: any 2xx accepts the message; a JSON body's `"id"` string, if present, becomes the
//! delivery id. 5xx and 429 are transient (retried); any other status is permanent.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::outbox::Message;
use super::send::{DeliveryId, SendError, Sender};

/// `http://host[:port]/path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    pub host: String,
    pub port: u16,
    pub path: String,
}

impl HttpUrl {
    pub fn parse(url: &str) -> Result<HttpUrl, String> {
        if url.starts_with("https://") {
            return Err("https is not supported: put a TLS-terminating proxy in front of the gateway and use its http:// address".into());
        }
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("'{url}' is not an http:// URL"))?;
        let (authority, path) = rest
            .find('/')
            .map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("'{p}' is not a port"))?,
            ),
            None => (authority, 80),
        };
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
        if !host_ok || path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(format!("'{url}' is not a usable http://host:port/path URL"));
        }
        Ok(HttpUrl {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct HttpSmsSender {
    pub url: HttpUrl,
    /// For connecting, and for each read or write.
    pub timeout: Duration,
    /// Extra request headers (an API key…), checked for line breaks at construction.
    headers: Vec<(String, String)>,
}

impl HttpSmsSender {
    pub fn new(
        url: &str,
        timeout: Duration,
        headers: Vec<(String, String)>,
    ) -> Result<Self, String> {
        let url = HttpUrl::parse(url)?;
        let bad = |s: &str| s.is_empty() || s.bytes().any(|b| b == b'\r' || b == b'\n');
        if let Some((k, _)) = headers
            .iter()
            .find(|(k, v)| bad(k) || k.contains(':') || v.bytes().any(|b| b == b'\r' || b == b'\n'))
        {
            return Err(format!("header '{k}' is not a valid header line"));
        }
        Ok(HttpSmsSender {
            url,
            timeout,
            headers,
        })
    }

    fn connect(&self) -> Result<TcpStream, SendError> {
        let addrs = (self.url.host.as_str(), self.url.port)
            .to_socket_addrs()
            .map_err(|e| SendError::Transient(format!("resolving {}: {e}", self.url.host)))?;
        let mut last = SendError::Transient(format!("{} resolves to no address", self.url.host));
        for a in addrs {
            match TcpStream::connect_timeout(&a, self.timeout) {
                Ok(s) => return Ok(s),
                Err(e) => last = SendError::Transient(format!("connecting to {a}: {e}")),
            }
        }
        Err(last)
    }

    fn request(&self, body: &str) -> String {
        let mut head = format!(
            "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.url.path,
            self.url.host,
            self.url.port,
            body.len()
        );
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head + "\r\n" + body
    }
}

/// Read the whole response (the server closes the connection), at most 64 KiB.
fn read_response(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    stream.take(64 * 1024).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The status code and the (de-chunked) body of a response.
fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers in the response")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let code = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|_| status_line.starts_with("HTTP/1."));
    let code = code.ok_or_else(|| format!("'{status_line}' is not an HTTP status line"))?;
    let chunked =
        lines.any(|l| l.to_ascii_lowercase().replace(' ', "") == "transfer-encoding:chunked");
    Ok((
        code,
        if chunked {
            dechunk(body)
        } else {
            body.to_vec()
        },
    ))
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&body[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        body = &body[eol + 2..];
        if size == 0 || size > body.len() {
            break;
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or(&[]);
    }
    out
}

impl Sender for HttpSmsSender {
    fn send(&self, msg: &Message) -> Result<DeliveryId, SendError> {
        let body = serde_json::json!({ "id": msg.id, "to": msg.to, "body": msg.body, "language": msg.language }).to_string();
        let mut stream = self.connect()?;
        let io = |e: std::io::Error| {
            SendError::Transient(format!("{}:{}: {e}", self.url.host, self.url.port))
        };
        stream.set_read_timeout(Some(self.timeout)).map_err(io)?;
        stream.set_write_timeout(Some(self.timeout)).map_err(io)?;
        stream
            .write_all(self.request(&body).as_bytes())
            .map_err(io)?;
        let raw = read_response(&mut stream).map_err(io)?;
        let (code, body) = parse_response(&raw).map_err(SendError::Transient)?;
        let text = String::from_utf8_lossy(&body);
        match code {
            200..=299 => {
                let id = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("id")?.as_str().map(str::to_owned));
                Ok(DeliveryId(id.unwrap_or_else(|| msg.id.clone())))
            }
            429 | 500..=599 => Err(SendError::Transient(format!(
                "HTTP {code}: {}",
                text.chars().take(200).collect::<String>()
            ))),
            _ => Err(SendError::Permanent(format!(
                "HTTP {code}: {}",
                text.chars().take(200).collect::<String>()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{Channel, Language, MessageStatus, RetryPolicy, dispatch};
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;
    use std::sync::mpsc;

    /// What the stub server saw of one request.
    struct Seen {
        request_line: String,
        headers: Vec<String>,
        body: serde_json::Value,
    }

    /// Serve one scripted response per connection, in order, then stop.
    fn stub(
        responses: Vec<&'static str>,
    ) -> (String, mpsc::Receiver<Seen>, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://127.0.0.1:{}/sms/send",
            listener.local_addr().unwrap().port()
        );
        let (tx, rx) = mpsc::channel();
        let server = std::thread::spawn(move || {
            for response in responses {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    if h == "\r\n" {
                        break;
                    }
                    headers.push(h.trim_end().to_owned());
                }
                let len: usize = headers
                    .iter()
                    .find_map(|h| h.strip_prefix("Content-Length: "))
                    .unwrap()
                    .parse()
                    .unwrap();
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                tx.send(Seen {
                    request_line: request_line.trim_end().to_owned(),
                    headers,
                    body: serde_json::from_slice(&body).unwrap(),
                })
                .unwrap();
                (&stream).write_all(response.as_bytes()).unwrap();
            }
        });
        (url, rx, server)
    }

    fn message() -> Message {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let h = sanad_domain::RsuId::parse("100000000001").unwrap();
        Message::new(
            "msg-1".into(),
            h,
            Channel::Sms,
            "0612345678",
            Language::Ar,
            "سند: تم استلام طلبكم".into(),
            now,
        )
        .unwrap()
    }

    #[test]
    fn a_500_is_retried_and_the_200_accepted() {
        let (url, seen, server) = stub(vec![
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops",
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\n{\"id\r\nb\r\n\":\"gw-77\"}\r\n0\r\n\r\n",
        ]);
        let sender = HttpSmsSender::new(
            &url,
            Duration::from_secs(5),
            vec![("X-Api-Key".into(), "k-123".into())],
        )
        .unwrap();
        let policy = RetryPolicy::default();
        let mut outbox = vec![message()];
        let t0 = outbox[0].next_attempt_at.unwrap();
        assert_eq!(dispatch(&mut outbox, &sender, t0, &policy).retrying, 1);
        assert_eq!(
            (outbox[0].status, outbox[0].last_error.as_deref()),
            (MessageStatus::Queued, Some("transient: HTTP 500: oops"))
        );
        let retry_at = outbox[0].next_attempt_at.unwrap();
        assert_eq!((retry_at - t0).num_seconds(), 60);
        assert_eq!(dispatch(&mut outbox, &sender, retry_at, &policy).sent, 1);
        assert_eq!(
            (
                outbox[0].status,
                outbox[0].delivery_id.as_deref(),
                outbox[0].attempts
            ),
            (MessageStatus::Sent, Some("gw-77"), 2)
        );
        server.join().unwrap();
        let requests: Vec<Seen> = seen.try_iter().collect();
        assert_eq!(requests.len(), 2);
        let r = &requests[1];
        assert_eq!(r.request_line, "POST /sms/send HTTP/1.1");
        assert!(
            r.headers.contains(&"X-Api-Key: k-123".to_owned()),
            "{:?}",
            r.headers
        );
        assert!(
            r.headers
                .contains(&"Content-Type: application/json; charset=utf-8".to_owned())
        );
        assert_eq!(
            r.body,
            serde_json::json!({"id": "msg-1", "to": "+212612345678", "body": "سند: تم استلام طلبكم", "language": "ar"})
        );
    }

    #[test]
    fn a_4xx_is_permanent_and_a_closed_port_transient() {
        let (url, _seen, server) = stub(vec![
            "HTTP/1.1 400 Bad Request\r\nContent-Length: 14\r\n\r\ninvalid number",
        ]);
        let sender = HttpSmsSender::new(&url, Duration::from_secs(5), vec![]).unwrap();
        assert_eq!(
            sender.send(&message()),
            Err(SendError::Permanent("HTTP 400: invalid number".into()))
        );
        server.join().unwrap();
        // The stub has stopped listening: nothing accepts on that port any more.
        let closed = HttpSmsSender::new(&url, Duration::from_secs(2), vec![]).unwrap();
        assert!(matches!(
            closed.send(&message()),
            Err(SendError::Transient(_))
        ));
    }

    #[test]
    fn urls_and_headers() {
        assert_eq!(
            HttpUrl::parse("http://sms.local:8080/v1/send").unwrap(),
            HttpUrl {
                host: "sms.local".into(),
                port: 8080,
                path: "/v1/send".into()
            }
        );
        assert_eq!(
            HttpUrl::parse("http://10.0.0.5").unwrap(),
            HttpUrl {
                host: "10.0.0.5".into(),
                port: 80,
                path: "/".into()
            }
        );
        assert!(
            HttpUrl::parse("https://sms.local/")
                .unwrap_err()
                .contains("https is not supported")
        );
        for bad in [
            "ftp://x/",
            "http://:80/",
            "http://host:99999/",
            "http://ho st/",
            "http://host/a b",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(
            HttpSmsSender::new(
                "http://h/",
                Duration::from_secs(1),
                vec![("X-A".into(), "1\r\nX-Evil: 2".into())]
            )
            .is_err()
        );
    }

    #[test]
    fn response_parsing() {
        assert_eq!(
            parse_response(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap(),
            (204, vec![])
        );
        assert!(parse_response(b"SMTP 200 hi\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert_eq!(dechunk(b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n"), b"abcde");
    }
}

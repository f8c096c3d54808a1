//! Streaming reader for bank returns: pain.002 (payment status reports) and camt.054
//! (debit/credit notifications), any version, one [`ReturnEvent`] per transaction.
//!
//! Memory is bounded whatever the file size: the reader keeps only the element path, the
//! current entry/transaction and a capped list of warnings.

mod camt054;
pub(crate) mod lines;
mod pain002;
pub(crate) mod path;

use std::fmt;
use std::io::BufRead;

use chrono::NaiveDate;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use sanad_domain::Money;
use serde::Serialize;

use crate::amount::parse_amount;
use crate::error::{PaymentsError, Result};
pub(crate) use lines::LineCounter;
pub(crate) use path::Path;

/// At most this many warnings are kept; the rest are only counted.
pub const MAX_WARNINGS: usize = 1000;

/// What happened to one payment, as told by the bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnEvent {
    pub end_to_end_id: String,
    pub kind: ReturnKind,
    /// The bank's own status: pain.002 TxSts (`ACSC`, `RJCT`…) or camt.054 `BOOK/DBIT`.
    pub status_code: String,
    /// In minor units of `currency`: only MAD amounts are Sanad money, others are not converted.
    pub amount: Option<Money>,
    pub currency: Option<String>,
    pub booking_date: Option<NaiveDate>,
    /// The bank's free text (`AddtlInf`), if any.
    pub detail: Option<String>,
    /// Line where the transaction starts in the file.
    pub source_line: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ReturnKind {
    /// Accepted by the bank, not yet settled (ACCP, ACTC, ACSP, ACWC…).
    Accepted,
    /// Refused before settlement (RJCT, CANC), with the ISO reason code (AC01, AM04…).
    Rejected { reason: Option<String> },
    /// Money left the agency's account (ACSC/ACCC, or a booked debit in camt.054).
    Settled,
    /// Sent back after settlement (camt.054 return information, reversal, RRTN).
    Returned { reason: Option<String> },
    /// Not final yet (PDNG, RCVD, camt.054 PDNG/FUTR).
    Pending,
    /// Anything else; `status_code` says what.
    Other,
}

/// Message identifier from the Document namespace, e.g. `camt.054` / `001.08`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageType {
    pub message: String,
    pub version: String,
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.message, self.version)
    }
}

/// A status given for a whole message (`GrpSts`) or payment block (`PmtInfSts`) in a pain.002.
/// A group-level RJCT with no transaction details rejects every payment of the original file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchStatus {
    pub level: BatchLevel,
    /// Our MsgId (group level) or PmtInfId (payment-information level).
    pub original_id: String,
    pub status_code: String,
    pub kind: ReturnKind,
    pub detail: Option<String>,
    pub source_line: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BatchLevel {
    Group,
    PaymentInformation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub line: u64,
    pub element: String,
    pub message: String,
}

/// Counts and notes about one returns file, complete once the reader is exhausted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnsSummary {
    pub message: MessageType,
    /// The bank's GrpHdr/MsgId.
    pub message_id: Option<String>,
    /// pain.002 OrgnlMsgId: which of our files this report is about.
    pub original_message_ids: Vec<String>,
    pub batch_statuses: Vec<BatchStatus>,
    pub events: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub settled: u64,
    pub returned: u64,
    pub pending: u64,
    pub other: u64,
    /// Transactions (or camt.054 entries without details) that carry no EndToEndId.
    pub without_end_to_end_id: u64,
    /// Transactions whose EndToEndId is the placeholder `NOTPROVIDED`.
    pub not_provided: u64,
    /// Events whose amount is not in MAD (reported as is, not converted).
    pub non_mad_amounts: u64,
    /// Transactions skipped because an amount could not be read exactly.
    pub amount_errors: u64,
    pub warnings: Vec<Warning>,
    pub warnings_dropped: u64,
}

impl ReturnsSummary {
    fn new(message: MessageType) -> Self {
        ReturnsSummary {
            message,
            message_id: None,
            original_message_ids: Vec::new(),
            batch_statuses: Vec::new(),
            events: 0,
            accepted: 0,
            rejected: 0,
            settled: 0,
            returned: 0,
            pending: 0,
            other: 0,
            without_end_to_end_id: 0,
            not_provided: 0,
            non_mad_amounts: 0,
            amount_errors: 0,
            warnings: Vec::new(),
            warnings_dropped: 0,
        }
    }

    pub(crate) fn warn(&mut self, line: u64, element: &str, message: impl Into<String>) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(Warning {
                line,
                element: element.to_string(),
                message: message.into(),
            });
        } else {
            self.warnings_dropped += 1;
        }
    }

    fn count(&mut self, ev: &ReturnEvent) {
        self.events += 1;
        let counter = match ev.kind {
            ReturnKind::Accepted => &mut self.accepted,
            ReturnKind::Rejected { .. } => &mut self.rejected,
            ReturnKind::Settled => &mut self.settled,
            ReturnKind::Returned { .. } => &mut self.returned,
            ReturnKind::Pending => &mut self.pending,
            ReturnKind::Other => &mut self.other,
        };
        *counter += 1;
        if ev.currency.as_deref().is_some_and(|c| c != "MAD") {
            self.non_mad_amounts += 1;
        }
    }
}

/// What handlers see of the reader: where they are and the summary to update.
pub(crate) struct Ctx<'a> {
    pub(crate) path: &'a Path,
    pub(crate) line: u64,
    pub(crate) summary: &'a mut ReturnsSummary,
}

/// An amount as found in the file, before it is checked.
#[derive(Debug, Default, Clone)]
pub(crate) struct RawAmount {
    pub(crate) amount: Option<Money>,
    pub(crate) currency: Option<String>,
    pub(crate) error: Option<(u64, String, String, String)>,
}

impl RawAmount {
    /// Parse `text` exactly; a bad value is kept as an error naming line and element.
    pub(crate) fn read(cx: &mut Ctx<'_>, text: &str, currency: Option<String>) -> Self {
        match parse_amount(text) {
            Ok(m) => RawAmount {
                amount: Some(m),
                currency,
                error: None,
            },
            Err(reason) => {
                let element = cx.path.below(cx.path.depth().saturating_sub(2)).to_string();
                cx.summary
                    .warn(cx.line, &element, format!("amount '{text}': {reason}"));
                RawAmount {
                    amount: None,
                    currency,
                    error: Some((cx.line, element, text.to_string(), reason)),
                }
            }
        }
    }

    pub(crate) fn into_error(self) -> Option<PaymentsError> {
        self.error
            .map(|(line, element, value, reason)| PaymentsError::Amount {
                line,
                element,
                value,
                reason,
            })
    }
}

/// Event text shared by both handlers: decides between an event, a counted skip, or an error.
pub(crate) fn finish_transaction(
    cx: &mut Ctx<'_>,
    e2e: Option<String>,
    amount: RawAmount,
    make: impl FnOnce(String, RawAmount) -> ReturnEvent,
) -> Option<Result<ReturnEvent>> {
    let e2e = match e2e.filter(|s| !s.is_empty()) {
        None => {
            cx.summary.without_end_to_end_id += 1;
            return None;
        }
        Some(s) if s.eq_ignore_ascii_case("NOTPROVIDED") => {
            cx.summary.not_provided += 1;
            return None;
        }
        Some(s) => s,
    };
    if amount.error.is_some() {
        cx.summary.amount_errors += 1;
        return amount.into_error().map(Err);
    }
    let ev = make(e2e, amount);
    cx.summary.count(&ev);
    Some(Ok(ev))
}

/// The date part of an ISODate or ISODateTime.
pub(crate) fn read_date(cx: &mut Ctx<'_>, text: &str) -> Option<NaiveDate> {
    let d = text
        .get(..10)
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
    if d.is_none() {
        let element = cx.path.last().to_string();
        cx.summary
            .warn(cx.line, &element, format!("'{text}' is not a date"));
    }
    d
}

enum Handler {
    Pain002(pain002::Pain002),
    Camt054(camt054::Camt054),
}

impl Handler {
    fn start(&mut self, cx: &mut Ctx<'_>) {
        match self {
            Handler::Pain002(h) => h.start(cx),
            Handler::Camt054(h) => h.start(cx),
        }
    }

    fn end(
        &mut self,
        cx: &mut Ctx<'_>,
        text: &str,
        currency: Option<String>,
    ) -> Option<Result<ReturnEvent>> {
        match self {
            Handler::Pain002(h) => h.end(cx, text, currency),
            Handler::Camt054(h) => h.end(cx, text, currency),
        }
    }
}

/// Iterator over the events of one pain.002 or camt.054 file.
///
/// Items are `Err` in two cases: a transaction whose amount cannot be read exactly
/// (`PaymentsError::Amount`, not fatal: iteration continues with the next transaction),
/// and malformed XML or I/O failures (fatal: iteration ends).
pub struct ReturnsReader<R: BufRead> {
    reader: Reader<LineCounter<R>>,
    buf: Vec<u8>,
    path: Path,
    text: String,
    /// Ccy attribute of the innermost open amount element.
    currency: Option<String>,
    handler: Handler,
    summary: ReturnsSummary,
    done: bool,
}

impl<R: BufRead> ReturnsReader<R> {
    /// Reads up to the message element and tells which message this is.
    /// Messages other than pain.002 and camt.054 give `PaymentsError::Unsupported`.
    pub fn new(input: R) -> Result<Self> {
        let mut reader = Reader::from_reader(LineCounter::new(input));
        // No trimming: it would eat spaces around entity references (`A &amp; B`).
        reader.config_mut().trim_text(false);
        let mut buf = Vec::new();
        let namespace = read_document_namespace(&mut reader, &mut buf)?;
        let root = read_message_element(&mut reader, &mut buf)?;
        let line = reader.get_ref().line();
        let Some(ns) = namespace else {
            return Err(PaymentsError::NoNamespace {
                line,
                element: root,
            });
        };
        let message = message_from_namespace(&ns).ok_or_else(|| PaymentsError::Unsupported {
            message: root.clone(),
            version: format!("unknown (namespace '{ns}')"),
        })?;
        let handler = handler_for(&message, &root, line)?;
        let mut path = Path::default();
        path.push("Document");
        path.push(&root);
        Ok(ReturnsReader {
            reader,
            buf,
            path,
            text: String::new(),
            currency: None,
            handler,
            summary: ReturnsSummary::new(message),
            done: false,
        })
    }

    pub fn message(&self) -> &MessageType {
        &self.summary.message
    }

    /// The summary so far; complete once the iterator has returned `None`.
    pub fn summary(&self) -> &ReturnsSummary {
        &self.summary
    }

    pub fn into_summary(self) -> ReturnsSummary {
        self.summary
    }

    /// The summary and the input, positioned where the message ended (to read what follows,
    /// e.g. to hash the whole file).
    pub fn into_parts(self) -> (ReturnsSummary, R) {
        (self.summary, self.reader.into_inner().into_inner())
    }

    fn line(&self) -> u64 {
        self.reader.get_ref().line()
    }

    /// Reads one XML event; returns an item when a transaction is complete.
    fn step(&mut self) -> Result<Step> {
        self.buf.clear();
        let event = self.reader.read_event_into(&mut self.buf);
        let line = self.reader.get_ref().line();
        let xml_err = |e: quick_xml::Error| PaymentsError::Xml {
            line,
            message: e.to_string(),
        };
        match event.map_err(xml_err)? {
            Event::Start(e) => {
                open_element(&mut self.path, &mut self.currency, &e, line)?;
                self.text.clear();
                self.handler.start(&mut Ctx {
                    path: &self.path,
                    line,
                    summary: &mut self.summary,
                });
            }
            Event::Empty(e) => {
                open_element(&mut self.path, &mut self.currency, &e, line)?;
                self.text.clear();
                self.handler.start(&mut Ctx {
                    path: &self.path,
                    line,
                    summary: &mut self.summary,
                });
                return Ok(self.close_element(line));
            }
            Event::End(_) => return Ok(self.close_element(line)),
            Event::Text(t) => self
                .text
                .push_str(&t.xml10_content().map_err(|e| xml_err(e.into()))?),
            Event::CData(t) => self
                .text
                .push_str(&t.decode().map_err(|e| xml_err(e.into()))?),
            Event::GeneralRef(r) => push_reference(&mut self.text, &r, line)?,
            Event::Eof => return self.at_eof(),
            _ => {}
        }
        Ok(Step::Continue)
    }

    fn close_element(&mut self, line: u64) -> Step {
        let currency = self.currency.take();
        let item = self.handler.end(
            &mut Ctx {
                path: &self.path,
                line,
                summary: &mut self.summary,
            },
            self.text.trim(),
            currency,
        );
        self.path.pop();
        self.text.clear();
        item.map_or(Step::Continue, Step::Item)
    }

    fn at_eof(&self) -> Result<Step> {
        if self.path.depth() > 0 {
            return Err(PaymentsError::Structure {
                line: self.line(),
                element: self.path.last().to_string(),
                message: "the file ends before this element is closed (truncated file?)".into(),
            });
        }
        Ok(Step::Eof)
    }
}

enum Step {
    Continue,
    Item(Result<ReturnEvent>),
    Eof,
}

impl<R: BufRead> Iterator for ReturnsReader<R> {
    type Item = Result<ReturnEvent>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.step() {
                Ok(Step::Continue) => {}
                Ok(Step::Item(item)) => return Some(item),
                Ok(Step::Eof) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

/// Reads a whole returns file, calling `on_event` for each event. Transactions with an
/// unreadable amount are skipped (they are counted and listed in the summary's warnings);
/// any other error stops the reading.
pub fn read_returns<R: BufRead>(
    input: R,
    mut on_event: impl FnMut(ReturnEvent),
) -> Result<ReturnsSummary> {
    let mut reader = ReturnsReader::new(input)?;
    for item in reader.by_ref() {
        match item {
            Ok(ev) => on_event(ev),
            Err(e) if !e.is_fatal() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(reader.into_summary())
}

fn local_name<'a>(e: &'a BytesStart<'_>, line: u64) -> Result<&'a str> {
    std::str::from_utf8(e.local_name().into_inner()).map_err(|_| PaymentsError::Xml {
        line,
        message: "element name is not UTF-8".into(),
    })
}

fn open_element(
    path: &mut Path,
    currency: &mut Option<String>,
    e: &BytesStart<'_>,
    line: u64,
) -> Result<()> {
    let name = local_name(e, line)?;
    path.push(name);
    *currency = None;
    if name.ends_with("Amt") {
        // Only amounts carry an attribute we need; other elements skip attribute parsing.
        let attr = e
            .try_get_attribute("Ccy")
            .map_err(|err| PaymentsError::Xml {
                line,
                message: err.to_string(),
            })?;
        if let Some(a) = attr {
            *currency = Some(
                a.unescape_value()
                    .map_err(|err| PaymentsError::Xml {
                        line,
                        message: err.to_string(),
                    })?
                    .into_owned(),
            );
        }
    }
    Ok(())
}

fn push_reference(text: &mut String, r: &quick_xml::events::BytesRef<'_>, line: u64) -> Result<()> {
    let err = |m: String| PaymentsError::Xml { line, message: m };
    if let Some(c) = r.resolve_char_ref().map_err(|e| err(e.to_string()))? {
        text.push(c);
        return Ok(());
    }
    let name = r.decode().map_err(|e| err(e.to_string()))?;
    let value = quick_xml::escape::resolve_predefined_entity(&name)
        .ok_or_else(|| err(format!("unknown entity &{name};")))?;
    text.push_str(value);
    Ok(())
}

/// Finds the Document element and its default (or prefixed) namespace.
fn read_document_namespace<R: BufRead>(
    reader: &mut Reader<LineCounter<R>>,
    buf: &mut Vec<u8>,
) -> Result<Option<String>> {
    loop {
        buf.clear();
        let event = reader.read_event_into(buf);
        let line = reader.get_ref().line();
        let xml_err = |m: String| PaymentsError::Xml { line, message: m };
        let (e, empty) = match event.map_err(|e| xml_err(e.to_string()))? {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::Eof => {
                return Err(PaymentsError::Structure {
                    line,
                    element: "Document".into(),
                    message: "the file has no message in it".into(),
                });
            }
            _ => continue,
        };
        let name = local_name(&e, line)?;
        if name != "Document" {
            return Err(PaymentsError::Structure {
                line,
                element: name.into(),
                message: "an ISO 20022 file must start with <Document>".into(),
            });
        }
        if empty {
            return Err(PaymentsError::Structure {
                line,
                element: name.into(),
                message: "the file has no message in it".into(),
            });
        }
        return namespace_of(&e).map_err(xml_err);
    }
}

fn namespace_of(e: &BytesStart<'_>) -> std::result::Result<Option<String>, String> {
    let qname = e.name();
    let wanted: Vec<u8> = match qname.prefix() {
        Some(p) => [b"xmlns:".as_slice(), p.into_inner()].concat(),
        None => b"xmlns".to_vec(),
    };
    for attr in e.attributes() {
        let attr = attr.map_err(|err| err.to_string())?;
        if attr.key.as_ref() == wanted.as_slice() {
            return Ok(Some(
                attr.unescape_value()
                    .map_err(|err| err.to_string())?
                    .into_owned(),
            ));
        }
    }
    Ok(None)
}

/// The element inside Document: CstmrPmtStsRpt, BkToCstmrDbtCdtNtfctn, …
fn read_message_element<R: BufRead>(
    reader: &mut Reader<LineCounter<R>>,
    buf: &mut Vec<u8>,
) -> Result<String> {
    loop {
        buf.clear();
        let event = reader.read_event_into(buf);
        let line = reader.get_ref().line();
        match event.map_err(|e| PaymentsError::Xml {
            line,
            message: e.to_string(),
        })? {
            Event::Start(e) => return Ok(local_name(&e, line)?.to_string()),
            Event::Empty(_) | Event::End(_) | Event::Eof => {
                return Err(PaymentsError::Structure {
                    line,
                    element: "Document".into(),
                    message: "the Document holds no message".into(),
                });
            }
            _ => {}
        }
    }
}

/// `camt.054` / `001.04` out of any namespace naming the message, including banks' own
/// (`http://www.six-interbank-clearing.com/de/pain.002.001.03.ch.02.xsd`).
pub fn message_from_namespace(ns: &str) -> Option<MessageType> {
    let digits = |w: &[u8]| w.iter().all(u8::is_ascii_digit);
    let at = ns.as_bytes().windows(15).position(|w| {
        w[..4].iter().all(u8::is_ascii_lowercase)
            && w[4] == b'.'
            && digits(&w[5..8])
            && w[8] == b'.'
            && digits(&w[9..12])
            && w[12] == b'.'
            && digits(&w[13..15])
    })?;
    Some(MessageType {
        message: ns[at..at + 8].to_string(),
        version: ns[at + 9..at + 15].to_string(),
    })
}

fn handler_for(message: &MessageType, root: &str, line: u64) -> Result<Handler> {
    let (expected, handler) = match message.message.as_str() {
        "pain.002" => (
            "CstmrPmtStsRpt",
            Handler::Pain002(pain002::Pain002::default()),
        ),
        "camt.054" => (
            "BkToCstmrDbtCdtNtfctn",
            Handler::Camt054(camt054::Camt054::default()),
        ),
        _ => {
            return Err(PaymentsError::Unsupported {
                message: message.message.clone(),
                version: message.version.clone(),
            });
        }
    };
    if root != expected {
        return Err(PaymentsError::Structure {
            line,
            element: root.into(),
            message: format!("a {message} message must hold <{expected}>"),
        });
    }
    Ok(handler)
}

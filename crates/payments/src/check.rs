//! Reads a pain.001 back and checks it: the counts and control sums the headers declare
//! against the transactions actually present. Used by the tests, and by operators before
//! sending a file ("is what we send what we planned?").

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::Event;
use sanad_domain::Money;

use crate::amount::parse_amount;
use crate::error::{PaymentsError, Result};
use crate::pain001::BatchSummary;
use crate::returns::{LineCounter, Path};

/// What a pain.001 declares and what it contains.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pain001Check {
    pub msg_id: String,
    pub declared: BatchSummary,
    /// One per PmtInf, as declared in each.
    pub payment_infos: Vec<BatchSummary>,
    /// Per PmtInf, as counted.
    pub payment_infos_actual: Vec<BatchSummary>,
    pub actual: BatchSummary,
}

impl Pain001Check {
    /// Declared and actual agree at group and payment-information level.
    pub fn is_consistent(&self) -> bool {
        self.declared == self.actual && self.payment_infos == self.payment_infos_actual
    }
}

/// Streams a pain.001, calling `on_tx(end_to_end_id, amount)` for each transaction.
pub fn check_pain001<R: BufRead>(
    input: R,
    mut on_tx: impl FnMut(&str, Money),
) -> Result<Pain001Check> {
    let mut reader = Reader::from_reader(LineCounter::new(input));
    let (mut buf, mut path, mut text) = (Vec::new(), Path::default(), String::new());
    let mut check = Pain001Check::default();
    let mut e2e = String::new();
    loop {
        buf.clear();
        let event = reader.read_event_into(&mut buf);
        let line = reader.get_ref().line();
        let xml_err = |m: String| PaymentsError::Xml { line, message: m };
        match event.map_err(|e| xml_err(e.to_string()))? {
            Event::Start(e) => {
                path.push(
                    std::str::from_utf8(e.local_name().into_inner())
                        .map_err(|e| xml_err(e.to_string()))?,
                );
                text.clear();
                if path.last() == "PmtInf" {
                    check.payment_infos.push(BatchSummary::default());
                    check.payment_infos_actual.push(BatchSummary::default());
                }
            }
            Event::Text(t) => {
                text.push_str(&t.xml10_content().map_err(|e| xml_err(e.to_string()))?)
            }
            Event::End(_) => {
                let value = text.trim();
                let amount = |v: &str| {
                    parse_amount(v).map_err(|reason| PaymentsError::Amount {
                        line,
                        element: path.last().into(),
                        value: v.into(),
                        reason,
                    })
                };
                match path.below(2) {
                    "GrpHdr/MsgId" => check.msg_id = value.to_string(),
                    "GrpHdr/NbOfTxs" => check.declared.nb_of_txs = count(value, line)?,
                    "GrpHdr/CtrlSum" => check.declared.ctrl_sum = amount(value)?,
                    "PmtInf/NbOfTxs" => {
                        last(&mut check.payment_infos).nb_of_txs = count(value, line)?
                    }
                    "PmtInf/CtrlSum" => last(&mut check.payment_infos).ctrl_sum = amount(value)?,
                    "PmtInf/CdtTrfTxInf/PmtId/EndToEndId" => e2e = value.to_string(),
                    "PmtInf/CdtTrfTxInf/Amt/InstdAmt" => {
                        let m = amount(value)?;
                        on_tx(&e2e, m);
                        check.actual.nb_of_txs += 1;
                        check.actual.ctrl_sum += m;
                        let pi = last(&mut check.payment_infos_actual);
                        pi.nb_of_txs += 1;
                        pi.ctrl_sum += m;
                    }
                    _ => {}
                }
                path.pop();
                text.clear();
            }
            Event::Eof => return Ok(check),
            _ => {}
        }
    }
}

fn last(v: &mut [BatchSummary]) -> &mut BatchSummary {
    v.last_mut()
        .expect("a PmtInf was opened before its children")
}

fn count(v: &str, line: u64) -> Result<u64> {
    v.parse().map_err(|_| PaymentsError::Structure {
        line,
        element: "NbOfTxs".into(),
        message: format!("'{v}' is not a count"),
    })
}

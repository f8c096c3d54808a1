//! Bank responses for tests and demos: a pain.002.001.11 status report and a
//! camt.054.001.08 notification for a list of (EndToEndId, outcome). They validate against
//! the official schemas and read back through [`crate::ReturnsReader`] to the same outcomes.

use std::borrow::Borrow;
use std::io::Write;

use chrono::{NaiveDate, NaiveDateTime};
use sanad_domain::{Money, Rib};

use crate::amount::format_amount;
use crate::error::{PaymentsError, Result};
use crate::xml_out::XmlOut;

pub const PAIN002_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.11";
pub const CAMT054_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08";

/// What the simulated bank did with one payment. Reasons are ISO codes (AC01, AC04, AM04…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Rejected { reason: String },
    Settled,
    Returned { reason: String },
    Pending,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankResponse {
    pub end_to_end_id: String,
    pub amount: Money,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHeader {
    /// The bank's message id (≤ 35 characters).
    pub msg_id: String,
    pub created_at: NaiveDateTime,
    /// The MsgId of our pain.001 file this responds to.
    pub original_msg_id: String,
    pub booking_date: NaiveDate,
    /// The agency's account the notification is about.
    pub account: Rib,
}

/// How many responses went into the file, and how many the message type cannot express
/// (a pain.002 has no returns; a camt.054 has no acceptances or rejections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WrittenCounts {
    pub written: u64,
    pub skipped: u64,
}

fn check_max35(what: &str, v: &str) -> Result<()> {
    if v.is_empty() || v.chars().count() > 35 {
        return Err(PaymentsError::InvalidSpec(format!(
            "{what} '{v}' must be 1–35 characters"
        )));
    }
    Ok(())
}

fn check_code(v: &str) -> Result<()> {
    if !(1..=4).contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(PaymentsError::InvalidSpec(format!(
            "reason '{v}' must be an ISO code of 1–4 letters or digits"
        )));
    }
    Ok(())
}

fn check_header(h: &ResponseHeader) -> Result<()> {
    check_max35("message id", &h.msg_id)?;
    check_max35("original message id", &h.original_msg_id)
}

fn date_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// A pain.002.001.11 with one TxInfAndSts per response (returns are skipped).
pub fn write_pain002<W: Write, B: Borrow<BankResponse>>(
    h: &ResponseHeader,
    responses: impl IntoIterator<Item = B>,
    out: W,
) -> Result<(W, WrittenCounts)> {
    check_header(h)?;
    let mut x = XmlOut::new(out, PAIN002_NAMESPACE, "CstmrPmtStsRpt")?;
    x.open("GrpHdr")?;
    x.leaf("MsgId", &h.msg_id)?;
    x.leaf("CreDtTm", &date_time(h.created_at))?;
    x.close("GrpHdr")?;
    x.open("OrgnlGrpInfAndSts")?;
    x.leaf("OrgnlMsgId", &h.original_msg_id)?;
    x.leaf("OrgnlMsgNmId", "pain.001.001.10")?;
    x.close("OrgnlGrpInfAndSts")?;
    x.open("OrgnlPmtInfAndSts")?;
    x.leaf("OrgnlPmtInfId", &h.original_msg_id)?; // Sanad's PmtInfId is the file's MsgId
    let mut counts = WrittenCounts::default();
    for r in responses {
        let r = r.borrow();
        let (status, reason) = match &r.outcome {
            Outcome::Accepted => ("ACCP", None),
            Outcome::Settled => ("ACSC", None),
            Outcome::Pending => ("PDNG", None),
            Outcome::Rejected { reason } => ("RJCT", Some(reason.as_str())),
            Outcome::Returned { .. } => {
                counts.skipped += 1;
                continue;
            }
        };
        write_status(&mut x, r, status, reason)?;
        counts.written += 1;
    }
    x.close("OrgnlPmtInfAndSts")?;
    Ok((x.finish("CstmrPmtStsRpt")?, counts))
}

fn write_status<W: Write>(
    x: &mut XmlOut<W>,
    r: &BankResponse,
    status: &str,
    reason: Option<&str>,
) -> Result<()> {
    check_max35("EndToEndId", &r.end_to_end_id)?;
    x.open("TxInfAndSts")?;
    x.leaf("OrgnlEndToEndId", &r.end_to_end_id)?;
    x.leaf("TxSts", status)?;
    if let Some(code) = reason {
        check_code(code)?;
        x.open("StsRsnInf")?;
        x.nested(&["Rsn", "Cd"], code)?;
        x.close("StsRsnInf")?;
    }
    x.open("OrgnlTxRef")?;
    x.open("Amt")?;
    x.amount("InstdAmt", "MAD", &format_amount(r.amount))?;
    x.close("Amt")?;
    x.close("OrgnlTxRef")?;
    x.close("TxInfAndSts")?;
    Ok(())
}

/// A camt.054.001.08: settled payments as booked debits, grouped into batch entries of at
/// most `settled_per_entry` transactions (as a bank books a batch-booked pain.001); returns
/// as booked credits with return information; pending payments as pending debits.
/// Acceptances and rejections are skipped (nothing is booked for them).
pub fn write_camt054<W: Write, B: Borrow<BankResponse>>(
    h: &ResponseHeader,
    responses: impl IntoIterator<Item = B>,
    settled_per_entry: usize,
    out: W,
) -> Result<(W, WrittenCounts)> {
    check_header(h)?;
    let mut x = XmlOut::new(out, CAMT054_NAMESPACE, "BkToCstmrDbtCdtNtfctn")?;
    x.open("GrpHdr")?;
    x.leaf("MsgId", &h.msg_id)?;
    x.leaf("CreDtTm", &date_time(h.created_at))?;
    x.close("GrpHdr")?;
    x.open("Ntfctn")?;
    x.leaf("Id", &h.msg_id)?;
    x.leaf("CreDtTm", &date_time(h.created_at))?;
    x.open("Acct")?;
    x.open("Id")?;
    x.open("Othr")?;
    x.leaf("Id", h.account.as_str())?;
    x.nested(&["SchmeNm", "Prtry"], "RIB")?;
    x.close("Othr")?;
    x.close("Id")?;
    x.leaf("Ccy", "MAD")?;
    x.close("Acct")?;
    let mut counts = WrittenCounts::default();
    // Consecutive settled payments share one entry: bounded by `settled_per_entry`.
    let mut batch: Vec<BankResponse> = Vec::new();
    for r in responses {
        let r = r.borrow();
        check_max35("EndToEndId", &r.end_to_end_id)?;
        match &r.outcome {
            Outcome::Settled => {
                batch.push(r.clone());
                if batch.len() >= settled_per_entry.max(1) {
                    write_settled_entry(&mut x, h, &batch)?;
                    batch.clear();
                }
            }
            Outcome::Returned { reason } => {
                check_code(reason)?;
                write_single_entry(&mut x, h, r, "CRDT", "BOOK", "RRTN", Some(reason))?;
            }
            Outcome::Pending => write_single_entry(&mut x, h, r, "DBIT", "PDNG", "DMCT", None)?,
            Outcome::Accepted | Outcome::Rejected { .. } => {
                counts.skipped += 1;
                continue;
            }
        }
        counts.written += 1;
    }
    if !batch.is_empty() {
        write_settled_entry(&mut x, h, &batch)?;
    }
    x.close("Ntfctn")?;
    Ok((x.finish("BkToCstmrDbtCdtNtfctn")?, counts))
}

/// Ntry header up to and including BkTxCd.
fn open_entry<W: Write>(
    x: &mut XmlOut<W>,
    h: &ResponseHeader,
    amount: Money,
    cdi: &str,
    status: &str,
    sub_family: &str,
) -> Result<()> {
    x.open("Ntry")?;
    x.amount("Amt", "MAD", &format_amount(amount))?;
    x.leaf("CdtDbtInd", cdi)?;
    x.nested(&["Sts", "Cd"], status)?;
    if status == "BOOK" {
        x.nested(
            &["BookgDt", "Dt"],
            &h.booking_date.format("%Y-%m-%d").to_string(),
        )?;
    }
    x.open("BkTxCd")?;
    x.open("Domn")?;
    x.leaf("Cd", "PMNT")?;
    x.open("Fmly")?;
    x.leaf("Cd", "ICDT")?;
    x.leaf("SubFmlyCd", sub_family)?;
    x.close("Fmly")?;
    x.close("Domn")?;
    x.close("BkTxCd")?;
    Ok(())
}

fn write_details<W: Write>(
    x: &mut XmlOut<W>,
    h: &ResponseHeader,
    r: &BankResponse,
    cdi: &str,
    reason: Option<&str>,
) -> Result<()> {
    x.open("TxDtls")?;
    x.open("Refs")?;
    x.leaf("MsgId", &h.original_msg_id)?;
    x.leaf("EndToEndId", &r.end_to_end_id)?;
    x.close("Refs")?;
    x.amount("Amt", "MAD", &format_amount(r.amount))?;
    x.leaf("CdtDbtInd", cdi)?;
    if let Some(code) = reason {
        x.open("RtrInf")?;
        x.nested(&["Rsn", "Cd"], code)?;
        x.close("RtrInf")?;
    }
    x.close("TxDtls")?;
    Ok(())
}

fn write_settled_entry<W: Write>(
    x: &mut XmlOut<W>,
    h: &ResponseHeader,
    batch: &[BankResponse],
) -> Result<()> {
    let total: Money = batch.iter().map(|r| r.amount).sum();
    open_entry(x, h, total, "DBIT", "BOOK", "DMCT")?;
    x.open("NtryDtls")?;
    x.open("Btch")?;
    x.leaf("NbOfTxs", &batch.len().to_string())?;
    x.close("Btch")?;
    for r in batch {
        write_details(x, h, r, "DBIT", None)?;
    }
    x.close("NtryDtls")?;
    x.close("Ntry")?;
    Ok(())
}

fn write_single_entry<W: Write>(
    x: &mut XmlOut<W>,
    h: &ResponseHeader,
    r: &BankResponse,
    cdi: &str,
    status: &str,
    sub_family: &str,
    reason: Option<&str>,
) -> Result<()> {
    open_entry(x, h, r.amount, cdi, status, sub_family)?;
    x.open("NtryDtls")?;
    write_details(x, h, r, cdi, reason)?;
    x.close("NtryDtls")?;
    x.close("Ntry")?;
    Ok(())
}

//! camt.054 (BankToCustomerDebitCreditNotification), versions 001.02 to 001.08 and later.
//! Each `Ntry/NtryDtls/TxDtls` becomes an event. Entry-level facts (status, booking date,
//! debit/credit, reversal) come before the details in every version, so a batch entry with
//! millions of details is streamed without being held.

use chrono::NaiveDate;

use super::{Ctx, RawAmount, ReturnEvent, ReturnKind, finish_transaction, read_date};
use crate::error::Result;

#[derive(Debug, Default)]
struct Entry {
    depth: usize,
    status: Option<String>,
    credit_debit: Option<String>,
    reversal: bool,
    booking_date: Option<NaiveDate>,
    sub_family: Option<String>,
    details: u64,
}

#[derive(Debug, Default)]
struct Tx {
    depth: usize,
    line: u64,
    end_to_end_id: Option<String>,
    amount: RawAmount,
    credit_debit: Option<String>,
    returned: bool,
    return_reason: Option<String>,
    detail: Option<String>,
    sub_family: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Camt054 {
    entry: Option<Entry>,
    tx: Option<Tx>,
}

/// Bank transaction sub-families that mean money came back (returns and reversals).
const RETURN_SUB_FAMILIES: [&str; 3] = ["RRTN", "RPCR", "ARET"];

impl Camt054 {
    pub(crate) fn start(&mut self, cx: &mut Ctx<'_>) {
        let depth = cx.path.depth();
        match (cx.path.parent(), cx.path.last()) {
            ("Ntfctn", "Ntry") => {
                self.entry = Some(Entry {
                    depth,
                    ..Entry::default()
                })
            }
            ("NtryDtls", "TxDtls") if self.entry.is_some() => {
                self.tx = Some(Tx {
                    depth,
                    line: cx.line,
                    ..Tx::default()
                })
            }
            (_, "RtrInf") => {
                if let Some(tx) = self.tx.as_mut() {
                    tx.returned = true;
                }
            }
            _ => {}
        }
    }

    pub(crate) fn end(
        &mut self,
        cx: &mut Ctx<'_>,
        text: &str,
        currency: Option<String>,
    ) -> Option<Result<ReturnEvent>> {
        if let Some(tx) = self.tx.as_mut() {
            if cx.path.depth() == tx.depth {
                return self.end_transaction(cx);
            }
            read_tx(tx, cx, text, currency);
            return None;
        }
        if let Some(entry) = self.entry.as_mut() {
            if cx.path.depth() == entry.depth {
                if entry.details == 0 {
                    cx.summary.without_end_to_end_id += 1; // an entry without any detail
                }
                self.entry = None;
                return None;
            }
            read_entry(entry, cx, text);
            return None;
        }
        if cx.path.below(2) == "GrpHdr/MsgId" {
            cx.summary.message_id = Some(text.to_string());
        }
        None
    }

    fn end_transaction(&mut self, cx: &mut Ctx<'_>) -> Option<Result<ReturnEvent>> {
        let tx = self.tx.take()?;
        let entry = self.entry.as_mut()?;
        entry.details += 1;
        let (kind, status_code) = classify(entry, &tx);
        let (line, detail, booking_date) = (tx.line, tx.detail, entry.booking_date);
        finish_transaction(cx, tx.end_to_end_id, tx.amount, |end_to_end_id, amount| {
            ReturnEvent {
                end_to_end_id,
                kind,
                status_code,
                amount: amount.amount,
                currency: amount.currency,
                booking_date,
                detail,
                source_line: line,
            }
        })
    }
}

fn read_entry(entry: &mut Entry, cx: &mut Ctx<'_>, text: &str) {
    match cx.path.below(entry.depth) {
        // Status is a plain code up to v07 and a Cd/Prtry choice from v08 on.
        "Sts" | "Sts/Cd" | "Sts/Prtry" if !text.is_empty() => entry.status = Some(text.to_string()),
        "CdtDbtInd" => entry.credit_debit = Some(text.to_string()),
        "RvslInd" => entry.reversal = text == "true" || text == "1",
        "BookgDt/Dt" | "BookgDt/DtTm" => entry.booking_date = read_date(cx, text),
        "BkTxCd/Domn/Fmly/SubFmlyCd" => entry.sub_family = Some(text.to_string()),
        "Amt" => {
            // The entry total is not an event amount, but a bad one is still worth a warning.
            let _ = RawAmount::read(cx, text, None);
        }
        _ => {}
    }
}

fn read_tx(tx: &mut Tx, cx: &mut Ctx<'_>, text: &str, currency: Option<String>) {
    match cx.path.below(tx.depth) {
        "Refs/EndToEndId" => tx.end_to_end_id = Some(text.to_string()),
        // v04+ give the amount directly; v02 only in AmtDtls.
        "Amt" => tx.amount = RawAmount::read(cx, text, currency),
        "AmtDtls/TxAmt/Amt" | "AmtDtls/InstdAmt/Amt"
            if tx.amount.amount.is_none() && tx.amount.error.is_none() =>
        {
            tx.amount = RawAmount::read(cx, text, currency);
        }
        "CdtDbtInd" => tx.credit_debit = Some(text.to_string()),
        "RtrInf/Rsn/Cd" | "RtrInf/Rsn/Prtry" if tx.return_reason.is_none() => {
            tx.return_reason = Some(text.to_string())
        }
        "RtrInf/AddtlInf" | "AddtlTxInf" if tx.detail.is_none() => {
            tx.detail = Some(text.to_string())
        }
        "BkTxCd/Domn/Fmly/SubFmlyCd" => tx.sub_family = Some(text.to_string()),
        _ => {}
    }
}

/// Returned when the bank says so (return information, reversal, return sub-family);
/// otherwise a booked debit is settled, a pending or future entry is pending.
fn classify(entry: &Entry, tx: &Tx) -> (ReturnKind, String) {
    let status = entry.status.as_deref().unwrap_or("");
    let cdi = tx
        .credit_debit
        .as_deref()
        .or(entry.credit_debit.as_deref())
        .unwrap_or("");
    let sub = tx
        .sub_family
        .as_deref()
        .or(entry.sub_family.as_deref())
        .unwrap_or("");
    let code = format!("{status}/{cdi}");
    let kind = if tx.returned || entry.reversal || RETURN_SUB_FAMILIES.contains(&sub) {
        ReturnKind::Returned {
            reason: tx.return_reason.clone(),
        }
    } else {
        match (status, cdi) {
            ("BOOK", "DBIT") => ReturnKind::Settled,
            ("PDNG" | "FUTR", _) => ReturnKind::Pending,
            _ => ReturnKind::Other,
        }
    };
    (kind, code)
}

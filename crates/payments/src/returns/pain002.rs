//! pain.002 (CustomerPaymentStatusReport), versions 001.02 to 001.12 and bank variants.
//! Group (`GrpSts`) and payment-block (`PmtInfSts`) statuses go to the summary; each
//! `TxInfAndSts` becomes an event, inheriting the block or group status when it has none.

use super::{BatchLevel, BatchStatus, Ctx, RawAmount, ReturnEvent, ReturnKind, finish_transaction};
use crate::error::Result;

/// Status and first reason of a group, block or transaction.
#[derive(Debug, Default)]
struct Status {
    original_id: Option<String>,
    code: Option<String>,
    reason: Option<String>,
    detail: Option<String>,
    line: u64,
}

impl Status {
    /// Handles the elements shared by all levels, relative to the level's element.
    fn read(&mut self, rel: &str, text: &str) {
        let first = |slot: &mut Option<String>| {
            if slot.is_none() && !text.is_empty() {
                *slot = Some(text.to_string());
            }
        };
        if rel.starts_with("StsRsnInf/")
            && (rel.ends_with("/Cd") || rel.ends_with("/Prtry"))
            && !rel.contains("Orgtr")
        {
            first(&mut self.reason);
        } else if rel == "StsRsnInf/AddtlInf" {
            first(&mut self.detail);
        }
    }
}

#[derive(Debug, Default)]
struct Tx {
    depth: usize,
    status: Status,
    amount: RawAmount,
}

#[derive(Debug, Default)]
pub(crate) struct Pain002 {
    group: Status,
    block: Option<(usize, Status)>,
    tx: Option<Tx>,
}

/// Which kind of outcome an ISO 20022 payment status code means (see README).
pub(crate) fn kind_of(code: &str, reason: Option<String>) -> ReturnKind {
    match code {
        "ACCP" | "ACTC" | "ACSP" | "ACWC" | "ACWP" | "ACFC" | "ACIS" => ReturnKind::Accepted,
        "ACSC" | "ACCC" => ReturnKind::Settled,
        "RJCT" | "CANC" => ReturnKind::Rejected { reason },
        "PDNG" | "RCVD" => ReturnKind::Pending,
        _ => ReturnKind::Other,
    }
}

impl Pain002 {
    pub(crate) fn start(&mut self, cx: &mut Ctx<'_>) {
        let depth = cx.path.depth();
        match cx.path.last() {
            "TxInfAndSts" => {
                self.tx = Some(Tx {
                    depth,
                    status: Status {
                        line: cx.line,
                        ..Status::default()
                    },
                    amount: RawAmount::default(),
                })
            }
            "OrgnlPmtInfAndSts" => {
                self.block = Some((
                    depth,
                    Status {
                        line: cx.line,
                        ..Status::default()
                    },
                ))
            }
            "OrgnlGrpInfAndSts" => self.group.line = cx.line,
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
            match cx.path.below(tx.depth) {
                "OrgnlEndToEndId" => tx.status.original_id = Some(text.to_string()),
                "TxSts" => tx.status.code = Some(text.to_string()),
                "OrgnlTxRef/Amt/InstdAmt" => tx.amount = RawAmount::read(cx, text, currency),
                rel => tx.status.read(rel, text),
            }
            return None;
        }
        if let Some((depth, block)) = self.block.as_mut() {
            let depth = *depth;
            if cx.path.depth() == depth {
                let (_, block) = self.block.take().expect("checked above");
                push_batch_status(cx, BatchLevel::PaymentInformation, block);
                return None;
            }
            match cx.path.below(depth) {
                "OrgnlPmtInfId" => block.original_id = Some(text.to_string()),
                "PmtInfSts" => block.code = Some(text.to_string()),
                rel => block.read(rel, text),
            }
            return None;
        }
        self.end_header(cx, text);
        None
    }

    /// Elements outside transactions and payment blocks: message and group header.
    fn end_header(&mut self, cx: &mut Ctx<'_>, text: &str) {
        match cx.path.below(2) {
            "GrpHdr/MsgId" => cx.summary.message_id = Some(text.to_string()),
            "OrgnlGrpInfAndSts/OrgnlMsgId" => {
                self.group.original_id = Some(text.to_string());
                cx.summary.original_message_ids.push(text.to_string());
            }
            "OrgnlGrpInfAndSts/GrpSts" => self.group.code = Some(text.to_string()),
            "OrgnlGrpInfAndSts" => {
                push_batch_status(cx, BatchLevel::Group, std::mem::take(&mut self.group))
            }
            rel => {
                if let Some(rel) = rel.strip_prefix("OrgnlGrpInfAndSts/") {
                    self.group.read(rel, text);
                }
            }
        }
    }

    fn end_transaction(&mut self, cx: &mut Ctx<'_>) -> Option<Result<ReturnEvent>> {
        let tx = self.tx.take()?;
        // A transaction without its own status has its block's, or else the group's.
        let block = self.block.as_ref().map(|(_, b)| b);
        let code = tx
            .status
            .code
            .or_else(|| block.and_then(|b| b.code.clone()))
            .or_else(|| self.group.code.clone())
            .unwrap_or_default();
        let Status {
            original_id,
            reason,
            detail,
            line,
            ..
        } = tx.status;
        finish_transaction(cx, original_id, tx.amount, |end_to_end_id, amount| {
            ReturnEvent {
                end_to_end_id,
                kind: kind_of(&code, reason),
                status_code: code,
                amount: amount.amount,
                currency: amount.currency,
                booking_date: None,
                detail,
                source_line: line,
            }
        })
    }
}

fn push_batch_status(cx: &mut Ctx<'_>, level: BatchLevel, s: Status) {
    let Some(code) = s.code else { return };
    if cx.summary.batch_statuses.len() >= super::MAX_WARNINGS {
        cx.summary.warn(
            s.line,
            "StsRsnInf",
            "too many payment-block statuses; the rest are not listed",
        );
        return;
    }
    cx.summary.batch_statuses.push(BatchStatus {
        level,
        original_id: s.original_id.unwrap_or_default(),
        kind: kind_of(&code, s.reason),
        status_code: code,
        detail: s.detail,
        source_line: s.line,
    });
}

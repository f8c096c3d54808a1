//! pain.001.001.10 (CustomerCreditTransferInitiation) writer.
//!
//! Two passes over the payments, so that no file is ever held in memory:
//! 1. [`plan_release`] validates every payment and computes, per output file, the number of
//!    transactions and the control sum the headers must declare up front;
//! 2. [`write_release`] streams the same payments into the files, checks that what was
//!    written matches the plan, and returns the SHA-256 [`Manifest`].
//!
//! [`Pain001Writer`] writes one file and can be used alone when the summary is known.

use std::borrow::Borrow;
use std::io::Write;

use chrono::{NaiveDate, NaiveDateTime};
use sanad_domain::{Money, Month, PaymentInstrument, Rib};
use serde::{Deserialize, Serialize};

use crate::amount::format_amount;
use crate::error::{PaymentsError, Result};
use crate::ids::{self, EndToEndRef};
use crate::manifest::{HashingWriter, Manifest, ManifestFile};
use crate::text::latin_name;
use crate::xml_out::XmlOut;

pub const PAIN001_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.10";
const ROOT: &str = "CstmrCdtTrfInitn";
const CCY: &str = "MAD";

/// The paying agency (ANSS) as it appears in every file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Debtor {
    pub name: String,
    /// The agency's account. Moroccan RIBs are not IBANs, so it goes in `Othr` (scheme "RIB").
    pub account: Rib,
    pub agent: DebtorAgent,
}

/// How the agency's bank is identified: a BIC when it has one, else a member id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DebtorAgent {
    Bic(String),
    MemberId(String),
}

/// One release: the payments of one cycle for one provider (or the bank channel),
/// executed on one date, split into files of at most `max_txs_per_file` transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseSpec {
    pub debtor: Debtor,
    pub cycle: Month,
    /// Upper-case code, 1–12 letters/digits, e.g. `BANK`, `WAFACASH`; goes into MsgIds.
    pub provider: String,
    /// 1–999: the n-th release for this cycle and provider (re-issues get a new number).
    pub release_seq: u16,
    pub execution_date: NaiveDate,
    /// Written as CreDtTm; passed in so that files are reproducible.
    pub created_at: NaiveDateTime,
    pub max_txs_per_file: u32,
}

/// One payment to one beneficiary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub payment_id: u64,
    /// 1 for the first issue; a re-issue of the same payment uses 2, 3, …
    pub issue: u16,
    /// The beneficiary's name in Latin script (accents are removed, other characters dropped).
    pub beneficiary_name: String,
    pub instrument: PaymentInstrument,
    pub amount: Money,
}

impl Payment {
    pub fn key(&self) -> (u64, u16) {
        (self.payment_id, self.issue)
    }
}

/// Number of transactions and their sum: what GrpHdr and PmtInf declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BatchSummary {
    pub nb_of_txs: u64,
    pub ctrl_sum: Money,
}

impl BatchSummary {
    fn add(&mut self, amount: Money) {
        self.nb_of_txs += 1;
        self.ctrl_sum += amount;
    }
}

/// One output file of a release, as planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePlan {
    /// 1-based.
    pub file_seq: u32,
    pub msg_id: String,
    /// `{msg_id}.xml`.
    pub file_name: String,
    pub summary: BatchSummary,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleasePlan {
    /// `ASD-YYYYMM-PROVIDER-Rnnn`, the common prefix of the release's MsgIds.
    pub release_id: String,
    pub files: Vec<FilePlan>,
    pub total: BatchSummary,
}

impl ReleaseSpec {
    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(PaymentsError::InvalidSpec(m));
        if !ids::valid_provider_code(&self.provider) {
            return bad(format!(
                "provider code '{}' must be 1–12 upper-case letters or digits",
                self.provider
            ));
        }
        if !(1..=ids::MAX_RELEASE_SEQ).contains(&self.release_seq) {
            return bad(format!("release number {} must be 1–999", self.release_seq));
        }
        if self.max_txs_per_file == 0 {
            return bad("max_txs_per_file must be at least 1".into());
        }
        if let DebtorAgent::Bic(b) = &self.debtor.agent
            && !valid_bic(b)
        {
            return bad(format!("'{b}' is not a BIC (8 or 11 characters)"));
        }
        Ok(())
    }

    pub fn release_id(&self) -> String {
        format!(
            "ASD-{:04}{:02}-{}-R{:03}",
            self.cycle.year(),
            self.cycle.month(),
            self.provider,
            self.release_seq
        )
    }

    fn file_plan(&self, file_seq: u32) -> Result<FilePlan> {
        if file_seq > ids::MAX_FILES_PER_RELEASE {
            return Err(PaymentsError::InvalidSpec(format!(
                "more than {} files: raise max_txs_per_file",
                ids::MAX_FILES_PER_RELEASE
            )));
        }
        let msg_id = ids::msg_id(self.cycle, &self.provider, self.release_seq, file_seq);
        Ok(FilePlan {
            file_seq,
            file_name: format!("{msg_id}.xml"),
            msg_id,
            summary: BatchSummary::default(),
        })
    }
}

fn valid_bic(b: &str) -> bool {
    let by = b.as_bytes();
    matches!(by.len(), 8 | 11)
        && by
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && by[4..6].iter().all(u8::is_ascii_uppercase)
}

/// Checks one payment and that it follows `previous` (strictly increasing keys keep
/// EndToEndIds unique within a release without a set of 4 M ids in memory); returns its
/// EndToEndId. Public so that a caller planning a release page by page checks as the writer will.
pub fn check_payment(cycle: Month, p: &Payment, previous: Option<(u64, u16)>) -> Result<String> {
    let invalid = |reason: String| PaymentsError::InvalidPayment {
        payment_id: p.payment_id,
        issue: p.issue,
        reason,
    };
    if let Some(prev) = previous.filter(|prev| *prev >= p.key()) {
        return Err(PaymentsError::OutOfOrder {
            previous: prev,
            next: p.key(),
        });
    }
    if p.amount <= Money::ZERO {
        return Err(invalid(format!("amount {} MAD must be positive", p.amount)));
    }
    p.instrument.validate().map_err(invalid)?;
    if let PaymentInstrument::Wallet { reference, .. }
    | PaymentInstrument::CashOut { reference, .. } = &p.instrument
        && reference.len() > 34
    {
        return Err(invalid(format!(
            "reference '{reference}' is longer than 34 characters (ISO Max34Text)"
        )));
    }
    EndToEndRef {
        cycle,
        payment_id: p.payment_id,
        issue: p.issue,
    }
    .to_id()
    .ok_or_else(|| {
        invalid(format!(
            "payment id must be at most {} and issue at least 1",
            ids::MAX_PAYMENT_ID
        ))
    })
}

/// First pass: validate the payments and compute each file's count and control sum.
pub fn plan_release<P: Borrow<Payment>>(
    spec: &ReleaseSpec,
    payments: impl IntoIterator<Item = P>,
) -> Result<ReleasePlan> {
    spec.validate()?;
    let mut files: Vec<FilePlan> = Vec::new();
    let mut total = BatchSummary::default();
    let mut previous = None;
    for p in payments {
        let p = p.borrow();
        check_payment(spec.cycle, p, previous)?;
        previous = Some(p.key());
        if files
            .last()
            .is_none_or(|f| f.summary.nb_of_txs == u64::from(spec.max_txs_per_file))
        {
            files.push(spec.file_plan(files.len() as u32 + 1)?);
        }
        files
            .last_mut()
            .expect("pushed above")
            .summary
            .add(p.amount);
        total.add(p.amount);
    }
    Ok(ReleasePlan {
        release_id: spec.release_id(),
        files,
        total,
    })
}

/// Second pass: write the planned files, each through `open(file)`, and return the manifest.
/// Files are hashed while written. On error the files already written must be discarded
/// (write them to a temporary directory and rename it once this returns `Ok`).
pub fn write_release<P, W, O>(
    spec: &ReleaseSpec,
    plan: &ReleasePlan,
    payments: impl IntoIterator<Item = P>,
    mut open: O,
) -> Result<Manifest>
where
    P: Borrow<Payment>,
    W: Write,
    O: FnMut(&FilePlan) -> std::io::Result<W>,
{
    spec.validate()?;
    let mut payments = payments.into_iter();
    let mut listed = Vec::with_capacity(plan.files.len());
    let mut previous = None;
    for file in &plan.files {
        let mut w = Pain001Writer::begin(spec, file, HashingWriter::new(open(file)?))?;
        for p in payments.by_ref().take(file.summary.nb_of_txs as usize) {
            let p = p.borrow();
            w.push_checked(p, previous)?;
            previous = Some(p.key());
        }
        let (hashing, written) = w.finish()?;
        let (mut inner, sha256) = hashing.finish();
        // A buffered writer reports a failed final write only here, not when dropped.
        inner.flush()?;
        listed.push(ManifestFile {
            name: file.file_name.clone(),
            msg_id: file.msg_id.clone(),
            nb_of_txs: written.nb_of_txs,
            ctrl_sum: format_amount(written.ctrl_sum),
            sha256,
        });
    }
    if let Some(extra) = payments.next() {
        return Err(PaymentsError::SummaryMismatch {
            file: format!(
                "release {} (payment {} beyond the plan)",
                plan.release_id,
                extra.borrow().payment_id
            ),
            expected_txs: plan.total.nb_of_txs,
            expected_sum: plan.total.ctrl_sum,
            actual_txs: plan.total.nb_of_txs + 1,
            actual_sum: plan.total.ctrl_sum + extra.borrow().amount,
        });
    }
    Ok(Manifest::new(spec, plan, listed))
}

/// Streams one pain.001 file: header from a known summary, then transactions one by one;
/// [`finish`](Self::finish) fails if what was written differs from the declared summary.
pub struct Pain001Writer<W: Write> {
    xml: XmlOut<W>,
    cycle: Month,
    file_name: String,
    declared: BatchSummary,
    written: BatchSummary,
    previous: Option<(u64, u16)>,
    remittance: String,
}

impl<W: Write> Pain001Writer<W> {
    /// Writes GrpHdr and the PmtInf header (one PmtInf per file: one debtor, one date).
    pub fn begin(spec: &ReleaseSpec, file: &FilePlan, out: W) -> Result<Self> {
        spec.validate()?;
        let mut xml = XmlOut::new(out, PAIN001_NAMESPACE, ROOT)?;
        write_group_header(&mut xml, spec, file)?;
        write_payment_info_header(&mut xml, spec, file)?;
        Ok(Pain001Writer {
            xml,
            cycle: spec.cycle,
            file_name: file.file_name.clone(),
            declared: file.summary,
            written: BatchSummary::default(),
            previous: None,
            remittance: format!("ASD {}", spec.cycle),
        })
    }

    /// Validates and writes one CdtTrfTxInf.
    pub fn push(&mut self, p: &Payment) -> Result<()> {
        let prev = self.previous;
        self.push_checked(p, prev)
    }

    fn push_checked(&mut self, p: &Payment, previous: Option<(u64, u16)>) -> Result<()> {
        let e2e = check_payment(self.cycle, p, previous)?;
        write_transaction(&mut self.xml, p, &e2e, &self.remittance)?;
        self.previous = Some(p.key());
        self.written.add(p.amount);
        Ok(())
    }

    /// Closes the document; returns the writer and what was written, or a mismatch error.
    pub fn finish(mut self) -> Result<(W, BatchSummary)> {
        self.xml.close("PmtInf")?;
        let out = self.xml.finish(ROOT)?;
        if self.written != self.declared {
            return Err(PaymentsError::SummaryMismatch {
                file: self.file_name,
                expected_txs: self.declared.nb_of_txs,
                expected_sum: self.declared.ctrl_sum,
                actual_txs: self.written.nb_of_txs,
                actual_sum: self.written.ctrl_sum,
            });
        }
        if self.written.nb_of_txs == 0 {
            return Err(PaymentsError::InvalidSpec(format!(
                "{}: a pain.001 needs at least one transaction",
                self.file_name
            )));
        }
        Ok((out, self.written))
    }
}

fn write_group_header<W: Write>(
    x: &mut XmlOut<W>,
    spec: &ReleaseSpec,
    file: &FilePlan,
) -> Result<()> {
    x.open("GrpHdr")?;
    x.leaf("MsgId", &file.msg_id)?;
    x.leaf(
        "CreDtTm",
        &spec.created_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
    )?;
    x.leaf("NbOfTxs", &file.summary.nb_of_txs.to_string())?;
    x.leaf("CtrlSum", &format_amount(file.summary.ctrl_sum))?;
    x.open("InitgPty")?;
    x.leaf("Nm", &latin_name(&spec.debtor.name))?;
    x.close("InitgPty")?;
    x.close("GrpHdr")?;
    Ok(())
}

fn write_payment_info_header<W: Write>(
    x: &mut XmlOut<W>,
    spec: &ReleaseSpec,
    file: &FilePlan,
) -> Result<()> {
    x.open("PmtInf")?;
    x.leaf("PmtInfId", &file.msg_id)?; // one PmtInf per file, so the MsgId is unique enough
    x.leaf("PmtMtd", "TRF")?;
    x.leaf("BtchBookg", "true")?; // one debit per file on the agency's account
    x.leaf("NbOfTxs", &file.summary.nb_of_txs.to_string())?;
    x.leaf("CtrlSum", &format_amount(file.summary.ctrl_sum))?;
    x.open("PmtTpInf")?;
    x.nested(&["CtgyPurp", "Cd"], "SSBE")?; // social security benefit
    x.close("PmtTpInf")?;
    x.nested(
        &["ReqdExctnDt", "Dt"],
        &spec.execution_date.format("%Y-%m-%d").to_string(),
    )?;
    x.open("Dbtr")?;
    x.leaf("Nm", &latin_name(&spec.debtor.name))?;
    x.close("Dbtr")?;
    write_account(x, "DbtrAcct", spec.debtor.account.as_str(), "RIB")?;
    x.open("DbtrAgt")?;
    match &spec.debtor.agent {
        DebtorAgent::Bic(bic) => x.nested(&["FinInstnId", "BICFI"], bic)?,
        DebtorAgent::MemberId(id) => x.nested(&["FinInstnId", "Othr", "Id"], id)?,
    }
    x.close("DbtrAgt")?;
    x.leaf("ChrgBr", "DEBT")?; // the agency bears all charges: beneficiaries receive the full amount
    Ok(())
}

/// `<Acct><Id><Othr><Id>…</Id><SchmeNm><Prtry>scheme</Prtry></SchmeNm></Othr></Id></Acct>`
fn write_account<W: Write>(x: &mut XmlOut<W>, tag: &str, id: &str, scheme: &str) -> Result<()> {
    x.open(tag)?;
    x.open("Id")?;
    x.open("Othr")?;
    x.leaf("Id", id)?;
    x.nested(&["SchmeNm", "Prtry"], scheme)?;
    x.close("Othr")?;
    x.close("Id")?;
    x.close(tag)?;
    Ok(())
}

fn write_transaction<W: Write>(
    x: &mut XmlOut<W>,
    p: &Payment,
    e2e: &str,
    remittance: &str,
) -> Result<()> {
    x.open("CdtTrfTxInf")?;
    x.open("PmtId")?;
    x.leaf("InstrId", e2e)?;
    x.leaf("EndToEndId", e2e)?;
    x.close("PmtId")?;
    x.open("Amt")?;
    x.amount("InstdAmt", CCY, &format_amount(p.amount))?;
    x.close("Amt")?;
    let (agent_path, agent_id, scheme): (&[&str], &str, &str) = match &p.instrument {
        // The RIB's first three digits are the bank code: the clearing member to route to.
        PaymentInstrument::Bank { rib } => (
            &["FinInstnId", "ClrSysMmbId", "MmbId"],
            rib.bank_code(),
            "RIB",
        ),
        PaymentInstrument::Wallet { provider, .. } => {
            (&["FinInstnId", "Othr", "Id"], provider.as_str(), "WALLET")
        }
        PaymentInstrument::CashOut { provider, .. } => {
            (&["FinInstnId", "Othr", "Id"], provider.as_str(), "CASHOUT")
        }
    };
    x.open("CdtrAgt")?;
    x.nested(agent_path, agent_id)?;
    x.close("CdtrAgt")?;
    x.open("Cdtr")?;
    x.leaf("Nm", &latin_name(&p.beneficiary_name))?;
    x.close("Cdtr")?;
    let account_id = match &p.instrument {
        PaymentInstrument::Bank { rib } => rib.as_str(),
        PaymentInstrument::Wallet { reference, .. }
        | PaymentInstrument::CashOut { reference, .. } => reference,
    };
    write_account(x, "CdtrAcct", account_id, scheme)?;
    x.nested(&["RmtInf", "Ustrd"], remittance)?;
    x.close("CdtTrfTxInf")?;
    Ok(())
}

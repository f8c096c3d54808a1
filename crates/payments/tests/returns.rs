//! Returns parsing: real bank samples, simulated bank responses (schema-valid, read back),
//! and malformed input that must give clear errors, never panics.

mod common;

use std::fs::File;
use std::io::BufReader;

use chrono::{NaiveDate, NaiveDateTime};
use common::*;
use sanad_domain::Money;
use sanad_payments::bank_sim::{
    BankResponse, Outcome, ResponseHeader, write_camt054, write_pain002,
};
use sanad_payments::{
    BatchLevel, PaymentsError, ReturnEvent, ReturnKind, ReturnsReader, ReturnsSummary, read_returns,
};

fn read_sample(name: &str) -> Result<(ReturnsSummary, Vec<ReturnEvent>), PaymentsError> {
    let mut events = Vec::new();
    let summary = read_returns(BufReader::new(File::open(sample(name)).unwrap()), |e| {
        events.push(e)
    })?;
    Ok((summary, events))
}

fn read_str(xml: &str) -> Result<(ReturnsSummary, Vec<ReturnEvent>), PaymentsError> {
    let mut events = Vec::new();
    let summary = read_returns(xml.as_bytes(), |e| events.push(e))?;
    Ok((summary, events))
}

/// (file, events, settled, returned, other, without EndToEndId)
const CAMT054_SAMPLES: [(&str, u64, u64, u64, u64, u64); 11] = [
    (
        "200519_camt.054-Credit_P_CH2909000000250094239_1110092691_0_2019042421291293.xml",
        0,
        0,
        0,
        0,
        1,
    ),
    (
        "200519_camt.054-Debit_P_CH2909000000250094239_1110092692_0_2019042401501580.xml",
        1,
        1,
        0,
        0,
        0,
    ),
    (
        "200519_camt.054_P_CH2909000000250094239_1111091335_0_2020061900081727.xml",
        1,
        0,
        0,
        1,
        1,
    ),
    (
        "200519_camt054-ESR-ASR_P_CH2909000000250094239_1110092704_0_2019042500372179.xml",
        3,
        0,
        0,
        3,
        3,
    ),
    (
        "200519_camt054-chdd_p_ch2909000000250094239_1110097484_0_20190520700381159.xml",
        2,
        0,
        0,
        2,
        0,
    ),
    (
        "200519_camt054-epo_p_ch5109000000250092291_1110097605_0_2019052003522556.xml",
        3,
        3,
        0,
        0,
        0,
    ),
    (
        "200519_camt054-epo_p_ch5109000000250092291_1110097605_0_2019052103322231.xml",
        3,
        3,
        0,
        0,
        0,
    ),
    (
        "200519_camt054-returns_p_ch2909000000250094239_1109800798_0_2019052023472022.xml",
        1,
        0,
        1,
        0,
        0,
    ),
    (
        "200924_camt.054_P_CH2909000000250094239_1110092703_0_2019042423412214.xml",
        6,
        0,
        0,
        6,
        0,
    ),
    (
        "200924_camt.054_P_CH2909000000250094239_1111091335_0_2020061900081727.xml",
        1,
        0,
        0,
        1,
        1,
    ),
    (
        "200519_camt.054-Debit_P_CH2909000000250094239_1110092692_0_2019042401501580.xml",
        1,
        1,
        0,
        0,
        0,
    ),
];

#[test]
fn camt054_samples_give_counted_events() {
    for (name, events, settled, returned, other, without) in CAMT054_SAMPLES {
        let (s, evs) = read_sample(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.message.to_string(), "camt.054.001.04", "{name}");
        assert_eq!(
            (
                s.events,
                s.settled,
                s.returned,
                s.other,
                s.without_end_to_end_id
            ),
            (events, settled, returned, other, without),
            "{name}"
        );
        assert_eq!(evs.len() as u64, events);
        // Swiss files are in CHF: reported as such, never converted.
        assert_eq!(s.non_mad_amounts, events, "{name}");
        assert!(evs.iter().all(|e| e.currency.as_deref() == Some("CHF")
            && e.amount.is_some()
            && e.booking_date.is_some()));
        assert!(s.warnings.is_empty(), "{name}: {:?}", s.warnings);
    }
}

#[test]
fn camt054_return_sample_details() {
    let (_, evs) = read_sample(
        "200519_camt054-returns_p_ch2909000000250094239_1109800798_0_2019052023472022.xml",
    )
    .unwrap();
    let e = &evs[0];
    assert_eq!(e.end_to_end_id, "EndToEndId-004-01-01");
    assert_eq!(
        e.kind,
        ReturnKind::Returned {
            reason: Some("AC01".into())
        }
    );
    assert_eq!(e.amount, Some(Money::from_centimes(40_000)));
    assert_eq!(e.booking_date, NaiveDate::from_ymd_opt(2019, 5, 20));
    assert_eq!(e.detail.as_deref(), Some("Kontonummer falsch"));
    assert_eq!(e.source_line, 56);
}

#[test]
fn pain002_samples_give_statuses() {
    let (s, evs) =
        read_sample("pain002-epo_p_ch2909000000250094239_1109800799_0_2018032612092784.xml")
            .unwrap();
    assert_eq!(s.message.to_string(), "pain.002.001.03");
    assert_eq!(s.original_message_ids, ["MsgId-006"]);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].end_to_end_id, "EndToEndId-006-01-01");
    assert_eq!(
        evs[0].kind,
        ReturnKind::Rejected {
            reason: Some("AC01".into())
        }
    );
    assert_eq!(evs[0].detail.as_deref(), Some("1301813;Konto ungültig"));
    assert_eq!(s.batch_statuses[0].level, BatchLevel::PaymentInformation);
    assert_eq!(
        s.batch_statuses[0].kind,
        ReturnKind::Rejected {
            reason: Some("NARR".into())
        }
    );

    // A whole-file rejection: no transactions, one group status naming our MsgId.
    let (s, evs) = read_sample("pain002-epo_p_0_0_0_2018032614401842.xml").unwrap();
    assert!(evs.is_empty());
    let g = &s.batch_statuses[0];
    assert_eq!(
        (g.level, g.original_id.as_str(), g.status_code.as_str()),
        (BatchLevel::Group, "MsgId-005", "RJCT")
    );
    assert_eq!(
        g.kind,
        ReturnKind::Rejected {
            reason: Some("AM10".into())
        }
    );

    let (s, _) = read_sample("pain002-epo_p_0_0_0_2018031510491259.xml").unwrap();
    assert_eq!(s.batch_statuses[0].kind, ReturnKind::Accepted);
    let (s, _) =
        read_sample("pain002-chdd-cor1_p_ch2909000000250094239_1110097483_0_2018031317221082.xml")
            .unwrap();
    assert_eq!(s.batch_statuses[0].status_code, "ACCP");
    let (s, evs) = read_sample("valid_pain_v11.xml").unwrap();
    assert_eq!(
        (
            s.message.to_string().as_str(),
            evs.len(),
            s.batch_statuses.len()
        ),
        ("pain.002.001.11", 0, 0)
    );
}

#[test]
fn other_messages_are_unsupported_not_crashes() {
    for (name, message, version) in [
        (
            "200519_camt.052_P_CH2909000000250094239_1110092686_0_2019042416072347.xml",
            "camt.052",
            "001.04",
        ),
        ("FI_camt_052_sample.xml.xml", "camt.052", "001.02"),
        ("FI_camt_053_sample.xml.xml", "camt.053", "001.02"),
        (
            "camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml",
            "camt.053",
            "001.04",
        ),
        ("musterfile_pain.001_Nov2020.xml", "pain.001", "001.03"),
        ("pain008-musterfile.xml", "pain.008", "001.02"),
        ("valid_camt_v09.xml", "camt.055", "001.09"),
    ] {
        match read_sample(name) {
            Err(PaymentsError::Unsupported {
                message: m,
                version: v,
            }) => assert_eq!((m.as_str(), v.as_str()), (message, version), "{name}"),
            other => panic!("{name}: expected Unsupported, got {other:?}"),
        }
    }
}

#[test]
fn invalid_pain_v11_is_a_clear_error() {
    let err = read_sample("invalid_pain_v11.xml").unwrap_err();
    assert!(
        matches!(err, PaymentsError::NoNamespace { line: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("no ISO 20022 namespace"), "{err}");
}

fn header() -> ResponseHeader {
    ResponseHeader {
        msg_id: "BANK-20261126-0001".into(),
        created_at: NaiveDateTime::parse_from_str("2026-11-26T18:00:00", "%Y-%m-%dT%H:%M:%S")
            .unwrap(),
        original_msg_id: "ASD-202611-BANK-R001-F00001".into(),
        booking_date: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        account: agency_rib(),
    }
}

fn responses() -> Vec<BankResponse> {
    let r = |i: u64, cents: i64, outcome: Outcome| BankResponse {
        end_to_end_id: format!("ASD-202611-{i:09}-1"),
        amount: Money::from_centimes(cents),
        outcome,
    };
    vec![
        r(1, 1, Outcome::Settled),
        r(2, 100_000_000, Outcome::Settled),
        r(
            3,
            30_000,
            Outcome::Returned {
                reason: "AC04".into(),
            },
        ),
        r(
            4,
            30_000,
            Outcome::Rejected {
                reason: "AC01".into(),
            },
        ),
        r(5, 45_050, Outcome::Accepted),
        r(6, 12_345, Outcome::Pending),
        r(7, 99, Outcome::Settled),
        r(
            8,
            70_000,
            Outcome::Returned {
                reason: "AM04".into(),
            },
        ),
    ]
}

#[test]
fn simulated_bank_files_are_valid_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let (pain002, counts) = write_pain002(&header(), responses(), Vec::new()).unwrap();
    assert_eq!((counts.written, counts.skipped), (6, 2));
    let (camt054, counts) = write_camt054(&header(), responses(), 2, Vec::new()).unwrap();
    assert_eq!((counts.written, counts.skipped), (6, 2));
    let (p, c) = (
        dir.path().join("pain002.xml"),
        dir.path().join("camt054.xml"),
    );
    std::fs::write(&p, &pain002).unwrap();
    std::fs::write(&c, &camt054).unwrap();
    validate("pain.002.001.11.xsd", &[p]);
    validate("camt.054.001.08.xsd", &[c]);

    let (s, evs) = read_str(std::str::from_utf8(&pain002).unwrap()).unwrap();
    assert_eq!(s.message.to_string(), "pain.002.001.11");
    assert_eq!(s.original_message_ids, ["ASD-202611-BANK-R001-F00001"]);
    let kinds: Vec<_> = evs
        .iter()
        .map(|e| (e.end_to_end_id[19..].to_string(), e.kind.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("1-1".into(), ReturnKind::Settled),
            ("2-1".into(), ReturnKind::Settled),
            (
                "4-1".into(),
                ReturnKind::Rejected {
                    reason: Some("AC01".into())
                }
            ),
            ("5-1".into(), ReturnKind::Accepted),
            ("6-1".into(), ReturnKind::Pending),
            ("7-1".into(), ReturnKind::Settled),
        ]
    );
    assert_eq!(evs[1].amount, Some(Money::from_centimes(100_000_000)));
    assert_eq!(s.non_mad_amounts, 0);

    let (s, evs) = read_str(std::str::from_utf8(&camt054).unwrap()).unwrap();
    assert_eq!(s.message.to_string(), "camt.054.001.08");
    assert_eq!((s.settled, s.returned, s.pending, s.events), (3, 2, 1, 6));
    let returned: Vec<_> = evs
        .iter()
        .filter(|e| matches!(e.kind, ReturnKind::Returned { .. }))
        .collect();
    assert_eq!(
        returned[0].kind,
        ReturnKind::Returned {
            reason: Some("AC04".into())
        }
    );
    assert_eq!(returned[1].amount, Some(Money::from_centimes(70_000)));
    let settled_sum: i64 = evs
        .iter()
        .filter(|e| e.kind == ReturnKind::Settled)
        .map(|e| e.amount.unwrap().centimes())
        .sum();
    assert_eq!(settled_sum, 100_000_100);
    assert!(
        evs.iter()
            .filter(|e| e.kind != ReturnKind::Pending)
            .all(|e| e.booking_date == NaiveDate::from_ymd_opt(2026, 11, 26))
    );
}

fn camt(version: &str, entries: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.{version}\">\n<BkToCstmrDbtCdtNtfctn>\n<GrpHdr><MsgId>M</MsgId></GrpHdr>\n<Ntfctn>\n{entries}\n</Ntfctn>\n</BkToCstmrDbtCdtNtfctn>\n</Document>\n"
    )
}

fn entry(tx: &str) -> String {
    format!(
        "<Ntry><Amt Ccy=\"MAD\">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-11-26</Dt></BookgDt>\n<NtryDtls>{tx}</NtryDtls></Ntry>"
    )
}

#[test]
fn amount_with_three_decimals_is_an_error_naming_line_and_element() {
    let xml = camt("04", &[
        entry("<TxDtls><Refs><EndToEndId>A</EndToEndId></Refs><Amt Ccy=\"MAD\">1.00</Amt></TxDtls>"),
        entry("<TxDtls><Refs><EndToEndId>B</EndToEndId></Refs>\n<Amt Ccy=\"MAD\">1.005</Amt></TxDtls>"),
        entry("<TxDtls><Refs><EndToEndId>C</EndToEndId></Refs><Amt Ccy=\"MAD\">2.50</Amt></TxDtls>"),
    ].join("\n"));
    let items: Vec<_> = ReturnsReader::new(xml.as_bytes()).unwrap().collect();
    assert_eq!(items.len(), 3);
    let err = items[1].as_ref().unwrap_err();
    assert!(!err.is_fatal());
    assert_eq!(
        err.to_string(),
        "line 10: <TxDtls/Amt> amount '1.005': 3 decimals; at most 2 are allowed (centimes)"
    );
    assert_eq!(
        items[2].as_ref().unwrap().amount,
        Some(Money::from_centimes(250))
    );

    // The tolerant reader skips it, counts it and keeps a warning.
    let (s, evs) = read_str(&xml).unwrap();
    assert_eq!((evs.len(), s.amount_errors, s.warnings.len()), (2, 1, 1));
    assert_eq!(s.warnings[0].line, 10);
}

#[test]
fn missing_and_notprovided_end_to_end_ids_are_counted() {
    let xml = camt("08", &[
        entry("<TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs><Amt Ccy=\"MAD\">1.00</Amt></TxDtls>"),
        entry("<TxDtls><Refs><InstrId>X</InstrId></Refs><Amt Ccy=\"MAD\">1.00</Amt></TxDtls><TxDtls><Refs><EndToEndId>ASD-1</EndToEndId></Refs><Amt Ccy=\"EUR\">3</Amt></TxDtls>"),
    ].join("\n"));
    let (s, evs) = read_str(&xml).unwrap();
    assert_eq!(
        (
            s.not_provided,
            s.without_end_to_end_id,
            evs.len(),
            s.non_mad_amounts
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(
        (evs[0].currency.as_deref(), evs[0].amount),
        (Some("EUR"), Some(Money::from_centimes(300)))
    );
}

#[test]
fn camt054_v02_amount_details_reversal_and_entities() {
    let xml = camt(
        "02",
        &format!(
            "{}\n<Ntry><Amt Ccy=\"MAD\">5</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd><Sts>BOOK</Sts><NtryDtls><TxDtls><Refs><EndToEndId>R</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>\n<Ntry><Amt Ccy=\"MAD\">5</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>PDNG</Sts><NtryDtls><TxDtls><Refs><EndToEndId>P</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>",
            entry(
                "<TxDtls><Refs><EndToEndId>A &amp; B</EndToEndId></Refs><AmtDtls><TxAmt><Amt Ccy=\"MAD\">12.3</Amt></TxAmt></AmtDtls><AddtlTxInf>caf&#233;</AddtlTxInf></TxDtls>"
            )
        ),
    );
    let (_, evs) = read_str(&xml).unwrap();
    assert_eq!(evs[0].end_to_end_id, "A & B");
    assert_eq!(evs[0].amount, Some(Money::from_centimes(1230)));
    assert_eq!(evs[0].detail.as_deref(), Some("café"));
    assert_eq!(evs[0].kind, ReturnKind::Settled);
    assert_eq!(evs[1].kind, ReturnKind::Returned { reason: None });
    assert_eq!(
        (evs[2].kind.clone(), evs[2].amount),
        (ReturnKind::Pending, None)
    );
}

#[test]
fn pain002_transactions_inherit_block_status_and_prefixed_namespaces_work() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<p:Document xmlns:p="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
 <p:CstmrPmtStsRpt>
  <p:GrpHdr><p:MsgId>R1</p:MsgId><p:CreDtTm>2026-11-26T10:00:00</p:CreDtTm></p:GrpHdr>
  <p:OrgnlGrpInfAndSts><p:OrgnlMsgId>ASD-202611-BANK-R001-F00001</p:OrgnlMsgId><p:OrgnlMsgNmId>pain.001.001.03</p:OrgnlMsgNmId><p:GrpSts>PART</p:GrpSts></p:OrgnlGrpInfAndSts>
  <p:OrgnlPmtInfAndSts><p:OrgnlPmtInfId>X</p:OrgnlPmtInfId><p:PmtInfSts>ACSC</p:PmtInfSts>
   <p:TxInfAndSts><p:OrgnlEndToEndId>E1</p:OrgnlEndToEndId></p:TxInfAndSts>
   <p:TxInfAndSts><p:OrgnlEndToEndId>E2</p:OrgnlEndToEndId><p:TxSts>RJCT</p:TxSts>
     <p:StsRsnInf><p:Orgtr><p:Id><p:OrgId><p:Othr><p:Id>B</p:Id><p:SchmeNm><p:Cd>BANK</p:Cd></p:SchmeNm></p:Othr></p:OrgId></p:Id></p:Orgtr><p:Rsn><p:Cd>AM04</p:Cd></p:Rsn></p:StsRsnInf>
     <p:OrgnlTxRef><p:Amt><p:InstdAmt Ccy="MAD">300</p:InstdAmt></p:Amt></p:OrgnlTxRef></p:TxInfAndSts>
  </p:OrgnlPmtInfAndSts>
 </p:CstmrPmtStsRpt>
</p:Document>"#;
    let (s, evs) = read_str(xml).unwrap();
    assert_eq!(s.message_id.as_deref(), Some("R1"));
    assert_eq!(
        (evs[0].kind.clone(), evs[0].status_code.as_str()),
        (ReturnKind::Settled, "ACSC")
    );
    assert_eq!(
        evs[1].kind,
        ReturnKind::Rejected {
            reason: Some("AM04".into())
        }
    );
    assert_eq!(evs[1].amount, Some(Money::from_centimes(30_000)));
    assert_eq!(evs[1].source_line, 8);
    assert_eq!(s.batch_statuses.len(), 2);
    assert_eq!(s.batch_statuses[0].kind, ReturnKind::Other); // PART at group level
}

#[test]
fn broken_files_give_errors_not_panics() {
    let full = std::fs::read_to_string(sample(
        "200519_camt054-returns_p_ch2909000000250094239_1109800798_0_2019052023472022.xml",
    ))
    .unwrap();
    // Every truncation of a real file: an error or a partial read, never a panic.
    for cut in (0..full.len()).step_by(37) {
        let part = &full[..full.floor_char_boundary(cut)];
        if let Ok(reader) = ReturnsReader::new(part.as_bytes()) {
            let last = reader.last();
            assert!(
                matches!(last, Some(Err(_))),
                "cut at {cut}: truncated file accepted ({last:?})"
            );
        }
    }
    let cases = [
        ("", "no message"),
        ("not xml at all", "no message"),
        (
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\"><BkToCstmrDbtCdtNtfctn><Ntfctn></Wrong>",
            "malformed XML",
        ),
        ("<Other/>", "must start with <Document>"),
        (
            "<Document xmlns=\"urn:example:nothing\"><X/></Document>",
            "no message",
        ),
        (
            "<Document xmlns=\"urn:example:nothing\"><X></X></Document>",
            "unsupported message X",
        ),
        (
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\"><CstmrPmtStsRpt></CstmrPmtStsRpt></Document>",
            "must hold <BkToCstmrDbtCdtNtfctn>",
        ),
    ];
    for (xml, expected) in cases {
        let err = match ReturnsReader::new(xml.as_bytes()) {
            Err(e) => e,
            Ok(r) => r.filter_map(Result::err).next().expect("an error"),
        };
        assert!(err.to_string().contains(expected), "{xml:?}: {err}");
    }
}

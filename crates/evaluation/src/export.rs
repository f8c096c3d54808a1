//! Pseudonymised analysis dataset: unit ids replaced by keyed pseudonyms,
//! direct identifiers refused, only the requested analysis variables kept;
//! written as CSV or Parquet ([`crate::parquet`]).
//!
//! Pseudonym = first 16 bytes (32 hex digits) of HMAC-SHA-256(key, id).
//! HMAC rather than a bare `H(key || id)` because it costs nothing more and
//! is the standard keyed construction. Without the key, pseudonyms cannot be
//! linked back to ids by hashing candidate ids; with the key, the data owner
//! can re-link (the key stays with the owner and is never written to the
//! export). Rows are sorted by pseudonym so the file order does not reveal
//! the original (e.g. registry) order.

use std::io::Write;

use crate::data::{Frame, MISSING_TOKENS};
use crate::error::{EvalError, Result, invalid};
use crate::parquet::{Column, ColumnData, Table};
use crate::sha256::sha256;

/// Minimum key length: shorter keys could be brute-forced.
pub const MIN_KEY_BYTES: usize = 16;

/// Name of the pseudonym column.
pub const PSEUDONYM_COLUMN: &str = "pid";

/// Column-name tokens that mark direct identifiers (names, national ID,
/// phone, address, e-mail, GPS); such columns are refused.
const IDENTIFIER_TOKENS: [&str; 18] = [
    "name",
    "nom",
    "prenom",
    "cin",
    "cnie",
    "phone",
    "tel",
    "telephone",
    "mobile",
    "gsm",
    "address",
    "adresse",
    "email",
    "mail",
    "gps",
    "latitude",
    "longitude",
    "rib",
];

/// HMAC-SHA-256 (RFC 2104) on the crate's SHA-256.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&sha256(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    inner.extend_from_slice(msg);
    let mut outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    outer.extend_from_slice(&sha256(&inner));
    sha256(&outer)
}

/// Keyed pseudonym of `id`: 32 lower-case hex digits.
pub fn pseudonym(key: &[u8], id: &str) -> String {
    hmac_sha256(key, id.trim().as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// True when a column name looks like a direct identifier.
pub fn looks_identifying(name: &str) -> bool {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|tok| IDENTIFIER_TOKENS.contains(&tok))
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportSpec<'a> {
    /// Column holding the unit id (replaced by [`PSEUDONYM_COLUMN`]).
    pub id: &'a str,
    /// Analysis variables kept as they are.
    pub keep: &'a [String],
    /// Label columns kept but pseudonymised too (e.g. the cluster: grouping
    /// survives, the douar name does not).
    pub hash: &'a [String],
    /// Secret key (at least [`MIN_KEY_BYTES`] bytes), never written out.
    pub key: &'a [u8],
}

fn is_missing(s: &str) -> bool {
    MISSING_TOKENS.contains(&s.trim())
}

/// Typed column from text cells: INT64 when every cell is an integer,
/// DOUBLE when every non-missing cell is a number (missing → NaN), else UTF8.
fn typed(cells: &[&str]) -> ColumnData {
    let present = cells.iter().filter(|c| !is_missing(c));
    if cells.iter().all(|c| c.trim().parse::<i64>().is_ok()) {
        return ColumnData::Int64(
            cells
                .iter()
                .map(|c| c.trim().parse().unwrap_or(0))
                .collect(),
        );
    }
    if present.clone().all(|c| c.trim().parse::<f64>().is_ok()) {
        return ColumnData::Double(
            cells
                .iter()
                .map(|c| c.trim().parse().unwrap_or(f64::NAN))
                .collect(),
        );
    }
    ColumnData::Utf8(
        cells
            .iter()
            .map(|c| {
                if is_missing(c) {
                    String::new()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

fn check_spec(frame: &Frame, spec: &ExportSpec) -> Result<()> {
    if spec.key.len() < MIN_KEY_BYTES {
        return invalid(format!(
            "export: the pseudonymisation key needs at least {MIN_KEY_BYTES} bytes"
        ));
    }
    for c in spec.keep.iter().chain(spec.hash) {
        if c == spec.id || looks_identifying(c) {
            return invalid(format!(
                "export: column '{c}' is an identifier and is not exported"
            ));
        }
        if c == PSEUDONYM_COLUMN {
            return invalid(format!(
                "export: '{PSEUDONYM_COLUMN}' is reserved for the pseudonym"
            ));
        }
    }
    frame.column(spec.id).map(|_| ())
}

/// The pseudonymised analysis table: `pid`, hashed label columns, kept
/// columns; rows sorted by `pid`.
pub fn analysis_table(frame: &Frame, spec: &ExportSpec) -> Result<Table> {
    check_spec(frame, spec)?;
    let ids = frame.column(spec.id)?;
    if let Some(r) = ids.iter().position(|s| is_missing(s)) {
        return Err(EvalError::Invalid(format!(
            "export: row {} has no {}",
            r + 1,
            spec.id
        )));
    }
    let pids: Vec<String> = ids.iter().map(|id| pseudonym(spec.key, id)).collect();
    let mut order: Vec<usize> = (0..pids.len()).collect();
    order.sort_by(|&a, &b| pids[a].cmp(&pids[b]));
    let mut columns = vec![Column {
        name: PSEUDONYM_COLUMN.into(),
        data: ColumnData::Utf8(order.iter().map(|&i| pids[i].clone()).collect()),
    }];
    for h in spec.hash {
        let cells = frame.column(h)?;
        let v = order.iter().map(|&i| {
            if is_missing(&cells[i]) {
                String::new()
            } else {
                pseudonym(spec.key, &cells[i])
            }
        });
        columns.push(Column {
            name: h.clone(),
            data: ColumnData::Utf8(v.collect()),
        });
    }
    for k in spec.keep {
        let cells = frame.column(k)?;
        let sorted: Vec<&str> = order.iter().map(|&i| cells[i].as_str()).collect();
        columns.push(Column {
            name: k.clone(),
            data: typed(&sorted),
        });
    }
    Ok(Table { columns })
}

fn cell_text(d: &ColumnData, i: usize) -> String {
    match d {
        ColumnData::Int64(v) => v[i].to_string(),
        ColumnData::Double(v) if v[i].is_nan() => String::new(),
        ColumnData::Double(v) => v[i].to_string(),
        ColumnData::Utf8(v) => v[i].clone(),
    }
}

/// CSV with a header; NaN becomes an empty (missing) cell.
pub fn write_csv(t: &Table, w: impl Write) -> Result<()> {
    let err = |e: csv::Error| EvalError::Invalid(format!("export csv: {e}"));
    let mut wr = csv::Writer::from_writer(w);
    wr.write_record(t.columns.iter().map(|c| c.name.as_str()))
        .map_err(err)?;
    for i in 0..t.n_rows() {
        wr.write_record(t.columns.iter().map(|c| cell_text(&c.data, i)))
            .map_err(err)?;
    }
    wr.flush()
        .map_err(|e| EvalError::Invalid(format!("export csv: {e}")))
}

/// Parquet with a footer note saying the ids are keyed pseudonyms.
pub fn write_parquet(t: &Table, w: impl Write) -> Result<()> {
    let note = vec![(
        "sanad.pseudonymisation".to_string(),
        "pid = HMAC-SHA-256(key, unit id)[0..16] hex; key held by the data owner".to_string(),
    )];
    crate::parquet::write(t, &note, w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn identifiers_are_refused_and_ids_replaced() {
        let csv = "hh_id,head_name,douar,income\nHH1,Ali,D1,10\nHH2,Sara,D2,\n";
        let f = Frame::from_reader(csv.as_bytes(), "t.csv").unwrap();
        let key = b"0123456789abcdef";
        let keep = vec!["head_name".to_string()];
        let spec = ExportSpec {
            id: "hh_id",
            keep: &keep,
            hash: &[],
            key,
        };
        assert!(analysis_table(&f, &spec).is_err());
        let keep = vec!["income".to_string()];
        let hash = vec!["douar".to_string()];
        let t = analysis_table(
            &f,
            &ExportSpec {
                keep: &keep,
                hash: &hash,
                ..spec
            },
        )
        .unwrap();
        let mut out = Vec::new();
        write_csv(&t, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("HH1") && !text.contains("Ali") && !text.contains("D1"));
        assert!(text.contains(&pseudonym(key, "HH1")));
        assert!(matches!(t.columns[2].data, ColumnData::Double(_)));
        let short = ExportSpec {
            key: b"short",
            ..spec
        };
        assert!(analysis_table(&f, &short).is_err());
    }
}

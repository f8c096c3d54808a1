//! Minimal Apache Parquet writer (and a reader for the same subset), so the
//! analysis export needs no arrow/parquet dependency.
//!
//! Subset written: magic `PAR1`; one row group; per column one data page
//! (v1), PLAIN encoding, uncompressed; flat schema of REQUIRED columns
//! INT64, DOUBLE or BYTE_ARRAY annotated UTF8 (missing numbers are NaN,
//! missing text is empty: required columns have no nulls); the footer is
//! the Thrift compact-protocol `FileMetaData`, its length (u32 LE) and
//! `PAR1`. Field ids follow `parquet.thrift` (format 2.x).

use std::io::Write;

use crate::error::{EvalError, Result};

/// Values of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    Int64(Vec<i64>),
    Double(Vec<f64>),
    Utf8(Vec<String>),
}

impl ColumnData {
    fn len(&self) -> usize {
        match self {
            ColumnData::Int64(v) => v.len(),
            ColumnData::Double(v) => v.len(),
            ColumnData::Utf8(v) => v.len(),
        }
    }
    /// Parquet physical type (INT64 = 2, DOUBLE = 5, BYTE_ARRAY = 6).
    fn physical(&self) -> i32 {
        match self {
            ColumnData::Int64(_) => 2,
            ColumnData::Double(_) => 5,
            ColumnData::Utf8(_) => 6,
        }
    }
    /// PLAIN encoding: little-endian numbers, strings as u32 length + bytes.
    fn plain(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            ColumnData::Int64(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            ColumnData::Double(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            ColumnData::Utf8(v) => {
                for s in v {
                    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                    out.extend_from_slice(s.as_bytes());
                }
            }
        }
        out
    }
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub data: ColumnData,
}

/// Columns of equal length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<Column>,
}

impl Table {
    /// Rows (0 without columns).
    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.data.len())
    }
    fn check(&self) -> Result<()> {
        let n = self.n_rows();
        if let Some(c) = self.columns.iter().find(|c| c.data.len() != n) {
            return Err(EvalError::Invalid(format!(
                "table: column '{}' has {} rows, not {n}",
                c.name,
                c.data.len()
            )));
        }
        Ok(())
    }
}

// Thrift compact-protocol type codes.
const T_I32: u8 = 5;
const T_I64: u8 = 6;
const T_BINARY: u8 = 8;
const T_LIST: u8 = 9;
const T_STRUCT: u8 = 12;

/// Thrift compact-protocol encoder (only what the footer needs).
#[derive(Default)]
struct Compact {
    buf: Vec<u8>,
    last: Vec<i16>,
}

impl Compact {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }
    fn zigzag(&mut self, v: i64) {
        self.varint(((v << 1) ^ (v >> 63)) as u64);
    }
    /// Field header: delta to the previous id in the high nibble when it fits.
    fn field(&mut self, id: i16, ty: u8) {
        let last = *self.last.last().expect("inside a struct");
        let delta = id - last;
        if (1..=15).contains(&delta) {
            self.buf.push(((delta as u8) << 4) | ty);
        } else {
            self.buf.push(ty);
            self.zigzag(i64::from(id));
        }
        *self.last.last_mut().expect("inside a struct") = id;
    }
    fn begin(&mut self) {
        self.last.push(0);
    }
    fn end(&mut self) {
        self.buf.push(0);
        self.last.pop();
    }
    fn i32(&mut self, id: i16, v: i32) {
        self.field(id, T_I32);
        self.zigzag(i64::from(v));
    }
    fn i64(&mut self, id: i16, v: i64) {
        self.field(id, T_I64);
        self.zigzag(v);
    }
    fn bytes(&mut self, b: &[u8]) {
        self.varint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }
    fn string(&mut self, id: i16, s: &str) {
        self.field(id, T_BINARY);
        self.bytes(s.as_bytes());
    }
    fn list(&mut self, id: i16, elem: u8, n: usize) {
        self.field(id, T_LIST);
        if n < 15 {
            self.buf.push(((n as u8) << 4) | elem);
        } else {
            self.buf.push(0xF0 | elem);
            self.varint(n as u64);
        }
    }
    fn struct_field(&mut self, id: i16) {
        self.field(id, T_STRUCT);
        self.begin();
    }
}

fn page_header(n_values: usize, size: usize) -> Result<Vec<u8>> {
    let to_i32 = |v: usize| {
        i32::try_from(v).map_err(|_| EvalError::Invalid("parquet: page larger than 2 GiB".into()))
    };
    let mut c = Compact::default();
    c.begin();
    c.i32(1, 0); // DATA_PAGE
    c.i32(2, to_i32(size)?);
    c.i32(3, to_i32(size)?);
    c.struct_field(5);
    c.i32(1, to_i32(n_values)?);
    c.i32(2, 0); // PLAIN
    c.i32(3, 3); // RLE (no levels are written for required columns)
    c.i32(4, 3);
    c.end();
    c.end();
    Ok(c.buf)
}

/// Offsets of a written column chunk.
struct Chunk {
    offset: i64,
    size: i64,
}

fn schema(c: &mut Compact, t: &Table) {
    c.list(2, T_STRUCT, t.columns.len() + 1);
    c.begin();
    c.string(4, "schema");
    c.i32(5, t.columns.len() as i32);
    c.end();
    for col in &t.columns {
        c.begin();
        c.i32(1, col.data.physical());
        c.i32(3, 0); // REQUIRED
        c.string(4, &col.name);
        if let ColumnData::Utf8(_) = col.data {
            c.i32(6, 0); // converted type UTF8
            c.struct_field(10); // logicalType: STRING
            c.struct_field(1);
            c.end();
            c.end();
        }
        c.end();
    }
}

fn footer(t: &Table, chunks: &[Chunk], created_by: &str, kv: &[(String, String)]) -> Vec<u8> {
    let n = t.n_rows() as i64;
    let mut c = Compact::default();
    c.begin();
    c.i32(1, 1);
    schema(&mut c, t);
    c.i64(3, n);
    c.list(4, T_STRUCT, 1);
    c.begin();
    c.list(1, T_STRUCT, t.columns.len());
    for (col, ch) in t.columns.iter().zip(chunks) {
        c.begin();
        c.i64(2, ch.offset);
        c.struct_field(3);
        c.i32(1, col.data.physical());
        c.list(2, T_I32, 1);
        c.zigzag(0); // PLAIN
        c.list(3, T_BINARY, 1);
        c.bytes(col.name.as_bytes());
        c.i32(4, 0); // UNCOMPRESSED
        c.i64(5, n);
        c.i64(6, ch.size);
        c.i64(7, ch.size);
        c.i64(9, ch.offset);
        c.end();
        c.end();
    }
    c.i64(2, chunks.iter().map(|ch| ch.size).sum());
    c.i64(3, n);
    c.end();
    if !kv.is_empty() {
        c.list(5, T_STRUCT, kv.len());
        for (k, v) in kv {
            c.begin();
            c.string(1, k);
            c.string(2, v);
            c.end();
        }
    }
    c.string(6, created_by);
    c.end();
    c.buf
}

/// Write `table` as a Parquet file; `metadata` goes to the footer's key-value pairs.
pub fn write(table: &Table, metadata: &[(String, String)], mut w: impl Write) -> Result<()> {
    table.check()?;
    let io = |e: std::io::Error| EvalError::Invalid(format!("parquet: {e}"));
    let mut pos = 4i64;
    w.write_all(b"PAR1").map_err(io)?;
    let mut chunks = Vec::new();
    for col in &table.columns {
        let data = col.data.plain();
        let header = page_header(col.data.len(), data.len())?;
        w.write_all(&header).map_err(io)?;
        w.write_all(&data).map_err(io)?;
        let size = (header.len() + data.len()) as i64;
        chunks.push(Chunk { offset: pos, size });
        pos += size;
    }
    let created_by = concat!("sanad-evaluation version ", env!("CARGO_PKG_VERSION"));
    let meta = footer(table, &chunks, created_by, metadata);
    w.write_all(&meta).map_err(io)?;
    w.write_all(&(meta.len() as u32).to_le_bytes())
        .map_err(io)?;
    w.write_all(b"PAR1").map_err(io)
}

/// A decoded Thrift compact value (maps are not needed and not supported).
#[derive(Debug, Clone, PartialEq)]
pub enum Thrift {
    Bool(bool),
    Int(i64),
    Double(f64),
    Binary(Vec<u8>),
    List(Vec<Thrift>),
    Struct(Vec<(i16, Thrift)>),
}

impl Thrift {
    /// Field `id` of a struct.
    pub fn get(&self, id: i16) -> Option<&Thrift> {
        match self {
            Thrift::Struct(f) => f.iter().find(|(i, _)| *i == id).map(|(_, v)| v),
            _ => None,
        }
    }
    fn int(&self, id: i16) -> Result<i64> {
        match self.get(id) {
            Some(Thrift::Int(v)) => Ok(*v),
            _ => Err(bad(&format!("missing integer field {id}"))),
        }
    }
    fn list(&self, id: i16) -> Result<&[Thrift]> {
        match self.get(id) {
            Some(Thrift::List(v)) => Ok(v),
            _ => Err(bad(&format!("missing list field {id}"))),
        }
    }
    fn text(&self, id: i16) -> Result<String> {
        match self.get(id) {
            Some(Thrift::Binary(b)) => {
                String::from_utf8(b.clone()).map_err(|_| bad("invalid UTF-8"))
            }
            _ => Err(bad(&format!("missing string field {id}"))),
        }
    }
}

fn bad(msg: &str) -> EvalError {
    EvalError::Invalid(format!("parquet: {msg}"))
}

/// Thrift compact-protocol decoder over a byte slice.
pub struct Decoder<'a> {
    pub bytes: &'a [u8],
    pub pos: usize,
}

impl Decoder<'_> {
    fn byte(&mut self) -> Result<u8> {
        let b = *self.bytes.get(self.pos).ok_or_else(|| bad("truncated"))?;
        self.pos += 1;
        Ok(b)
    }
    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7F) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(bad("varint too long"))
    }
    fn zigzag(&mut self) -> Result<i64> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }
    /// Read one struct (after its opening, up to and including the stop byte).
    pub fn read_struct(&mut self) -> Result<Thrift> {
        let mut fields = Vec::new();
        let mut last = 0i16;
        loop {
            let b = self.byte()?;
            if b == 0 {
                return Ok(Thrift::Struct(fields));
            }
            let delta = (b >> 4) as i16;
            let id = if delta == 0 {
                self.zigzag()? as i16
            } else {
                last + delta
            };
            last = id;
            fields.push((id, self.value(b & 0x0F)?));
        }
    }
    fn value(&mut self, ty: u8) -> Result<Thrift> {
        Ok(match ty {
            1 => Thrift::Bool(true),
            2 => Thrift::Bool(false),
            3 => Thrift::Int(i64::from(self.byte()? as i8)),
            4..=6 => Thrift::Int(self.zigzag()?),
            7 => {
                let b = self.take(8)?;
                Thrift::Double(f64::from_le_bytes(b.try_into().expect("8 bytes")))
            }
            8 => {
                let n = self.varint()? as usize;
                Thrift::Binary(self.take(n)?.to_vec())
            }
            9 | 10 => {
                let h = self.byte()?;
                let n = if h >> 4 == 15 {
                    self.varint()? as usize
                } else {
                    (h >> 4) as usize
                };
                let elem = h & 0x0F;
                let items = (0..n)
                    .map(|_| match elem {
                        // Booleans inside lists are one byte each.
                        1 | 2 => self.byte().map(|b| Thrift::Bool(b == 1)),
                        e => self.value(e),
                    })
                    .collect::<Result<_>>()?;
                Thrift::List(items)
            }
            12 => self.read_struct()?,
            t => return Err(bad(&format!("unsupported thrift type {t}"))),
        })
    }
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| bad("truncated"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
}

/// The footer's `FileMetaData`, checking magic bytes and footer length.
pub fn read_metadata(bytes: &[u8]) -> Result<Thrift> {
    let n = bytes.len();
    if n < 12 || &bytes[..4] != b"PAR1" || &bytes[n - 4..] != b"PAR1" {
        return Err(bad("not a Parquet file (magic bytes)"));
    }
    let len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().expect("4 bytes")) as usize;
    let start = (n - 8)
        .checked_sub(len)
        .filter(|s| *s >= 4)
        .ok_or_else(|| bad("footer length out of range"))?;
    let mut d = Decoder {
        bytes: &bytes[start..n - 8],
        pos: 0,
    };
    let meta = d.read_struct()?;
    if d.pos != len {
        return Err(bad("footer length does not match its content"));
    }
    Ok(meta)
}

/// Read back a file of the subset this module writes.
pub fn read(bytes: &[u8]) -> Result<Table> {
    let meta = read_metadata(bytes)?;
    let schema = meta.list(2)?;
    let groups = meta.list(4)?;
    let group = match groups {
        [g] => g,
        _ => return Err(bad("expected exactly one row group")),
    };
    let mut columns = Vec::new();
    for (el, chunk) in schema.iter().skip(1).zip(group.list(1)?) {
        let cm = chunk
            .get(3)
            .ok_or_else(|| bad("column chunk without metadata"))?;
        if cm.int(4)? != 0 {
            return Err(bad("compressed column"));
        }
        let offset = cm.int(9)? as usize;
        let mut d = Decoder { bytes, pos: offset };
        let header = d.read_struct()?;
        let n = header
            .get(5)
            .ok_or_else(|| bad("not a v1 data page"))?
            .int(1)? as usize;
        let size = header.int(3)? as usize;
        let page = d.take(size)?;
        columns.push(Column {
            name: el.text(4)?,
            data: decode_plain(el.int(1)?, page, n)?,
        });
    }
    Ok(Table { columns })
}

fn decode_plain(physical: i64, page: &[u8], n: usize) -> Result<ColumnData> {
    let fixed = |i: usize| -> Result<[u8; 8]> {
        page.get(8 * i..8 * i + 8)
            .map(|b| b.try_into().expect("8 bytes"))
            .ok_or_else(|| bad("page too short"))
    };
    Ok(match physical {
        2 => ColumnData::Int64(
            (0..n)
                .map(|i| fixed(i).map(i64::from_le_bytes))
                .collect::<Result<_>>()?,
        ),
        5 => ColumnData::Double(
            (0..n)
                .map(|i| fixed(i).map(f64::from_le_bytes))
                .collect::<Result<_>>()?,
        ),
        6 => {
            let mut d = Decoder {
                bytes: page,
                pos: 0,
            };
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                let len = u32::from_le_bytes(d.take(4)?.try_into().expect("4 bytes")) as usize;
                v.push(String::from_utf8(d.take(len)?.to_vec()).map_err(|_| bad("invalid UTF-8"))?);
            }
            ColumnData::Utf8(v)
        }
        t => return Err(bad(&format!("unsupported physical type {t}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        Table {
            columns: vec![
                Column {
                    name: "pid".into(),
                    data: ColumnData::Utf8(vec!["a".into(), "ب".into(), "".into()]),
                },
                Column {
                    name: "treat".into(),
                    data: ColumnData::Int64(vec![0, 1, -3]),
                },
                Column {
                    name: "income".into(),
                    data: ColumnData::Double(vec![1.5, f64::NAN, -2.25]),
                },
            ],
        }
    }

    #[test]
    fn compact_encoding_by_hand() {
        let mut c = Compact::default();
        c.begin();
        c.i32(1, -1); // delta 1, type 5, zigzag(-1) = 1
        c.i64(20, 300); // long form: type 6, zigzag(20) = 40, zigzag(300) = 600 = 0xD8 0x04
        c.end();
        assert_eq!(c.buf, vec![0x15, 0x01, 0x06, 40, 0xD8, 0x04, 0x00]);
    }

    #[test]
    fn round_trip_and_structure() {
        let t = sample();
        let mut buf = Vec::new();
        write(&t, &[("k".into(), "v".into())], &mut buf).unwrap();
        assert_eq!(&buf[..4], b"PAR1");
        assert_eq!(&buf[buf.len() - 4..], b"PAR1");
        let meta = read_metadata(&buf).unwrap();
        assert_eq!(meta.int(3).unwrap(), 3);
        let back = read(&buf).unwrap();
        assert_eq!(back.columns[0], t.columns[0]);
        assert_eq!(back.columns[1], t.columns[1]);
        match &back.columns[2].data {
            ColumnData::Double(v) => assert!(v[0] == 1.5 && v[1].is_nan() && v[2] == -2.25),
            _ => panic!("type"),
        }
    }
}

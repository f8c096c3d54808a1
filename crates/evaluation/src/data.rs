//! Loading tabular data from CSV and turning columns into estimator inputs.
//!
//! This is the only module that touches the file system. Cells are kept as
//! text until a column is requested, so the same column can serve as a number
//! (a regressor) or as a label (a cluster or fixed-effect identifier), and an
//! error can name the file, the line and the column of a bad cell.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{EvalError, Result};

/// Cell contents treated as missing (listwise deleted).
pub const MISSING_TOKENS: [&str; 7] = ["", "NA", "NaN", "nan", ".", "null", "NULL"];

fn is_missing(s: &str) -> bool {
    MISSING_TOKENS.contains(&s.trim())
}

/// A CSV file held as text columns.
#[derive(Debug, Clone)]
pub struct Frame {
    /// File name used in error messages.
    pub source: String,
    names: Vec<String>,
    columns: Vec<Vec<String>>,
    /// 1-based file line of each record (header is line 1).
    lines: Vec<u64>,
}

/// Columns selected for one estimation after listwise deletion of missing rows.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Rows kept.
    pub n: usize,
    /// Rows dropped because a used cell was missing.
    pub n_dropped: usize,
    /// Numeric columns by name.
    pub numeric: HashMap<String, Vec<f64>>,
    /// Label columns by name (cluster ids, fixed effects, unit ids).
    pub labels: HashMap<String, Vec<String>>,
}

impl Selection {
    /// A numeric column that was requested in [`Frame::select`].
    pub fn num(&self, name: &str) -> &[f64] {
        &self.numeric[name]
    }
    /// A label column that was requested in [`Frame::select`].
    pub fn lab(&self, name: &str) -> &[String] {
        &self.labels[name]
    }
}

impl Frame {
    /// Read a CSV file with a header row.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Frame> {
        let path = path.as_ref();
        let source = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| EvalError::Csv {
            file: source.clone(),
            message: e.to_string(),
        })?;
        Self::from_reader(file, &source)
    }

    /// Read CSV text from any reader; `source` names it in error messages.
    pub fn from_reader(reader: impl std::io::Read, source: &str) -> Result<Frame> {
        let csv_err = |e: csv::Error| EvalError::Csv {
            file: source.to_string(),
            message: e.to_string(),
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(reader);
        let names: Vec<String> = rdr
            .headers()
            .map_err(csv_err)?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let mut columns = vec![Vec::new(); names.len()];
        let mut lines = Vec::new();
        let mut rec = csv::StringRecord::new();
        while rdr.read_record(&mut rec).map_err(csv_err)? {
            lines.push(rec.position().map_or(0, |p| p.line()));
            for (c, cell) in rec.iter().enumerate() {
                columns[c].push(cell.to_string());
            }
        }
        Ok(Frame {
            source: source.to_string(),
            names,
            columns,
            lines,
        })
    }

    /// Number of data rows.
    pub fn n_rows(&self) -> usize {
        self.lines.len()
    }

    /// Column names in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Raw text cells of a column (missing cells included as written).
    pub fn column(&self, name: &str) -> Result<&[String]> {
        Ok(&self.columns[self.index(name)?])
    }

    fn index(&self, name: &str) -> Result<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| EvalError::MissingColumn {
                file: self.source.clone(),
                column: name.to_string(),
            })
    }

    /// Keep the rows where every named column is non-missing, parse the
    /// numeric ones and return them with the label ones.
    pub fn select(&self, numeric: &[&str], labels: &[&str]) -> Result<Selection> {
        let num_idx: Vec<usize> = numeric
            .iter()
            .map(|n| self.index(n))
            .collect::<Result<_>>()?;
        let lab_idx: Vec<usize> = labels
            .iter()
            .map(|n| self.index(n))
            .collect::<Result<_>>()?;
        let keep: Vec<bool> = (0..self.n_rows())
            .map(|r| {
                num_idx
                    .iter()
                    .chain(&lab_idx)
                    .all(|&c| !is_missing(&self.columns[c][r]))
            })
            .collect();
        let n = keep.iter().filter(|k| **k).count();
        let mut sel = Selection {
            n,
            n_dropped: self.n_rows() - n,
            ..Default::default()
        };
        for (name, &c) in numeric.iter().zip(&num_idx) {
            let mut out = Vec::with_capacity(n);
            for (r, cell) in self.columns[c].iter().enumerate() {
                if keep[r] {
                    out.push(self.parse(cell, r, c)?);
                }
            }
            sel.numeric.insert(name.to_string(), out);
        }
        for (name, &c) in labels.iter().zip(&lab_idx) {
            let out = self.columns[c]
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(s, _)| s.trim().to_string())
                .collect();
            sel.labels.insert(name.to_string(), out);
        }
        Ok(sel)
    }

    fn parse(&self, cell: &str, row: usize, col: usize) -> Result<f64> {
        let t = cell.trim();
        match t {
            "TRUE" | "true" | "True" => return Ok(1.0),
            "FALSE" | "false" | "False" => return Ok(0.0),
            _ => {}
        }
        t.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| EvalError::NotANumber {
                file: self.source.clone(),
                line: self.lines[row],
                column: self.names[col].clone(),
                value: cell.to_string(),
            })
    }
}

/// Integer codes for a categorical variable (clusters, fixed effects, strata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Factor {
    /// Code of each observation, in `0..levels.len()`.
    pub codes: Vec<u32>,
    /// Distinct labels in order of first appearance.
    pub levels: Vec<String>,
}

impl Factor {
    /// Codes labels in order of first appearance.
    pub fn from_labels<S: AsRef<str>>(labels: &[S]) -> Factor {
        let mut map: HashMap<&str, u32> = HashMap::new();
        let mut levels = Vec::new();
        let codes = labels
            .iter()
            .map(|l| {
                let l = l.as_ref();
                *map.entry(l).or_insert_with(|| {
                    levels.push(l.to_string());
                    (levels.len() - 1) as u32
                })
            })
            .collect();
        Factor { codes, levels }
    }

    /// Codes numeric values (e.g. an integer firm id stored as f64).
    pub fn from_values(values: &[f64]) -> Factor {
        let labels: Vec<String> = values.iter().map(|v| format!("{v}")).collect();
        Factor::from_labels(&labels)
    }

    /// Build from codes that are already dense in `0..n_levels`.
    pub fn from_codes(codes: Vec<u32>) -> Factor {
        let n = codes.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
        Factor {
            codes,
            levels: (0..n).map(|i| i.to_string()).collect(),
        }
    }

    /// Number of distinct levels.
    pub fn n_levels(&self) -> usize {
        self.levels.len()
    }

    /// Observation count of each level.
    pub fn counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.n_levels()];
        for &g in &self.codes {
            c[g as usize] += 1;
        }
        c
    }

    /// True when every level of `self` lies within a single level of `outer`
    /// (e.g. firm fixed effects nested in firm clusters).
    pub fn nested_in(&self, outer: &Factor) -> bool {
        let mut owner = vec![u32::MAX; self.n_levels()];
        for (&g, &o) in self.codes.iter().zip(&outer.codes) {
            let slot = &mut owner[g as usize];
            if *slot == u32::MAX {
                *slot = o;
            } else if *slot != o {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_cell_names_line_and_column() {
        let csv = "y,educ\n1,12\n2,abc\n";
        let f = Frame::from_reader(csv.as_bytes(), "file.csv").unwrap();
        let err = f.select(&["y", "educ"], &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "file.csv line 3 column educ: 'abc' is not a number"
        );
    }

    #[test]
    fn listwise_deletion() {
        let csv = "y,x,g\n1,2,a\nNA,3,b\n3,,c\n4,5,\n5,6,a\n";
        let f = Frame::from_reader(csv.as_bytes(), "t.csv").unwrap();
        let s = f.select(&["y", "x"], &["g"]).unwrap();
        assert_eq!((s.n, s.n_dropped), (2, 3));
        assert_eq!(s.num("x"), &[2.0, 6.0]);
        let fac = Factor::from_labels(s.lab("g"));
        assert_eq!(fac.n_levels(), 1);
    }
}

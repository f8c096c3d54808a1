//! The release manifest: which files make up a release, with their counts, control sums
//! and SHA-256 digests, so that the bank (or an auditor) can check nothing was altered or lost.
//!
//! Written as `{release_id}.manifest.json`, plus `{release_id}.manifest.json.sha256` holding
//! the digest of the manifest itself, and a `sha256sum -c` compatible listing of the files.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::amount::format_amount;
use crate::pain001::{ReleasePlan, ReleaseSpec};

pub const MANIFEST_FORMAT: &str = "sanad-pain001-release/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub release_id: String,
    pub message: String,
    pub cycle: String,
    pub provider: String,
    pub execution_date: String,
    pub created_at: String,
    pub nb_of_txs: u64,
    /// A decimal string, not a JSON number: JSON readers turn numbers into floats.
    pub ctrl_sum: String,
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    pub msg_id: String,
    pub nb_of_txs: u64,
    pub ctrl_sum: String,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

impl Manifest {
    /// The manifest of a release written file by file (see `write_release` for the whole).
    pub fn new(spec: &ReleaseSpec, plan: &ReleasePlan, files: Vec<ManifestFile>) -> Self {
        Manifest {
            format: MANIFEST_FORMAT.into(),
            release_id: plan.release_id.clone(),
            message: "pain.001.001.10".into(),
            cycle: spec.cycle.to_string(),
            provider: spec.provider.clone(),
            execution_date: spec.execution_date.format("%Y-%m-%d").to_string(),
            created_at: spec.created_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            nb_of_txs: plan.total.nb_of_txs,
            ctrl_sum: format_amount(plan.total.ctrl_sum),
            files,
        }
    }

    /// `{release_id}.manifest.json`
    pub fn file_name(&self) -> String {
        format!("{}.manifest.json", self.release_id)
    }

    /// The manifest as pretty JSON: the bytes [`sha256_hex`](Self::sha256_hex) covers.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain strings and integers serialise") + "\n"
    }

    pub fn sha256_hex(&self) -> String {
        sha256_hex(self.to_json().as_bytes())
    }

    /// `sha256sum` lines for the payment files, for `sha256sum -c` in the output folder.
    pub fn sha256sums(&self) -> String {
        self.files
            .iter()
            .map(|f| format!("{}  {}\n", f.sha256, f.name))
            .collect()
    }

    /// Writes the JSON to `json` and its own digest line (`sha256sum` format) to `digest`.
    pub fn write(&self, mut json: impl Write, mut digest: impl Write) -> io::Result<()> {
        let text = self.to_json();
        json.write_all(text.as_bytes())?;
        json.flush()?;
        writeln!(
            digest,
            "{}  {}",
            sha256_hex(text.as_bytes()),
            self.file_name()
        )?;
        digest.flush()
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Passes bytes through from `inner` and hashes them on the way: a file is checked and hashed
/// in one read.
pub struct HashingReader<R: io::Read> {
    inner: R,
    hasher: Sha256,
}

impl<R: io::Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The hex digest of everything read through, after reading the rest of `inner`.
    pub fn finish(mut self) -> io::Result<String> {
        io::copy(&mut self, &mut io::sink())?;
        Ok(hex(&self.hasher.finalize()))
    }
}

impl<R: io::Read> io::Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Passes bytes through to `inner` and hashes them on the way, so files need no re-reading.
pub struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The inner writer and the hex digest of everything written.
    pub fn finish(self) -> (W, String) {
        (self.inner, hex(&self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_writer_matches_known_digest() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"abc").unwrap();
        let (bytes, digest) = w.finish();
        assert_eq!(bytes, b"abc");
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256_hex(b"abc"), digest);
    }
}

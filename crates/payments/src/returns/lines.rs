//! Line numbers for error messages. quick-xml reports byte offsets; operators need lines.
//! This wrapper counts the newlines in every byte the XML reader consumes, which costs one
//! pass over bytes already in cache, and never re-reads the input.

use std::io::{self, BufRead, Read};

pub(crate) struct LineCounter<R> {
    inner: R,
    newlines: u64,
}

impl<R: BufRead> LineCounter<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineCounter { inner, newlines: 0 }
    }

    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    /// 1-based line of the last byte consumed (the end of the event just read).
    pub(crate) fn line(&self) -> u64 {
        self.newlines + 1
    }
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.newlines += count_newlines(&buf[..n]);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // The bytes being consumed are still the head of the inner buffer: no I/O happens.
        if let Ok(buf) = self.inner.fill_buf() {
            self.newlines += count_newlines(&buf[..amt.min(buf.len())]);
        }
        self.inner.consume(amt);
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_consumed_lines() {
        let mut r = LineCounter::new(&b"a\nb\nc"[..]);
        assert_eq!(r.line(), 1);
        r.fill_buf().unwrap();
        r.consume(2);
        assert_eq!(r.line(), 2);
        let mut rest = String::new();
        r.read_to_string(&mut rest).unwrap();
        assert_eq!(r.line(), 3);
    }
}

//! A minimal streaming XML writer: indented elements straight into any `io::Write`.
//! Hand-written rather than a DOM so that 4 M transactions never sit in memory.

use std::io::{self, Write};

use crate::text::escape;

const INDENT: &str = "                                                                ";

pub(crate) struct XmlOut<W: Write> {
    pub(crate) out: W,
    depth: usize,
}

impl<W: Write> XmlOut<W> {
    pub(crate) fn new(mut out: W, namespace: &str, root: &str) -> io::Result<Self> {
        writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(out, "<Document xmlns=\"{namespace}\">")?;
        let mut x = XmlOut { out, depth: 1 };
        x.open(root)?;
        Ok(x)
    }

    fn pad(&mut self) -> io::Result<()> {
        self.out
            .write_all(&INDENT.as_bytes()[..(self.depth * 2).min(INDENT.len())])
    }

    pub(crate) fn open(&mut self, name: &str) -> io::Result<()> {
        self.pad()?;
        writeln!(self.out, "<{name}>")?;
        self.depth += 1;
        Ok(())
    }

    pub(crate) fn close(&mut self, name: &str) -> io::Result<()> {
        self.depth -= 1;
        self.pad()?;
        writeln!(self.out, "</{name}>")
    }

    pub(crate) fn leaf(&mut self, name: &str, text: &str) -> io::Result<()> {
        self.pad()?;
        writeln!(self.out, "<{name}>{}</{name}>", escape(text))
    }

    /// `<Amt Ccy="MAD">12.00</Amt>`: the only attribute ISO 20022 messages use here.
    pub(crate) fn amount(&mut self, name: &str, ccy: &str, value: &str) -> io::Result<()> {
        self.pad()?;
        writeln!(self.out, "<{name} Ccy=\"{}\">{value}</{name}>", escape(ccy))
    }

    /// `<a><b>…<leaf>text</leaf></b></a>` on one call, for the many nested choices.
    pub(crate) fn nested(&mut self, names: &[&str], text: &str) -> io::Result<()> {
        let (leaf, parents) = names.split_last().expect("at least one element");
        for p in parents {
            self.open(p)?;
        }
        self.leaf(leaf, text)?;
        for p in parents.iter().rev() {
            self.close(p)?;
        }
        Ok(())
    }

    /// Close the message root and the Document, and hand the writer back.
    pub(crate) fn finish(mut self, root: &str) -> io::Result<W> {
        self.close(root)?;
        writeln!(self.out, "</Document>")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

//! The stack of open element names, as one `/`-joined string so that handlers can match
//! relative paths like `Refs/EndToEndId` without allocating per element.

#[derive(Debug, Default)]
pub(crate) struct Path {
    joined: String,
    starts: Vec<usize>,
}

impl Path {
    pub(crate) fn push(&mut self, name: &str) {
        if !self.starts.is_empty() {
            self.joined.push('/');
        }
        self.starts.push(self.joined.len());
        self.joined.push_str(name);
    }

    pub(crate) fn pop(&mut self) {
        if let Some(start) = self.starts.pop() {
            self.joined.truncate(start.saturating_sub(1));
        }
    }

    /// Number of open elements; the element just opened has index `depth() - 1`.
    pub(crate) fn depth(&self) -> usize {
        self.starts.len()
    }

    /// The path of the open elements from index `from` on (empty when `from >= depth`).
    pub(crate) fn below(&self, from: usize) -> &str {
        self.starts.get(from).map_or("", |&s| &self.joined[s..])
    }

    /// Name of the innermost open element.
    pub(crate) fn last(&self) -> &str {
        self.below(self.depth().saturating_sub(1))
    }

    pub(crate) fn parent(&self) -> &str {
        match self.depth() {
            0 | 1 => "",
            d => {
                let (s, e) = (self.starts[d - 2], self.starts[d - 1] - 1);
                &self.joined[s..e]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_pop_and_relative() {
        let mut p = Path::default();
        for n in ["Document", "Ntry", "TxDtls", "Refs"] {
            p.push(n);
        }
        assert_eq!(p.below(2), "TxDtls/Refs");
        assert_eq!(p.below(3), "Refs");
        assert_eq!(p.last(), "Refs");
        assert_eq!(p.parent(), "TxDtls");
        p.pop();
        p.pop();
        assert_eq!(p.below(0), "Document/Ntry");
        assert_eq!(p.below(5), "");
        p.pop();
        p.pop();
        assert_eq!(p.depth(), 0);
        assert_eq!(p.parent(), "");
    }
}

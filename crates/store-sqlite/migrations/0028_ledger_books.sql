-- Issue 6: each household's ledger book as folded up to one of its entries (`upto_seq`), so
-- that a cycle reads the stored book and only the entries posted since: a book grows by two or
-- three entries a month, and a prepare read every household's whole history. A cache of the
-- entries, never their replacement: without it, the books are folded from the entries again.
CREATE TABLE ledger_books (
    household TEXT PRIMARY KEY,
    upto_seq  BIGINT NOT NULL,
    body      TEXT NOT NULL
);

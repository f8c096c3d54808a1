-- Shared by both backends: the dialects agree on every statement here.
-- The monthly payroll: cycles, their lines, the entries they will post, the benefit
-- ledger, payments sent and the return files read. Bodies are JSON documents of the
-- payroll crate's types; the columns beside them are what queries select on.
CREATE TABLE payroll_cycles (
    month      TEXT PRIMARY KEY,
    status     TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE payroll_lines (
    month   TEXT NOT NULL,
    rsu_id  TEXT NOT NULL,
    region  TEXT NOT NULL,
    status  TEXT NOT NULL,
    amount  BIGINT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (month, rsu_id)
);

-- Entries computed by a prepared cycle, posted to the ledger when it is released.
CREATE TABLE payroll_pending_entries (
    month  TEXT NOT NULL,
    seq    BIGINT NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (month, seq)
);

CREATE TABLE ledger_entries (
    seq        BIGINT PRIMARY KEY,
    household  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    reference  TEXT NOT NULL,
    body       TEXT NOT NULL,
    -- A household is never posted the same event twice (retries and re-imports are no-ops).
    UNIQUE (household, kind, reference)
);
CREATE INDEX ledger_entries_household ON ledger_entries (household, seq);

CREATE TABLE payment_files (
    file_name   TEXT PRIMARY KEY,
    month       TEXT NOT NULL,
    provider    TEXT NOT NULL,
    msg_id      TEXT NOT NULL,
    txs         BIGINT NOT NULL,
    ctrl_sum    BIGINT NOT NULL,
    sha256      TEXT NOT NULL
);

CREATE TABLE payments (
    end_to_end_id TEXT PRIMARY KEY,
    month         TEXT NOT NULL,
    rsu_id        TEXT NOT NULL,
    reference     TEXT NOT NULL UNIQUE,
    provider      TEXT NOT NULL,
    amount        BIGINT NOT NULL,
    status        TEXT NOT NULL,
    reason        TEXT,
    file_name     TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX payments_month ON payments (month, status);

CREATE TABLE imported_returns (
    sha256      TEXT PRIMARY KEY,
    file_name   TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    summary     TEXT NOT NULL
);

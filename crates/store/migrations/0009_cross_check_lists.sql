-- Shared by both backends. The latest import of each cross-check list (family allowances,
-- public payroll, pensions, deaths, school enrolment, disability cards): its reference
-- (date, source, file) and its rows, found by IDCS.
CREATE TABLE cross_check_lists (
    kind        TEXT PRIMARY KEY,
    meta        TEXT NOT NULL,
    row_count   BIGINT NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE TABLE cross_check_rows (
    kind TEXT NOT NULL,
    line BIGINT NOT NULL,
    idcs TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, line)
);
CREATE INDEX cross_check_rows_idcs ON cross_check_rows (idcs, kind);

-- A return file is applied in batches, each in its own transaction with how far the file got:
-- imported again after an interruption, it resumes after the last applied line. The row goes
-- when the file is recorded in imported_returns.
CREATE TABLE returns_progress (
    sha256     TEXT PRIMARY KEY,
    file_name  TEXT NOT NULL,
    lines_done BIGINT NOT NULL,
    report     TEXT NOT NULL
);

-- Shared by both backends. Applications (the application, its checks and decision as a JSON
-- document) and the counters behind receipt numbers.
CREATE TABLE applications (
    receipt      TEXT PRIMARY KEY,
    rsu_id       TEXT NOT NULL,
    status       TEXT NOT NULL,
    submitted_on TEXT NOT NULL,
    body         TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX applications_household ON applications (rsu_id);
CREATE INDEX applications_status ON applications (status, submitted_on);

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- Shared by both backends. Pilot outcomes (issue 7): the baseline and follow-up survey rounds
-- as imported against their codebook, one row per (round, household, variable). A value is
-- kept as the text of the typed number (dates as days since 1970-01-01, categories as their
-- code), so both dialects store it alike; a declared missing code is kept apart from a blank.
CREATE TABLE pilot_outcomes (
    round        TEXT NOT NULL,
    rsu_id       TEXT NOT NULL,
    variable     TEXT NOT NULL,
    value        TEXT,
    missing_code TEXT,
    PRIMARY KEY (round, rsu_id, variable)
);

-- One row per imported round: where it came from and the codebook it was checked against.
CREATE TABLE pilot_outcome_rounds (
    round       TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    codebook    TEXT NOT NULL,
    households  BIGINT NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL
);

-- Shared by both backends. The accompanying-measures pilot (issue 7): the catalogue and the
-- rollout plan as stored, enrolments, social workers' cases with their visits and referrals,
-- and the pre-registered evaluation designs with their assignments. Dates are ISO text.

-- One row per measure of the stored catalogue; `body` is the measure as the pilot crate
-- reads it (names, description, target-group rule), the other columns what queries select on.
CREATE TABLE pilot_measures (
    id                TEXT PRIMARY KEY,
    catalogue_version TEXT NOT NULL,
    domain            TEXT NOT NULL,
    capacity          BIGINT NOT NULL CHECK (capacity > 0),
    cost_centimes     BIGINT NOT NULL CHECK (cost_centimes >= 0),
    body              TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

-- The pilot antenna (wave 1) and the antennas that follow; start is a month (YYYY-MM).
CREATE TABLE pilot_antennas (
    province    TEXT PRIMARY KEY,
    wave        BIGINT NOT NULL CHECK (wave >= 1),
    start_month TEXT NOT NULL
);

CREATE TABLE pilot_enrolments (
    rsu_id      TEXT NOT NULL REFERENCES households (rsu_id),
    measure_id  TEXT NOT NULL REFERENCES pilot_measures (id),
    antenna     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'exited')),
    enrolled_on TEXT NOT NULL,
    exited_on   TEXT,
    exit_reason TEXT,
    exit_note   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (rsu_id, measure_id, enrolled_on)
);
-- One active enrolment per household and measure, whatever the code above does.
CREATE UNIQUE INDEX pilot_enrolments_active ON pilot_enrolments (rsu_id, measure_id) WHERE status = 'active';
CREATE INDEX pilot_enrolments_places ON pilot_enrolments (measure_id, antenna, status);

-- A case: one household followed by one social worker (a user name); goals as JSON.
CREATE TABLE pilot_cases (
    id           TEXT PRIMARY KEY,
    rsu_id       TEXT NOT NULL REFERENCES households (rsu_id),
    antenna      TEXT NOT NULL,
    worker       TEXT NOT NULL,
    opened_on    TEXT NOT NULL,
    closed_on    TEXT,
    close_reason TEXT,
    goals        TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX pilot_cases_open ON pilot_cases (rsu_id) WHERE closed_on IS NULL;
CREATE INDEX pilot_cases_worker ON pilot_cases (worker, closed_on);

CREATE TABLE pilot_visits (
    case_id    TEXT NOT NULL REFERENCES pilot_cases (id),
    seq        BIGINT NOT NULL,
    visit_date TEXT NOT NULL,
    attendance TEXT NOT NULL,
    notes      TEXT NOT NULL,
    next_steps TEXT NOT NULL,
    next_visit TEXT,
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE pilot_referrals (
    case_id   TEXT NOT NULL REFERENCES pilot_cases (id),
    id        BIGINT NOT NULL,
    service   TEXT NOT NULL,
    detail    TEXT NOT NULL,
    sent_on   TEXT NOT NULL,
    status    TEXT NOT NULL,
    status_on TEXT,
    outcome   TEXT NOT NULL,
    PRIMARY KEY (case_id, id)
);

-- Pre-registered evaluation designs: written once, never updated (the store has no update;
-- `hash` is the SHA-256 of `body`, checked when read back).
CREATE TABLE pilot_designs (
    id            TEXT PRIMARY KEY,
    body          TEXT NOT NULL,
    hash          TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    registered_by TEXT NOT NULL
);

CREATE TABLE pilot_assignments (
    design_id TEXT NOT NULL REFERENCES pilot_designs (id),
    unit      TEXT NOT NULL,
    arm       TEXT NOT NULL,
    stratum   TEXT NOT NULL,
    wave      BIGINT,
    PRIMARY KEY (design_id, unit)
);

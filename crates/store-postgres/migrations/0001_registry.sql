CREATE TABLE households (
    rsu_id              TEXT PRIMARY KEY,
    region              TEXT NOT NULL,
    province            TEXT NOT NULL,
    commune             TEXT NOT NULL,
    area                TEXT NOT NULL CHECK (area IN ('urban', 'rural')),
    registrant          TEXT NOT NULL,
    phone               TEXT,
    instrument_kind     TEXT CHECK (instrument_kind IN ('bank', 'wallet', 'cash_out')),
    instrument_provider TEXT,
    instrument_ref      TEXT,
    status              TEXT NOT NULL,
    content_hash        BIGINT NOT NULL
);
CREATE INDEX households_region ON households (region, rsu_id);
CREATE INDEX households_phone ON households (phone);

CREATE TABLE persons (
    idcs                    TEXT PRIMARY KEY,
    household_id            TEXT REFERENCES households (rsu_id),
    position                BIGINT NOT NULL,
    cnie                    TEXT,
    first_name              TEXT NOT NULL,
    last_name               TEXT NOT NULL,
    first_name_ar           TEXT NOT NULL,
    last_name_ar            TEXT NOT NULL,
    sex                     TEXT NOT NULL CHECK (sex IN ('M', 'F')),
    birth_date DATE NOT NULL,
    death_date DATE,
    relation                TEXT NOT NULL,
    marital_status          TEXT NOT NULL,
    schooling               TEXT NOT NULL,
    disability              TEXT NOT NULL,
    father_deceased         BOOLEAN NOT NULL,
    public_employee_source  TEXT,
    public_employee_date DATE,
    pensioner_source        TEXT,
    pensioner_date DATE,
    family_allowance_source TEXT,
    family_allowance_date DATE
);
CREATE INDEX persons_household ON persons (household_id, position);
CREATE INDEX persons_cnie ON persons (cnie) WHERE cnie IS NOT NULL;

CREATE TABLE score_history (
    household_id     TEXT NOT NULL REFERENCES households (rsu_id),
    value_millionths BIGINT NOT NULL,
    computed_on      DATE NOT NULL,
    valid_from       DATE NOT NULL,
    PRIMARY KEY (household_id, valid_from, computed_on, value_millionths)
);

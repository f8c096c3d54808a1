-- Shared by both backends. What an approved application grants: one row per requested
-- component (`child_allowance`, `flat_rate`), from its start month; `end_month` is the last
-- month paid once the award ends (NULL while it runs). The payroll pays from these rows.
CREATE TABLE awards (
    receipt     TEXT NOT NULL,
    component   TEXT NOT NULL,
    rsu_id      TEXT NOT NULL,
    start_month TEXT NOT NULL,
    end_month   TEXT,
    PRIMARY KEY (receipt, component)
);
CREATE INDEX awards_household ON awards (rsu_id);

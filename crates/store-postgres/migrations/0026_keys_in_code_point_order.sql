-- PostgreSQL only. Household and person identifiers, and the registry's look-up keys, are
-- compared byte for byte, as SQLite's BINARY collation compares them, as 0025 did for family
-- names. They are digits and Latin letters, matched for equality or walked in id order, which
-- is the same in "C" as in C.UTF-8. With the database's locale each comparison of an index
-- build goes through strcoll (PostgreSQL 15 treats only "C" and "POSIX" as plain bytes), and
-- without abbreviated keys: `persons_pkey` builds in 8 s in "C" against 13 s.
--
-- Every column holding a household id changes together, so that a join compares in one
-- collation and can use the index on either side (an index serves a comparison only in its
-- own collation). On a loaded registry this rebuilds the indexes on these columns and checks
-- again the foreign keys that use them: 46.5 s on a national registry, once.
ALTER TABLE households
    ALTER COLUMN rsu_id TYPE TEXT COLLATE "C",
    ALTER COLUMN region TYPE TEXT COLLATE "C",
    ALTER COLUMN registrant TYPE TEXT COLLATE "C",
    ALTER COLUMN phone TYPE TEXT COLLATE "C",
    ALTER COLUMN instrument_ref TYPE TEXT COLLATE "C";
ALTER TABLE persons
    ALTER COLUMN idcs TYPE TEXT COLLATE "C",
    ALTER COLUMN household_id TYPE TEXT COLLATE "C",
    ALTER COLUMN cnie TYPE TEXT COLLATE "C";
ALTER TABLE score_history ALTER COLUMN household_id TYPE TEXT COLLATE "C";
ALTER TABLE cross_check_rows ALTER COLUMN idcs TYPE TEXT COLLATE "C";
ALTER TABLE applications ALTER COLUMN rsu_id TYPE TEXT COLLATE "C";
ALTER TABLE awards ALTER COLUMN rsu_id TYPE TEXT COLLATE "C";
ALTER TABLE life_events ALTER COLUMN rsu_id TYPE TEXT COLLATE "C";
ALTER TABLE outbox ALTER COLUMN rsu_id TYPE TEXT COLLATE "C";
ALTER TABLE payroll_lines ALTER COLUMN rsu_id TYPE TEXT COLLATE "C";
ALTER TABLE ledger_entries ALTER COLUMN household TYPE TEXT COLLATE "C";
ALTER TABLE payments ALTER COLUMN rsu_id TYPE TEXT COLLATE "C";
ALTER TABLE pilot_enrolments ALTER COLUMN rsu_id TYPE TEXT COLLATE "C";
ALTER TABLE pilot_cases ALTER COLUMN rsu_id TYPE TEXT COLLATE "C";
ALTER TABLE pilot_assignments ALTER COLUMN unit TYPE TEXT COLLATE "C";
ALTER TABLE pilot_outcomes ALTER COLUMN rsu_id TYPE TEXT COLLATE "C";
-- Changing a column's collation drops its statistics, and autovacuum analyses a table again
-- only after enough writes: without this, a registry migrated in place planned a read of 7,000
-- households' members as a scan of all 19 M persons (1.8 s instead of 0.1–0.2 s).
ANALYZE households, persons, score_history, cross_check_rows, applications, awards, life_events,
    outbox, payroll_lines, ledger_entries, payments, pilot_enrolments, pilot_cases,
    pilot_assignments, pilot_outcomes;

-- Issue 6: a pending entry carries its ledger row's keys beside its body, so that a release
-- posts a cycle's entries with one INSERT … SELECT inside the database, instead of reading
-- 7.4 M JSON bodies out of it and writing them back. Entries prepared before this migration
-- get their keys from their bodies (the SQLite twin does the same with json_extract).
ALTER TABLE payroll_pending_entries
    ADD COLUMN household TEXT COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN kind TEXT NOT NULL DEFAULT '',
    ADD COLUMN reference TEXT NOT NULL DEFAULT '';
UPDATE payroll_pending_entries SET
    household = body::json ->> 'household',
    kind = body::json ->> 'kind',
    reference = body::json ->> 'reference';

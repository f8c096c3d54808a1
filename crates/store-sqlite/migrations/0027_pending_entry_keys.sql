-- Issue 6: a pending entry carries its ledger row's keys beside its body, so that a release
-- posts a cycle's entries with one INSERT … SELECT inside the database, instead of reading
-- 7.4 M JSON bodies out of it and writing them back. Entries prepared before this migration
-- get their keys from their bodies (the PostgreSQL twin does the same with its JSON operator).
ALTER TABLE payroll_pending_entries ADD COLUMN household TEXT NOT NULL DEFAULT '';
ALTER TABLE payroll_pending_entries ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE payroll_pending_entries ADD COLUMN reference TEXT NOT NULL DEFAULT '';
UPDATE payroll_pending_entries SET
    household = json_extract(body, '$.household'),
    kind = json_extract(body, '$.kind'),
    reference = json_extract(body, '$.reference');

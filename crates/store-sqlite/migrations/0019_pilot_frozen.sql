-- Issue 7: a pre-registered design and its assignment are frozen. The store has no update or
-- delete for them; the database refuses one too. (Someone with the file can still drop these
-- triggers; the design's stored SHA-256 and the audit chain then show what changed.)
-- Adapter-specific and numbered after the shared 0011/0017, so it runs after the tables exist.
CREATE TRIGGER pilot_designs_no_update BEFORE UPDATE ON pilot_designs BEGIN SELECT RAISE(ABORT, 'a registered design and its assignment are frozen (pilot_designs)'); END;
CREATE TRIGGER pilot_designs_no_delete BEFORE DELETE ON pilot_designs BEGIN SELECT RAISE(ABORT, 'a registered design and its assignment are frozen (pilot_designs)'); END;
CREATE TRIGGER pilot_assignments_no_update BEFORE UPDATE ON pilot_assignments BEGIN SELECT RAISE(ABORT, 'a registered design and its assignment are frozen (pilot_assignments)'); END;
CREATE TRIGGER pilot_assignments_no_delete BEFORE DELETE ON pilot_assignments BEGIN SELECT RAISE(ABORT, 'a registered design and its assignment are frozen (pilot_assignments)'); END;

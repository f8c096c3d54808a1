-- Issue 7: a pre-registered design and its assignment are frozen. The store has no update or
-- delete for them; the database refuses one too. (A superuser can still disable the triggers;
-- the design's stored SHA-256 and the audit chain then show what changed.)
-- Adapter-specific and numbered after the shared 0011/0017, so it runs after the tables exist.
CREATE FUNCTION pilot_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a registered design and its assignment are frozen (%)', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER pilot_designs_frozen BEFORE UPDATE OR DELETE ON pilot_designs FOR EACH ROW EXECUTE FUNCTION pilot_frozen();
CREATE TRIGGER pilot_designs_no_truncate BEFORE TRUNCATE ON pilot_designs FOR EACH STATEMENT EXECUTE FUNCTION pilot_frozen();
CREATE TRIGGER pilot_assignments_frozen BEFORE UPDATE OR DELETE ON pilot_assignments FOR EACH ROW EXECUTE FUNCTION pilot_frozen();
CREATE TRIGGER pilot_assignments_no_truncate BEFORE TRUNCATE ON pilot_assignments FOR EACH STATEMENT EXECUTE FUNCTION pilot_frozen();

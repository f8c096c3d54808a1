CREATE TABLE rule_sets (
    id             TEXT PRIMARY KEY,
    effective_from DATE NOT NULL,
    body           TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('proposed', 'approved')),
    proposed_by    TEXT NOT NULL,
    proposed_at    TEXT NOT NULL,
    approved_by    TEXT,
    approved_at    TEXT,
    -- Maker-checker, enforced by the database too.
    CHECK (approved_by IS NULL OR approved_by <> proposed_by),
    CHECK ((status = 'approved') = (approved_by IS NOT NULL))
);
CREATE UNIQUE INDEX rule_sets_approved_date ON rule_sets (effective_from) WHERE status = 'approved';

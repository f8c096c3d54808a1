-- Shared by both backends. A household's payments and ledger, for its page.
CREATE INDEX payments_household ON payments (rsu_id, month);

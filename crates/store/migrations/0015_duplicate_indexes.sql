-- Shared by both backends. Registry-wide duplicate checks at intake: persons by last name and
-- birth date (the fuzzy match's blocking key; it also serves search by name) and households
-- by payment account. Same definitions as `sql::SECONDARY_INDEXES`.
DROP INDEX IF EXISTS persons_last_name;
CREATE INDEX IF NOT EXISTS persons_last_name ON persons (last_name, birth_date);
CREATE INDEX IF NOT EXISTS households_instrument ON households (instrument_ref);

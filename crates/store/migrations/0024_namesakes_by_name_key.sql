-- Shared by both backends. The fuzzy match's blocking key (last name, birth date) goes back to
-- being the whole index (migration 15), as `sql::SECONDARY_INDEXES` defines it. Migration 23
-- had made it carry every column the match compares, because the synthetic registry had only
-- 62 family names and each member hundreds of namesakes to read; with the thousands of names
-- of a real registry (and of `sanad synth` since), namesakes are few and read from the table,
-- and the covering index cost a national load 20 s more to build than this one.
DROP INDEX IF EXISTS persons_last_name;
CREATE INDEX IF NOT EXISTS persons_last_name ON persons (last_name, birth_date);

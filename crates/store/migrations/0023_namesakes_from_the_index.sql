-- Shared by both backends. The fuzzy match's blocking key (last name, birth date) now carries
-- the columns the match compares, so its candidates are read from the index alone: a batch of
-- 10,000 households has hundreds of thousands of namesakes in a national registry, each a
-- table lookup before. Same definition as `sql::SECONDARY_INDEXES`.
DROP INDEX IF EXISTS persons_last_name;
CREATE INDEX IF NOT EXISTS persons_last_name ON persons
    (last_name, birth_date, household_id, cnie, first_name, first_name_ar, last_name_ar);

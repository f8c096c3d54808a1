-- Issue 5: an application's body (its checks and their evidence, about 3.4 KB of JSON) is over
-- the 2 KB at which PostgreSQL compresses a row's values. Its default, pglz, was 5 % of all the
-- machine's time during a launch wave of 500,000; lz4 compresses several times faster. Rows
-- already stored keep their pglz bodies: both are read alike.
ALTER TABLE applications ALTER COLUMN body SET COMPRESSION lz4;

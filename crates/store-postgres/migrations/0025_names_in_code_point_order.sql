-- PostgreSQL only. Family names are compared byte for byte (code-point order in UTF-8), as
-- SQLite's BINARY collation compares them: they are only ever matched for equality (the
-- namesake search, the find-by-name), never sorted for display. With the database's locale
-- (even C.UTF-8, which PostgreSQL 15 compares through strcoll), each comparison of an index
-- build copies both names and calls the C library; with "C" it is a memcmp on abbreviated keys.
-- Queries need no change: a parameter's default collation yields to the column's.
-- On a loaded registry this rebuilds `persons_last_name` and `persons_last_name_ar` (the
-- table itself is not rewritten).
ALTER TABLE persons
    ALTER COLUMN last_name TYPE TEXT COLLATE "C",
    ALTER COLUMN last_name_ar TYPE TEXT COLLATE "C";

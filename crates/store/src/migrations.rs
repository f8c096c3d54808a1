//! Embedded, numbered migrations: each backend lists its own SQL, applies the ones not yet
//! recorded in `sanad_migrations`, in order, each in a transaction.

#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// The SQL that records the applied migrations; the same text works on both backends.
pub const CREATE_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS sanad_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

/// The migrations in `all` newer than every applied version.
pub fn pending<'a>(all: &'a [Migration], applied: &[i64]) -> Vec<&'a Migration> {
    all.iter().filter(|m| !applied.contains(&m.version)).collect()
}

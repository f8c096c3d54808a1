//! Embedded, numbered migrations: each backend lists its own SQL, applies the ones not yet
//! recorded in `sanad_migrations`, in order, each in a transaction.

#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// The SQL that records the applied migrations; the same text works on both backends.
pub const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS sanad_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

/// The adapter's own migrations, then the shared ones, that are not applied yet.
pub fn pending<'a>(own: &'a [Migration], applied: &[i64]) -> Vec<&'a Migration> {
    own.iter()
        .chain(SHARED)
        .filter(|m| !applied.contains(&m.version))
        .collect()
}

/// The migrations whose SQL both dialects accept, in `crates/store/migrations/`; each adapter
/// applies them after its own.
pub const SHARED: &[Migration] = &[
    Migration {
        version: 5,
        name: "payroll",
        sql: include_str!("../migrations/0005_payroll.sql"),
    },
    Migration {
        version: 6,
        name: "payments_by_household",
        sql: include_str!("../migrations/0006_payments_by_household.sql"),
    },
    Migration {
        version: 7,
        name: "appropriations",
        sql: include_str!("../migrations/0007_appropriations.sql"),
    },
    Migration {
        version: 8,
        name: "applications",
        sql: include_str!("../migrations/0008_applications.sql"),
    },
    Migration {
        version: 9,
        name: "cross_check_lists",
        sql: include_str!("../migrations/0009_cross_check_lists.sql"),
    },
    Migration {
        version: 10,
        name: "awards",
        sql: include_str!("../migrations/0010_awards.sql"),
    },
    Migration {
        version: 11,
        name: "pilot",
        sql: include_str!("../migrations/0011_pilot.sql"),
    },
    Migration {
        version: 12,
        name: "outbox",
        sql: include_str!("../migrations/0012_outbox.sql"),
    },
    Migration {
        version: 13,
        name: "payment_account",
        sql: include_str!("../migrations/0013_payment_account.sql"),
    },
    Migration {
        version: 14,
        name: "life_events",
        sql: include_str!("../migrations/0014_life_events.sql"),
    },
    Migration {
        version: 15,
        name: "duplicate_indexes",
        sql: include_str!("../migrations/0015_duplicate_indexes.sql"),
    },
    // Delivery reports.
    Migration {
        version: 16,
        name: "outbox_delivery",
        sql: include_str!("../migrations/0016_outbox_delivery.sql"),
    },
    // pilot outcomes (issue 7)
    Migration {
        version: 17,
        name: "pilot_outcomes",
        sql: include_str!("../migrations/0017_pilot_outcomes.sql"),
    },
    // notices in the household's language (issue 5)
    Migration {
        version: 20,
        name: "notice_language",
        sql: include_str!("../migrations/0020_notice_language.sql"),
    },
];

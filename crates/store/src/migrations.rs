//! Embedded, numbered migrations: each backend lists its own SQL, applies the ones not yet
//! recorded in `sanad_migrations`, in version order, each in a transaction.
//!
//! An adapter's own migrations and the shared ones form one sequence ordered by version, so an
//! adapter migration numbered after a shared one runs after it: that is how a dialect-specific
//! trigger is put on a table a shared migration creates (e.g. 0019, the frozen pilot designs).

#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// The SQL that records the applied migrations; the same text works on both backends.
pub const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS sanad_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

/// The adapter's own migrations and the shared ones that are not applied yet, in version order.
///
/// # Panics
/// If two migrations share a version: a build mistake every test that opens a store catches.
pub fn pending<'a>(own: &'a [Migration], applied: &[i64]) -> Vec<&'a Migration> {
    let mut all: Vec<&Migration> = own.iter().chain(SHARED).collect();
    all.sort_by_key(|m| m.version);
    if let Some(w) = all.windows(2).find(|w| w[0].version == w[1].version) {
        panic!(
            "migrations {} and {} share version {}",
            w[0].name, w[1].name, w[0].version
        );
    }
    all.retain(|m| !applied.contains(&m.version));
    all
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
    // payment notices paged by EndToEndId (issue 6)
    Migration {
        version: 21,
        name: "payments_by_month_e2e",
        sql: include_str!("../migrations/0021_payments_by_month_e2e.sql"),
    },
    // return files applied in resumable batches (issue 6)
    Migration {
        version: 22,
        name: "returns_progress",
        sql: include_str!("../migrations/0022_returns_progress.sql"),
    },
    // namesakes read from the index alone (issue 5)
    Migration {
        version: 23,
        name: "namesakes_from_the_index",
        sql: include_str!("../migrations/0023_namesakes_from_the_index.sql"),
    },
    // the blocking key alone again, with realistic family names (issue 2)
    Migration {
        version: 24,
        name: "namesakes_by_name_key",
        sql: include_str!("../migrations/0024_namesakes_by_name_key.sql"),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &[Migration] = &[
        Migration {
            version: 1,
            name: "registry",
            sql: "",
        },
        Migration {
            version: 10_000,
            name: "late_triggers",
            sql: "",
        },
    ];

    #[test]
    fn an_adapter_migration_numbered_after_shared_ones_runs_after_them() {
        let order: Vec<i64> = pending(OWN, &[]).iter().map(|m| m.version).collect();
        assert_eq!(order.first(), Some(&1));
        assert_eq!(order.last(), Some(&10_000), "{order:?}");
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        let later: Vec<i64> = pending(OWN, &order[..order.len() - 1])
            .iter()
            .map(|m| m.version)
            .collect();
        assert_eq!(later, [10_000], "only what is not applied yet");
    }

    #[test]
    #[should_panic(expected = "share version 5")]
    fn two_migrations_with_one_version_are_refused() {
        let clash = [Migration {
            version: 5,
            name: "clash",
            sql: "",
        }];
        pending(&clash, &[]);
    }
}

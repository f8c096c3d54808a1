//! SQL text shared by both backends (`$n` placeholders work on SQLite and PostgreSQL).

use crate::Scope;

/// Household summary columns: `h` is the household, the head's name and the latest score
/// come from correlated sub-queries that hit the (household_id, position) and PK indexes.
const SUMMARY_SELECT: &str = "SELECT h.rsu_id, h.region, h.province, h.commune, h.status, \
     (SELECT p.first_name || ' ' || p.last_name FROM persons p WHERE p.household_id = h.rsu_id AND p.relation = 'head') AS head_name, \
     (SELECT count(*) FROM persons p WHERE p.household_id = h.rsu_id) AS members, \
     (SELECT s.value_millionths FROM score_history s WHERE s.household_id = h.rsu_id ORDER BY s.valid_from DESC, s.computed_on DESC LIMIT 1) AS score \
     FROM households h";

/// Find by a key; `$1` is the key's value. Each variant uses its own index.
pub fn find(scope: &Scope, key: &crate::FindKey) -> String {
    use crate::FindKey::*;
    let cond = match key {
        RsuId(_) => "h.rsu_id = $1",
        Idcs(_) => "h.rsu_id = (SELECT household_id FROM persons WHERE idcs = $1)",
        Cnie(_) => "h.rsu_id IN (SELECT household_id FROM persons WHERE cnie = $1)",
        Phone(_) => "h.phone = $1",
        Name(_) => {
            "h.rsu_id IN (SELECT household_id FROM persons WHERE last_name IN ($1, $2, $3) OR last_name_ar = $1)"
        }
    };
    format!(
        "{SUMMARY_SELECT} WHERE {cond} AND {} ORDER BY h.rsu_id LIMIT 100",
        scope.sql("h")
    )
}

/// Keyset pagination: `$1` is the last RSU id seen ('' for the first page), `$2` the limit.
pub fn list(scope: &Scope) -> String {
    format!(
        "{SUMMARY_SELECT} WHERE h.rsu_id > $1 AND {} ORDER BY h.rsu_id LIMIT $2",
        scope.sql("h")
    )
}

/// Households with a payment instrument, in `scope`.
pub fn instruments(scope: &Scope) -> String {
    format!(
        "SELECT h.rsu_id, h.instrument_kind, h.instrument_provider, h.instrument_ref FROM households h \
         WHERE h.instrument_kind IS NOT NULL AND {} ORDER BY h.rsu_id",
        scope.sql("h")
    )
}

pub fn count_by_region(scope: &Scope) -> String {
    format!(
        "SELECT h.region AS region, count(DISTINCT h.rsu_id) AS households, count(p.idcs) AS persons \
         FROM households h LEFT JOIN persons p ON p.household_id = h.rsu_id \
         WHERE {} GROUP BY h.region ORDER BY h.region",
        scope.sql("h")
    )
}

/// Upsert clauses: on conflict, every column but the key takes the new value.
pub fn upsert_tail(key: &str, columns: &[&str]) -> String {
    let sets: Vec<String> = columns
        .iter()
        .filter(|c| **c != key)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(" ON CONFLICT ({key}) DO UPDATE SET {}", sets.join(", "))
}

pub const DETACH_MISSING: &str = "UPDATE persons SET household_id = NULL WHERE household_id = $1";

/// Prefixes completed with `IN (…)` (SQLite) or `= ANY($1)` (PostgreSQL) by the adapters.
pub const EXISTING_HASHES: &str = "SELECT rsu_id, content_hash FROM households WHERE rsu_id";
/// Every known person of the batch, with its household ('' when detached).
pub const OWNERS: &str = "SELECT idcs, coalesce(household_id, '') FROM persons WHERE idcs";

/// Secondary indexes, dropped for a load into an empty registry and built once at its end
/// (random-key index inserts batch by batch would rewrite most index pages at every commit).
/// The same text works on both backends.
pub const SECONDARY_INDEXES: &[(&str, &str)] = &[
    (
        "households_region",
        "CREATE INDEX IF NOT EXISTS households_region ON households (region, rsu_id)",
    ),
    (
        "households_phone",
        "CREATE INDEX IF NOT EXISTS households_phone ON households (phone)",
    ),
    (
        "persons_household",
        "CREATE INDEX IF NOT EXISTS persons_household ON persons (household_id, position)",
    ),
    (
        "persons_cnie",
        "CREATE INDEX IF NOT EXISTS persons_cnie ON persons (cnie) WHERE cnie IS NOT NULL",
    ),
    (
        "persons_last_name",
        "CREATE INDEX IF NOT EXISTS persons_last_name ON persons (last_name, birth_date)",
    ),
    (
        "households_instrument",
        "CREATE INDEX IF NOT EXISTS households_instrument ON households (instrument_ref)",
    ),
    (
        "persons_last_name_ar",
        "CREATE INDEX IF NOT EXISTS persons_last_name_ar ON persons (last_name_ar)",
    ),
];

pub const IS_EMPTY: &str = "SELECT (NOT EXISTS (SELECT 1 FROM households) AND NOT EXISTS (SELECT 1 FROM persons)) AS empty";

//! Parameter-by-parameter differences between two rule sets, by path in the rule file.

use serde_json::Value;

use crate::ruleset::RuleSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub parameter: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, v, out);
            }
        }
        Value::Array(items) if items.iter().any(|i| i.is_object()) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

fn params(rs: &RuleSet) -> Vec<(String, String)> {
    let mut out = Vec::new();
    flatten(
        "",
        &serde_json::to_value(rs).expect("rule sets serialise"),
        &mut out,
    );
    out
}

/// Every parameter whose value differs (or exists on one side only), sorted by path.
pub fn diff(a: &RuleSet, b: &RuleSet) -> Vec<Change> {
    let (pa, pb) = (params(a), params(b));
    let get =
        |ps: &[(String, String)], k: &str| ps.iter().find(|(p, _)| p == k).map(|(_, v)| v.clone());
    let mut keys: Vec<&String> = pa.iter().map(|(k, _)| k).collect();
    keys.extend(
        pb.iter()
            .map(|(k, _)| k)
            .filter(|k| !pa.iter().any(|(p, _)| p == *k)),
    );
    keys.into_iter()
        .filter_map(|k| {
            let (before, after) = (get(&pa, k), get(&pb, k));
            (before != after).then(|| Change {
                parameter: k.clone(),
                before,
                after,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleBook;

    #[test]
    fn diff_of_2025_and_2026_names_the_rates() {
        let book = RuleBook::shipped();
        let (a, b) = (
            book.get("asd-2025-11").unwrap(),
            book.get("asd-2026-11").unwrap(),
        );
        let names: Vec<String> = diff(a, b).into_iter().map(|c| c.parameter).collect();
        assert_eq!(
            names,
            [
                "child.bands[0].not_in_school",
                "child.bands[0].paternal_orphan",
                "child.bands[0].young_or_in_school",
                "effective_from",
                "id",
                "title"
            ]
        );
        let c = &diff(a, b)[2];
        assert_eq!(
            (c.before.as_deref(), c.after.as_deref()),
            (Some("250"), Some("300"))
        );
        assert!(diff(a, a).is_empty());
    }
}

//! Rule files: the shipped ones are valid; a bad one is refused naming the parameter.

use sanad_rules::RuleSet;
use sanad_rules::ruleset::SHIPPED;

fn shipped_2026() -> String {
    SHIPPED[2].1.to_owned()
}

fn refused(text: &str) -> String {
    RuleSet::from_toml(text).unwrap_err().parameter
}

#[test]
fn shipped_files_are_valid_and_round_trip() {
    for (name, text) in SHIPPED {
        let rs = RuleSet::from_toml(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(RuleSet::from_toml(&rs.to_toml()).unwrap(), rs, "{name}");
    }
}

#[test]
fn invalid_files_name_the_parameter() {
    let t = shipped_2026();
    assert_eq!(
        refused(&t.replace(
            "score_threshold = \"9.743001\"",
            "score_threshold = \"9.7430011\""
        )),
        "eligibility.score_threshold"
    );
    assert_eq!(
        refused(&t.replace("floor = 500", "floor = -5")),
        "household.floor"
    );
    assert_eq!(
        refused(&t.replace("floor = 500", "flor = 500")),
        "household.flor"
    );
    assert_eq!(
        refused(&t.replace("ranks = [4, 6]", "ranks = [5, 6]")),
        "child.bands[1].ranks"
    );
    assert_eq!(
        refused(&t.replace(
            "max_children = 6                      # §4.1",
            "max_children = 7 #"
        )),
        "child.bands"
    );
    assert_eq!(
        refused(&t.replace("month = 9", "month = 13")),
        "school_start_grant.month"
    );
    assert_eq!(
        refused(&t.replace("min_severity = \"severe\"", "min_severity = \"very\"")),
        "disability.min_severity"
    );
    assert_eq!(
        refused(&t.replace("age_on = \"first_day_of_month\"", "age_on = \"birthday\"")),
        "child.age_on"
    );
    assert_eq!(
        refused(&t.replace("floor = 500", "floor = = 500")),
        "(syntax)"
    );
    let syntax = RuleSet::from_toml(&t.replace("floor = 500", "floor = = 500"))
        .unwrap_err()
        .reason;
    assert!(syntax.contains("line"), "{syntax}");
}

#[test]
fn overrides_change_one_parameter_and_are_validated() {
    let base = RuleSet::from_toml(&shipped_2026()).unwrap();
    let set = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
    let raised = base
        .with_overrides(&set("child.bands[0].young_or_in_school", "350"))
        .unwrap();
    assert_eq!(
        raised.child.bands[0].young_or_in_school.0.centimes(),
        35_000
    );
    assert_eq!(raised.id, "asd-2026-11+what-if");
    assert_eq!(
        sanad_rules::diff::diff(&base, &raised).len(),
        2,
        "the id and the one rate"
    );
    let t = base
        .with_overrides(&set("eligibility.score_threshold", "9.9"))
        .unwrap();
    assert_eq!(t.threshold().to_string(), "9.900000");
    assert_eq!(
        base.with_overrides(&set("household.flor", "1"))
            .unwrap_err()
            .parameter,
        "household.flor"
    );
    assert_eq!(
        base.with_overrides(&set("child.max_children", "5"))
            .unwrap_err()
            .parameter,
        "child.bands"
    );
    assert_eq!(
        base.with_overrides(&set("household.floor", "abc"))
            .unwrap_err()
            .parameter,
        "household.floor"
    );
}

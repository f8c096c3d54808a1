//! One function per check. Each returns its outcome with the evidence it saw; messages name
//! members by position and relation, never by name or identifier.

use chrono::{Days, NaiveDate};
use sanad_domain::{CrossCheck, Disability, Household, HouseholdStatus, Person, Schooling};
use sanad_rules::RuleSet;

use super::index::{ContactIndex, IdentityIndex, PersonIndex};
use super::{Check, CheckCode, Evidence, ListRow, VerificationPolicy};
use crate::application::Application;
use crate::lists::{List, ListKind, Lists, Row, SchoolYear};
use crate::names::FullName;
use crate::reasons::ReasonCode;

pub(super) struct Context<'a> {
    pub app: &'a Application,
    pub h: &'a Household,
    pub lists: &'a Lists,
    pub rules: &'a RuleSet,
    pub policy: &'a VerificationPolicy,
    /// The application date: what the household was then is what is decided.
    pub on: NaiveDate,
    pub today: NaiveDate,
}

impl Context<'_> {
    /// Members alive on the application date, with their positions.
    fn alive(&self) -> impl Iterator<Item = (usize, &Person)> {
        self.h
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.alive_on(self.on) && m.birth_date <= self.on)
    }

    /// A list unusable for this application: absent, or dated too long before it.
    fn unusable<T: Row>(&self, list: Option<&List<T>>, kind: ListKind) -> Option<Evidence> {
        let Some(list) = list else {
            return Some(Evidence::ListMissing { list: kind });
        };
        let age_days = (self.on - list.meta().as_of).num_days();
        (age_days > i64::from(self.policy.max_list_age_days)).then(|| Evidence::ListStale {
            list: list.meta().clone(),
            age_days,
            max_days: self.policy.max_list_age_days,
        })
    }
}

fn label(i: usize, p: &Person) -> String {
    format!("member {} ({})", i + 1, p.relation.as_str())
}

fn labels(found: &[String]) -> String {
    found.join(", ")
}

pub(super) fn registration(cx: &Context) -> Check {
    let code = CheckCode::RsuRegistration;
    let ev = vec![Evidence::Registration {
        household: cx.h.rsu_id.clone(),
        status: cx.h.status,
    }];
    if cx.app.household != cx.h.rsu_id {
        return Check::fail(
            code,
            ReasonCode::NotRegistered,
            ev,
            "the household record is not the one applied for",
        );
    }
    match cx.h.status {
        HouseholdStatus::Active => Check::pass(code, ev, "household active in the RSU"),
        HouseholdStatus::Suspended => Check::open(
            code,
            ev,
            "household suspended in the RSU: its record is being updated",
        ),
        HouseholdStatus::Deregistered => Check::fail(
            code,
            ReasonCode::NotRegistered,
            ev,
            "household deregistered from the RSU",
        ),
    }
}

pub(super) fn applicant(cx: &Context) -> Check {
    let code = CheckCode::Applicant;
    let found = cx.h.members.iter().find(|m| m.idcs == cx.app.applicant);
    let age = found.map(|m| m.age_on(cx.on));
    let alive = found.is_some_and(|m| m.alive_on(cx.on));
    let ev = vec![Evidence::Applicant {
        applicant: cx.app.applicant.clone(),
        member: found.is_some(),
        alive,
        age,
    }];
    match (found, age) {
        (None, _) => Check::fail(
            code,
            ReasonCode::ApplicantNotMember,
            ev,
            "the applicant is not a member of the household",
        ),
        _ if !alive => Check::fail(
            code,
            ReasonCode::ApplicantNotMember,
            ev,
            "the applicant is recorded as deceased",
        ),
        (_, Some(a)) if a < 18 => Check::fail(
            code,
            ReasonCode::ApplicantNotMember,
            ev,
            "the applicant is a minor",
        ),
        _ => Check::pass(
            code,
            ev,
            "the applicant is an adult member of the household",
        ),
    }
}

pub(super) fn score(cx: &Context) -> Check {
    let code = CheckCode::Score;
    let record = cx.h.scores.at(cx.on);
    let threshold = cx.rules.threshold();
    let ev = vec![Evidence::Score {
        on: cx.on,
        record,
        threshold,
        rule_set: cx.rules.id.clone(),
    }];
    match record {
        None => Check::open(
            code,
            ev,
            "no RSU score in force on the application date (the RSU notifies it 5–10 days after registration)",
        ),
        // Exactly at the threshold is eligible: "score ≤ threshold" (asd-rules.md §2).
        Some(r) if r.value <= threshold => Check::pass(code, ev, "score at or below the threshold"),
        Some(_) => Check::fail(
            code,
            ReasonCode::ScoreAboveThreshold,
            ev,
            "score above the threshold",
        ),
    }
}

/// One exclusion (asd-rules.md §2): its switch in the rule set, its list, its RSU flag.
struct Exclusion<'l, T> {
    code: CheckCode,
    reason: ReasonCode,
    kind: ListKind,
    enabled: bool,
    parameter: &'static str,
    list: Option<&'l List<T>>,
    flag: fn(&Person) -> Option<&CrossCheck>,
    row: fn(T) -> ListRow,
    what: &'static str,
}

fn exclusion<T: Row>(cx: &Context, x: Exclusion<T>) -> Check {
    if !x.enabled {
        let ev = vec![Evidence::RuleOff {
            parameter: x.parameter.into(),
            rule_set: cx.rules.id.clone(),
        }];
        return Check::pass(
            x.code,
            ev,
            format!("{} is off in rule set {}", x.parameter, cx.rules.id),
        );
    }
    let (mut ev, mut flagged) = (Vec::new(), Vec::new());
    for (i, m) in cx.alive() {
        if let Some(c) = (x.flag)(m) {
            ev.push(Evidence::RegistryFlag {
                person: m.idcs.clone(),
                source: c.source.clone(),
                date: c.date,
            });
            flagged.push(label(i, m));
        }
    }
    if !flagged.is_empty() {
        return Check::fail(
            x.code,
            x.reason,
            ev,
            format!("{}: recorded in the RSU as {}", labels(&flagged), x.what),
        );
    }
    if let Some(Evidence::ListMissing { .. }) = cx.unusable(x.list, x.kind) {
        return Check::open(
            x.code,
            vec![Evidence::ListMissing { list: x.kind }],
            format!("no {} list loaded", x.kind.code()),
        );
    }
    let list = x.list.expect("checked above");
    let (mut found, mut searched) = (Vec::new(), Vec::new());
    for (i, m) in cx.alive() {
        searched.push(m.idcs.clone());
        for e in list.find(&m.idcs) {
            ev.push(Evidence::Listed {
                list: list.meta().clone(),
                person: m.idcs.clone(),
                line: e.line,
                row: (x.row)(e.row.clone()),
            });
            found.push(label(i, m));
        }
    }
    if let Some(stale) = cx.unusable(x.list, x.kind) {
        ev.push(stale);
        return Check::open(
            x.code,
            ev,
            format!("the {} list is too old for this application", x.kind.code()),
        );
    }
    if found.is_empty() {
        ev.push(Evidence::NotListed {
            list: list.meta().clone(),
            persons: searched,
        });
        Check::pass(
            x.code,
            ev,
            format!(
                "no member on the {} list of {}",
                x.kind.code(),
                list.meta().as_of
            ),
        )
    } else {
        Check::fail(
            x.code,
            x.reason,
            ev,
            format!(
                "{}: on the {} list of {} as {}",
                labels(&found),
                x.kind.code(),
                list.meta().as_of,
                x.what
            ),
        )
    }
}

pub(super) fn family_allowance(cx: &Context) -> Check {
    exclusion(
        cx,
        Exclusion {
            code: CheckCode::FamilyAllowance,
            reason: ReasonCode::ExcludedFamilyAllowance,
            kind: ListKind::FamilyAllowance,
            enabled: cx.rules.eligibility.exclude_family_allowance,
            parameter: "eligibility.exclude_family_allowance",
            list: cx.lists.family_allowance.as_ref(),
            flag: |p| p.checks.family_allowance.as_ref(),
            row: ListRow::FamilyAllowance,
            what: "receiving family allowances",
        },
    )
}

pub(super) fn public_payroll(cx: &Context) -> Check {
    exclusion(
        cx,
        Exclusion {
            code: CheckCode::PublicPayroll,
            reason: ReasonCode::ExcludedPublicEmployee,
            kind: ListKind::PublicPayroll,
            enabled: cx.rules.eligibility.exclude_public_employee,
            parameter: "eligibility.exclude_public_employee",
            list: cx.lists.public_payroll.as_ref(),
            flag: |p| p.checks.public_employee.as_ref(),
            row: ListRow::PublicPayroll,
            what: "a public employee",
        },
    )
}

pub(super) fn pension(cx: &Context) -> Check {
    exclusion(
        cx,
        Exclusion {
            code: CheckCode::Pension,
            reason: ReasonCode::ExcludedPensioner,
            kind: ListKind::Pensions,
            enabled: cx.rules.eligibility.exclude_pensioner,
            parameter: "eligibility.exclude_pensioner",
            list: cx.lists.pensions.as_ref(),
            flag: |p| p.checks.pensioner.as_ref(),
            row: ListRow::Pension,
            what: "a pensioner",
        },
    )
}

pub(super) fn duplicate_identity(cx: &Context, index: &dyn IdentityIndex) -> Check {
    let code = CheckCode::DuplicateIdentity;
    let (mut ev, mut found) = (Vec::new(), Vec::new());
    for (i, m) in cx.alive() {
        let elsewhere = |all: Vec<sanad_domain::RsuId>| {
            all.into_iter()
                .filter(|r| *r != cx.h.rsu_id)
                .collect::<Vec<_>>()
        };
        let by_idcs = elsewhere(index.households_with_idcs(&m.idcs));
        let by_cnie = m
            .cnie
            .as_ref()
            .map(|c| elsewhere(index.households_with_cnie(c)))
            .unwrap_or_default();
        for (identifier, households) in [("idcs", by_idcs), ("cnie", by_cnie)] {
            if !households.is_empty() {
                ev.push(Evidence::OtherHouseholds {
                    person: m.idcs.clone(),
                    identifier: identifier.into(),
                    households,
                });
                found.push(label(i, m));
            }
        }
    }
    if found.is_empty() {
        Check::pass(code, ev, "no member appears in another household")
    } else {
        // Which of the two records is right (a move, a split, an error) needs a person.
        found.dedup();
        Check::open(
            code,
            ev,
            format!("{}: also in another household", labels(&found)),
        )
    }
}

fn shared(code: CheckCode, contact: &str, households: u32, limit: u32) -> Check {
    let ev = vec![Evidence::SharedContact {
        contact: contact.into(),
        households,
        limit,
    }];
    if households > limit {
        Check::open(
            code,
            ev,
            format!("{contact} shared by {households} households (more than {limit})"),
        )
    } else {
        Check::pass(
            code,
            ev,
            format!("{contact} shared by at most {limit} households"),
        )
    }
}

pub(super) fn shared_phone(cx: &Context, index: &dyn ContactIndex) -> Check {
    match &cx.h.phone {
        None => Check::pass(CheckCode::SharedPhone, vec![], "no phone recorded"),
        Some(p) => shared(
            CheckCode::SharedPhone,
            "phone",
            index.households_with_phone(p),
            cx.policy.max_households_per_phone,
        ),
    }
}

pub(super) fn shared_account(cx: &Context, index: &dyn ContactIndex) -> Check {
    match &cx.h.instrument {
        None => Check::pass(
            CheckCode::SharedAccount,
            vec![],
            "no payment account recorded",
        ),
        Some(a) => shared(
            CheckCode::SharedAccount,
            "account",
            index.households_with_account(a),
            cx.policy.max_households_per_account,
        ),
    }
}

pub(super) fn similar_person(cx: &Context, index: &dyn PersonIndex) -> Check {
    let code = CheckCode::SimilarPerson;
    let tolerance = Days::new(u64::from(cx.policy.birth_date_tolerance_days));
    let (mut ev, mut found) = (Vec::new(), Vec::new());
    for (i, m) in cx.alive() {
        let (from, to) = (m.birth_date - tolerance, m.birth_date + tolerance);
        let name = FullName::new(
            (&m.first_name, &m.last_name),
            (&m.first_name_ar, &m.last_name_ar),
        );
        for indexed in index.born_between(from, to) {
            let other = &indexed.person;
            // Same IDCS is the identity check's; two CNIEs are two identity cards, two persons.
            let same_idcs = other.idcs.as_ref() == Some(&m.idcs);
            if other.household == cx.h.rsu_id
                || same_idcs
                || (m.cnie.is_some() && other.cnie.is_some())
            {
                continue;
            }
            let similarity = name.similarity(&indexed.name);
            if similarity >= cx.policy.min_name_similarity_permille {
                let days_apart = (other.birth_date - m.birth_date).num_days();
                ev.push(Evidence::SimilarPerson {
                    person: m.idcs.clone(),
                    household: other.household.clone(),
                    other: other.idcs.clone(),
                    similarity_permille: similarity,
                    days_apart,
                });
                found.push(label(i, m));
            }
        }
    }
    found.dedup();
    if found.is_empty() {
        Check::pass(code, ev, "no similar person in another household")
    } else {
        Check::open(
            code,
            ev,
            format!(
                "{}: a person with a similar name and birth date is in another household",
                labels(&found)
            ),
        )
    }
}

pub(super) fn death(cx: &Context) -> Check {
    let code = CheckCode::Death;
    let list = cx.lists.deaths.as_ref();
    if let Some(e) = cx.unusable(list, ListKind::Deaths) {
        return Check::open(
            code,
            vec![e],
            "the civil registry's death list is missing or too old",
        );
    }
    let list = list.expect("checked above");
    let (mut ev, mut before, mut after, mut searched) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, m) in
        cx.h.members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.death_date.is_none())
    {
        searched.push(m.idcs.clone());
        if let Some(e) = list.find(&m.idcs).next() {
            ev.push(Evidence::Listed {
                list: list.meta().clone(),
                person: m.idcs.clone(),
                line: e.line,
                row: ListRow::Death(e.row.clone()),
            });
            let when = if e.row.death_date <= cx.on {
                &mut before
            } else {
                &mut after
            };
            when.push(label(i, m));
        }
    }
    if !before.is_empty() {
        let msg = format!(
            "{}: declared alive, deceased before the application per the civil registry; the household must be updated",
            labels(&before)
        );
        return Check::fail(code, ReasonCode::DataInconsistency, ev, msg);
    }
    if !after.is_empty() {
        let msg = format!(
            "{}: deceased after the application (by {}); record the death, then verify again",
            labels(&after),
            cx.today
        );
        return Check::open(code, ev, msg);
    }
    ev.push(Evidence::NotListed {
        list: list.meta().clone(),
        persons: searched,
    });
    Check::pass(code, ev, "no member declared alive is on the death list")
}

fn is_public_school(s: Schooling) -> bool {
    matches!(
        s,
        Schooling::PublicPrimary
            | Schooling::PublicCollege
            | Schooling::PublicSecondary
            | Schooling::PublicVocational
    )
}

/// Children under the age limit alive on the application date.
fn children<'a>(cx: &'a Context, age_limit: u32) -> impl Iterator<Item = (usize, &'a Person)> {
    cx.alive()
        .filter(move |(_, m)| m.relation.is_child() && m.age_on(cx.on) < age_limit as i32)
}

pub(super) fn schooling(cx: &Context) -> Check {
    let code = CheckCode::Schooling;
    let declared: Vec<_> = children(cx, cx.rules.child.age_limit)
        .filter(|(_, m)| is_public_school(m.schooling))
        .collect();
    if declared.is_empty() {
        return Check::pass(code, vec![], "no declared public schooling to confirm");
    }
    let Some(list) = cx.lists.school_enrolment.as_ref() else {
        return Check::open(
            code,
            vec![Evidence::ListMissing {
                list: ListKind::SchoolEnrolment,
            }],
            "no school enrolment list loaded",
        );
    };
    let year = SchoolYear::containing(cx.on, cx.policy.school_year_start_month);
    let (mut ev, mut unconfirmed) = (Vec::new(), Vec::new());
    for (i, m) in declared {
        let row = list.find(&m.idcs).find(|e| e.row.school_year == year);
        match row {
            Some(e) if e.row.level.schooling() == m.schooling => ev.push(Evidence::Listed {
                list: list.meta().clone(),
                person: m.idcs.clone(),
                line: e.line,
                row: ListRow::SchoolEnrolment(e.row.clone()),
            }),
            other => {
                let found = other.map(|e| e.row.level.as_str().to_owned());
                ev.push(Evidence::Unconfirmed {
                    person: m.idcs.clone(),
                    declared: m.schooling.as_str().into(),
                    found,
                });
                unconfirmed.push(label(i, m));
            }
        }
    }
    if unconfirmed.is_empty() {
        Check::pass(
            code,
            ev,
            format!("declared public schooling confirmed for {year}"),
        )
    } else {
        Check::open(
            code,
            ev,
            format!(
                "{}: declared public schooling not found on the {year} enrolment list",
                labels(&unconfirmed)
            ),
        )
    }
}

fn severity(d: Disability) -> usize {
    Disability::ALL.iter().position(|x| *x == d).unwrap_or(0)
}

/// Only declarations that change the amount are checked: children under the supplement's
/// age limit declared at or above the rule set's minimum severity.
pub(super) fn disability(cx: &Context) -> Check {
    let code = CheckCode::Disability;
    let min = severity(cx.rules.disability.min_severity);
    let declared: Vec<_> = children(cx, cx.rules.disability.age_limit)
        .filter(|(_, m)| severity(m.disability) >= min)
        .collect();
    if declared.is_empty() {
        return Check::pass(
            code,
            vec![],
            "no declared disability that changes the amount",
        );
    }
    let Some(list) = cx.lists.disability_cards.as_ref() else {
        return Check::open(
            code,
            vec![Evidence::ListMissing {
                list: ListKind::DisabilityCards,
            }],
            "no disability card list loaded",
        );
    };
    let (mut ev, mut lower, mut missing) = (Vec::new(), Vec::new(), Vec::new());
    for (i, m) in declared {
        let valid: Vec<_> = list
            .find(&m.idcs)
            .filter(|e| e.row.valid_on(cx.on))
            .collect();
        for e in &valid {
            ev.push(Evidence::Listed {
                list: list.meta().clone(),
                person: m.idcs.clone(),
                line: e.line,
                row: ListRow::DisabilityCard(e.row.clone()),
            });
        }
        if valid.is_empty() {
            ev.push(Evidence::Unconfirmed {
                person: m.idcs.clone(),
                declared: m.disability.as_str().into(),
                found: None,
            });
            missing.push(label(i, m));
        } else if valid.iter().all(|e| severity(e.row.severity) < min) {
            lower.push(label(i, m));
        }
    }
    if !lower.is_empty() {
        return Check::fail(
            code,
            ReasonCode::DataInconsistency,
            ev,
            format!(
                "{}: the valid card shows a lower severity than declared",
                labels(&lower)
            ),
        );
    }
    if !missing.is_empty() {
        return Check::open(
            code,
            ev,
            format!(
                "{}: no disability card valid on the application date",
                labels(&missing)
            ),
        );
    }
    Check::pass(code, ev, "declared disability confirmed by a valid card")
}

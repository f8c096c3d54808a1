//! The refusals of `sanad-pilot` as people read them: each error becomes a
//! [`WebError::Localized`] naming its message in `i18n/{fr,ar,en}.txt`, with the English text
//! of `sanad-pilot` kept as the API's `detail`. The status stays what the operation decides
//! (409 for a state that does not allow it, 422 for bad input).

use axum::http::StatusCode;
use sanad_pilot::{CaseError, ExitError, Refusal};

use crate::error::WebError;

fn localized(
    status: StatusCode,
    key: &'static str,
    args: Vec<(&'static str, String)>,
    detail: String,
) -> WebError {
    WebError::Localized {
        status,
        key,
        args,
        detail,
    }
}

/// A case operation's error, with the status the operation gives it.
pub fn case_error(e: &CaseError, status: StatusCode) -> WebError {
    let detail = e.to_string();
    let (key, args): (&'static str, Vec<(&'static str, String)>) = match e {
        CaseError::AntennaNotStarted(a) => (
            "pilot.error.antenna_not_started",
            vec![("antenna", a.to_string())],
        ),
        CaseError::AlreadyOpen(_) => ("pilot.error.already_open", vec![]),
        CaseError::NoOpenCase(_) => ("pilot.error.no_open_case", vec![]),
        CaseError::NoWorker(a) => ("pilot.error.no_worker", vec![("antenna", a.to_string())]),
        CaseError::AllAtMaximum { antenna, max } => (
            "pilot.error.all_at_maximum",
            vec![("antenna", antenna.to_string()), ("max", max.to_string())],
        ),
        CaseError::WorkerUnavailable(w) => (
            "pilot.error.worker_unavailable",
            vec![("worker", w.to_string())],
        ),
        CaseError::InFuture(d) => ("pilot.error.in_future", vec![("date", d.to_string())]),
        CaseError::BeforeOpening(d) => {
            ("pilot.error.before_opening", vec![("date", d.to_string())])
        }
        CaseError::NotAfter(d) => ("pilot.error.not_after", vec![("date", d.to_string())]),
        CaseError::Blank("goal text") => ("pilot.error.blank_goal", vec![]),
        CaseError::Blank("referral detail") => ("pilot.error.blank_referral", vec![]),
        CaseError::Blank("closure reason") => ("pilot.error.blank_closure", vec![]),
        CaseError::Blank(field) => ("pilot.error.blank", vec![("field", (*field).to_owned())]),
        CaseError::UnknownGoal(n) => ("pilot.error.unknown_goal", vec![("n", n.to_string())]),
        CaseError::UnknownReferral(n) => {
            ("pilot.error.unknown_referral", vec![("n", n.to_string())])
        }
        CaseError::Transition { from, to } => (
            "pilot.error.transition",
            vec![("from", from.to_lowercase()), ("to", to.to_lowercase())],
        ),
    };
    localized(status, key, args, detail)
}

/// Why a household cannot be enrolled (409).
pub fn refusal(r: &Refusal) -> WebError {
    let detail = r.to_string();
    let (key, args): (&'static str, Vec<(&'static str, String)>) = match r {
        Refusal::UnknownMeasure(m) => (
            "pilot.error.unknown_measure",
            vec![("measure", m.to_string())],
        ),
        Refusal::NotInPlan { antenna } => (
            "pilot.error.not_in_plan",
            vec![("antenna", antenna.to_string())],
        ),
        Refusal::WaveNotStarted { antenna, start } => (
            "pilot.error.wave_not_started",
            vec![
                ("antenna", antenna.to_string()),
                ("start", start.to_string()),
            ],
        ),
        Refusal::HouseholdNotActive => ("pilot.error.household_not_active", vec![]),
        Refusal::AlreadyEnrolled { since } => (
            "pilot.error.already_enrolled",
            vec![("since", since.to_string())],
        ),
        Refusal::NotInTargetGroup(_) => ("pilot.error.not_in_target_group", vec![]),
        Refusal::CapacityFull { antenna, capacity } => (
            "pilot.error.capacity_full",
            vec![
                ("antenna", antenna.to_string()),
                ("capacity", capacity.to_string()),
            ],
        ),
    };
    localized(StatusCode::CONFLICT, key, args, detail)
}

/// Why an enrolment cannot end (the caller maps `NotEnrolled` to 404 first).
pub fn exit_error(e: &ExitError) -> WebError {
    match e {
        ExitError::NotEnrolled => localized(
            StatusCode::NOT_FOUND,
            "pilot.error.not_enrolled",
            vec![],
            e.to_string(),
        ),
        ExitError::BeforeEnrolment { enrolled_on } => localized(
            StatusCode::CONFLICT,
            "pilot.error.before_enrolment",
            vec![("date", enrolled_on.to_string())],
            e.to_string(),
        ),
    }
}

/// Nothing of the pilot can be done before its catalogue is stored (409).
pub fn no_catalogue() -> WebError {
    localized(
        StatusCode::CONFLICT,
        "pilot.error.no_catalogue",
        vec![],
        "no pilot catalogue is stored yet".into(),
    )
}

/// A case cannot move to a worker of another antenna (409).
pub fn not_in_antenna(worker: &str, antenna: &str) -> WebError {
    localized(
        StatusCode::CONFLICT,
        "pilot.error.not_in_antenna",
        vec![
            ("worker", worker.to_owned()),
            ("antenna", antenna.to_owned()),
        ],
        format!("'{worker}' does not work in antenna {antenna}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;
    use sanad_domain::RsuId;

    fn key(e: &WebError) -> &'static str {
        match e {
            WebError::Localized { key, .. } => key,
            other => panic!("not localized: {other}"),
        }
    }

    /// Every message a pilot error can become exists in every language, and every placeholder
    /// of it is filled.
    #[test]
    fn every_pilot_refusal_has_its_message_in_every_language() {
        let d: chrono::NaiveDate = "2027-03-01".parse().unwrap();
        let h = RsuId::parse("100000000001").unwrap();
        let w = sanad_pilot::WorkerId::parse("samira").unwrap();
        let m = sanad_pilot::MeasureId::parse("school-return").unwrap();
        let verdict = sanad_pilot::Verdict {
            truth: sanad_pilot::Truth::No,
            checks: vec![],
        };
        let cases = [
            CaseError::AntennaNotStarted("01.511".into()),
            CaseError::AlreadyOpen(h.clone()),
            CaseError::NoOpenCase(h),
            CaseError::NoWorker("01.511".into()),
            CaseError::AllAtMaximum {
                antenna: "01.511".into(),
                max: 40,
            },
            CaseError::WorkerUnavailable(w),
            CaseError::InFuture(d),
            CaseError::BeforeOpening(d),
            CaseError::NotAfter(d),
            CaseError::Blank("goal text"),
            CaseError::Blank("referral detail"),
            CaseError::Blank("closure reason"),
            CaseError::Blank("other"),
            CaseError::UnknownGoal(2),
            CaseError::UnknownReferral(3),
            CaseError::Transition {
                from: "Completed".into(),
                to: "Sent".into(),
            },
        ];
        let refusals = [
            Refusal::UnknownMeasure(m),
            Refusal::NotInPlan {
                antenna: "01.511".into(),
            },
            Refusal::WaveNotStarted {
                antenna: "01.511".into(),
                start: "2027-07".parse().unwrap(),
            },
            Refusal::HouseholdNotActive,
            Refusal::AlreadyEnrolled { since: d },
            Refusal::NotInTargetGroup(verdict),
            Refusal::CapacityFull {
                antenna: "01.511".into(),
                capacity: 3,
            },
        ];
        let mut errors: Vec<WebError> = cases
            .iter()
            .map(|e| case_error(e, StatusCode::CONFLICT))
            .collect();
        errors.extend(refusals.iter().map(refusal));
        errors.extend([
            exit_error(&ExitError::NotEnrolled),
            exit_error(&ExitError::BeforeEnrolment { enrolled_on: d }),
            no_catalogue(),
            not_in_antenna("x", "01.511"),
        ]);
        for e in &errors {
            let WebError::Localized { args, .. } = e else {
                unreachable!()
            };
            for l in Locale::ALL {
                let mut text = l.t(key(e)).to_owned();
                assert_ne!(text, key(e), "{} lacks {}", l.code(), key(e));
                for (name, value) in args {
                    text = text.replace(&format!("{{{name}}}"), value);
                }
                assert!(
                    !text.contains('{'),
                    "{}: {} leaves a placeholder: {text}",
                    l.code(),
                    key(e)
                );
            }
        }
    }
}

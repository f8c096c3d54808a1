//! Follow-up alerts, computed from the case book and `today` — never stored, so an alert
//! disappears by itself once the visit is made or the goal updated. Only open cases raise
//! alerts. Each alert carries its parameters (for the web layer's own i18n, with CLDR
//! plurals) and a ready message in French, Arabic and English.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use sanad_domain::{ProvinceCode, RsuId};
use serde::{Deserialize, Serialize};

use crate::cases::{Attendance, Case, CaseBook, GoalStatus, ReferralStatus, Service, WorkerId};
use crate::text::Text;

/// The thresholds, set by ANSS for the pilot. The defaults are assumptions (see README).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertPolicy {
    /// Longest time between two contacts with a household (the opening counts as a contact).
    pub visit_every_days: u32,
    /// How long a service may leave a referral unanswered.
    pub referral_response_days: u32,
    /// Open cases one worker may follow.
    pub max_caseload: usize,
    /// Consecutive absences that signal a household slipping away.
    pub absences_in_a_row: usize,
}

impl Default for AlertPolicy {
    fn default() -> AlertPolicy {
        AlertPolicy {
            visit_every_days: 30,
            referral_response_days: 15,
            max_caseload: 40,
            absences_in_a_row: 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertCode {
    VisitOverdue,
    GoalOverdue,
    ReferralNoResponse,
    RepeatedAbsence,
    CaseloadOverMax,
}

impl AlertCode {
    pub const ALL: [AlertCode; 5] = [
        AlertCode::VisitOverdue,
        AlertCode::GoalOverdue,
        AlertCode::ReferralNoResponse,
        AlertCode::RepeatedAbsence,
        AlertCode::CaseloadOverMax,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertCode::VisitOverdue => "visit_overdue",
            AlertCode::GoalOverdue => "goal_overdue",
            AlertCode::ReferralNoResponse => "referral_no_response",
            AlertCode::RepeatedAbsence => "repeated_absence",
            AlertCode::CaseloadOverMax => "caseload_over_max",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub code: AlertCode,
    pub severity: Severity,
    pub antenna: ProvinceCode,
    pub worker: WorkerId,
    /// The case's household; `None` for a caseload alert, which concerns the worker.
    pub household: Option<RsuId>,
    /// The goal or referral id the alert is about, if any.
    pub item: Option<u32>,
    /// When the thing became due (the missed date), or `today` for a caseload.
    pub due: NaiveDate,
    /// The values in the message, by name (`days`, `date`, `max`, …).
    pub params: BTreeMap<String, String>,
    pub message: Text,
}

/// Every alert on `today`, sorted by antenna, worker, household, code and item.
pub fn alerts(book: &CaseBook, policy: &AlertPolicy, today: NaiveDate) -> Vec<Alert> {
    let mut out = Vec::new();
    for case in book.open_cases() {
        out.extend(visit_overdue(case, policy, today));
        out.extend(goals_overdue(case, today));
        out.extend(referrals_unanswered(case, policy, today));
        out.extend(repeated_absence(case, policy));
    }
    out.extend(caseloads_over_max(book, policy, today));
    out.sort_by(|a, b| {
        (&a.antenna, &a.worker, &a.household, a.code, a.item).cmp(&(
            &b.antenna,
            &b.worker,
            &b.household,
            b.code,
            b.item,
        ))
    });
    out
}

fn base(
    case: &Case,
    code: AlertCode,
    severity: Severity,
    due: NaiveDate,
    params: &[(&str, String)],
    message: Text,
) -> Alert {
    Alert {
        code,
        severity,
        antenna: case.antenna.clone(),
        worker: case.worker.clone(),
        household: Some(case.household.clone()),
        item: None,
        due,
        params: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        message,
    }
}

fn plus_days(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

/// Overdue once `today` is past the last contact + N days, or past the next visit the last
/// visit planned, whichever comes first. Critical beyond twice the interval.
fn visit_overdue(case: &Case, policy: &AlertPolicy, today: NaiveDate) -> Option<Alert> {
    let last = case.last_visit().map_or(case.opened_on, |v| v.date);
    let limit = plus_days(last, policy.visit_every_days);
    let planned = case
        .last_visit()
        .and_then(|v| v.next_visit)
        .filter(|&p| p < limit);
    let due = planned.unwrap_or(limit);
    if today <= due {
        return None;
    }
    let days = (today - last).num_days();
    let severity = if days > 2 * i64::from(policy.visit_every_days) {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let n = policy.visit_every_days;
    let message = match planned {
        Some(p) => Text::new(
            format!(
                "Visite prévue le {p} non effectuée (dernier contact le {last}, il y a {days} jours)."
            ),
            format!("الزيارة المقررة في {p} لم تتم (آخر اتصال في {last}، منذ {days} يوما)."),
            format!("Visit planned for {p} not made (last contact on {last}, {days} days ago)."),
        ),
        None => Text::new(
            format!(
                "Aucune visite depuis {days} jours (dernier contact le {last} ; au plus {n} jours entre deux visites)."
            ),
            format!(
                "لا زيارة منذ {days} يوما (آخر اتصال في {last}؛ {n} يوما على الأكثر بين زيارتين)."
            ),
            format!(
                "No visit for {days} days (last contact on {last}; at most {n} days between visits)."
            ),
        ),
    };
    let params = [
        ("days", days.to_string()),
        ("last", last.to_string()),
        ("max_days", n.to_string()),
    ];
    Some(base(
        case,
        AlertCode::VisitOverdue,
        severity,
        due,
        &params,
        message,
    ))
}

/// An open goal whose target date has passed.
fn goals_overdue(case: &Case, today: NaiveDate) -> Vec<Alert> {
    let late = case
        .goals
        .iter()
        .filter(|g| g.status == GoalStatus::Open && g.target_date < today);
    late.map(|g| {
        let (t, date, dom) = (&g.text, g.target_date, g.domain.name());
        let message = Text::new(
            format!(
                "Objectif « {t} » ({}) non atteint à la date cible du {date}.",
                dom.fr
            ),
            format!(
                "الهدف «{t}» ({}) لم يتحقق في التاريخ المحدد {date}.",
                dom.ar
            ),
            format!(
                "Goal “{t}” ({}) not achieved by its target date {date}.",
                dom.en
            ),
        );
        let params = [
            ("goal", t.clone()),
            ("domain", g.domain.as_str().to_owned()),
            ("date", date.to_string()),
        ];
        Alert {
            item: Some(g.id),
            ..base(
                case,
                AlertCode::GoalOverdue,
                Severity::Info,
                date,
                &params,
                message,
            )
        }
    })
    .collect()
}

fn service_name(service: Service, detail: &str) -> Text {
    match service {
        Service::School => Text::new("l'école", "المدرسة", "the school"),
        Service::HealthCentre => {
            Text::new("le centre de santé", "المركز الصحي", "the health centre")
        }
        Service::Anapec => Text::new("l'ANAPEC", "أنابيك", "ANAPEC"),
        Service::Other => Text::new(detail, detail, detail),
    }
}

/// A referral still only `sent` more than N days after it was sent.
fn referrals_unanswered(case: &Case, policy: &AlertPolicy, today: NaiveDate) -> Vec<Alert> {
    let waiting = case
        .referrals
        .iter()
        .filter(|r| r.status == ReferralStatus::Sent);
    waiting
        .filter_map(|r| {
            let due = plus_days(r.sent_on, policy.referral_response_days);
            if today <= due {
                return None;
            }
            let (s, sent, days) = (
                service_name(r.service, &r.detail),
                r.sent_on,
                (today - r.sent_on).num_days(),
            );
            let message = Text::new(
                format!(
                    "Orientation vers {} envoyée le {sent}, sans réponse depuis {days} jours.",
                    s.fr
                ),
                format!("توجيه نحو {} أرسل في {sent}، دون رد منذ {days} يوما.", s.ar),
                format!(
                    "Referral to {} sent on {sent}, no response for {days} days.",
                    s.en
                ),
            );
            let params = [
                ("service", s.en.clone()),
                ("date", sent.to_string()),
                ("days", days.to_string()),
            ];
            Some(Alert {
                item: Some(r.id),
                ..base(
                    case,
                    AlertCode::ReferralNoResponse,
                    Severity::Warning,
                    due,
                    &params,
                    message,
                )
            })
        })
        .collect()
}

/// The last visits, in date order, were all `absent`, at least N of them in a row.
fn repeated_absence(case: &Case, policy: &AlertPolicy) -> Option<Alert> {
    let run: Vec<_> = case
        .visits
        .iter()
        .rev()
        .take_while(|v| v.attendance == Attendance::Absent)
        .collect();
    if run.len() < policy.absences_in_a_row.max(1) {
        return None;
    }
    let (k, since) = (run.len(), run.last().expect("non-empty").date);
    let message = Text::new(
        format!("Ménage absent lors des {k} dernières visites (depuis le {since})."),
        format!("الأسرة غائبة خلال آخر {k} زيارات (منذ {since})."),
        format!("Household absent at the last {k} visits (since {since})."),
    );
    let params = [("count", k.to_string()), ("since", since.to_string())];
    let due = run[0].date;
    Some(base(
        case,
        AlertCode::RepeatedAbsence,
        Severity::Critical,
        due,
        &params,
        message,
    ))
}

/// A worker following more open cases than the maximum (possible by reassignment, or when
/// the maximum is lowered).
fn caseloads_over_max(book: &CaseBook, policy: &AlertPolicy, today: NaiveDate) -> Vec<Alert> {
    let mut loads: BTreeMap<&WorkerId, BTreeMap<&ProvinceCode, usize>> = BTreeMap::new();
    for c in book.open_cases() {
        *loads
            .entry(&c.worker)
            .or_default()
            .entry(&c.antenna)
            .or_default() += 1;
    }
    loads
        .into_iter()
        .filter_map(|(w, per_antenna)| {
            let n: usize = per_antenna.values().sum();
            // The alert goes to the antenna holding most of the worker's cases (normally all).
            let (antenna, _) = per_antenna
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))?;
            (n > policy.max_caseload)
                .then(|| caseload_alert(w, antenna, n, policy.max_caseload, today))
        })
        .collect()
}

fn caseload_alert(
    w: &WorkerId,
    antenna: &ProvinceCode,
    n: usize,
    max: usize,
    today: NaiveDate,
) -> Alert {
    let message = Text::new(
        format!("{w} suit {n} dossiers, au-delà du maximum de {max}."),
        format!("{w} يتابع {n} ملفات، أي أكثر من الحد الأقصى البالغ {max}."),
        format!("{w} follows {n} cases, above the maximum of {max}."),
    );
    let params = [
        ("worker", w.to_string()),
        ("cases", n.to_string()),
        ("max", max.to_string()),
    ];
    Alert {
        code: AlertCode::CaseloadOverMax,
        severity: Severity::Warning,
        antenna: antenna.clone(),
        worker: w.clone(),
        household: None,
        item: None,
        due: today,
        params: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::Visit;
    use crate::measures::Domain;
    use crate::rollout::RolloutPlan;
    use crate::testkit::*;

    const OPENED: &str = "2027-02-01";

    /// One open case in Tanger, followed by samira, opened on 2027-02-01.
    fn book() -> CaseBook {
        let mut book = CaseBook::new();
        book.open(
            &RolloutPlan::shipped(),
            &schooling_case("100000000001"),
            &[worker("samira", "01.511")],
            40,
            d(OPENED),
        )
        .unwrap();
        book
    }

    fn visit(book: &mut CaseBook, date: &str, attendance: Attendance, next: Option<&str>) {
        let v = Visit {
            date: d(date),
            attendance,
            notes: String::new(),
            next_steps: String::new(),
            next_visit: next.map(d),
        };
        book.case_mut(&rsu("100000000001"))
            .unwrap()
            .record_visit(v, d(date))
            .unwrap();
    }

    fn codes(book: &CaseBook, policy: &AlertPolicy, today: &str) -> Vec<AlertCode> {
        alerts(book, policy, d(today))
            .into_iter()
            .map(|a| a.code)
            .collect()
    }

    #[test]
    fn no_visit_for_45_days_with_a_maximum_of_30_is_overdue() {
        let mut b = book();
        visit(&mut b, "2027-02-10", Attendance::Present, None);
        let policy = AlertPolicy {
            visit_every_days: 30,
            ..AlertPolicy::default()
        };
        assert!(
            codes(&b, &policy, "2027-03-12").is_empty(),
            "30 days: still within the interval"
        );
        let a = alerts(&b, &policy, d("2027-03-27"));
        assert_eq!(a.len(), 1);
        assert_eq!(
            (a[0].code, a[0].severity, a[0].due),
            (AlertCode::VisitOverdue, Severity::Warning, d("2027-03-12"))
        );
        assert_eq!(a[0].params["days"], "45");
        assert!(
            a[0].message.fr.contains("45 jours")
                && a[0].message.ar.contains("45")
                && a[0].message.en.contains("45 days")
        );
        assert_eq!(a[0].household, Some(rsu("100000000001")));
        let later = alerts(&b, &policy, d("2027-04-12"));
        assert_eq!(
            later[0].severity,
            Severity::Critical,
            "61 days is beyond twice the interval"
        );
    }

    #[test]
    fn a_case_never_visited_counts_from_its_opening() {
        let b = book();
        assert!(codes(&b, &AlertPolicy::default(), "2027-03-03").is_empty());
        assert_eq!(
            codes(&b, &AlertPolicy::default(), "2027-03-04"),
            [AlertCode::VisitOverdue]
        );
    }

    #[test]
    fn a_missed_planned_visit_is_overdue_before_the_interval_ends() {
        let mut b = book();
        visit(
            &mut b,
            "2027-02-10",
            Attendance::Present,
            Some("2027-02-20"),
        );
        let a = alerts(&b, &AlertPolicy::default(), d("2027-02-21"));
        assert_eq!(
            (a[0].code, a[0].due),
            (AlertCode::VisitOverdue, d("2027-02-20"))
        );
        assert!(
            a[0].message
                .en
                .starts_with("Visit planned for 2027-02-20 not made")
        );
    }

    #[test]
    fn two_consecutive_absences_raise_an_alert_and_a_presence_clears_it() {
        let mut b = book();
        let policy = AlertPolicy::default();
        visit(&mut b, "2027-02-05", Attendance::Absent, None);
        visit(&mut b, "2027-02-12", Attendance::Present, None);
        visit(&mut b, "2027-02-19", Attendance::Absent, None);
        assert!(
            codes(&b, &policy, "2027-02-20").is_empty(),
            "absences not in a row"
        );
        visit(&mut b, "2027-02-26", Attendance::Absent, None);
        let a = alerts(&b, &policy, d("2027-02-27"));
        assert_eq!(
            (a[0].code, a[0].severity),
            (AlertCode::RepeatedAbsence, Severity::Critical)
        );
        assert_eq!(
            (a[0].params["count"].as_str(), a[0].params["since"].as_str()),
            ("2", "2027-02-19")
        );
        visit(&mut b, "2027-03-05", Attendance::Present, None);
        assert!(codes(&b, &policy, "2027-03-06").is_empty());
    }

    #[test]
    fn a_refusal_is_not_an_absence() {
        let mut b = book();
        visit(&mut b, "2027-02-05", Attendance::Absent, None);
        visit(&mut b, "2027-02-12", Attendance::Refused, None);
        assert!(codes(&b, &AlertPolicy::default(), "2027-02-13").is_empty());
    }

    #[test]
    fn an_open_goal_past_its_target_date_is_reported() {
        let mut b = book();
        let case = b.case_mut(&rsu("100000000001")).unwrap();
        let g = case
            .add_goal(
                Domain::Schooling,
                "Inscription au collège",
                d("2027-02-20"),
                d(OPENED),
            )
            .unwrap();
        case.add_goal(Domain::Health, "Carte AMO", d("2027-06-30"), d(OPENED))
            .unwrap();
        visit(&mut b, "2027-02-20", Attendance::Present, None);
        assert!(
            codes(&b, &AlertPolicy::default(), "2027-02-20").is_empty(),
            "due today is not late"
        );
        let a = alerts(&b, &AlertPolicy::default(), d("2027-02-21"));
        assert_eq!(
            (a[0].code, a[0].item, a[0].severity),
            (AlertCode::GoalOverdue, Some(g), Severity::Info)
        );
        assert!(
            a[0].message
                .fr
                .contains("« Inscription au collège » (Scolarisation)")
        );
        let case = b.case_mut(&rsu("100000000001")).unwrap();
        case.set_goal_status(g, GoalStatus::Achieved, d("2027-02-21"), d("2027-02-21"))
            .unwrap();
        assert!(codes(&b, &AlertPolicy::default(), "2027-02-21").is_empty());
    }

    #[test]
    fn a_referral_unanswered_after_the_delay_is_reported_until_answered() {
        let mut b = book();
        let case = b.case_mut(&rsu("100000000001")).unwrap();
        let r = case
            .refer(
                Service::HealthCentre,
                "CS Beni Makada",
                d("2027-02-02"),
                d("2027-02-02"),
            )
            .unwrap();
        visit(&mut b, "2027-02-17", Attendance::Present, None);
        let policy = AlertPolicy {
            referral_response_days: 15,
            ..AlertPolicy::default()
        };
        assert!(codes(&b, &policy, "2027-02-17").is_empty());
        let a = alerts(&b, &policy, d("2027-02-18"));
        assert_eq!(
            (a[0].code, a[0].item),
            (AlertCode::ReferralNoResponse, Some(r))
        );
        assert_eq!(
            a[0].message.en,
            "Referral to the health centre sent on 2027-02-02, no response for 16 days."
        );
        let case = b.case_mut(&rsu("100000000001")).unwrap();
        case.update_referral(
            r,
            ReferralStatus::Accepted,
            d("2027-02-18"),
            "",
            d("2027-02-18"),
        )
        .unwrap();
        assert!(
            codes(&b, &policy, "2027-02-18").is_empty(),
            "accepted is an answer"
        );
    }

    #[test]
    fn a_worker_with_three_cases_over_a_maximum_of_two_raises_an_alert() {
        let mut b = CaseBook::new();
        let workers = [worker("samira", "01.511")];
        for id in ["100000000001", "100000000002", "100000000003"] {
            b.open(
                &RolloutPlan::shipped(),
                &schooling_case(id),
                &workers,
                5,
                d(OPENED),
            )
            .unwrap();
        }
        let policy = AlertPolicy {
            max_caseload: 2,
            ..AlertPolicy::default()
        };
        let a = alerts(&b, &policy, d("2027-02-02"));
        assert_eq!(a.len(), 1);
        assert_eq!(
            (a[0].code, a[0].household.as_ref(), a[0].antenna.as_str()),
            (AlertCode::CaseloadOverMax, None, "01.511")
        );
        assert_eq!(
            a[0].message.en,
            "samira follows 3 cases, above the maximum of 2."
        );
        assert!(
            alerts(
                &b,
                &AlertPolicy {
                    max_caseload: 3,
                    ..policy
                },
                d("2027-02-02")
            )
            .is_empty(),
            "at the maximum is fine"
        );
    }

    #[test]
    fn closed_cases_raise_nothing() {
        let mut b = book();
        b.close(
            &rsu("100000000001"),
            d("2027-02-02"),
            "moved to Rabat",
            d("2027-02-02"),
        )
        .unwrap();
        assert!(
            alerts(
                &b,
                &AlertPolicy {
                    max_caseload: 0,
                    ..AlertPolicy::default()
                },
                d("2028-01-01")
            )
            .is_empty()
        );
    }

    #[test]
    fn alerts_come_sorted_and_every_code_has_a_name() {
        let mut b = book();
        let case = b.case_mut(&rsu("100000000001")).unwrap();
        case.add_goal(
            Domain::Employment,
            "Inscription ANAPEC",
            d("2027-02-05"),
            d(OPENED),
        )
        .unwrap();
        case.refer(Service::Other, "Association Al Amal", d(OPENED), d(OPENED))
            .unwrap();
        let a = codes(&b, &AlertPolicy::default(), "2027-06-01");
        assert_eq!(
            a,
            [
                AlertCode::VisitOverdue,
                AlertCode::GoalOverdue,
                AlertCode::ReferralNoResponse
            ]
        );
        let names: Vec<&str> = AlertCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names,
            [
                "visit_overdue",
                "goal_overdue",
                "referral_no_response",
                "repeated_absence",
                "caseload_over_max"
            ]
        );
    }
}

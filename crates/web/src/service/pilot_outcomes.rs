//! The pilot's administrative outcomes (issue 7, item 4) from Sanad's own lists: health-centre
//! visits and CNSS affiliation (formal employment), imported as dated lists like the
//! cross-check lists (`sanad_applications::lists`), and turned into per-household columns of
//! the analysis dataset over a follow-up window. Also the list import the pilot page offers.

use chrono::NaiveDate;
use sanad_applications::ListKind;
use sanad_applications::lists::{AffiliationRow, HealthVisitRow, ListRef};
use sanad_domain::{Household, Permission};
use sanad_store::Actor;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::auth::Principal;
use crate::error::WebError;

/// The lists the pilot's analysts import (not the verification lists, which stay with the
/// administrators' `sanad lists import`).
pub const OUTCOME_LISTS: [ListKind; 2] = [ListKind::HealthVisits, ListKind::CnssAffiliation];

/// The dates the administrative outcomes are measured over. `from` defaults to the design's
/// registration date; `to` to each list's `as_of` date (docs/formats.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// One imported outcome list: its reference and the window end it is read at.
struct Stored {
    kind: ListKind,
    to: NaiveDate,
}

/// Which outcome lists are imported, and the dates each is read over.
pub struct AdminOutcomes {
    from: NaiveDate,
    health: Option<Stored>,
    cnss: Option<Stored>,
}

impl AdminOutcomes {
    /// Read the imported lists' references; `registered` is the design's registration date.
    pub async fn load(
        s: &AppState,
        window: Window,
        registered: NaiveDate,
    ) -> Result<Self, WebError> {
        let from = window.from.unwrap_or(registered);
        let mut found = [None, None];
        for (slot, kind) in found.iter_mut().zip(OUTCOME_LISTS) {
            if let Some(meta) = s.store.list_meta(kind.code()).await? {
                let meta: ListRef = serde_json::from_str(&meta).map_err(corrupt)?;
                let to = window.to.unwrap_or(meta.as_of);
                if to < from {
                    return Err(WebError::Invalid(format!(
                        "the follow-up window ends ({to}) before it starts ({from})"
                    )));
                }
                *slot = Some(Stored { kind, to });
            }
        }
        let [health, cnss] = found;
        Ok(AdminOutcomes { from, health, cnss })
    }

    /// The columns these lists add to the analysis dataset, in order.
    pub fn header(&self) -> Vec<String> {
        let mut h = Vec::new();
        if self.health.is_some() {
            h.push("health_visits".to_owned());
        }
        if self.cnss.is_some() {
            h.extend([
                "formal_employed_members_bl".to_owned(),
                "formal_employed_members".into(),
                "any_formal_employment".into(),
            ]);
        }
        h
    }

    /// A household's cells for [`header`](Self::header): its members' visits in the window,
    /// and its members with an open CNSS affiliation at the window's start and end.
    pub async fn cells(&self, s: &AppState, h: &Household) -> Result<Vec<String>, WebError> {
        let idcs: Vec<String> = h.members.iter().map(|m| m.idcs.to_string()).collect();
        let mut cells = Vec::new();
        if let Some(l) = &self.health {
            let visits: Vec<HealthVisitRow> = rows(s, l.kind, &idcs).await?;
            cells.push(health_visits(&visits, self.from, l.to).to_string());
        }
        if let Some(l) = &self.cnss {
            let periods: Vec<AffiliationRow> = rows(s, l.kind, &idcs).await?;
            let at_end = employed_members(&periods, l.to);
            cells.extend([
                employed_members(&periods, self.from).to_string(),
                at_end.to_string(),
                u8::from(at_end > 0).to_string(),
            ]);
        }
        Ok(cells)
    }
}

/// Visits in `[from, to]` (the rows are the household's members' own).
pub fn health_visits(visits: &[HealthVisitRow], from: NaiveDate, to: NaiveDate) -> usize {
    visits.iter().filter(|v| v.within(from, to)).count()
}

/// Members with a CNSS affiliation open on `d` (a person with two open periods counts once).
pub fn employed_members(periods: &[AffiliationRow], d: NaiveDate) -> usize {
    let mut persons: Vec<&sanad_domain::Idcs> = periods
        .iter()
        .filter(|p| p.active_on(d))
        .map(|p| &p.idcs)
        .collect();
    persons.sort();
    persons.dedup();
    persons.len()
}

async fn rows<T: DeserializeOwned>(
    s: &AppState,
    kind: ListKind,
    idcs: &[String],
) -> Result<Vec<T>, WebError> {
    s.store
        .list_rows(kind.code(), idcs)
        .await?
        .into_iter()
        .map(|(_, body)| serde_json::from_str(&body).map_err(corrupt))
        .collect()
}

fn corrupt(e: serde_json::Error) -> WebError {
    WebError::Store(sanad_store::StoreError::Corrupt(format!(
        "outcome list: {e}"
    )))
}

/// What an applied outcome-list import stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ListImported {
    pub kind: String,
    pub as_of: NaiveDate,
    pub source: String,
    pub rows: usize,
}

/// Import a health-visit or CNSS-affiliation list (the kind from its header line), whole or
/// not at all: every rejected row as `FILE:LINE: FIELD: REASON`. It replaces the earlier
/// import of that list, audited by the store.
pub async fn import_outcome_list(
    s: &AppState,
    p: &Principal,
    actor: &Actor,
    file: &str,
    text: &str,
) -> Result<ListImported, WebError> {
    p.require(Permission::DesignsManage)?;
    let (meta, rows) = sanad_applications::lists::parse_any(file, text.as_bytes())
        .map_err(|v| WebError::Invalid(lines(&v)))?;
    if !OUTCOME_LISTS.contains(&meta.kind) {
        return Err(WebError::Invalid(format!(
            "{file}:1: list: '{}' is a verification list, imported by an administrator with `sanad lists import` (here: health_visits, cnss_affiliation)",
            meta.kind.code()
        )));
    }
    let meta_json = serde_json::to_string(&meta).map_err(|e| WebError::Invalid(e.to_string()))?;
    s.store
        .replace_list(meta.kind.code(), &meta_json, &rows, actor)
        .await?;
    Ok(ListImported {
        kind: meta.kind.code().to_owned(),
        as_of: meta.as_of,
        source: meta.source,
        rows: rows.len(),
    })
}

fn lines(errors: &[sanad_applications::lists::RowError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sanad_applications::lists::{EmployerType, VisitType};
    use sanad_domain::Idcs;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn visits_count_in_the_window_and_employment_counts_persons_open_on_the_day() {
        let a = Idcs::from_body(101);
        let b = Idcs::from_body(102);
        let visit = |idcs: &Idcs, on: &str| HealthVisitRow {
            idcs: idcs.clone(),
            visit_date: d(on),
            centre: "ESSP-03".into(),
            visit_type: VisitType::Consultation,
        };
        let visits = [
            visit(&a, "2026-12-31"),
            visit(&a, "2027-01-01"),
            visit(&b, "2027-06-30"),
            visit(&b, "2027-07-01"),
        ];
        assert_eq!(health_visits(&visits, d("2027-01-01"), d("2027-06-30")), 2);
        let period = |idcs: &Idcs, from: &str, to: Option<&str>| AffiliationRow {
            idcs: idcs.clone(),
            affiliated_from: d(from),
            affiliated_to: to.map(d),
            employer_type: EmployerType::Company,
        };
        let periods = [
            period(&a, "2026-01-01", Some("2027-02-28")),
            period(&a, "2027-03-01", None),
            period(&a, "2027-04-01", None),
            period(&b, "2027-05-01", Some("2027-05-31")),
        ];
        assert_eq!(employed_members(&periods, d("2027-01-15")), 1);
        assert_eq!(
            employed_members(&periods, d("2027-05-15")),
            2,
            "a person with two open periods counts once"
        );
        assert_eq!(employed_members(&periods, d("2027-06-30")), 1);
        assert_eq!(employed_members(&periods, d("2025-12-31")), 0);
    }
}

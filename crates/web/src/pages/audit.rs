//! The audit log for the auditor: browse with filters, verify the chain, export CSV.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use maud::html;
use sanad_store::AuditFilter;
use serde::Deserialize;

use super::layout;
use crate::auth::{Lang, Principal};
use crate::error::WebError;
use crate::{AppState, service};

/// The audit filters, shared by the page, the CSV export and the API.
#[derive(Deserialize, Default, utoipa::IntoParams)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    entity: Option<String>,
    entity_id: Option<String>,
    /// Inclusive lower bound on the time (`2026-11-29` or RFC 3339).
    from: Option<String>,
    /// Inclusive upper bound (a date includes the whole day).
    to: Option<String>,
    /// The sequence number of the last record of the previous page.
    pub before: Option<i64>,
}

impl AuditQuery {
    pub fn filter(&self) -> AuditFilter {
        let f = |v: &Option<String>| {
            v.as_ref()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        AuditFilter {
            actor: f(&self.actor),
            action: f(&self.action),
            entity: f(&self.entity),
            entity_id: f(&self.entity_id),
            from: f(&self.from),
            to: f(&self.to),
        }
    }
}

const PAGE: u32 = 100;

pub async fn list(
    State(s): State<AppState>,
    Lang(l): Lang,
    p: Principal,
    Query(q): Query<AuditQuery>,
) -> Result<Html<String>, WebError> {
    let filter = q.filter();
    let records = service::audit_records(&s, &p, &filter, q.before, PAGE).await?;
    let verification = sanad_store::audit::verify(&*s.store, None).await?;
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let content = html! {
        h1 { (l.t("audit.title")) }
        p.verdict.ok[verification.ok()].no[!verification.ok()] {
            @if verification.ok() { (l.tn("audit.verified", verification.records as i64)) } @else { (l.t("audit.broken")) }
        }
        @if !verification.ok() { ul.reasons { @for pb in &verification.problems { li { (pb) } } } }
        @if let Some(h) = &verification.head { p.hint { (l.t("audit.head")) " " code { (h) } } }
        form.filters method="get" action="/audit" {
            @for (name, val) in [("actor", v(&filter.actor)), ("action", v(&filter.action)), ("entity", v(&filter.entity)), ("entity_id", v(&filter.entity_id)), ("from", v(&filter.from)), ("to", v(&filter.to))] {
                label { (l.t(&format!("audit.{name}"))) input name=(name) value=(val); }
            }
            button type="submit" { (l.t("audit.filter")) }
            a.button href=(format!("/audit.csv?{}", query_of(&filter))) { (l.t("audit.export")) }
        }
        table.audit {
            thead { tr { th { "#" } th { (l.t("audit.at")) } th { (l.t("audit.actor")) } th { (l.t("audit.action")) } th { (l.t("audit.entity")) } th { (l.t("audit.before")) } th { (l.t("audit.after")) } th { (l.t("audit.request")) } } }
            tbody {
                @for r in &records {
                    tr { td { (r.seq) } td { (r.at) } td { (r.actor) } td { (r.action) } td { (r.entity) " " (r.entity_id) } td.json { (r.before.as_deref().unwrap_or("")) } td.json { (r.after.as_deref().unwrap_or("")) } td { code { (r.request_id) } } }
                }
            }
        }
        @if records.len() as u32 == PAGE {
            @if let Some(last) = records.last() { p { a href=(format!("/audit?{}&before={}", query_of(&filter), last.seq)) { (l.t("common.next_page")) } } }
        }
    };
    Ok(layout::page(
        l,
        Some(&p),
        l.t("audit.title"),
        "audit",
        content,
    ))
}

fn query_of(f: &AuditFilter) -> String {
    let pairs = [
        ("actor", &f.actor),
        ("action", &f.action),
        ("entity", &f.entity),
        ("entity_id", &f.entity_id),
        ("from", &f.from),
        ("to", &f.to),
    ];
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", super::urlencode(v))))
        .collect::<Vec<_>>()
        .join("&")
}

/// Every matching record as CSV (RFC 4180 quoting), newest first.
pub async fn export(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let filter = q.filter();
    let mut out = String::from(
        "seq,at,actor,action,entity,entity_id,region,before,after,request_id,prev_hash,hash\n",
    );
    let mut before = None;
    loop {
        let page = service::audit_records(&s, &p, &filter, before, 1000).await?;
        for r in &page {
            let cells = [
                r.seq.to_string(),
                r.at.clone(),
                r.actor.clone(),
                r.action.clone(),
                r.entity.clone(),
                r.entity_id.clone(),
                r.region.clone().unwrap_or_default(),
                r.before.clone().unwrap_or_default(),
                r.after.clone().unwrap_or_default(),
                r.request_id.clone(),
                r.prev_hash.clone(),
                r.hash.clone(),
            ];
            out.push_str(
                &cells
                    .iter()
                    .map(|c| csv_cell(c))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        }
        match page.last() {
            Some(last) if page.len() == 1000 => before = Some(last.seq),
            _ => break,
        }
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sanad-audit.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

fn csv_cell(s: &str) -> String {
    // A leading = + - @ would be a formula in a spreadsheet: quote and prefix it.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) || s.starts_with('\'') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

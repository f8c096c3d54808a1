//! The web edge. For now: a status page with the registry's size per region, a health
//! check and the same figures as JSON. Household pages arrive with authentication
//! (issue 4): no personal data is served before access control exists.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sanad_domain::Geography;
use sanad_store::{RegionCount, Scope, Store, StoreError};

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
}

/// The one mapping from errors to HTTP responses.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        // Details go to the log, never to the client.
        tracing::error!(error = %self, "request failed");
        let body = serde_json::json!({"type": "about:blank", "title": "Internal error", "status": 500});
        (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/health", get(|| async { "ok" }))
        .route("/api/v1/registry/regions", get(regions_json))
        .route("/assets/sanad.css", get(css))
        .with_state(state)
}

async fn css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../assets/sanad.css"))
}

async fn regions_json(State(s): State<AppState>) -> Result<Json<Vec<RegionCount>>, WebError> {
    Ok(Json(s.store.count_by_region(&Scope::National).await?))
}

async fn home(State(s): State<AppState>) -> Result<Html<String>, WebError> {
    let counts = s.store.count_by_region(&Scope::National).await?;
    Ok(Html(render_home(&counts)))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn render_home(counts: &[RegionCount]) -> String {
    let geo = Geography::get();
    let max = counts.iter().map(|c| c.households).max().unwrap_or(1).max(1);
    let rows: String = counts
        .iter()
        .map(|c| {
            let r = geo.region(c.region);
            let pct = c.households * 100 / max;
            format!(
                "<tr><td>{code}</td><td>{fr}</td><td lang=\"ar\" dir=\"rtl\">{ar}</td><td class=\"num\">{hh}</td><td class=\"num\">{p}</td>\
                 <td class=\"bar\"><span style=\"inline-size:{pct}%\"></span></td></tr>",
                code = c.region,
                fr = escape(&r.name_fr),
                ar = escape(&r.name_ar),
                hh = group(c.households),
                p = group(c.persons),
            )
        })
        .collect();
    let total_hh: i64 = counts.iter().map(|c| c.households).sum();
    let total_p: i64 = counts.iter().map(|c| c.persons).sum();
    format!(
        "<!doctype html><html lang=\"fr\" dir=\"ltr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sanad — Registre</title><link rel=\"stylesheet\" href=\"/assets/sanad.css\"></head><body>\
         <header><strong>Sanad</strong> <span>Aide sociale directe — registre des ménages</span></header><main>\
         <h1>Registre social unifié</h1>\
         <p class=\"totals\"><span><b>{}</b> ménages</span> <span><b>{}</b> personnes</span></p>\
         <table><thead><tr><th>Code</th><th>Région</th><th>الجهة</th><th class=\"num\">Ménages</th><th class=\"num\">Personnes</th><th>Répartition</th></tr></thead>\
         <tbody>{rows}</tbody></table>\
         <p class=\"note\">Les pages des ménages s'ouvrent après connexion (à venir). API : <code>/api/v1/registry/regions</code>.</p>\
         </main></body></html>",
        group(total_hh),
        group(total_p),
    )
}

/// `1234567` → `1 234 567` (French grouping with a narrow no-break space).
fn group(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Serve until Ctrl-C.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::group;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(1234567), "1\u{202f}234\u{202f}567");
        assert_eq!(group(-1000), "-1\u{202f}000");
    }
}

//! The web edge: server-rendered pages (htmx, no build step, assets embedded) and the JSON
//! API under `/api/v1/`, over any [`Store`]. Requests pass, in order: request id and
//! access log → security headers → authentication, CSRF and language → the handler.
//! Handlers check the role; the store applies the region or antenna scope.

pub mod api;
pub mod auth;
pub mod error;
pub mod i18n;
pub mod notify;
pub mod pages;
pub mod service;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sanad_rules::RuleBook;
use sanad_store::{RuleSetStatus, Store};

pub use auth::SecurityConfig;
pub use error::WebError;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub security: Arc<SecurityConfig>,
    pub limiter: Arc<auth::LoginLimiter>,
    /// Where released payment files go, and the agency as debtor.
    pub release: Arc<sanad_payroll::run::ReleaseConfig>,
    /// The notification templates and retry policy.
    pub notify: Arc<notify::NotifyConfig>,
    rules: Arc<RwLock<Option<(Instant, Arc<RuleBook>)>>>,
    /// A fixed date instead of the clock (the demo's history, tests).
    today: Option<chrono::NaiveDate>,
    /// How many applications a batch intake reads, decides or writes at a time.
    intake_part: usize,
}

/// How long a process trusts its copy of the rule book: approvals made by this process
/// replace it at once, those made by another server process are seen within this delay.
const RULE_BOOK_TTL: Duration = Duration::from_secs(5);

impl AppState {
    pub fn new(store: Arc<dyn Store>, security: SecurityConfig) -> AppState {
        let account = sanad_domain::Rib::parse(sanad_payroll::run::DEMO_DEBTOR_RIB)
            .expect("the demo RIB is valid");
        let release = sanad_payroll::run::ReleaseConfig::anss(
            "payments".into(),
            50_000,
            account,
            sanad_payroll::run::DEFAULT_DEBTOR_BIC,
        );
        AppState {
            store,
            security: Arc::new(security),
            limiter: Arc::default(),
            release: Arc::new(release),
            notify: Arc::default(),
            rules: Arc::default(),
            today: None,
            intake_part: service::PART,
        }
    }

    /// Take batches of applications `n` (at least 1) at a time instead of [`service::PART`].
    pub fn with_intake_part(mut self, n: usize) -> AppState {
        self.intake_part = n.max(1);
        self
    }

    /// How many applications a batch intake takes at a time.
    pub fn intake_part(&self) -> usize {
        self.intake_part
    }

    /// Payment files go where `cfg` says.
    pub fn with_release(mut self, cfg: sanad_payroll::run::ReleaseConfig) -> AppState {
        self.release = Arc::new(cfg);
        self
    }

    /// Work as if today were `day`: the demo takes its past months' applications this way.
    pub fn with_today(mut self, day: chrono::NaiveDate) -> AppState {
        self.today = Some(day);
        self
    }

    /// The date operations are taken on.
    pub fn today(&self) -> chrono::NaiveDate {
        self.today
            .unwrap_or_else(|| chrono::Local::now().date_naive())
    }

    /// Notices worded by these templates (an edited file overlaid on the defaults).
    pub fn with_notify(mut self, cfg: notify::NotifyConfig) -> AppState {
        self.notify = Arc::new(cfg);
        self
    }

    /// The rule book in force, from the cache when fresh.
    pub async fn rule_book(&self) -> Result<Arc<RuleBook>, WebError> {
        if let Some((at, book)) = self.rules.read().expect("rule cache lock").as_ref()
            && at.elapsed() < RULE_BOOK_TTL
        {
            return Ok(book.clone());
        }
        let book = Arc::new(self.load_rule_book().await?);
        *self.rules.write().expect("rule cache lock") = Some((Instant::now(), book.clone()));
        Ok(book)
    }

    /// Forget the cached rule book (after an approval).
    pub fn rules_changed(&self) {
        *self.rules.write().expect("rule cache lock") = None;
    }

    /// The rule sets in force: those shipped with Sanad and those approved in the database.
    async fn load_rule_book(&self) -> Result<RuleBook, WebError> {
        let stored = self.store.rule_sets().await?;
        let approved = stored
            .iter()
            .filter(|s| s.status == RuleSetStatus::Approved)
            .map(|s| s.body.as_str());
        RuleBook::in_force(approved).map_err(|e| {
            WebError::Store(sanad_store::StoreError::Corrupt(format!(
                "approved rule sets: {e}"
            )))
        })
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        .route("/health", get(|| async { "ok" }))
        .route(
            "/assets/sanad.css",
            get(|| {
                asset(
                    "text/css; charset=utf-8",
                    include_str!("../assets/sanad.css"),
                )
            }),
        )
        .route(
            "/assets/htmx.min.js",
            get(|| {
                asset(
                    "text/javascript; charset=utf-8",
                    include_str!("../assets/htmx.min.js"),
                )
            }),
        )
        .route(
            "/assets/report.css",
            get(|| {
                asset(
                    "text/css; charset=utf-8",
                    sanad_evaluation::report::FRAGMENT_STYLESHEET,
                )
            }),
        )
        .route(
            "/assets/sanad.js",
            get(|| {
                asset(
                    "text/javascript; charset=utf-8",
                    include_str!("../assets/sanad.js"),
                )
            }),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(middleware::from_fn(request_log))
        .with_state(state)
}

async fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

/// The request id, for the audit log and for support.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// One log line per request: method, route path, status, time, request id. Never the
/// query string or body, which can hold names and ID numbers.
async fn request_log(mut req: Request, next: Next) -> Response {
    let id = auth::random_hex(8);
    req.extensions_mut().insert(RequestId(id.clone()));
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let start = Instant::now();
    let mut res = next.run(req).await;
    // Household paths carry an RSU id: log the route shape only.
    let shown = if path.starts_with("/households/") || path.starts_with("/api/v1/households/") {
        "…/households/{id}"
    } else if path.starts_with("/pilot/cases/") {
        "/pilot/cases/{id}…"
    } else {
        path.as_str()
    };
    tracing::info!(%method, path = shown, status = res.status().as_u16(), ms = start.elapsed().as_millis() as u64, request_id = %id);
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// A Content-Security-Policy with no inline script or style, and the usual hardening.
async fn security_headers(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    if s.security.secure_cookies {
        set(
            h,
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
    res
}

/// Serve until Ctrl-C, with client addresses for login rate limiting.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

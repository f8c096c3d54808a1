//! The one mapping from failures to HTTP. Every error leaves as
//! `application/problem+json`; the pages layer ([`crate::pages::html_errors`]) turns those
//! into a page in the user's language, and a 401 into a redirect to the login form.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sanad_store::StoreError;

use crate::i18n::Locale;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Store(StoreError),
    #[error("authentication required")]
    Unauthenticated,
    #[error("not allowed for this role")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("invalid CSRF token")]
    Csrf,
    #[error("too many attempts: try again later")]
    TooManyRequests,
    /// Bad input, with a message that names the field.
    #[error("{0}")]
    Invalid(String),
    /// A request the rules refuse (maker-checker, a state that does not allow it).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Conflict(String),
    /// A refusal or bad input people read in their language: `key` names the message in
    /// `i18n/*.txt` (its `{name}` placeholders filled from `args`); `detail` is the English
    /// text the API gives. The problem+json carries both (`detail`, and `i18n: {key, args}`).
    #[error("{detail}")]
    Localized {
        status: StatusCode,
        key: &'static str,
        args: Vec<(&'static str, String)>,
        detail: String,
    },
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            // Another region's household is simply not there for this user.
            StoreError::NotFound(_) => WebError::NotFound,
            StoreError::Refused(m) => WebError::Refused(m),
            StoreError::Conflict(m) => WebError::Conflict(format!("already exists: {m}")),
            other => WebError::Store(other),
        }
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::Unauthenticated => StatusCode::UNAUTHORIZED,
            WebError::Forbidden | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            WebError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Refused(_) | WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Localized { status, .. } => *status,
        }
    }

    /// The title shown to people, by status.
    pub fn title(status: StatusCode, l: Locale) -> &'static str {
        match status.as_u16() {
            401 => l.t("error.401"),
            403 => l.t("error.403"),
            404 => l.t("error.404"),
            409 => l.t("error.409"),
            422 => l.t("error.422"),
            429 => l.t("error.429"),
            _ => l.t("error.500"),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        // Database details go to the log (without personal data: errors carry ids at most).
        let detail = match &self {
            WebError::Store(e) => {
                tracing::error!(error = %e, "request failed");
                None
            }
            WebError::Invalid(m)
            | WebError::Refused(m)
            | WebError::Conflict(m)
            | WebError::Localized { detail: m, .. } => Some(m.clone()),
            _ => None,
        };
        let mut body = serde_json::json!({"type": "about:blank", "title": WebError::title(status, Locale::En), "status": status.as_u16()});
        if let Some(d) = detail {
            body["detail"] = d.into();
        }
        if let WebError::Localized { key, args, .. } = &self {
            let args: serde_json::Map<String, serde_json::Value> = args
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone().into()))
                .collect();
            body["i18n"] = serde_json::json!({"key": key, "args": args});
        }
        let mut res = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"sanad\""),
            );
        }
        res
    }
}

//! Who is asking: a person with a session cookie, or a system with an API token.
//!
//! Sessions: a random 256-bit id in an HttpOnly, SameSite=Strict cookie (Secure unless the
//! server runs as a plain-HTTP demo); the store keeps only its SHA-256. A new id is issued
//! at every login; idle and absolute timeouts end it. Each session has a CSRF token that
//! every state-changing request must echo (form field `_csrf` or header `X-CSRF-Token`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sanad_domain::{Permission, Role};
use sanad_store::{Scope, User};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::WebError;
use crate::i18n::Locale;

pub const SESSION_COOKIE: &str = "sanad_session";
pub const LANG_COOKIE: &str = "sanad_lang";

/// Limits a deployment may tune; the defaults suit an agency office.
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// Mark cookies `Secure` (off only for the plain-HTTP local demo).
    pub secure_cookies: bool,
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
    /// Consecutive failed logins that lock an account, and for how long.
    pub max_failures: i64,
    pub lockout: Duration,
    /// Login attempts allowed per client address per window.
    pub login_attempts_per_window: u32,
    pub login_window: Duration,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            secure_cookies: true,
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 3600),
            max_failures: 5,
            lockout: Duration::from_secs(15 * 60),
            login_attempts_per_window: 20,
            login_window: Duration::from_secs(5 * 60),
        }
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Session { id_hash: String, csrf: String },
    Token { id: String, scopes: Vec<String> },
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
    pub locale: Locale,
    pub via: Via,
}

/// The API token scope that carries a permission.
pub fn token_scope(p: Permission) -> &'static str {
    match p {
        Permission::HouseholdRead | Permission::NationalIds => "households:read",
        Permission::Aggregates => "stats:read",
        Permission::RulesRead => "rules:read",
        Permission::RulesPropose | Permission::RulesApprove => "rules:write",
        Permission::UsersManage => "users:admin",
        Permission::AuditRead => "audit:read",
        Permission::PayrollRead => "payroll:read",
        Permission::PayrollPrepare | Permission::PayrollApprove => "payroll:write",
        Permission::ApplicationsIntake | Permission::Outbox => "applications:write",
        // Case work is done in the pages only: no token can be issued with this scope.
        Permission::DeliveryReport => "notify:delivery",
        Permission::CasesManage | Permission::CasesReassign => "cases:write",
        // Pilot administration is done in the pages and the CLI only, like case work.
        Permission::DesignsManage | Permission::PilotConfigure => "pilot:write",
    }
}

pub const TOKEN_SCOPES: [&str; 10] = [
    "households:read",
    "stats:read",
    "rules:read",
    "rules:write",
    "users:admin",
    "audit:read",
    "payroll:read",
    "payroll:write",
    "applications:write",
    "notify:delivery",
];

impl Principal {
    pub fn can(&self, p: Permission) -> bool {
        self.role.can(p)
            && match &self.via {
                Via::Session { .. } => true,
                Via::Token { scopes, .. } => scopes.iter().any(|s| s == token_scope(p)),
            }
    }

    pub fn require(&self, p: Permission) -> Result<(), WebError> {
        if self.can(p) {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            Via::Token { .. } => "",
        }
    }

    /// National ID numbers as this user may see them.
    pub fn id_number(&self, id: &str) -> String {
        if self.can(Permission::NationalIds) {
            id.to_owned()
        } else {
            sanad_domain::mask_id(id)
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, WebError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(WebError::Unauthenticated)
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Principal {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Principal>().cloned())
    }
}

/// The language of the response: the user's setting, else the language cookie, else
/// `Accept-Language`, else French.
#[derive(Debug, Clone, Copy)]
pub struct Lang(pub Locale);

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Lang>()
            .copied()
            .unwrap_or(Lang(Locale::Fr)))
    }
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system provides randomness");
    sanad_store::audit::hex(&buf)
}

pub fn sha256_hex(s: &str) -> String {
    sanad_store::audit::hex(&Sha256::digest(s.as_bytes()))
}

pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes), which follow OWASP's advice.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system provides randomness");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Passwords people choose: long enough to resist guessing, nothing more prescriptive.
pub fn check_password_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < 10 {
        return Err("password: at least 10 characters".into());
    }
    Ok(())
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

pub fn set_cookie(name: &str, value: &str, max_age: Option<Duration>, secure: bool) -> String {
    let age = max_age
        .map(|d| format!("; Max-Age={}", d.as_secs()))
        .unwrap_or_default();
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{age}{secure}")
}

/// Resolve the caller, enforce CSRF, pick the language; attach both to the request.
pub async fn authenticate(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let principal = match resolve(&s, req.headers()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let lang = principal
        .as_ref()
        .map(|p| p.locale)
        .or_else(|| cookie(req.headers(), LANG_COOKIE).and_then(Locale::parse))
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language)
        })
        .unwrap_or(Locale::Fr);
    req.extensions_mut().insert(Lang(lang));
    let ip = client_ip(req.extensions());
    req.extensions_mut().insert(ip);
    // The login form carries its own token (bound to a cookie), also when a session is open.
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && req.uri().path() != "/login";
    if let Some(p) = principal {
        if unsafe_method && let Via::Session { csrf, .. } = &p.via {
            match check_csrf(req, csrf).await {
                Ok(r) => req = r,
                Err(e) => return e.into_response(),
            }
        }
        req.extensions_mut().insert(p);
    }
    next.run(req).await
}

async fn resolve(s: &AppState, headers: &HeaderMap) -> Result<Option<Principal>, WebError> {
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        // A presented but invalid token is an error, not an anonymous request.
        return token_principal(s, auth).await.map(Some);
    }
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    session_principal(s, id).await
}

async fn session_principal(s: &AppState, id: &str) -> Result<Option<Principal>, WebError> {
    let id_hash = sha256_hex(id);
    let Some((session, user)) = s.store.session_user(&id_hash).await? else {
        return Ok(None);
    };
    let now = now_secs();
    let c = &s.security;
    let expired = now - session.last_seen > c.idle_timeout.as_secs() as i64
        || now - session.created_at > c.absolute_timeout.as_secs() as i64;
    if expired || !user.active {
        s.store.delete_session(&id_hash).await?;
        return Ok(None);
    }
    if now - session.last_seen >= 60 {
        s.store.touch_session(&id_hash, now).await?;
    }
    Ok(Some(principal_of(
        user,
        Via::Session {
            id_hash,
            csrf: session.csrf,
        },
    )))
}

/// `Authorization: Bearer sanad_<id>_<secret>`.
async fn token_principal(s: &AppState, auth: &str) -> Result<Principal, WebError> {
    let parsed = auth
        .strip_prefix("Bearer ")
        .and_then(|t| t.trim().strip_prefix("sanad_"))
        .and_then(|t| t.split_once('_'));
    let Some((id, secret)) = parsed else {
        return Err(WebError::Unauthenticated);
    };
    let token = s
        .store
        .token(id)
        .await?
        .filter(|t| !t.revoked && constant_time_eq(&t.secret_hash, &sha256_hex(secret)));
    let Some(token) = token else {
        return Err(WebError::Unauthenticated);
    };
    let user = s
        .store
        .user(&token.username)
        .await?
        .filter(|u| u.active)
        .ok_or(WebError::Unauthenticated)?;
    Ok(principal_of(
        user,
        Via::Token {
            id: token.id,
            scopes: token.scopes,
        },
    ))
}

fn principal_of(u: User, via: Via) -> Principal {
    Principal {
        locale: Locale::parse(&u.locale).unwrap_or(Locale::Fr),
        username: u.username,
        display_name: u.display_name,
        role: u.role,
        scope: u.scope,
        via,
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Forms are read here (and put back) so every handler is covered without asking for it.
async fn check_csrf(req: Request, expected: &str) -> Result<Request, WebError> {
    if let Some(h) = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        return if constant_time_eq(h, expected) {
            Ok(req)
        } else {
            Err(WebError::Csrf)
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(WebError::Csrf);
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 4 << 20)
        .await
        .map_err(|_| WebError::Invalid("form too large".into()))?;
    let token = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|b| b.split('&').find_map(|kv| kv.strip_prefix("_csrf=")));
    if !token.is_some_and(|t| constant_time_eq(t, expected)) {
        return Err(WebError::Csrf);
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Login attempts per client address, in fixed windows (in memory: one server process).
#[derive(Debug, Default)]
pub struct LoginLimiter {
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl LoginLimiter {
    pub fn allow(&self, ip: IpAddr, c: &SecurityConfig) -> bool {
        let mut seen = self.seen.lock().expect("limiter lock");
        let now = Instant::now();
        seen.retain(|_, (start, _)| now.duration_since(*start) < c.login_window);
        let entry = seen.entry(ip).or_insert((now, 0));
        entry.1 += 1;
        entry.1 <= c.login_attempts_per_window
    }
}

/// The client's address (unspecified when the server runs without connection info, in tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

fn client_ip(ext: &axum::http::Extensions) -> ClientIp {
    ClientIp(
        ext.get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse battery!"));
        assert!(!verify_password("not a hash", "x"));
        assert_ne!(hash_password("same"), hash_password("same"), "salted");
    }

    #[test]
    fn limiter_counts_per_address() {
        let c = SecurityConfig {
            login_attempts_per_window: 2,
            ..Default::default()
        };
        let l = LoginLimiter::default();
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        assert!(l.allow(a, &c) && l.allow(a, &c) && !l.allow(a, &c));
        assert!(l.allow(b, &c));
    }

    #[test]
    fn cookies_are_found_and_set_safely() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; sanad_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        let c = set_cookie(SESSION_COOKIE, "x", None, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(!set_cookie(SESSION_COOKIE, "x", None, false).contains("Secure"));
    }
}

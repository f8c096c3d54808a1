//! Users, sessions and API tokens as stored. Password hashing, cookies and policy live at
//! the web edge; the store keeps rows and enforces uniqueness.

use async_trait::async_trait;
use sanad_domain::Role;
use serde::Serialize;

use crate::audit::Actor;
use crate::{Result, Scope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
    /// `fr`, `ar` or `en`.
    pub locale: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub failed_logins: i64,
    /// Unix seconds until which logins are refused.
    pub locked_until: Option<i64>,
    pub active: bool,
    pub created_at: String,
}

/// What the audit log records of a user: never the password hash.
#[derive(Debug, Clone, Serialize)]
pub struct UserView<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: &'static str,
    pub scope: String,
    pub locale: &'a str,
    pub active: bool,
}

impl User {
    pub fn view(&self) -> UserView<'_> {
        UserView {
            username: &self.username,
            display_name: &self.display_name,
            role: self.role.as_str(),
            scope: self.scope.to_string(),
            locale: &self.locale,
            active: self.active,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    pub username: String,
    pub csrf: String,
    pub created_at: i64,
    pub last_seen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: String,
    #[serde(skip)]
    pub secret_hash: String,
    pub name: String,
    /// The user the token acts as: its role and scope bound what the token may do.
    pub username: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub revoked: bool,
}

/// The outcome of a password check, recorded so repeated failures lock the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginAttempt {
    Succeeded,
    /// Failed: lock until `lock_until` once `failed_logins` reaches `max_failures`.
    Failed {
        now: i64,
        max_failures: i64,
        lock_until: i64,
    },
}

#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Create a user; `Conflict` if the username is taken. Audited.
    async fn create_user(&self, user: &User, actor: &Actor) -> Result<()>;
    async fn user(&self, username: &str) -> Result<Option<User>>;
    async fn users(&self) -> Result<Vec<User>>;
    /// Replace a user's role, scope, locale, name, active flag and password hash. Audited
    /// with the before and after states (without the hash).
    async fn update_user(&self, user: &User, actor: &Actor) -> Result<()>;
    /// Count a failure (locking the account at the limit) or reset the count.
    async fn record_login(&self, username: &str, attempt: LoginAttempt) -> Result<()>;

    async fn create_session(&self, s: &Session) -> Result<()>;
    async fn session(&self, id_hash: &str) -> Result<Option<Session>>;
    /// A session with its user, in one round trip (every authenticated request asks).
    async fn session_user(&self, id_hash: &str) -> Result<Option<(Session, User)>>;
    async fn touch_session(&self, id_hash: &str, now: i64) -> Result<()>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    /// Delete every session of a user (after a password or role change).
    async fn delete_sessions_of(&self, username: &str) -> Result<()>;

    /// Audited; the secret hash is never written to the log.
    async fn create_token(&self, t: &ApiToken, actor: &Actor) -> Result<()>;
    async fn token(&self, id: &str) -> Result<Option<ApiToken>>;
    async fn tokens(&self) -> Result<Vec<ApiToken>>;
    async fn revoke_token(&self, id: &str, actor: &Actor) -> Result<()>;
}

pub mod sql {
    pub const USER_INSERT: &str = "INSERT INTO users (username, display_name, role, scope, locale, password_hash, failed_logins, locked_until, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    pub const USER_UPDATE: &str = "UPDATE users SET display_name = $2, role = $3, scope = $4, locale = $5, password_hash = $6, failed_logins = $7, locked_until = $8, active = $9 WHERE username = $1";
    pub const USER_GET: &str = "SELECT * FROM users WHERE username = $1";
    pub const USERS: &str = "SELECT * FROM users ORDER BY username";
    pub const LOGIN_OK: &str =
        "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE username = $1";
    pub const LOGIN_FAILED: &str = "UPDATE users SET failed_logins = failed_logins + 1, \
         locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END WHERE username = $1";
    pub const SESSION_INSERT: &str = "INSERT INTO sessions (id_hash, username, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $5)";
    pub const SESSION_GET: &str = "SELECT * FROM sessions WHERE id_hash = $1";
    /// Session columns under their own names, user columns as in `users`.
    pub const SESSION_USER: &str = "SELECT s.id_hash, s.csrf, s.created_at AS session_created_at, s.last_seen, u.* \
         FROM sessions s JOIN users u ON u.username = s.username WHERE s.id_hash = $1";
    pub const SESSION_TOUCH: &str = "UPDATE sessions SET last_seen = $2 WHERE id_hash = $1";
    pub const SESSION_DELETE: &str = "DELETE FROM sessions WHERE id_hash = $1";
    pub const SESSIONS_OF_DELETE: &str = "DELETE FROM sessions WHERE username = $1";
    pub const TOKEN_INSERT: &str = "INSERT INTO api_tokens (id, secret_hash, name, username, scopes, created_at, revoked) VALUES ($1, $2, $3, $4, $5, $6, 0)";
    pub const TOKEN_GET: &str = "SELECT * FROM api_tokens WHERE id = $1";
    pub const TOKENS: &str = "SELECT * FROM api_tokens ORDER BY created_at, id";
    pub const TOKEN_REVOKE: &str = "UPDATE api_tokens SET revoked = 1 WHERE id = $1";
}

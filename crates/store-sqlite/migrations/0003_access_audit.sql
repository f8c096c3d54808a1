-- Users, their sessions and API tokens; the hash-chained audit log.
CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    scope         TEXT NOT NULL,
    locale        TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until  BIGINT,
    active        BIGINT NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL
);

-- The session id itself is never stored: only its SHA-256, so a copy of the table
-- cannot be replayed as cookies.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES users (username),
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (username);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    name        TEXT NOT NULL,
    username    TEXT NOT NULL REFERENCES users (username),
    scopes      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked     BIGINT NOT NULL DEFAULT 0
);

-- Append-only: each record carries the hash of the one before (see sanad_store::audit).
CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    region     TEXT,
    before     TEXT,
    after      TEXT,
    request_id TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);

-- Shared by both backends. The notification outbox: one row per message to a household, its
-- rendered text in the household's language, and what happened to it. `id` is chosen by the
-- caller from what the message is about (`receipt:<receipt number>`…), so enqueueing the same
-- notice twice keeps one message. Status: queued (never tried), failed (an attempt failed, a
-- retry is due at next_attempt_at), sent, dead (given up), delivered (reported by the gateway).
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    rsu_id          TEXT NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient       TEXT NOT NULL,
    language        TEXT NOT NULL CHECK (language IN ('fr', 'ar')),
    template        TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'failed', 'sent', 'dead', 'delivered')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    delivery_id     TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_household ON outbox (rsu_id, created_at);

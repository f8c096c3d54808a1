-- Shared by both backends. Gateway delivery reports: a sent message is found by the delivery
-- id the gateway gave it, and keeps the time the gateway reported it delivered.
ALTER TABLE outbox ADD COLUMN delivered_at TEXT;
CREATE INDEX outbox_delivery ON outbox (delivery_id);

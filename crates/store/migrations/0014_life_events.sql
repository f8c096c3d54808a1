-- Shared by both backends. Life events and declarations as declared (the event as JSON), in
-- the order they were recorded; the household row holds their result.
CREATE TABLE life_events (
    id          BIGINT PRIMARY KEY,
    rsu_id      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    effective   TEXT NOT NULL,
    declared_on TEXT NOT NULL,
    body        TEXT NOT NULL,
    declared_by TEXT NOT NULL
);
CREATE INDEX life_events_household ON life_events (rsu_id, id);
CREATE INDEX life_events_effective ON life_events (effective);

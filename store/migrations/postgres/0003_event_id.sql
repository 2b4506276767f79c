-- Events are keyed by their event.id (deterministic: a re-run of the same
-- capture gives the same ids), so a re-replay or an output's redelivery
-- inserts nothing twice. Rows stored before this version, and records
-- without an id, have a NULL event_id, which the unique indexes let repeat.
ALTER TABLE flows ADD COLUMN event_id TEXT;
CREATE UNIQUE INDEX flows_event_id ON flows (event_id);
ALTER TABLE alerts ADD COLUMN event_id TEXT;
CREATE UNIQUE INDEX alerts_event_id ON alerts (event_id);
ALTER TABLE events ADD COLUMN event_id TEXT;
CREATE UNIQUE INDEX events_event_id ON events (event_id);

-- Traffic buckets are added into the series, so the ids of the bucket
-- events already added are kept here, for as long as the 1 s series keeps
-- its seconds (ts: bucket start, Unix seconds).
CREATE TABLE traffic_events (
    event_id TEXT   NOT NULL PRIMARY KEY,
    ts       BIGINT NOT NULL
);
CREATE INDEX traffic_events_ts ON traffic_events (ts);

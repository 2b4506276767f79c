-- The unique key that drops redeliveries is (ts, event_id) instead of
-- (event_id, ts): the same pairs are unique, but the ids are hashes, so
-- each new row of the old key went to a random leaf of a large index (a
-- page to find, lock and log anew after every checkpoint), while new rows
-- of the new key, in about time order, go to the right edge as those of
-- the (ts, id) index do. Nothing looks rows up by event_id alone. The
-- Community ID index serves equality only (community_id = ?, List): a
-- hash index costs an insert about half of what the btree did. It leaves
-- out the rows without a Community ID (a hash index degrades with many
-- equal keys); List adds community_id <> '' so the planner can use it.
DROP INDEX flows_event_id;
CREATE UNIQUE INDEX flows_event_id ON flows (ts, event_id);
DROP INDEX alerts_event_id;
CREATE UNIQUE INDEX alerts_event_id ON alerts (ts, event_id);
DROP INDEX events_event_id;
CREATE UNIQUE INDEX events_event_id ON events (ts, event_id);
DROP INDEX flows_community_id;
CREATE INDEX flows_community_id ON flows USING hash (community_id) WHERE community_id <> '';
DROP INDEX events_community_id;
CREATE INDEX events_community_id ON events USING hash (community_id) WHERE community_id <> '';

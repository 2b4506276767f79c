-- Each index of the flows table costs every insert; two served nothing a
-- (ts, event_id) index does not (about 1 and 1.3 µs of PostgreSQL's CPU a
-- flow row in BenchmarkCollectToPostgres):
-- * the primary key (id, ts) of flows and events: nothing looks their rows
--   up by id (alerts, acknowledged by id, keep theirs); ids stay unique,
--   drawn from the identity sequence;
-- * flows_ts (ts, id): List orders by (ts, id), which the unique key
--   (ts, event_id) gives in ts order with the rare rows of one ts sorted by
--   id (an incremental sort; TestListQueriesUseIndexes).
-- SQLite and MySQL keep theirs: their rows are clustered on id, and SQLite
-- has no incremental sort.
DO $$
DECLARE
    t TEXT;
    n TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['flows', 'events'] LOOP
        SELECT conname INTO n FROM pg_constraint WHERE conrelid = to_regclass(t) AND contype = 'p';
        IF n IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, n);
        END IF;
    END LOOP;
END $$;
DROP INDEX flows_ts;

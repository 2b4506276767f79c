-- The number of day partitions is bounded (maxDayPartitions a table, as on
-- MySQL): events whose days are past the bound (times spread over years,
-- by accident or on purpose) land in a default partition, <table>_pdefault,
-- whose rows retention deletes row by row. A day whose rows are in the
-- default partition gets no partition of its own later (PostgreSQL would
-- have to move them): its rows keep landing there until retention takes
-- them.
CREATE TABLE flows_pdefault PARTITION OF flows DEFAULT;
CREATE TABLE alerts_pdefault PARTITION OF alerts DEFAULT;
CREATE TABLE events_pdefault PARTITION OF events DEFAULT;

CREATE OR REPLACE FUNCTION ps_ensure_partition(tbl TEXT, ts_ns BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    n    BIGINT := floor(ts_ns::NUMERIC / 86400000000000)::BIGINT; -- days since 1970-01-01
    lo   BIGINT := n * 86400000000000;
    hi   TEXT := CASE WHEN lo > 9223372036854775807 - 86400000000000 THEN 'MAXVALUE'
                      ELSE (lo + 86400000000000)::TEXT END;
    name TEXT := tbl || '_p' || to_char(DATE '1970-01-01' + n::INTEGER, 'YYYYMMDD');
BEGIN
    IF to_regclass(quote_ident(name)) IS NOT NULL THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)', name, tbl, lo, hi);
EXCEPTION WHEN duplicate_table OR unique_violation THEN
    RETURN;
WHEN check_violation THEN
    RETURN; -- the default partition holds rows of that day: they stay there
END $$;

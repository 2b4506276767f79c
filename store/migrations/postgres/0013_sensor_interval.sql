-- the time between a sensor's two newest stats reports (ns, the event.duration
-- of the newest): the Sensors page marks it stale after a few of them
ALTER TABLE sensors ADD COLUMN report_interval BIGINT NOT NULL DEFAULT 0;

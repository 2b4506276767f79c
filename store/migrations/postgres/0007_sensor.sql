-- Each row names the sensor that saw it (observer.name; agent.id for an
-- event without a name), so a central store's lists, reports and traffic
-- series can be narrowed to one sensor. Rows of older versions have ''.
ALTER TABLE flows ADD COLUMN sensor TEXT NOT NULL DEFAULT '';
CREATE INDEX flows_sensor ON flows (sensor, ts);
ALTER TABLE alerts ADD COLUMN sensor TEXT NOT NULL DEFAULT '';
CREATE INDEX alerts_sensor ON alerts (sensor, ts);
ALTER TABLE events ADD COLUMN sensor TEXT NOT NULL DEFAULT '';
CREATE INDEX events_sensor ON events (sensor, ts);

-- traffic buckets add up per sensor and interface
ALTER TABLE traffic ADD COLUMN sensor TEXT NOT NULL DEFAULT '';
ALTER TABLE traffic DROP CONSTRAINT traffic_pkey, ADD PRIMARY KEY (res, ts, sensor, iface);

-- when the store wrote each sensor's newest report (Unix ns, its clock):
-- minus the report's @timestamp, how far the central store lags behind the
-- sensor (Kafka, the collector, the database together)
ALTER TABLE sensors ADD COLUMN stored_at BIGINT NOT NULL DEFAULT 0;

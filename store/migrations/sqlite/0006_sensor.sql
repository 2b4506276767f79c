-- Each row names the sensor that saw it (observer.name; agent.id for an
-- event without a name), so a central store's lists, reports and traffic
-- series can be narrowed to one sensor. Rows of older versions have ''.
ALTER TABLE flows ADD COLUMN sensor TEXT NOT NULL DEFAULT '';
CREATE INDEX flows_sensor ON flows (sensor, ts);
ALTER TABLE alerts ADD COLUMN sensor TEXT NOT NULL DEFAULT '';
CREATE INDEX alerts_sensor ON alerts (sensor, ts);
ALTER TABLE events ADD COLUMN sensor TEXT NOT NULL DEFAULT '';
CREATE INDEX events_sensor ON events (sensor, ts);

-- Traffic buckets add up per sensor and interface: the key gains the
-- sensor, which SQLite cannot change in place, so the table is rebuilt.
CREATE TABLE traffic_v6 (
    res         INTEGER NOT NULL,
    ts          BIGINT  NOT NULL,
    sensor      TEXT    NOT NULL DEFAULT '',
    iface       TEXT    NOT NULL DEFAULT '',
    packets     BIGINT  NOT NULL DEFAULT 0,
    bytes       BIGINT  NOT NULL DEFAULT 0,
    flows       BIGINT  NOT NULL DEFAULT 0,
    bytes_tcp   BIGINT  NOT NULL DEFAULT 0,
    bytes_udp   BIGINT  NOT NULL DEFAULT 0,
    bytes_icmp  BIGINT  NOT NULL DEFAULT 0,
    bytes_other BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (res, ts, sensor, iface)
);
INSERT INTO traffic_v6 (res, ts, iface, packets, bytes, flows, bytes_tcp, bytes_udp, bytes_icmp, bytes_other)
    SELECT res, ts, iface, packets, bytes, flows, bytes_tcp, bytes_udp, bytes_icmp, bytes_other FROM traffic;
DROP TABLE traffic;
ALTER TABLE traffic_v6 RENAME TO traffic;

-- when the store wrote each sensor's newest report (Unix ns, its clock):
-- minus the report's @timestamp, how far the central store lags behind the
-- sensor (Kafka, the collector, the database together)
ALTER TABLE sensors ADD COLUMN stored_at BIGINT NOT NULL DEFAULT 0;

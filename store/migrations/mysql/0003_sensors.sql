-- The sensors of a fleet, as their packetsleuth.stats events (the whole
-- sensor's, every stats.interval) describe them: one row per agent.id, the
-- newest report kept. The Sensors page and /api/v1/sensors read it; a
-- sensor whose last report is old is stale.
CREATE TABLE sensors (
    agent_id       VARCHAR(255) NOT NULL PRIMARY KEY, -- agent.id (observer.name for a sensor without one)
    name           VARCHAR(1024) NOT NULL DEFAULT '',  -- observer.name
    site           VARCHAR(1024) NOT NULL DEFAULT '',  -- observer.geo.name
    hostname       VARCHAR(1024) NOT NULL DEFAULT '',
    version        VARCHAR(1024) NOT NULL DEFAULT '',
    first_seen     BIGINT  NOT NULL,             -- Unix ns of the first report
    last_seen      BIGINT  NOT NULL,             -- Unix ns of the newest report
    packets        BIGINT  NOT NULL DEFAULT 0,
    drops          BIGINT  NOT NULL DEFAULT 0,   -- kernel + interface + sensor drops
    output_drops   BIGINT  NOT NULL DEFAULT 0,
    events         BIGINT  NOT NULL DEFAULT 0,
    uptime_seconds BIGINT  NOT NULL DEFAULT 0
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

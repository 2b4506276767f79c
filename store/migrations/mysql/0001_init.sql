-- PacketSleuth history store on MySQL/MariaDB: the schema of the latest
-- PostgreSQL version in one step (the backend starts there).
-- Times are Unix nanoseconds (ts, ts_start) or Unix seconds (traffic.ts).
--
-- The event tables are partitioned by day of ts: each partition p<YYYYMMDD>
-- holds the rows before the end of its day that no earlier partition holds,
-- and pmax the rest. The writer splits a day off pmax before its first row
-- (pmax is empty then: cheap); a row of a day older than the newest
-- partition lands in the next partition, so dropping the partitions wholly
-- before the retention cut drops no newer row. Unique keys hold the
-- partition key: rows are keyed by (event_id, ts), the same as event_id
-- alone since an event's id covers its @timestamp. Indexed text columns are
-- VARCHAR (MySQL indexes no TEXT without a prefix); the inserts are INSERT
-- IGNORE, so a longer value (a hostile interface name) is cut, not an
-- error that would stop every batch behind it.

CREATE TABLE flows (
    id           BIGINT       NOT NULL AUTO_INCREMENT,
    ts           BIGINT       NOT NULL,
    ts_start     BIGINT       NOT NULL,
    src_ip       VARCHAR(64)  NOT NULL DEFAULT '',
    src_port     INTEGER      NOT NULL DEFAULT 0,
    dst_ip       VARCHAR(64)  NOT NULL DEFAULT '',
    dst_port     INTEGER      NOT NULL DEFAULT 0,
    transport    VARCHAR(32)  NOT NULL DEFAULT '',
    protocol     VARCHAR(32)  NOT NULL DEFAULT '',
    bytes        BIGINT       NOT NULL DEFAULT 0,
    packets      BIGINT       NOT NULL DEFAULT 0,
    src_bytes    BIGINT       NOT NULL DEFAULT 0,
    src_packets  BIGINT       NOT NULL DEFAULT 0,
    dst_bytes    BIGINT       NOT NULL DEFAULT 0,
    dst_packets  BIGINT       NOT NULL DEFAULT 0,
    community_id VARCHAR(64)  NOT NULL DEFAULT '',
    state        VARCHAR(16)  NOT NULL DEFAULT '',
    src_country  VARCHAR(8)   NOT NULL DEFAULT '',
    dst_country  VARCHAR(8)   NOT NULL DEFAULT '',
    src_asn      BIGINT       NOT NULL DEFAULT 0,
    dst_asn      BIGINT       NOT NULL DEFAULT 0,
    doc          LONGTEXT     NOT NULL,
    event_id     VARCHAR(64),
    PRIMARY KEY (id, ts),
    UNIQUE KEY flows_event_id (event_id, ts),
    KEY flows_ts (ts, id),
    KEY flows_src_ip (src_ip, ts),
    KEY flows_dst_ip (dst_ip, ts),
    KEY flows_community_id (community_id)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin
  PARTITION BY RANGE (ts) (PARTITION pmax VALUES LESS THAN MAXVALUE);

CREATE TABLE alerts (
    id           BIGINT       NOT NULL AUTO_INCREMENT,
    ts           BIGINT       NOT NULL,
    rule_id      VARCHAR(255) NOT NULL DEFAULT '',
    rule_name    TEXT         NOT NULL,
    severity     INTEGER      NOT NULL DEFAULT 0,
    src_ip       VARCHAR(64)  NOT NULL DEFAULT '',
    src_port     INTEGER      NOT NULL DEFAULT 0,
    dst_ip       VARCHAR(64)  NOT NULL DEFAULT '',
    dst_port     INTEGER      NOT NULL DEFAULT 0,
    transport    VARCHAR(32)  NOT NULL DEFAULT '',
    protocol     VARCHAR(32)  NOT NULL DEFAULT '',
    community_id VARCHAR(64)  NOT NULL DEFAULT '',
    acknowledged INTEGER      NOT NULL DEFAULT 0,
    doc          LONGTEXT     NOT NULL,
    event_id     VARCHAR(64),
    PRIMARY KEY (id, ts),
    UNIQUE KEY alerts_event_id (event_id, ts),
    KEY alerts_ts (ts, id),
    KEY alerts_rule (rule_id, ts)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin
  PARTITION BY RANGE (ts) (PARTITION pmax VALUES LESS THAN MAXVALUE);

CREATE TABLE events (
    id           BIGINT       NOT NULL AUTO_INCREMENT,
    ts           BIGINT       NOT NULL,
    dataset      VARCHAR(64)  NOT NULL,
    src_ip       VARCHAR(64)  NOT NULL DEFAULT '',
    src_port     INTEGER      NOT NULL DEFAULT 0,
    dst_ip       VARCHAR(64)  NOT NULL DEFAULT '',
    dst_port     INTEGER      NOT NULL DEFAULT 0,
    transport    VARCHAR(32)  NOT NULL DEFAULT '',
    protocol     VARCHAR(32)  NOT NULL DEFAULT '',
    community_id VARCHAR(64)  NOT NULL DEFAULT '',
    doc          LONGTEXT     NOT NULL,
    event_id     VARCHAR(64),
    PRIMARY KEY (id, ts),
    UNIQUE KEY events_event_id (event_id, ts),
    KEY events_dataset_ts (dataset, ts, id),
    KEY events_community_id (community_id)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin
  PARTITION BY RANGE (ts) (PARTITION pmax VALUES LESS THAN MAXVALUE);

CREATE TABLE traffic (
    res         INTEGER      NOT NULL,
    ts          BIGINT       NOT NULL,
    iface       VARCHAR(255) NOT NULL DEFAULT '',
    packets     BIGINT       NOT NULL DEFAULT 0,
    bytes       BIGINT       NOT NULL DEFAULT 0,
    flows       BIGINT       NOT NULL DEFAULT 0,
    bytes_tcp   BIGINT       NOT NULL DEFAULT 0,
    bytes_udp   BIGINT       NOT NULL DEFAULT 0,
    bytes_icmp  BIGINT       NOT NULL DEFAULT 0,
    bytes_other BIGINT       NOT NULL DEFAULT 0,
    PRIMARY KEY (res, ts, iface)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE traffic_events (
    event_id VARCHAR(64) NOT NULL PRIMARY KEY,
    ts       BIGINT      NOT NULL,
    KEY traffic_events_ts (ts)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE audit (
    id        BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ts        BIGINT       NOT NULL,
    action    VARCHAR(32)  NOT NULL,
    user_name TEXT         NOT NULL,
    role      VARCHAR(32)  NOT NULL DEFAULT '',
    client    TEXT         NOT NULL,
    target    TEXT         NOT NULL,
    KEY audit_ts (ts, id)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- PacketSleuth history store, version 1 (SQLite).
-- Times are Unix nanoseconds (ts, ts_start) or Unix seconds (traffic.ts),
-- so the same queries run unchanged on SQLite and PostgreSQL.

CREATE TABLE flows (
    id           INTEGER PRIMARY KEY,
    ts           BIGINT  NOT NULL,            -- @timestamp (flow end)
    ts_start     BIGINT  NOT NULL,            -- event.start
    src_ip       TEXT    NOT NULL DEFAULT '',
    src_port     INTEGER NOT NULL DEFAULT 0,
    dst_ip       TEXT    NOT NULL DEFAULT '',
    dst_port     INTEGER NOT NULL DEFAULT 0,
    transport    TEXT    NOT NULL DEFAULT '',
    protocol     TEXT    NOT NULL DEFAULT '',
    bytes        BIGINT  NOT NULL DEFAULT 0,
    packets      BIGINT  NOT NULL DEFAULT 0,
    src_bytes    BIGINT  NOT NULL DEFAULT 0,
    src_packets  BIGINT  NOT NULL DEFAULT 0,
    dst_bytes    BIGINT  NOT NULL DEFAULT 0,
    dst_packets  BIGINT  NOT NULL DEFAULT 0,
    community_id TEXT    NOT NULL DEFAULT '',
    state        TEXT    NOT NULL DEFAULT '',
    src_country  TEXT    NOT NULL DEFAULT '',
    dst_country  TEXT    NOT NULL DEFAULT '',
    src_asn      BIGINT  NOT NULL DEFAULT 0,
    dst_asn      BIGINT  NOT NULL DEFAULT 0,
    doc          TEXT    NOT NULL
);
CREATE INDEX flows_ts ON flows (ts, id);
CREATE INDEX flows_src_ip ON flows (src_ip, ts);
CREATE INDEX flows_dst_ip ON flows (dst_ip, ts);
CREATE INDEX flows_community_id ON flows (community_id);

CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY,
    ts           BIGINT  NOT NULL,
    rule_id      TEXT    NOT NULL DEFAULT '',
    rule_name    TEXT    NOT NULL DEFAULT '',
    severity     INTEGER NOT NULL DEFAULT 0,
    src_ip       TEXT    NOT NULL DEFAULT '',
    src_port     INTEGER NOT NULL DEFAULT 0,
    dst_ip       TEXT    NOT NULL DEFAULT '',
    dst_port     INTEGER NOT NULL DEFAULT 0,
    transport    TEXT    NOT NULL DEFAULT '',
    protocol     TEXT    NOT NULL DEFAULT '',
    community_id TEXT    NOT NULL DEFAULT '',
    acknowledged INTEGER NOT NULL DEFAULT 0,
    doc          TEXT    NOT NULL
);
CREATE INDEX alerts_ts ON alerts (ts, id);
CREATE INDEX alerts_rule ON alerts (rule_id, ts);

CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    ts           BIGINT  NOT NULL,
    dataset      TEXT    NOT NULL,
    src_ip       TEXT    NOT NULL DEFAULT '',
    src_port     INTEGER NOT NULL DEFAULT 0,
    dst_ip       TEXT    NOT NULL DEFAULT '',
    dst_port     INTEGER NOT NULL DEFAULT 0,
    transport    TEXT    NOT NULL DEFAULT '',
    protocol     TEXT    NOT NULL DEFAULT '',
    community_id TEXT    NOT NULL DEFAULT '',
    doc          TEXT    NOT NULL
);
CREATE INDEX events_dataset_ts ON events (dataset, ts, id);
CREATE INDEX events_community_id ON events (community_id);

CREATE TABLE traffic (
    res         INTEGER NOT NULL,            -- bucket width in seconds: 1, 60, 3600
    ts          BIGINT  NOT NULL,            -- bucket start, Unix seconds
    iface       TEXT    NOT NULL DEFAULT '',
    packets     BIGINT  NOT NULL DEFAULT 0,
    bytes       BIGINT  NOT NULL DEFAULT 0,
    flows       BIGINT  NOT NULL DEFAULT 0,
    bytes_tcp   BIGINT  NOT NULL DEFAULT 0,
    bytes_udp   BIGINT  NOT NULL DEFAULT 0,
    bytes_icmp  BIGINT  NOT NULL DEFAULT 0,
    bytes_other BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (res, ts, iface)
);

-- The columns of flows that only repeated their document (PostgreSQL
-- migration 15).
ALTER TABLE flows DROP COLUMN ts_start, DROP COLUMN src_bytes, DROP COLUMN src_packets,
    DROP COLUMN dst_bytes, DROP COLUMN dst_packets, DROP COLUMN state, DROP COLUMN dst_country,
    DROP COLUMN src_asn, DROP COLUMN dst_asn;

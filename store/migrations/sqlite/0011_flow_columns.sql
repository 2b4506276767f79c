-- The columns of flows that only repeated their document (PostgreSQL
-- migration 15).
ALTER TABLE flows DROP COLUMN ts_start;
ALTER TABLE flows DROP COLUMN src_bytes;
ALTER TABLE flows DROP COLUMN src_packets;
ALTER TABLE flows DROP COLUMN dst_bytes;
ALTER TABLE flows DROP COLUMN dst_packets;
ALTER TABLE flows DROP COLUMN state;
ALTER TABLE flows DROP COLUMN dst_country;
ALTER TABLE flows DROP COLUMN src_asn;
ALTER TABLE flows DROP COLUMN dst_asn;

-- Nine columns of flows only repeated their document: no query reads them
-- (the lists return doc; Top groups and sums by the addresses, ports,
-- protocol, transport, source country, bytes and packets), yet every row
-- paid for them in the COPY, the heap and its WAL. Dropping a column is
-- instant here; old rows keep the bytes until rewritten.
ALTER TABLE flows DROP COLUMN ts_start, DROP COLUMN src_bytes, DROP COLUMN src_packets,
    DROP COLUMN dst_bytes, DROP COLUMN dst_packets, DROP COLUMN state, DROP COLUMN dst_country,
    DROP COLUMN src_asn, DROP COLUMN dst_asn;

-- The DHCP leases the sensors' host tables took (packetsleuth.dhcp events
-- with packetsleuth.dhcp.lease): one row per sensor and address, the
-- newest lease kept (a late older one changes nothing); a RELEASE or
-- DECLINE ends it early. GET /api/v1/hosts and the Hosts page read it.
CREATE TABLE hosts (
    sensor      VARCHAR(128)  NOT NULL,             -- the sensor column of its events
    ip          VARCHAR(64)   NOT NULL,             -- the leased address
    mac         VARCHAR(64)   NOT NULL DEFAULT '',  -- ECS notation
    hostname    VARCHAR(1024) NOT NULL DEFAULT '',  -- option 12 or the DHCPv6 FQDN
    protocol    VARCHAR(16)   NOT NULL DEFAULT '',  -- dhcp or dhcpv6
    lease_start BIGINT        NOT NULL,             -- Unix ns of the granting message
    lease_end   BIGINT        NOT NULL DEFAULT 0,   -- Unix ns; 0: no end (infinite lease)
    ended_by    VARCHAR(16)   NOT NULL DEFAULT '',  -- released: a RELEASE or DECLINE ended it at lease_end
    PRIMARY KEY (sensor, ip)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

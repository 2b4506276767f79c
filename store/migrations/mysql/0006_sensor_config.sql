-- the fleet set of rules and intel each sensor runs (its content hash) and
-- why the newest one published was refused, from its stats reports
ALTER TABLE sensors ADD COLUMN config_version VARCHAR(255) NOT NULL DEFAULT '';
ALTER TABLE sensors ADD COLUMN config_error VARCHAR(1024) NOT NULL DEFAULT '';

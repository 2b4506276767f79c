-- The flows and DPI events tables take most of a fleet's rows, and each of
-- their indexes costs every insert (about a tenth of PostgreSQL's time of a
-- COPY each): their sensor column is not indexed. A query of one sensor
-- reads the time range through the ts (or dataset, ts) index and keeps that
-- sensor's rows; alerts, far fewer, keep their (sensor, ts) index.
DROP INDEX flows_sensor;
DROP INDEX events_sensor;

package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// sensorsUpsert keeps the newest report of each sensor (a redelivered or
// late older report changes nothing).
const sensorsUpsert = `INSERT INTO sensors (agent_id, name, site, hostname, version, first_seen, last_seen,
		packets, drops, output_drops, events, uptime_seconds, stored_at, config_version, config_error, report_interval)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (agent_id) DO UPDATE SET
		name = excluded.name, site = excluded.site, hostname = excluded.hostname, version = excluded.version,
		last_seen = excluded.last_seen, stored_at = excluded.stored_at,
		packets = excluded.packets, drops = excluded.drops, output_drops = excluded.output_drops,
		events = excluded.events, uptime_seconds = excluded.uptime_seconds,
		config_version = excluded.config_version, config_error = excluded.config_error,
		report_interval = excluded.report_interval
		WHERE excluded.last_seen > sensors.last_seen`

// sensorsUpsertMySQL is sensorsUpsert for MySQL, which has no WHERE on an
// upsert: every column keeps its value unless the report is newer, and
// last_seen, assigned last, is compared before it changes.
const sensorsUpsertMySQL = `INSERT IGNORE INTO sensors (agent_id, name, site, hostname, version, first_seen, last_seen,
		packets, drops, output_drops, events, uptime_seconds, stored_at, config_version, config_error, report_interval)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE
		name = IF(VALUES(last_seen) > last_seen, VALUES(name), name),
		site = IF(VALUES(last_seen) > last_seen, VALUES(site), site),
		hostname = IF(VALUES(last_seen) > last_seen, VALUES(hostname), hostname),
		version = IF(VALUES(last_seen) > last_seen, VALUES(version), version),
		packets = IF(VALUES(last_seen) > last_seen, VALUES(packets), packets),
		drops = IF(VALUES(last_seen) > last_seen, VALUES(drops), drops),
		output_drops = IF(VALUES(last_seen) > last_seen, VALUES(output_drops), output_drops),
		events = IF(VALUES(last_seen) > last_seen, VALUES(events), events),
		uptime_seconds = IF(VALUES(last_seen) > last_seen, VALUES(uptime_seconds), uptime_seconds),
		stored_at = IF(VALUES(last_seen) > last_seen, VALUES(stored_at), stored_at),
		config_version = IF(VALUES(last_seen) > last_seen, VALUES(config_version), config_version),
		config_error = IF(VALUES(last_seen) > last_seen, VALUES(config_error), config_error),
		report_interval = IF(VALUES(last_seen) > last_seen, VALUES(report_interval), report_interval),
		first_seen = LEAST(first_seen, VALUES(first_seen)),
		last_seen = GREATEST(last_seen, VALUES(last_seen))`

// sensorValues are the sensors columns of a whole-sensor stats report. A
// report stamped ahead of the store's clock counts as of that clock: as
// last_seen it would outrank every later report of a sensor whose clock was
// wrong once, and keep the row from retention (a producer could fill the
// table with sensors that never expire).
func (r *row) sensorValues() []any {
	key := cut(r.sensorKey(), maxSensorKey)
	st := &r.PS.Stats
	now := time.Now().UnixNano()
	ts := min(r.Timestamp.UnixNano(), now)
	version := r.Agent.Version
	if version == "" {
		version = r.Observer.Version
	}
	return []any{key, r.sensorName(), r.Observer.Geo.Name, r.Observer.Hostname, version, ts, ts,
		st.Packets, st.KernelDrops + st.IfDrops + st.SensorDrops, st.OutputDrops, st.Events, st.UptimeSeconds, now,
		cut(st.ConfigVersion, 255), cut(st.ConfigError, 1024), max(r.Event.Duration, 0)}
}

// maxSensorKey is the longest agent_id MySQL's column holds: every driver
// cuts a longer one the same way, so that the id admitSensors looks up is
// the one stored.
const maxSensorKey = 255

// cut shortens s to at most n bytes, on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// sensorKey names the sensor of a report: its agent.id, else its
// observer.name or hostname (a sensor older than agent.id).
func (r *row) sensorKey() string {
	for _, k := range []string{r.Agent.ID, r.Observer.Name, r.Observer.Hostname} {
		if k != "" {
			return k
		}
	}
	return ""
}

// sensorName is what the sensor column of r's row holds: observer.name,
// else its hostname or agent.id (an event of a sensor without a name).
func (r *row) sensorName() string {
	for _, k := range []string{r.Observer.Name, r.Observer.Hostname, r.Agent.ID} {
		if k != "" {
			return k
		}
	}
	return ""
}

// Sensor is a sensor of the fleet as its newest stats report describes it.
type Sensor struct {
	ID            string    `json:"id"`   // agent.id
	Name          string    `json:"name"` // observer.name (else hostname, agent.id): the sensor column of its events, what Range.Sensor selects
	Site          string    `json:"site,omitempty"`
	Hostname      string    `json:"hostname,omitempty"`
	Version       string    `json:"version,omitempty"`
	FirstSeen     time.Time `json:"first_seen"`
	LastSeen      time.Time `json:"last_seen"` // the newest report (heartbeat)
	Packets       int64     `json:"packets"`
	Drops         int64     `json:"drops"` // kernel, interface and sensor drops
	OutputDrops   int64     `json:"output_drops"`
	Events        int64     `json:"events"`
	UptimeSeconds int64     `json:"uptime_seconds"`
	// StoredAt is when the store wrote the newest report, by its clock;
	// StoredAt − LastSeen is how far the central store lags behind the
	// sensor (Kafka, the collector and the database together).
	StoredAt time.Time `json:"stored_at"`
	// ConfigVersion is the fleet set of rules and intel in force (its
	// content hash); ConfigError why the newest set published was refused.
	ConfigVersion string `json:"config_version,omitempty"`
	ConfigError   string `json:"config_error,omitempty"`
	// ReportInterval is the time between the sensor's two newest reports
	// (the event.duration of the newest; 0 when unknown): the Sensors page
	// marks a sensor stale after a few of them.
	ReportInterval time.Duration `json:"-"`
}

// Sensors lists the sensors that reported, by name.
func (s *Store) Sensors(ctx context.Context) ([]Sensor, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT agent_id, name, site, hostname, version, first_seen, last_seen,
		packets, drops, output_drops, events, uptime_seconds, stored_at, config_version, config_error, report_interval FROM sensors ORDER BY name, agent_id`)
	if err != nil {
		return nil, fmt.Errorf("store: sensors: %w", err)
	}
	defer rows.Close()
	var out []Sensor
	for rows.Next() {
		var x Sensor
		var first, last, stored int64
		if err := rows.Scan(&x.ID, &x.Name, &x.Site, &x.Hostname, &x.Version, &first, &last,
			&x.Packets, &x.Drops, &x.OutputDrops, &x.Events, &x.UptimeSeconds, &stored, &x.ConfigVersion, &x.ConfigError, &x.ReportInterval); err != nil {
			return nil, err
		}
		x.FirstSeen, x.LastSeen, x.StoredAt = time.Unix(0, first).UTC(), time.Unix(0, last).UTC(), time.Unix(0, stored).UTC()
		out = append(out, x)
	}
	return out, rows.Err()
}

// addSensors upserts the sensors' reports of a batch.
func addSensors(rows [][]any, exec func(table string, args ...any) (int64, error), st *InsertStats) error {
	for _, r := range rows {
		if _, err := exec("sensors", r...); err != nil {
			return fmt.Errorf("store: insert into sensors: %w", err)
		}
		st.Sensors++
	}
	return nil
}

// sensorCache is the agent ids the sensors table is known to hold, so that
// the reports of known sensors, nearly all of them, cost admitSensors no
// query.
type sensorCache struct {
	mu    sync.Mutex
	known map[string]bool
}

// forget empties the cache (retention deleted sensors).
func (c *sensorCache) forget() {
	c.mu.Lock()
	c.known = nil
	c.mu.Unlock()
}

// admitSensors keeps the reports (sensorValues rows) of the sensors the
// table holds and of as many new ones as it has room for below
// Config.MaxSensors. The reports of the others are left out and counted in
// st (their events are stored all the same), so that a producer inventing
// agent ids cannot grow the table and the Sensors page without bound.
// Writers in other processes (several collectors) may each take the room
// left at once: the bound is exact for one writer and overrun by at most
// one batch's new sensors for each other writer.
func (s *Store) admitSensors(ctx context.Context, rows [][]any, st *InsertStats) ([][]any, error) {
	c := &s.sensors
	c.mu.Lock()
	defer c.mu.Unlock()
	var unknown []string
	seen := map[string]bool{}
	for _, r := range rows {
		if id := r[0].(string); !c.known[id] && !seen[id] {
			seen[id] = true
			unknown = append(unknown, id)
		}
	}
	if len(unknown) == 0 {
		return rows, nil
	}
	if c.known == nil {
		c.known = map[string]bool{}
	}
	for ids := range slices.Chunk(unknown, 500) {
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		rs, err := s.db.QueryContext(ctx, s.rebind("SELECT agent_id FROM sensors WHERE agent_id IN (?"+strings.Repeat(", ?", len(ids)-1)+")"), args...)
		if err != nil {
			return nil, fmt.Errorf("store: sensors: %w", err)
		}
		for rs.Next() {
			var id string
			if err := rs.Scan(&id); err != nil {
				rs.Close()
				return nil, err
			}
			c.known[id] = true
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, fmt.Errorf("store: sensors: %w", err)
		}
	}
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sensors").Scan(&n); err != nil {
		return nil, fmt.Errorf("store: sensors: %w", err)
	}
	room := s.cfg.MaxSensors - n
	refused := map[string]bool{}
	for _, id := range unknown {
		switch {
		case c.known[id]: // the table holds it
		case room > 0:
			c.known[id] = true
			room--
		default:
			refused[id] = true
		}
	}
	if len(refused) == 0 {
		return rows, nil
	}
	kept := rows[:0]
	for _, r := range rows {
		if id := r[0].(string); refused[id] {
			st.SensorsRefused++
			st.RefusedSensor = id
			continue
		}
		kept = append(kept, r)
	}
	return kept, nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// Resolutions of the traffic series, in seconds.
var Resolutions = []time.Duration{time.Second, time.Minute, time.Hour}

// rowColumns are the columns of the event tables, in the order of
// row.values.
var rowColumns = map[string][]string{
	"flows": {"ts", "src_ip", "src_port", "dst_ip", "dst_port", "transport", "protocol",
		"bytes", "packets", "community_id", "src_country", "doc", "event_id", "sensor"},
	"alerts": {"ts", "rule_id", "rule_name", "severity", "src_ip", "src_port", "dst_ip", "dst_port",
		"transport", "protocol", "community_id", "doc", "event_id", "sensor"},
	"events": {"ts", "dataset", "src_ip", "src_port", "dst_ip", "dst_port", "transport", "protocol",
		"community_id", "doc", "event_id", "sensor"},
}

var insertSQL = map[string]string{
	"flows":  rowInsert("flows"),
	"alerts": rowInsert("alerts"),
	"events": rowInsert("events"),
	// A bucket event's id is recorded before its bucket is added, so a
	// re-replay adds nothing twice.
	"sensors":        sensorsUpsert,
	"hosts":          hostsUpsert,
	"hosts_release":  hostsRelease,
	"traffic_events": `INSERT INTO traffic_events (event_id, ts) VALUES (?, ?) ON CONFLICT DO NOTHING`,
	// Buckets of several workers with the same time, sensor and interface
	// add up.
	"traffic": `INSERT INTO traffic (res, ts, sensor, iface, packets, bytes, flows, bytes_tcp, bytes_udp, bytes_icmp, bytes_other)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (res, ts, sensor, iface) DO UPDATE SET
		packets = traffic.packets + excluded.packets,
		bytes = traffic.bytes + excluded.bytes,
		flows = traffic.flows + excluded.flows,
		bytes_tcp = traffic.bytes_tcp + excluded.bytes_tcp,
		bytes_udp = traffic.bytes_udp + excluded.bytes_udp,
		bytes_icmp = traffic.bytes_icmp + excluded.bytes_icmp,
		bytes_other = traffic.bytes_other + excluded.bytes_other`,
}

// rowInsert is the keyed insert of one row of an event table: a row whose
// event.id is stored already is not written again.
func rowInsert(table string) string {
	cols := rowColumns[table]
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ") ON CONFLICT DO NOTHING"
}

func (s *Store) prepare(ctx context.Context) error {
	for table, q := range insertSQL {
		s.insertQ[table] = s.rebind(q)
		st, err := s.db.PrepareContext(ctx, s.insertQ[table])
		if err != nil {
			return fmt.Errorf("store: prepare %s insert: %w", table, err)
		}
		s.stmts[table] = st
	}
	return nil
}

// row is the part of an event the tables index; the rest stays in doc.
type row struct {
	Timestamp time.Time `json:"@timestamp"`
	Observer  struct {
		Name     string `json:"name"`
		Hostname string `json:"hostname"`
		Version  string `json:"version"`
		Geo      struct {
			Name string `json:"name"`
		} `json:"geo"`
	} `json:"observer"`
	Agent struct {
		ID      string `json:"id"`
		Version string `json:"version"`
	} `json:"agent"`
	Event struct {
		ID       string `json:"id"`
		Kind     string `json:"kind"`
		Dataset  string `json:"dataset"`
		Severity int    `json:"severity"`
		Duration int64  `json:"duration"` // ns; of a stats report: since the sensor's previous one
	} `json:"event"`
	Network struct {
		Transport   string `json:"transport"`
		Protocol    string `json:"protocol"`
		Bytes       int64  `json:"bytes"`
		Packets     int64  `json:"packets"`
		CommunityID string `json:"community_id"`
	} `json:"network"`
	Source struct {
		endpoint
		Geo struct {
			Country string `json:"country_iso_code"`
		} `json:"geo"`
	} `json:"source"`
	Destination endpoint `json:"destination"`
	Rule        struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"rule"`
	PS struct {
		Traffic schemas.Traffic `json:"traffic"`
		DHCP    struct {
			Lease schemas.DHCPLease `json:"lease"`
		} `json:"dhcp"`
		Stats schemas.Stats `json:"stats"`
	} `json:"packetsleuth"`
}

type endpoint struct {
	IP   string `json:"ip"`
	Port int    `json:"port"`
}

// InsertStats counts what one Insert did.
type InsertStats struct {
	Flows, Alerts, Events, Buckets int // rows written (buckets: 1 s records)
	Sensors                        int // whole-sensor stats reports (the sensors table keeps each one's newest)
	Hosts                          int // DHCP leases granted or ended (the hosts table)
	Skipped                        int // records of datasets not kept
	// Duplicates are records whose event.id the store already holds (a
	// re-replay, a redelivery): not written again.
	Duplicates int
	// SensorsRefused are whole-sensor reports of new sensors left out as
	// the sensors table holds Config.MaxSensors (see admitSensors);
	// RefusedSensor is the agent.id of the last of them.
	SensorsRefused int
	RefusedSensor  string
}

// Insert writes a batch in one transaction: flows, alerts, DPI events and
// traffic buckets (added into the 1 s, 1 min and 1 h series). Records of
// datasets the config does not keep are skipped. A record whose JSON cannot
// be decoded fails the batch with a *RecordError. Records are keyed by
// event.id: one the store already holds is counted in Duplicates, not
// written again (records without an id are always written). PostgreSQL
// gets the rows with COPY (see insertCopy), MySQL with multi-row inserts
// (insertMulti), SQLite row by row with prepared statements.
func (s *Store) Insert(ctx context.Context, batch []schemas.Record) (InsertStats, error) {
	rows, buckets, st, bad := s.decodeBatch(batch)
	if len(bad) > 0 {
		return st, bad[0]
	}
	return s.write(ctx, rows, buckets, st)
}

// insertValid is Insert writing the records that decode and returning
// those that do not (the Sink dead-letters them), in one decoding of the
// batch however many are bad.
func (s *Store) insertValid(ctx context.Context, batch []schemas.Record) (InsertStats, []*RecordError, error) {
	rows, buckets, st, bad := s.decodeBatch(batch)
	st, err := s.write(ctx, rows, buckets, st)
	return st, bad, err
}

// write writes a decoded batch with the driver's way of inserting.
func (s *Store) write(ctx context.Context, rows map[string][][]any, buckets []row, st InsertStats) (InsertStats, error) {
	if len(rows["sensors"]) > 0 {
		kept, err := s.admitSensors(ctx, rows["sensors"], &st)
		if err != nil {
			return st, err
		}
		rows["sensors"] = kept
	}
	switch s.driver {
	case Postgres:
		return s.insertCopy(ctx, rows, buckets, st)
	case MySQL:
		return s.insertMulti(ctx, rows, buckets, st)
	}
	return s.insertRows(ctx, rows, buckets, st)
}

// insertRows is Insert on SQLite.
func (s *Store) insertRows(ctx context.Context, rows map[string][][]any, buckets []row, st InsertStats) (InsertStats, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return st, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	stmts := map[string]*sql.Stmt{} // bound to tx on first use
	exec := func(table string, args ...any) (int64, error) {
		st := stmts[table]
		if st == nil {
			st = tx.StmtContext(ctx, s.stmts[table])
			stmts[table] = st
		}
		res, err := st.ExecContext(ctx, args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	for _, table := range eventTables {
		for _, r := range rows[table] {
			n, err := exec(table, r...)
			if err != nil {
				return st, fmt.Errorf("store: insert into %s: %w", table, err)
			}
			st.add(table, int(n), 1-int(n))
		}
	}
	if err := addAggregates(buckets, rows, exec, &st); err != nil {
		return st, err
	}
	if err := tx.Commit(); err != nil {
		return st, fmt.Errorf("store: commit: %w", err)
	}
	return st, nil
}

// decode reads rec's indexed fields into r.
func (r *row) decode(rec *schemas.Record, i int) *RecordError {
	if err := r.decodeJSON(rec.JSON); err != nil {
		return &RecordError{Index: i, Err: err}
	}
	if !rec.Time.IsZero() {
		r.Timestamp = rec.Time
	}
	return nil
}

// decodeJSON reads doc's indexed fields into r.
func (r *row) decodeJSON(doc []byte) error {
	*r = row{}
	if !r.fastDecode(doc) {
		*r = row{}
		return json.Unmarshal(doc, r)
	}
	return nil
}

// values are the column values of r's row in table, in rowColumns order;
// the document as received when raw (PostgreSQL's COPY, which sends it
// before rec's buffer may be reused: no copy), else as a string.
func (r *row) values(table string, rec *schemas.Record, raw bool) []any {
	ts := r.Timestamp
	var doc any = rec.JSON
	if !raw {
		doc = string(rec.JSON)
	}
	var id any // NULL without an id
	if r.Event.ID != "" {
		id = r.Event.ID
	}
	sensor := r.sensorName()
	src, dst := &r.Source, &r.Destination
	switch table {
	case "flows":
		return []any{ts.UnixNano(), src.IP, src.Port, dst.IP, dst.Port,
			r.Network.Transport, r.Network.Protocol, r.Network.Bytes, r.Network.Packets,
			r.Network.CommunityID, src.Geo.Country, doc, id, sensor}
	case "alerts":
		return []any{ts.UnixNano(), r.Rule.ID, r.Rule.Name, r.Event.Severity,
			src.IP, src.Port, dst.IP, dst.Port, r.Network.Transport, r.Network.Protocol, r.Network.CommunityID, doc, id, sensor}
	default:
		return []any{ts.UnixNano(), rec.Dataset, src.IP, src.Port, dst.IP, dst.Port,
			r.Network.Transport, r.Network.Protocol, r.Network.CommunityID, doc, id, sensor}
	}
}

// addBuckets adds a traffic bucket event into the three series, unless its
// id says it was added already. exec runs the insert of a table and returns
// the rows it affected.
func (r *row) addBuckets(exec func(table string, args ...any) (int64, error), st *InsertStats) error {
	ts := r.Timestamp
	if r.Event.ID != "" {
		n, err := exec("traffic_events", r.Event.ID, ts.Unix())
		if err != nil {
			return fmt.Errorf("store: insert into traffic_events: %w", err)
		}
		if n == 0 {
			st.Duplicates++
			return nil
		}
	}
	t := &r.PS.Traffic
	var tcp, udp, icmp, other int64
	for p, n := range t.BytesByProtocol {
		switch p {
		case "tcp":
			tcp += n
		case "udp":
			udp += n
		case "icmp", "ipv6-icmp", "icmpv6":
			icmp += n
		default:
			other += n
		}
	}
	for _, level := range Resolutions {
		sec := int64(level / time.Second)
		bucket := ts.Unix() - mod(ts.Unix(), sec)
		if _, err := exec("traffic", sec, bucket, r.sensorName(), t.Interface, t.Packets, t.Bytes, t.Flows, tcp, udp, icmp, other); err != nil {
			return fmt.Errorf("store: insert into traffic: %w", err)
		}
	}
	st.Buckets++
	return nil
}

// addAggregates adds what a batch adds to instead of inserting, whatever
// the driver: its traffic bucket events (see addBuckets), the sensors'
// newest reports and the DHCP leases (rows of decodeBatch).
func addAggregates(buckets []row, rows map[string][][]any, exec func(table string, args ...any) (int64, error), st *InsertStats) error {
	for i := range buckets {
		if err := buckets[i].addBuckets(exec, st); err != nil {
			return err
		}
	}
	if err := addSensors(rows["sensors"], exec, st); err != nil {
		return err
	}
	return addHosts(rows["hosts"], exec, st)
}

// merge adds o's counts to st.
func (st *InsertStats) merge(o InsertStats) {
	st.Flows += o.Flows
	st.Alerts += o.Alerts
	st.Events += o.Events
	st.Buckets += o.Buckets
	st.Sensors += o.Sensors
	st.Hosts += o.Hosts
	st.Skipped += o.Skipped
	st.Duplicates += o.Duplicates
	if o.SensorsRefused > 0 {
		st.SensorsRefused += o.SensorsRefused
		st.RefusedSensor = o.RefusedSensor
	}
}

// add counts rows written to and duplicates dropped from an event table.
func (st *InsertStats) add(table string, written, dups int) {
	switch table {
	case "flows":
		st.Flows += written
	case "alerts":
		st.Alerts += written
	case "events":
		st.Events += written
	}
	st.Duplicates += dups
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// tableOf says where a record goes ("" = not kept).
func (s *Store) tableOf(rec *schemas.Record) string {
	if rec.Kind == "alert" {
		return s.tables[schemas.DatasetAlert]
	}
	return s.tables[rec.Dataset]
}

// tablesOf maps each event.dataset of the kept datasets to its table,
// once at Open rather than per record.
func tablesOf(datasets []string) map[string]string {
	m := make(map[string]string, len(datasets))
	for _, d := range datasets {
		ds := datasetOf(d)
		switch ds {
		case schemas.DatasetFlow:
			m[ds] = "flows"
		case schemas.DatasetAlert:
			m[ds] = "alerts"
		case schemas.DatasetTimeseries:
			m[ds] = "traffic"
		case schemas.DatasetStats:
			m[ds] = "sensors"
		case schemas.DatasetDHCP:
			m[ds] = "hosts"
		default:
			if isEventDataset(ds) {
				m[ds] = "events"
			}
		}
	}
	return m
}

// RecordError is an Insert failure caused by one record (bad JSON); the
// record should be dead-lettered, not retried.
type RecordError struct {
	Index int
	Err   error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("store: record %d: %v", e.Index, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

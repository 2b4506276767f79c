package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// Resolutions of the traffic series, in seconds.
var Resolutions = []time.Duration{time.Second, time.Minute, time.Hour}

var insertSQL = map[string]string{
	"flows": `INSERT INTO flows (ts, ts_start, src_ip, src_port, dst_ip, dst_port, transport, protocol,
		bytes, packets, src_bytes, src_packets, dst_bytes, dst_packets, community_id, state,
		src_country, dst_country, src_asn, dst_asn, doc, event_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
	"alerts": `INSERT INTO alerts (ts, rule_id, rule_name, severity, src_ip, src_port, dst_ip, dst_port,
		transport, protocol, community_id, doc, event_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
	"events": `INSERT INTO events (ts, dataset, src_ip, src_port, dst_ip, dst_port, transport, protocol,
		community_id, doc, event_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
	// A bucket event's id is recorded before its bucket is added, so a
	// re-replay adds nothing twice.
	"traffic_events": `INSERT INTO traffic_events (event_id, ts) VALUES (?, ?) ON CONFLICT DO NOTHING`,
	// Buckets of several workers with the same time and interface add up.
	"traffic": `INSERT INTO traffic (res, ts, iface, packets, bytes, flows, bytes_tcp, bytes_udp, bytes_icmp, bytes_other)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (res, ts, iface) DO UPDATE SET
		packets = traffic.packets + excluded.packets,
		bytes = traffic.bytes + excluded.bytes,
		flows = traffic.flows + excluded.flows,
		bytes_tcp = traffic.bytes_tcp + excluded.bytes_tcp,
		bytes_udp = traffic.bytes_udp + excluded.bytes_udp,
		bytes_icmp = traffic.bytes_icmp + excluded.bytes_icmp,
		bytes_other = traffic.bytes_other + excluded.bytes_other`,
}

func (s *Store) prepare(ctx context.Context) error {
	for table, q := range insertSQL {
		st, err := s.db.PrepareContext(ctx, s.rebind(q))
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
	Event     struct {
		ID       string        `json:"id"`
		Kind     string        `json:"kind"`
		Dataset  string        `json:"dataset"`
		Start    time.Time     `json:"start"`
		Duration time.Duration `json:"duration"`
		Severity int           `json:"severity"`
	} `json:"event"`
	Network struct {
		Transport   string `json:"transport"`
		Protocol    string `json:"protocol"`
		Bytes       int64  `json:"bytes"`
		Packets     int64  `json:"packets"`
		CommunityID string `json:"community_id"`
	} `json:"network"`
	Source      endpoint `json:"source"`
	Destination endpoint `json:"destination"`
	Rule        struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"rule"`
	PS struct {
		Flow struct {
			State string `json:"state"`
		} `json:"flow"`
		Traffic schemas.Traffic `json:"traffic"`
	} `json:"packetsleuth"`
}

type endpoint struct {
	IP      string `json:"ip"`
	Port    int    `json:"port"`
	Bytes   int64  `json:"bytes"`
	Packets int64  `json:"packets"`
	Geo     struct {
		Country string `json:"country_iso_code"`
	} `json:"geo"`
	AS struct {
		Number int64 `json:"number"`
	} `json:"as"`
}

// InsertStats counts what one Insert did.
type InsertStats struct {
	Flows, Alerts, Events, Buckets int // rows written (buckets: 1 s records)
	Skipped                        int // records of datasets not kept
	// Duplicates are records whose event.id the store already holds (a
	// re-replay, a redelivery): not written again.
	Duplicates int
}

// Insert writes a batch in one transaction: flows, alerts, DPI events and
// traffic buckets (added into the 1 s, 1 min and 1 h series). Records of
// datasets the config does not keep are skipped. A record whose JSON cannot
// be decoded fails the batch with a *RecordError. Records are keyed by
// event.id: one the store already holds is counted in Duplicates, not
// written again (records without an id are always written).
func (s *Store) Insert(ctx context.Context, batch []schemas.Record) (InsertStats, error) {
	var st InsertStats
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return st, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	var stmts [5]*sql.Stmt // flows, alerts, events, traffic, traffic_events: bound to tx on first use
	stmt := func(i int, table string) *sql.Stmt {
		if stmts[i] == nil {
			stmts[i] = tx.StmtContext(ctx, s.stmts[table])
		}
		return stmts[i]
	}
	var r row
	for i := range batch {
		rec := &batch[i]
		table := s.tableOf(rec)
		if table == "" {
			st.Skipped++
			continue
		}
		r = row{}
		if err := json.Unmarshal(rec.JSON, &r); err != nil {
			return st, &RecordError{Index: i, Err: err}
		}
		ts := rec.Time
		if ts.IsZero() {
			ts = r.Timestamp
		}
		doc := string(rec.JSON)
		id := sql.NullString{String: r.Event.ID, Valid: r.Event.ID != ""}
		src, dst := &r.Source, &r.Destination
		var res sql.Result
		switch table {
		case "flows":
			start := r.Event.Start
			if start.IsZero() {
				start = ts
			}
			res, err = stmt(0, table).ExecContext(ctx, ts.UnixNano(), start.UnixNano(), src.IP, src.Port, dst.IP, dst.Port,
				r.Network.Transport, r.Network.Protocol, r.Network.Bytes, r.Network.Packets,
				src.Bytes, src.Packets, dst.Bytes, dst.Packets, r.Network.CommunityID, r.PS.Flow.State,
				src.Geo.Country, dst.Geo.Country, src.AS.Number, dst.AS.Number, doc, id)
			count(res, &st.Flows, &st.Duplicates)
		case "alerts":
			res, err = stmt(1, table).ExecContext(ctx, ts.UnixNano(), r.Rule.ID, r.Rule.Name, r.Event.Severity,
				src.IP, src.Port, dst.IP, dst.Port, r.Network.Transport, r.Network.Protocol, r.Network.CommunityID, doc, id)
			count(res, &st.Alerts, &st.Duplicates)
		case "events":
			res, err = stmt(2, table).ExecContext(ctx, ts.UnixNano(), rec.Dataset, src.IP, src.Port, dst.IP, dst.Port,
				r.Network.Transport, r.Network.Protocol, r.Network.CommunityID, doc, id)
			count(res, &st.Events, &st.Duplicates)
		case "traffic":
			if id.Valid {
				if res, err = stmt(4, "traffic_events").ExecContext(ctx, id, ts.Unix()); err != nil {
					table = "traffic_events"
					break
				}
				if n, _ := res.RowsAffected(); n == 0 {
					st.Duplicates++
					continue
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
				if _, err = stmt(3, table).ExecContext(ctx, sec, bucket, t.Interface, t.Packets, t.Bytes, t.Flows, tcp, udp, icmp, other); err != nil {
					break
				}
			}
			st.Buckets++
		}
		if err != nil {
			return st, fmt.Errorf("store: insert into %s: %w", table, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return st, fmt.Errorf("store: commit: %w", err)
	}
	return st, nil
}

// count adds an insert's row to written, or to dup when the row's
// event.id was already stored (ON CONFLICT DO NOTHING wrote nothing).
func count(res sql.Result, written, dup *int) {
	if res == nil {
		return
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		*dup++
		return
	}
	*written++
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
	ds := rec.Dataset
	if rec.Kind == "alert" {
		ds = schemas.DatasetAlert
	}
	if !s.keeps(ds) {
		return ""
	}
	switch ds {
	case schemas.DatasetFlow:
		return "flows"
	case schemas.DatasetAlert:
		return "alerts"
	case schemas.DatasetDNS, schemas.DatasetHTTP, schemas.DatasetTLS:
		return "events"
	case schemas.DatasetTimeseries:
		return "traffic"
	}
	return ""
}

func (s *Store) keeps(dataset string) bool {
	for _, d := range s.cfg.Datasets {
		if datasetOf(d) == dataset {
			return true
		}
	}
	return false
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

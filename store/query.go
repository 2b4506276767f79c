package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// Range is a half-open time range [Since, Until) of the events of one
// sensor or of all. A zero Since or Until is unbounded on that side.
type Range struct {
	Since, Until time.Time
	// Sensor, when set, keeps the rows of that sensor only (its
	// observer.name: the sensor column; see Sensors).
	Sensor string
}

// where collects SQL conditions and their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) timeRange(col string, r Range) {
	if !r.Since.IsZero() {
		w.add(col+" >= ?", r.Since.UnixNano())
	}
	if !r.Until.IsZero() {
		w.add(col+" < ?", r.Until.UnixNano())
	}
	w.sensor(r)
}

func (w *where) sensor(r Range) {
	if r.Sensor != "" {
		w.add("sensor = ?", r.Sensor)
	}
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// Metric is what Top ranks by.
type Metric string

// Metrics.
const (
	ByBytes   Metric = "bytes"
	ByPackets Metric = "packets"
	ByFlows   Metric = "flows"
)

// Groups Top can break flows down by (ECS names), and their columns.
var Groups = map[string]string{
	"source.ip":                   "src_ip",
	"destination.ip":              "dst_ip",
	"destination.port":            "CAST(dst_port AS TEXT)",
	"network.protocol":            "protocol",
	"network.transport":           "transport",
	"source.geo.country_iso_code": "src_country",
}

// GroupNames lists the accepted Top groups, sorted.
func GroupNames() []string {
	return []string{"destination.ip", "destination.port", "network.protocol", "network.transport", "source.geo.country_iso_code", "source.ip"}
}

// TopQuery asks for the top flow groups over a range.
type TopQuery struct {
	Range
	By    Metric // bytes (default), packets or flows
	Group string // one of Groups; default source.ip
	Limit int    // default 10
}

// TopRow is one group: its key (empty when the field was absent, e.g. no
// GeoIP) and all three totals over the flows that ended in the range.
type TopRow struct {
	Key     string `json:"key"`
	Bytes   int64  `json:"bytes"`
	Packets int64  `json:"packets"`
	Flows   int64  `json:"flows"`
}

// Top returns the top groups of flows that ended (@timestamp) in the range,
// ranked by q.By (ties by key), at most q.Limit rows.
func (s *Store) Top(ctx context.Context, q TopQuery) ([]TopRow, error) {
	if q.By == "" {
		q.By = ByBytes
	}
	if q.Group == "" {
		q.Group = "source.ip"
	}
	if q.Limit <= 0 {
		q.Limit = 10
	}
	col, ok := Groups[q.Group]
	if !ok {
		return nil, fmt.Errorf("store: cannot group by %q (known: %s)", q.Group, strings.Join(GroupNames(), ", "))
	}
	var order string
	switch q.By {
	case ByBytes:
		order = "b"
	case ByPackets:
		order = "p"
	case ByFlows:
		order = "n"
	default:
		return nil, fmt.Errorf("store: cannot rank by %q (known: bytes, packets, flows)", q.By)
	}
	var w where
	w.timeRange("ts", q.Range)
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT `+col+` AS k,
		CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS b, CAST(COALESCE(SUM(packets), 0) AS BIGINT) AS p, COUNT(*) AS n
		FROM flows`+w.String()+` GROUP BY `+col+` ORDER BY `+order+` DESC, k ASC LIMIT ?`), append(w.args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: top: %w", err)
	}
	defer rows.Close()
	var out []TopRow
	for rows.Next() {
		var r TopRow
		if err := rows.Scan(&r.Key, &r.Bytes, &r.Packets, &r.Flows); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Totals sums all flows that ended in the range (Key is empty).
func (s *Store) Totals(ctx context.Context, r Range) (TopRow, error) {
	var w where
	w.timeRange("ts", r)
	var t TopRow
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT), CAST(COALESCE(SUM(packets), 0) AS BIGINT), COUNT(*) FROM flows`+w.String()), w.args...).
		Scan(&t.Bytes, &t.Packets, &t.Flows)
	if err != nil {
		return t, fmt.Errorf("store: totals: %w", err)
	}
	return t, nil
}

// SeriesQuery asks for the traffic series at a resolution.
type SeriesQuery struct {
	Range      // required: both ends, aligned down/up to the resolution
	Resolution time.Duration
	// Interface selects one capture interface; empty sums them all.
	Interface string
}

// Point is one bucket of the traffic series, summed over workers (and
// interfaces unless one was asked for). Bytes* split Bytes by transport.
type Point struct {
	Time       time.Time `json:"time"` // bucket start
	Packets    int64     `json:"packets"`
	Bytes      int64     `json:"bytes"`
	Flows      int64     `json:"flows"`
	BytesTCP   int64     `json:"bytes_tcp"`
	BytesUDP   int64     `json:"bytes_udp"`
	BytesICMP  int64     `json:"bytes_icmp"`
	BytesOther int64     `json:"bytes_other"`
}

// MaxSeriesPoints caps what Series returns; ask a coarser resolution.
const MaxSeriesPoints = 200_000

// Series returns one Point per bucket of q.Resolution in the range, with
// empty buckets as zero points (so the result is evenly spaced, as
// DetectPeaks needs). The resolution must be a whole number of seconds; it
// is read from the coarsest stored level (1 s, 1 min, 1 h) that divides it,
// so 5m sums 1 min buckets. Data older than a level's retention is gone at
// that level: ask a coarser resolution for long ranges.
func (s *Store) Series(ctx context.Context, q SeriesQuery) ([]Point, error) {
	res := q.Resolution
	if res <= 0 || res%time.Second != 0 {
		return nil, fmt.Errorf("store: series resolution %v is not a whole number of seconds", res)
	}
	if q.Since.IsZero() || q.Until.IsZero() || !q.Since.Before(q.Until) {
		return nil, fmt.Errorf("store: series needs a range with since before until")
	}
	sec := int64(res / time.Second)
	level := int64(1)
	for _, l := range Resolutions {
		if ls := int64(l / time.Second); sec%ls == 0 {
			level = ls
		}
	}
	from := q.Since.Unix() - mod(q.Since.Unix(), sec)
	to := q.Until.Unix()
	if q.Until.UnixNano()%int64(time.Second) != 0 {
		to++
	}
	if m := mod(to, sec); m != 0 {
		to += sec - m
	}
	n := (to - from) / sec
	if n > MaxSeriesPoints {
		return nil, fmt.Errorf("store: %d points at %v; ask a coarser resolution", n, res)
	}
	var w where
	w.add("res = ?", level)
	w.add("ts >= ?", from)
	w.add("ts < ?", to)
	if q.Interface != "" {
		w.add("iface = ?", q.Interface)
	}
	w.sensor(q.Range)
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT ts - (ts % `+strconv.FormatInt(sec, 10)+`) AS bkt,
		CAST(SUM(packets) AS BIGINT), CAST(SUM(bytes) AS BIGINT), CAST(SUM(flows) AS BIGINT),
		CAST(SUM(bytes_tcp) AS BIGINT), CAST(SUM(bytes_udp) AS BIGINT), CAST(SUM(bytes_icmp) AS BIGINT), CAST(SUM(bytes_other) AS BIGINT)
		FROM traffic`+w.String()+` GROUP BY bkt ORDER BY bkt`), w.args...)
	if err != nil {
		return nil, fmt.Errorf("store: series: %w", err)
	}
	defer rows.Close()
	out := make([]Point, n)
	for i := range out {
		out[i].Time = time.Unix(from+int64(i)*sec, 0).UTC()
	}
	for rows.Next() {
		var b int64
		var p Point
		if err := rows.Scan(&b, &p.Packets, &p.Bytes, &p.Flows, &p.BytesTCP, &p.BytesUDP, &p.BytesICMP, &p.BytesOther); err != nil {
			return nil, err
		}
		i := (b - from) / sec
		if i < 0 || i >= n {
			continue
		}
		p.Time = out[i].Time
		out[i] = p
	}
	return out, rows.Err()
}

// Peaks runs DetectPeaks over the series q asks for.
func (s *Store) Peaks(ctx context.Context, q SeriesQuery, opts PeakOptions) ([]schemas.Event, error) {
	pts, err := s.Series(ctx, q)
	if err != nil {
		return nil, err
	}
	opts.Resolution = q.Resolution
	if opts.Interface == "" {
		opts.Interface = q.Interface
	}
	return DetectPeaks(pts, opts), nil
}

// AlertCount is how often one rule fired in a range.
type AlertCount struct {
	RuleID         string `json:"rule_id"`
	RuleName       string `json:"rule_name"`
	MaxSeverity    int    `json:"max_severity"`
	Count          int64  `json:"count"`
	Unacknowledged int64  `json:"unacknowledged"`
}

// AlertCounts counts alerts by rule in the range, most frequent first (ties
// by rule id).
func (s *Store) AlertCounts(ctx context.Context, r Range) ([]AlertCount, error) {
	var w where
	w.timeRange("ts", r)
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT rule_id, MAX(rule_name), MAX(severity), COUNT(*),
		CAST(COALESCE(SUM(1 - acknowledged), 0) AS BIGINT) FROM alerts`+w.String()+`
		GROUP BY rule_id ORDER BY COUNT(*) DESC, rule_id ASC`), w.args...)
	if err != nil {
		return nil, fmt.Errorf("store: alert counts: %w", err)
	}
	defer rows.Close()
	var out []AlertCount
	for rows.Next() {
		var a AlertCount
		if err := rows.Scan(&a.RuleID, &a.RuleName, &a.MaxSeverity, &a.Count, &a.Unacknowledged); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ListQuery selects stored events of one dataset. All filters are ANDed.
type ListQuery struct {
	Dataset     string // flow, alert or one of EventDatasets (short or full name); required
	Range              // on @timestamp
	IP          string // source.ip or destination.ip
	Port        int    // source.port or destination.port
	Protocol    string // network.protocol or network.transport
	CommunityID string // network.community_id
	RuleID      string // alerts only: rule.id
	Unacked     bool   // alerts only: not yet acknowledged
	Desc        bool   // newest first (default oldest first); ties by id
	Limit       int    // page size, default 100, at most MaxPage
	Offset      int    // rows to skip (ignored when After is set)
	// After is the keyset cursor of the previous page (Page.Next): cheaper
	// than Offset on deep pages and stable while rows are being added.
	After string
}

// MaxPage caps ListQuery.Limit.
const MaxPage = 10_000

// Item is one stored event.
type Item struct {
	ID           int64           `json:"id"` // per table; alert ids go to Acknowledge
	Time         time.Time       `json:"time"`
	Dataset      string          `json:"dataset"`
	Acknowledged bool            `json:"acknowledged,omitempty"` // alerts only
	JSON         json.RawMessage `json:"event"`                  // the full ECS document as received
}

// Page is one page of List.
type Page struct {
	Items []Item `json:"items"`
	Next  string `json:"next,omitempty"` // cursor for ListQuery.After; empty on the last page
}

// List returns one page of events matching q, ordered by time then id.
func (s *Store) List(ctx context.Context, q ListQuery) (Page, error) {
	q, query, args, err := s.listSQL(q)
	if err != nil {
		return Page{}, err
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return Page{}, fmt.Errorf("store: list: %w", err)
	}
	defer rows.Close()
	var p Page
	var tsNs []int64
	for rows.Next() {
		var it Item
		var ts int64
		var acked int
		var doc string
		if err := rows.Scan(&it.ID, &ts, &it.Dataset, &acked, &doc); err != nil {
			return Page{}, err
		}
		it.Time = time.Unix(0, ts).UTC()
		it.Acknowledged = acked != 0
		it.JSON = json.RawMessage(doc)
		p.Items = append(p.Items, it)
		tsNs = append(tsNs, ts)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(p.Items) > q.Limit {
		p.Items = p.Items[:q.Limit]
		last := len(p.Items) - 1
		p.Next = strconv.FormatInt(tsNs[last], 10) + "." + strconv.FormatInt(p.Items[last].ID, 10)
	}
	return p, nil
}

// listSQL is List's query and its arguments, and q with its defaults.
func (s *Store) listSQL(q ListQuery) (ListQuery, string, []any, error) {
	ds := datasetOf(q.Dataset)
	var table string
	var w where
	switch {
	case ds == schemas.DatasetFlow:
		table = "flows"
	case ds == schemas.DatasetAlert:
		table = "alerts"
	case isEventDataset(ds):
		table = "events"
		w.add("dataset = ?", ds)
	default:
		return q, "", nil, fmt.Errorf("store: cannot list dataset %q (known: flow, alert, %s)", q.Dataset, strings.Join(EventDatasets, ", "))
	}
	if (q.RuleID != "" || q.Unacked) && table != "alerts" {
		return q, "", nil, fmt.Errorf("store: rule and acknowledged filters apply to alerts only")
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, MaxPage)
	w.timeRange("ts", q.Range)
	if q.IP != "" {
		w.add("(src_ip = ? OR dst_ip = ?)", q.IP, q.IP)
	}
	if q.Port != 0 {
		w.add("(src_port = ? OR dst_port = ?)", q.Port, q.Port)
	}
	if q.Protocol != "" {
		p := strings.ToLower(q.Protocol)
		w.add("(protocol = ? OR transport = ?)", p, p)
	}
	if q.CommunityID != "" {
		// <> '': the (PostgreSQL) index leaves out the rows without one
		w.add("community_id = ? AND community_id <> ''", q.CommunityID)
	}
	if q.RuleID != "" {
		w.add("rule_id = ?", q.RuleID)
	}
	if q.Unacked {
		w.add("acknowledged = 0")
	}
	dir, cmp := "ASC", ">"
	if q.Desc {
		dir, cmp = "DESC", "<"
	}
	if q.After != "" {
		ts, id, err := parseCursor(q.After)
		if err != nil {
			return q, "", nil, err
		}
		w.add("(ts "+cmp+" ? OR (ts = ? AND id "+cmp+" ?))", ts, ts, id)
		q.Offset = 0
	}
	ack := "0"
	if table == "alerts" {
		ack = "acknowledged"
	}
	dsCol := "'" + ds + "'"
	if table == "events" {
		dsCol = "dataset"
	}
	return q, s.rebind(`SELECT id, ts, ` + dsCol + `, ` + ack + `, doc FROM ` + table + w.String() +
		` ORDER BY ts ` + dir + `, id ` + dir + ` LIMIT ? OFFSET ?`), append(w.args, q.Limit+1, q.Offset), nil
}

func parseCursor(c string) (ts, id int64, err error) {
	a, b, ok := strings.Cut(c, ".")
	if ok {
		ts, err = strconv.ParseInt(a, 10, 64)
		if err == nil {
			id, err = strconv.ParseInt(b, 10, 64)
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("store: bad cursor %q", c)
	}
	return ts, id, nil
}

// Each calls fn for every event matching q (Limit and After are used as
// the page size and start), page by page with the keyset cursor, so memory
// stays bounded. An error from fn stops the walk and is returned.
func (s *Store) Each(ctx context.Context, q ListQuery, fn func(Item) error) error {
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	for {
		p, err := s.List(ctx, q)
		if err != nil {
			return err
		}
		for _, it := range p.Items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if p.Next == "" {
			return nil
		}
		q.After = p.Next
	}
}

// Acknowledge sets (or clears) the acknowledged flag of an alert.
func (s *Store) Acknowledge(ctx context.Context, alertID int64, ack bool) error {
	v := 0
	if ack {
		v = 1
	}
	res, err := s.db.ExecContext(ctx, s.rebind("UPDATE alerts SET acknowledged = ? WHERE id = ?"), v, alertID)
	if err != nil {
		return fmt.Errorf("store: acknowledge: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: alert %d", ErrNotFound, alertID)
	}
	return nil
}

// Bounds returns the oldest and newest @timestamp in the store (traffic
// buckets count by their start); both are zero when it is empty.
func (s *Store) Bounds(ctx context.Context) (oldest, newest time.Time, err error) {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	if tlo, thi, ok, err := s.trafficBounds(ctx); err != nil {
		return time.Time{}, time.Time{}, err
	} else if ok {
		lo, hi = tlo, thi
	}
	for _, q := range []string{
		"SELECT MIN(ts), MAX(ts) FROM flows",
		"SELECT MIN(ts), MAX(ts) FROM alerts",
		"SELECT MIN(ts), MAX(ts) FROM events",
	} {
		var a, b sql.NullInt64
		if err := s.db.QueryRowContext(ctx, q).Scan(&a, &b); err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("store: bounds: %w", err)
		}
		if a.Valid {
			lo = min(lo, a.Int64)
			hi = max(hi, b.Int64)
		}
	}
	if lo > hi {
		return time.Time{}, time.Time{}, nil
	}
	return time.Unix(0, lo).UTC(), time.Unix(0, hi).UTC(), nil
}

// trafficBounds is the time span of the traffic buckets (Unix ns), read
// from the finest level whose first bucket lies within the first bucket of
// every coarser level: a coarse bucket starts on its boundary (an hour
// bucket up to an hour before the first packet), and a pruned fine level
// starts after the data does.
func (s *Store) trafficBounds(ctx context.Context) (lo, hi int64, ok bool, err error) {
	rows, err := s.db.QueryContext(ctx, "SELECT res, MIN(ts), MAX(ts) FROM traffic GROUP BY res ORDER BY res DESC")
	if err != nil {
		return 0, 0, false, fmt.Errorf("store: bounds: %w", err)
	}
	defer rows.Close()
	lo, hi = math.MaxInt64, math.MinInt64
	limit := int64(math.MaxInt64) // the first coarse bucket's end
	for rows.Next() {
		var res, first, last int64
		if err := rows.Scan(&res, &first, &last); err != nil {
			return 0, 0, false, fmt.Errorf("store: bounds: %w", err)
		}
		if first < limit {
			lo = first * int64(time.Second)
		}
		limit = min(limit, first+res)
		hi = max(hi, last*int64(time.Second))
		ok = true
	}
	return lo, hi, ok, rows.Err()
}

// PruneStats counts the rows Prune deleted, by retention key.
type PruneStats map[string]int64

// Prune deletes what is older than its retention relative to now: traffic
// buckets per level (1s, 1m, 1h; a bucket goes when it has ended before
// now minus the retention) and flows, alerts and DPI events by @timestamp.
// Levels without retention are kept. Pass the wall clock for a live sensor;
// the sink passes the newest event time so replayed captures age by their
// own clock. On PostgreSQL and MySQL the day partitions wholly past retention are
// dropped first (the events table's when the retentions of all
// EventDatasets are past them), and only the rest is deleted row by row.
func (s *Store) Prune(ctx context.Context, now time.Time) (PruneStats, error) {
	out := PruneStats{}
	if s.driver != SQLite {
		if err := s.prunePartitions(ctx, now, out); err != nil {
			return out, err
		}
	}
	for key, d := range s.cfg.Retention {
		if d <= 0 {
			continue
		}
		cut := now.Add(-time.Duration(d))
		var q string
		var args []any
		switch key {
		case "1s", "1m", "1h":
			res := map[string]int64{"1s": 1, "1m": 60, "1h": 3600}[key]
			q, args = "DELETE FROM traffic WHERE res = ? AND ts + res <= ?", []any{res, cut.Unix()}
			if key == "1s" {
				// the bucket ids that stop a re-replay adding twice live as
				// long as the 1 s series
				if _, err := s.db.ExecContext(ctx, s.rebind("DELETE FROM traffic_events WHERE ts < ?"), cut.Unix()); err != nil {
					return out, fmt.Errorf("store: prune traffic ids: %w", err)
				}
			}
		case "flow":
			q, args = "DELETE FROM flows WHERE ts < ?", []any{cut.UnixNano()}
		case "alert":
			q, args = "DELETE FROM alerts WHERE ts < ?", []any{cut.UnixNano()}
		case "audit":
			q, args = "DELETE FROM audit WHERE ts < ?", []any{cut.UnixNano()}
		case "sensors":
			q, args = "DELETE FROM sensors WHERE last_seen < ?", []any{cut.UnixNano()}
		case "hosts":
			q, args = "DELETE FROM hosts WHERE lease_start < ?", []any{cut.UnixNano()}
		default:
			q, args = "DELETE FROM events WHERE dataset = ? AND ts < ?", []any{datasetOf(key), cut.UnixNano()}
		}
		res, err := s.db.ExecContext(ctx, s.rebind(q), args...)
		if err != nil {
			return out, fmt.Errorf("store: prune %s: %w", key, err)
		}
		n, _ := res.RowsAffected()
		out[key] += n
		if key == "sensors" && n > 0 {
			s.sensors.forget() // after the delete: a batch admitted meanwhile may have cached an id it deleted
		}
	}
	return out, nil
}

// prunePartitions drops the partitions past retention and counts their
// rows in out.
func (s *Store) prunePartitions(ctx context.Context, now time.Time, out PruneStats) error {
	cutOf := func(key string) (time.Time, bool) {
		d := time.Duration(s.cfg.Retention[key])
		return now.Add(-d), d > 0
	}
	for key, table := range map[string]string{"flow": "flows", "alert": "alerts"} {
		if cut, ok := cutOf(key); ok {
			n, err := s.dropPartitions(ctx, table, cut)
			if err != nil {
				return err
			}
			out[key] += n[""]
		}
	}
	var cut time.Time
	for i, key := range EventDatasets {
		c, ok := cutOf(key)
		if !ok {
			return nil // a dataset kept forever: no events partition goes
		}
		if i == 0 || c.Before(cut) {
			cut = c
		}
	}
	n, err := s.dropPartitions(ctx, "events", cut)
	if err != nil {
		return err
	}
	for ds, c := range n {
		for key, name := range datasetNames {
			if name == ds {
				out[key] += c
			}
		}
	}
	return nil
}

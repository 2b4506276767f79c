package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// hostsUpsert keeps the newest lease of each sensor's address (a
// redelivered or late older one changes nothing).
const hostsUpsert = `INSERT INTO hosts (sensor, ip, mac, hostname, protocol, lease_start, lease_end, ended_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, '')
		ON CONFLICT (sensor, ip) DO UPDATE SET
		mac = excluded.mac, hostname = excluded.hostname, protocol = excluded.protocol,
		lease_start = excluded.lease_start, lease_end = excluded.lease_end, ended_by = ''
		WHERE excluded.lease_start > hosts.lease_start`

// hostsUpsertMySQL is hostsUpsert for MySQL (no WHERE on an upsert:
// each column keeps its value unless the lease is newer, lease_start
// last). IGNORE: a value longer than its column is cut, not an error.
const hostsUpsertMySQL = `INSERT IGNORE INTO hosts (sensor, ip, mac, hostname, protocol, lease_start, lease_end, ended_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, '')
		ON DUPLICATE KEY UPDATE
		mac = IF(VALUES(lease_start) > lease_start, VALUES(mac), mac),
		hostname = IF(VALUES(lease_start) > lease_start, VALUES(hostname), hostname),
		protocol = IF(VALUES(lease_start) > lease_start, VALUES(protocol), protocol),
		lease_end = IF(VALUES(lease_start) > lease_start, VALUES(lease_end), lease_end),
		ended_by = IF(VALUES(lease_start) > lease_start, '', ended_by),
		lease_start = GREATEST(lease_start, VALUES(lease_start))`

// hostsRelease ends a live lease early: the lease the release falls in
// (started before it, not ended by then).
const hostsRelease = `UPDATE hosts SET lease_end = ?, ended_by = 'released'
		WHERE sensor = ? AND ip = ? AND lease_start <= ? AND (lease_end = 0 OR lease_end > ?)`

// hostValues are the hosts statement and arguments of a DHCP event that
// carries a lease (packetsleuth.dhcp.lease), "" when it carries none. A
// grant stamped ahead of the store's clock counts as of that clock (as in
// sensorValues): as lease_start it would outrank later grants and keep the
// row from retention.hosts.
func (r *row) hostValues() (table string, args []any) {
	l := &r.PS.DHCP.Lease
	if l.IP == "" {
		return "", nil
	}
	sensor := r.sensorName()
	var end int64
	if !l.End.IsZero() {
		end = l.End.UnixNano()
	}
	switch l.Action {
	case "assigned":
		return "hosts", []any{sensor, l.IP, l.MAC, l.Hostname, r.Network.Protocol, min(r.Timestamp.UnixNano(), time.Now().UnixNano()), end}
	case "released":
		return "hosts_release", []any{end, sensor, l.IP, end, end}
	}
	return "", nil
}

// Host is a lease of the hosts table.
type Host struct {
	Sensor     string    `json:"sensor"`
	IP         string    `json:"ip"`
	MAC        string    `json:"mac,omitempty"`
	Hostname   string    `json:"hostname,omitempty"`
	Protocol   string    `json:"protocol"` // dhcp or dhcpv6
	LeaseStart time.Time `json:"lease_start"`
	LeaseEnd   time.Time `json:"lease_end,omitzero"` // absent: infinite lease
	EndedBy    string    `json:"ended_by,omitempty"` // released: a RELEASE or DECLINE ended it at lease_end
}

// HostQuery selects leases.
type HostQuery struct {
	Sensor string    // only this sensor's ("": all)
	Match  string    // ip, mac or hostname containing it, case-insensitive ("": all)
	LiveAt time.Time // only the leases live at this time (zero: all)
	Limit  int       // most rows (0: 1000)
}

// Hosts lists leases, the newest first.
func (s *Store) Hosts(ctx context.Context, q HostQuery) ([]Host, error) {
	var where []string
	var args []any
	if q.Sensor != "" {
		where, args = append(where, "sensor = ?"), append(args, q.Sensor)
	}
	if q.Match != "" {
		m := "%" + likeEscaper.Replace(strings.ToLower(q.Match)) + "%"
		where = append(where, `(LOWER(ip) LIKE ? ESCAPE '!' OR LOWER(mac) LIKE ? ESCAPE '!' OR LOWER(hostname) LIKE ? ESCAPE '!')`)
		args = append(args, m, m, m)
	}
	if !q.LiveAt.IsZero() {
		t := q.LiveAt.UnixNano()
		where, args = append(where, "lease_start <= ? AND (lease_end = 0 OR lease_end > ?)"), append(args, t, t)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	query := "SELECT sensor, ip, mac, hostname, protocol, lease_start, lease_end, ended_by FROM hosts"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY lease_start DESC, sensor, ip LIMIT %d", limit)
	rows, err := s.db.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: hosts: %w", err)
	}
	defer rows.Close()
	out := []Host{}
	for rows.Next() {
		var h Host
		var start, end int64
		if err := rows.Scan(&h.Sensor, &h.IP, &h.MAC, &h.Hostname, &h.Protocol, &start, &end, &h.EndedBy); err != nil {
			return nil, err
		}
		h.LeaseStart = time.Unix(0, start).UTC()
		if end != 0 {
			h.LeaseEnd = time.Unix(0, end).UTC()
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// likeEscaper escapes the LIKE wildcards of a search string (ESCAPE '!',
// which no dialect reads as a string escape).
var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// addHosts applies the lease statements of a batch in event order (a
// release after the lease it ends): each op is its statement's name
// (hosts, hosts_release) followed by the arguments.
func addHosts(ops [][]any, exec func(table string, args ...any) (int64, error), st *InsertStats) error {
	for _, op := range ops {
		table := op[0].(string)
		if _, err := exec(table, op[1:]...); err != nil {
			return fmt.Errorf("store: %s: %w", table, err)
		}
		st.Hosts++
	}
	return nil
}

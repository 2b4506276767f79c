package web

import (
	"context"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store"
)

// GET /api/v1/hosts lists the stored DHCP leases newest first, marks the
// live ones, and filters by sensor, text and time.
func TestHostsAPI(t *testing.T) {
	st := openStore(t)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var evs []*schemas.Event
	for _, l := range []struct {
		sensor, ip, name string
		ago, lease       time.Duration
	}{
		{"edge-a", "192.168.0.10", "laptop-7", 10 * time.Minute, time.Hour},
		{"edge-a", "192.168.0.11", "old-phone", 3 * time.Hour, time.Hour}, // ended
		{"edge-b", "2001:db8::1a", "ws42.corp.example", time.Minute, 0},   // infinite
	} {
		ev := &schemas.Event{Timestamp: now.Add(-l.ago)}
		ev.ECS.Version = schemas.ECSVersion
		ev.Event.Kind, ev.Event.Dataset, ev.Event.Category = "event", schemas.DatasetDHCP, []string{"network"}
		ev.Observer.Name = l.sensor
		ev.Network.Protocol = "dhcp"
		ev.Sensor.DHCP.MessageType = "ack"
		ev.Sensor.DHCP.Lease = schemas.DHCPLease{Action: "assigned", IP: l.ip, MAC: "90-B1-1C-99-49-29", Hostname: l.name}
		if l.lease != 0 {
			ev.Sensor.DHCP.Lease.End = ev.Timestamp.Add(l.lease)
		}
		evs = append(evs, ev)
	}
	insertEvents(t, st, evs...)
	_, hs := testServer(t, Config{Store: st, Now: func() time.Time { return now }})
	var ans struct {
		Hosts []HostInfo
	}
	if code := get(t, hs, "/api/v1/hosts", &ans); code != 200 || len(ans.Hosts) != 3 {
		t.Fatalf("GET /api/v1/hosts: %d %+v", code, ans)
	}
	for i, want := range []struct {
		name   string
		active bool
	}{{"ws42.corp.example", true}, {"laptop-7", true}, {"old-phone", false}} {
		if h := ans.Hosts[i]; h.Hostname != want.name || h.Active != want.active || h.MAC != "90-B1-1C-99-49-29" {
			t.Errorf("host %d: %+v, want %s active %v", i, h, want.name, want.active)
		}
	}
	for query, want := range map[string]int{
		"?active=true":             2,
		"?sensor=edge-b":           1,
		"?q=laptop":                1,
		"?q=192.168.0":             2,
		"?at=2026-12-06T09:30:00Z": 1,
		"?limit=1":                 1,
	} {
		ans.Hosts = nil
		if code := get(t, hs, "/api/v1/hosts"+query, &ans); code != 200 || len(ans.Hosts) != want {
			t.Errorf("%s: %d, %d hosts, want %d", query, code, len(ans.Hosts), want)
		}
	}
	if code := get(t, hs, "/api/v1/hosts?limit=0", nil); code != 400 {
		t.Errorf("limit=0: %d, want 400", code)
	}
}

// insertEvents stores evs.
func insertEvents(t testing.TB, st *store.Store, evs ...*schemas.Event) {
	t.Helper()
	recs := make([]schemas.Record, 0, len(evs))
	for _, ev := range evs {
		rec, err := schemas.NewRecord(ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if _, err := st.Insert(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

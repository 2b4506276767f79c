package store

import (
	"context"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// leaseEvent is a DHCP event of sensor at ts carrying lease l.
func leaseEvent(t testing.TB, sensor, proto, msg string, ts time.Time, l schemas.DHCPLease) schemas.Record {
	ev := &schemas.Event{Timestamp: ts}
	ev.ECS.Version = schemas.ECSVersion
	ev.Event.Kind, ev.Event.Dataset, ev.Event.Category = "event", schemas.DatasetDHCP, []string{"network"}
	ev.Observer.Name = sensor
	ev.Network.Protocol = proto
	ev.Sensor.DHCP = schemas.DHCP{MessageType: msg, Lease: l}
	return record(t, ev)
}

// The hosts table keeps the newest lease of each sensor's address: a
// late older lease and a redelivery change nothing, a RELEASE ends the
// lease it falls in (and none it does not), DHCP messages without a lease
// are skipped; Hosts filters by sensor, text and time.
func TestHostsFromLeases(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		s := open(t, mk(t))
		hour := time.Hour
		grant := func(sensor, ip, name string, at time.Duration) schemas.Record {
			return leaseEvent(t, sensor, "dhcp", "ack", t0.Add(at), schemas.DHCPLease{Action: "assigned", IP: ip, MAC: "90-B1-1C-99-49-29", Hostname: name, End: t0.Add(at + hour)})
		}
		st, err := s.Insert(ctx, []schemas.Record{
			leaseEvent(t, "edge-a", "dhcp", "discover", t0, schemas.DHCPLease{}),
			grant("edge-a", "192.168.0.10", "laptop-7", 0),
			grant("edge-b", "192.168.0.10", "printer", 0), // same address, other site
			leaseEvent(t, "edge-a", "dhcpv6", "reply", t0, schemas.DHCPLease{Action: "assigned", IP: "2001:db8::1a", Hostname: "ws42.corp.example"}),
		})
		if err != nil || st.Hosts != 3 || st.Skipped != 1 {
			t.Fatalf("insert: %+v %v", st, err)
		}
		if _, err := s.Insert(ctx, []schemas.Record{
			grant("edge-a", "192.168.0.10", "laptop-7-renewed", 30*time.Minute),
			grant("edge-a", "192.168.0.10", "older", 10*time.Minute),                                                                                     // late
			leaseEvent(t, "edge-b", "dhcp", "release", t0.Add(2*hour), schemas.DHCPLease{Action: "released", IP: "192.168.0.10", End: t0.Add(2 * hour)}), // after its end: no-op
			leaseEvent(t, "edge-a", "dhcpv6", "release", t0.Add(5*time.Minute), schemas.DHCPLease{Action: "released", IP: "2001:db8::1a", End: t0.Add(5 * time.Minute)}),
		}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Hosts(ctx, HostQuery{})
		if err != nil || len(got) != 3 {
			t.Fatalf("hosts: %+v %v", got, err)
		}
		a := got[0] // newest first
		if a.Sensor != "edge-a" || a.IP != "192.168.0.10" || a.Hostname != "laptop-7-renewed" || a.MAC != "90-B1-1C-99-49-29" ||
			a.Protocol != "dhcp" || !a.LeaseStart.Equal(t0.Add(30*time.Minute)) || !a.LeaseEnd.Equal(t0.Add(90*time.Minute)) || a.EndedBy != "" {
			t.Errorf("renewed lease: %+v", a)
		}
		for _, h := range got[1:] {
			switch h.Sensor + " " + h.IP {
			case "edge-a 2001:db8::1a":
				if h.EndedBy != "released" || !h.LeaseEnd.Equal(t0.Add(5*time.Minute)) || h.Protocol != "dhcpv6" {
					t.Errorf("released lease: %+v", h)
				}
			case "edge-b 192.168.0.10":
				if h.Hostname != "printer" || h.EndedBy != "" {
					t.Errorf("edge-b lease: %+v", h)
				}
			default:
				t.Errorf("unexpected %+v", h)
			}
		}
		for name, tc := range map[string]struct {
			q    HostQuery
			want int
		}{
			"sensor":       {HostQuery{Sensor: "edge-b"}, 1},
			"name":         {HostQuery{Match: "LAPTOP"}, 1},
			"mac":          {HostQuery{Match: "90-b1"}, 2},
			"ipv6":         {HostQuery{Match: "db8::1"}, 1},
			"wildcard":     {HostQuery{Match: "%"}, 0},
			"live at +10m": {HostQuery{LiveAt: t0.Add(10 * time.Minute)}, 1}, // edge-b's; edge-a's renewal starts at 30m, the v6 one was released
			"live at +40m": {HostQuery{LiveAt: t0.Add(40 * time.Minute)}, 2},
			"limit":        {HostQuery{Limit: 1}, 1},
		} {
			got, err := s.Hosts(ctx, tc.q)
			if err != nil || len(got) != tc.want {
				t.Errorf("%s: %d hosts %v, want %d: %+v", name, len(got), err, tc.want, got)
			}
		}
	})
}

// Retention removes the leases not granted again within retention.hosts
// (default 30 days), so that addresses a spoofed DHCP server or a producer
// invents do not stay forever; a lease granted again stays, and one stamped
// ahead of the clock does not escape it.
func TestHostsRetention(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		cfg := mk(t)
		cfg.PruneInterval = -1
		s := open(t, cfg)
		grant := func(ip string, at time.Time) schemas.Record {
			return leaseEvent(t, "edge-a", "dhcp", "ack", at, schemas.DHCPLease{Action: "assigned", IP: ip, End: at.Add(time.Hour)})
		}
		day := 24 * time.Hour
		if _, err := s.Insert(ctx, []schemas.Record{grant("10.0.0.1", t0), grant("10.0.0.2", t0), grant("10.0.0.2", t0.Add(20*day))}); err != nil {
			t.Fatal(err)
		}
		pr, err := s.Prune(ctx, t0.Add(40*day))
		if err != nil || pr["hosts"] != 1 {
			t.Fatalf("prune: %v %v", pr, err)
		}
		got, err := s.Hosts(ctx, HostQuery{})
		if err != nil || len(got) != 1 || got[0].IP != "10.0.0.2" {
			t.Errorf("hosts after retention: %+v %v", got, err)
		}
		// a grant stamped a year ahead counts as of now: it cannot outlive
		// retention
		now := time.Now()
		if _, err := s.Insert(ctx, []schemas.Record{grant("10.0.0.3", now.Add(365*day))}); err != nil {
			t.Fatal(err)
		}
		if pr, err := s.Prune(ctx, now.Add(40*day)); err != nil || pr["hosts"] != 2 {
			t.Errorf("prune of a future grant: %v %v", pr, err)
		}
	})
}

package hosts

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/schemas"
)

var t0 = time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)

func dhcpEvent(at time.Duration, proto string, x schemas.DHCP) *schemas.Event {
	ev := &schemas.Event{Timestamp: t0.Add(at)}
	ev.Event.Dataset = schemas.DatasetDHCP
	ev.Network.Protocol = proto
	ev.Sensor.DHCP = x
	return ev
}

func flowEvent(at time.Duration, src, dst string) *schemas.Event {
	ev := &schemas.Event{Timestamp: t0.Add(at)}
	ev.Event.Dataset = schemas.DatasetFlow
	ev.Source.IP, ev.Destination.IP = src, dst
	return ev
}

const mac = "90:b1:1c:99:49:29"

// A DHCPv4 exchange: the REQUEST names the client, the ACK (without a
// name) grants the address; events of that address are named while the
// lease lasts, and no longer after it ends or is released.
func TestLearnV4(t *testing.T) {
	tab := New(Config{}, nil)
	learn(tab, dhcpEvent(0, "dhcp", schemas.DHCP{MessageType: "request", ClientMAC: mac, Hostname: "btest"}), true)
	ack := dhcpEvent(time.Second, "dhcp", schemas.DHCP{MessageType: "ack", ClientMAC: mac, AssignedIP: "192.168.0.10", LeaseTime: 3600})
	if !learn(tab, ack, true) {
		t.Fatal("lease refused")
	}
	want := schemas.DHCPLease{Action: "assigned", IP: "192.168.0.10", MAC: "90-B1-1C-99-49-29", Hostname: "btest", End: t0.Add(3601 * time.Second)}
	if ack.Sensor.DHCP.Lease != want {
		t.Errorf("ack lease %+v, want %+v", ack.Sensor.DHCP.Lease, want)
	}
	for _, tc := range []struct {
		at       time.Duration
		src, dst string
		named    string // which endpoint: "src", "dst", ""
	}{
		{0, "192.168.0.10", "10.0.0.1", ""}, // before the lease
		{2 * time.Second, "192.168.0.10", "10.0.0.1", "src"},
		{3 * time.Second, "8.8.8.8", "192.168.0.10", "dst"},
		{3602 * time.Second, "192.168.0.10", "10.0.0.1", ""}, // after it
		{4 * time.Second, "192.168.0.11", "10.0.0.1", ""},
	} {
		ev := flowEvent(tc.at, tc.src, tc.dst)
		tab.Enrich(ev)
		ep, other := &ev.Source, &ev.Destination
		if tc.named == "dst" {
			ep, other = other, ep
		}
		if tc.named == "" {
			if ev.Source.Domain != "" || ev.Destination.Domain != "" || ev.Source.MAC != "" || len(ev.Related.Hosts) != 0 {
				t.Errorf("%v %s→%s named: %+v %+v", tc.at, tc.src, tc.dst, ev.Source, ev.Destination)
			}
			continue
		}
		if ep.Domain != "btest" || ep.MAC != "90-B1-1C-99-49-29" || other.Domain != "" || len(ev.Related.Hosts) != 1 {
			t.Errorf("%v %s→%s: %+v / %+v related %v", tc.at, tc.src, tc.dst, ev.Source, ev.Destination, ev.Related.Hosts)
		}
	}
	// A frame MAC already on the event is kept.
	ev := flowEvent(5*time.Second, "192.168.0.10", "10.0.0.1")
	ev.Source.MAC = "00-00-5E-00-53-01"
	tab.Enrich(ev)
	if ev.Source.MAC != "00-00-5E-00-53-01" || ev.Source.Domain != "btest" {
		t.Errorf("frame mac replaced: %+v", ev.Source)
	}
	// RELEASE by another client changes nothing; by the holder, ends it.
	learn(tab, dhcpEvent(10*time.Second, "dhcp", schemas.DHCP{MessageType: "release", ClientMAC: "02:00:00:00:00:01", ClientIP: "192.168.0.10"}), true)
	if _, ok := tab.Lookup("192.168.0.10", t0.Add(11*time.Second)); !ok {
		t.Error("another client's RELEASE ended the lease")
	}
	rel := dhcpEvent(20*time.Second, "dhcp", schemas.DHCP{MessageType: "release", ClientMAC: mac, ClientIP: "192.168.0.10"})
	learn(tab, rel, true)
	if rel.Sensor.DHCP.Lease.Action != "released" || !rel.Sensor.DHCP.Lease.End.Equal(t0.Add(20*time.Second)) {
		t.Errorf("release lease %+v", rel.Sensor.DHCP.Lease)
	}
	if _, ok := tab.Lookup("192.168.0.10", t0.Add(21*time.Second)); ok {
		t.Error("lease live after RELEASE")
	}
	if _, ok := tab.Lookup("192.168.0.10", t0.Add(19*time.Second)); !ok {
		t.Error("an event before the RELEASE is no longer named")
	}
	if s := tab.Stats(); s.Learned != 1 || s.Released != 1 || s.Leases != 1 || s.Names != 1 {
		t.Errorf("stats %+v", s)
	}
}

// DHCPv6: the client is known by its DUID; its FQDN names the lease; a
// REPLY with valid lifetime 0 ends it; an infinite lease never ends.
func TestLearnV6(t *testing.T) {
	tab := New(Config{}, nil)
	duid := "000100012a3b4c5d90b11c994929"
	learn(tab, dhcpEvent(0, "dhcpv6", schemas.DHCP{MessageType: "request", ClientID: duid, FQDN: "ws42.corp.example", Hostname: "ws42"}), true)
	learn(tab, dhcpEvent(time.Second, "dhcpv6", schemas.DHCP{MessageType: "reply", ClientID: duid, ClientMAC: mac, AssignedIP: "2001:db8::1a", LeaseTime: 0xffffffff}), true)
	l, ok := tab.Lookup("2001:db8::1a", t0.Add(1000*time.Hour))
	if !ok || l.Hostname != "ws42.corp.example" || !l.End.IsZero() {
		t.Fatalf("lease %+v %v", l, ok)
	}
	learn(tab, dhcpEvent(2*time.Second, "dhcpv6", schemas.DHCP{MessageType: "reply", ClientID: duid, AssignedIP: "2001:db8::1a"}), true)
	if _, ok := tab.Lookup("2001:db8::1a", t0.Add(3*time.Second)); ok {
		t.Error("lease live after a zero valid lifetime")
	}
}

// The table holds MaxEntries leases: a new address past them is refused
// (counted) once the ended leases are swept; a renewal of a held address
// is not; the budget refuses too.
func TestBounds(t *testing.T) {
	tab := New(Config{MaxEntries: 4}, nil)
	lease := func(i int, at time.Duration, secs int64) bool {
		return learn(tab, dhcpEvent(at, "dhcp", schemas.DHCP{MessageType: "ack", ClientMAC: mac, AssignedIP: fmt.Sprintf("10.0.0.%d", i), LeaseTime: secs}), true)
	}
	for i := range 4 {
		if !lease(i, 0, 60) {
			t.Fatalf("lease %d refused", i)
		}
	}
	if lease(9, time.Second, 60) {
		t.Error("a fifth lease kept in a table of 4")
	}
	if !lease(2, 2*time.Second, 60) {
		t.Error("a renewal refused")
	}
	if !lease(9, 2*time.Minute, 60) { // the first ones ended: swept
		t.Error("a lease refused after the others ended")
	}
	if s := tab.Stats(); s.Refused != 1 || s.Expired != 4 || s.Leases != 1 {
		t.Errorf("stats %+v", s)
	}
	b := budget.New(1) // below one entry
	tight := New(Config{}, b)
	if learn(tight, dhcpEvent(0, "dhcp", schemas.DHCP{MessageType: "ack", ClientMAC: mac, AssignedIP: "10.0.0.1", LeaseTime: 60}), true) {
		t.Error("lease kept beyond the budget")
	}
	if b.Stats().Pools[budget.Hosts].Denied == 0 {
		t.Error("budget denial not counted in pool hosts")
	}
}

// Workers learn and enrich at once (run with -race).
func TestConcurrent(t *testing.T) {
	tab := New(Config{}, budget.New(0))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				ip := fmt.Sprintf("10.%d.%d.%d", w, i/250, i%250)
				learn(tab, dhcpEvent(time.Duration(i)*time.Millisecond, "dhcp", schemas.DHCP{MessageType: "ack", ClientMAC: mac, AssignedIP: ip, LeaseTime: 60, Hostname: "h"}), true)
				ev := flowEvent(time.Duration(i)*time.Millisecond, ip, "10.9.9.9")
				tab.Enrich(ev)
				if ev.Source.Domain != "h" {
					t.Errorf("%s not named", ip)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := len(tab.Leases(time.Time{})); n != 2000 {
		t.Errorf("%d leases", n)
	}
}

func BenchmarkEnrich(b *testing.B) {
	tab := New(Config{}, nil)
	for i := range 1000 {
		learn(tab, dhcpEvent(0, "dhcp", schemas.DHCP{MessageType: "ack", ClientMAC: mac, AssignedIP: fmt.Sprintf("10.0.%d.%d", i/250, i%250), LeaseTime: 3600, Hostname: "h"}), true)
	}
	hit, miss := flowEvent(time.Second, "10.0.1.7", "192.0.2.1"), flowEvent(time.Second, "192.0.2.2", "192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		hit.Source.Domain, hit.Source.MAC, hit.Related.Hosts = "", "", hit.Related.Hosts[:0]
		tab.Enrich(hit)
		tab.Enrich(miss)
	}
}

// Client names are bounded like leases: a full table refuses new names
// (named DISCOVERs from random MACs), and names older than nameTTL make
// room again once packet time has passed them.
func TestNamesBounded(t *testing.T) {
	tab := New(Config{MaxEntries: 4}, nil)
	discover := func(i int, at time.Duration) bool {
		return learn(tab, dhcpEvent(at, "dhcp", schemas.DHCP{MessageType: "discover", ClientMAC: fmt.Sprintf("02:00:00:00:00:%02x", i), Hostname: fmt.Sprintf("h%d", i)}), true)
	}
	for i := range 4 {
		if !discover(i, 0) {
			t.Fatalf("name %d refused", i)
		}
	}
	for i := 4; i < 1000; i++ {
		if discover(i, time.Second) {
			t.Fatalf("name %d kept in a full table", i)
		}
	}
	if !discover(2000, nameTTL+2*time.Second) {
		t.Error("a name refused after the others aged out")
	}
}

// A flood of new names into a full table costs no scan per name.
func BenchmarkNameFloodFull(b *testing.B) {
	tab := New(Config{MaxEntries: 1 << 14}, nil)
	for i := range 1 << 14 {
		learn(tab, dhcpEvent(0, "dhcp", schemas.DHCP{MessageType: "discover", ClientMAC: fmt.Sprintf("02:00:00:%06x", i), Hostname: "h"}), true)
	}
	ev := dhcpEvent(time.Second, "dhcp", schemas.DHCP{MessageType: "discover", ClientMAC: "02:ff:ff:ff:ff:ff", Hostname: "flood"})
	b.ResetTimer()
	for range b.N {
		learn(tab, ev, true)
	}
}

// With servers set, only their answers grant leases: a forged ACK from
// another host of the segment names nothing, and says so.
func TestOnlyListedServersGrant(t *testing.T) {
	tab := New(Config{Servers: []netip.Prefix{netip.MustParsePrefix("10.0.0.2/32")}}, nil)
	ack := func(from, ip, name string) *schemas.Event {
		ev := dhcpEvent(0, "dhcp", schemas.DHCP{MessageType: "ack", ClientMAC: mac, AssignedIP: ip, Hostname: name, LeaseTime: 3600})
		ev.Source.IP = from
		return ev
	}
	forged := ack("10.0.0.66", "10.0.0.50", "ceo-laptop")
	learn(tab, forged, true)
	if forged.Sensor.DHCP.Lease.Action != "ignored" {
		t.Errorf("forged ACK: lease %+v", forged.Sensor.DHCP.Lease)
	}
	real := ack("10.0.0.2", "10.0.0.51", "printer")
	learn(tab, real, true)
	if real.Sensor.DHCP.Lease.Action != "assigned" {
		t.Errorf("server's ACK: lease %+v", real.Sensor.DHCP.Lease)
	}
	ev := flowEvent(time.Minute, "10.0.0.50", "10.0.0.51")
	tab.Enrich(ev)
	if ev.Source.Domain != "" || ev.Destination.Domain != "printer" {
		t.Errorf("named source %q destination %q", ev.Source.Domain, ev.Destination.Domain)
	}
	if s := tab.Stats(); s.Ignored != 1 || s.Learned != 1 {
		t.Errorf("stats %+v", s)
	}
}

// Learn and Enrich write no group of a flow event but EnrichGroups: a flow
// whose two ends hold leases encodes told only of its own groups and those
// as in full.
func TestEnrichWritesEnrichGroups(t *testing.T) {
	tab := New(Config{}, nil)
	for i, ip := range []string{"192.168.0.10", "192.168.0.11"} {
		m := fmt.Sprintf("90:b1:1c:99:49:%02x", i)
		learn(tab, dhcpEvent(0, "dhcp", schemas.DHCP{MessageType: "request", ClientMAC: m, Hostname: fmt.Sprint("host", i)}), true)
		learn(tab, dhcpEvent(time.Second, "dhcp", schemas.DHCP{MessageType: "ack", ClientMAC: m, AssignedIP: ip, LeaseTime: 3600}), true)
	}
	ev := flowEvent(2*time.Second, "192.168.0.10", "192.168.0.11")
	learn(tab, ev, true)
	tab.Enrich(ev)
	if ev.Source.Domain != "host0" || ev.Destination.MAC == "" || len(ev.Related.Hosts) != 2 {
		t.Fatalf("not named: %+v %+v %v", ev.Source, ev.Destination, ev.Related.Hosts)
	}
	want, err := schemas.EncodeWithID(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	var c schemas.EncodeCache
	if got, _ := c.EncodeGroupsWithID(nil, ev, schemas.GroupSource|schemas.GroupDestination|EnrichGroups); string(got) != string(want) {
		t.Errorf("told EnrichGroups:\n%s\nin full:\n%s", got, want)
	}
}

// learn has tab learn from ev as sent by its source (the sender of the
// tests' messages).
func learn(tab *Table, ev *schemas.Event, admitted bool) bool {
	from, _ := netip.ParseAddr(ev.Source.IP)
	return tab.Learn(ev, from, admitted)
}

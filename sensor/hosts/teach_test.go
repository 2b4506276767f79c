package hosts

import (
	"net/netip"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers/dhcp"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Only a DHCPv4 message the table can learn from teaches it: a client
// message with a name, an answer granting an address from a listed
// server, a RELEASE or DECLINE naming the address it ends.
func TestTeaches4(t *testing.T) {
	server, rogue := netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.1.0.66")
	tab := New(Config{Servers: []netip.Prefix{netip.PrefixFrom(server, 32)}}, nil)
	mac := [6]byte{2, 0, 0, 0, 0, 1}
	leased := netip.MustParseAddr("10.1.0.7")
	msgType := func(n byte) pcapgen.DHCPOption { return pcapgen.DHCPOption{Code: 53, Value: []byte{n}} }
	name := pcapgen.DHCPOption{Code: 12, Value: []byte("ws42")}
	requested := pcapgen.DHCPOption{Code: 50, Value: leased.AsSlice()}
	release := pcapgen.DHCPMessage(1, 1, mac, netip.Addr{}, msgType(7))
	copy(release[12:16], leased.AsSlice()) // ciaddr
	client := netip.IPv4Unspecified()
	for _, tc := range []struct {
		name  string
		msg   []byte
		from  netip.Addr
		teach Teaching
	}{
		{"named REQUEST", pcapgen.DHCPMessage(1, 1, mac, netip.Addr{}, msgType(3), name), client, TeachesClient},
		{"REQUEST without a name", pcapgen.DHCPMessage(1, 1, mac, netip.Addr{}, msgType(3), requested), client, TeachesNothing},
		{"named DISCOVER", pcapgen.DHCPMessage(1, 1, mac, netip.Addr{}, msgType(1), name), client, TeachesClient},
		{"OFFER", pcapgen.DHCPMessage(2, 1, mac, leased, msgType(2)), server, TeachesNothing},
		{"ACK granting an address", pcapgen.DHCPMessage(2, 1, mac, leased, msgType(5)), server, TeachesServer},
		{"ACK granting an address, from a sender not listed", pcapgen.DHCPMessage(2, 1, mac, leased, msgType(5)), rogue, TeachesNothing},
		{"ACK without an address (to an INFORM)", pcapgen.DHCPMessage(2, 1, mac, netip.Addr{}, msgType(5)), server, TeachesNothing},
		{"NAK", pcapgen.DHCPMessage(2, 1, mac, netip.Addr{}, msgType(6)), server, TeachesNothing},
		{"RELEASE of its ciaddr", release, leased, TeachesClient},
		{"RELEASE without ciaddr", pcapgen.DHCPMessage(1, 1, mac, netip.Addr{}, msgType(7)), leased, TeachesNothing},
		{"DECLINE of the address requested", pcapgen.DHCPMessage(1, 1, mac, netip.Addr{}, msgType(4), requested), client, TeachesClient},
		{"BOOTP reply", pcapgen.DHCPMessage(2, 1, mac, leased), server, TeachesNothing},
	} {
		var m dhcp.Message
		if err := dhcp.Parse(tc.msg, &m); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := tab.Teaches4(&m, tc.from); got != tc.teach {
			t.Errorf("%s: teaches %v, want %v", tc.name, got, tc.teach)
		}
	}
}

// Admit lets through at most Config.MaxLearnRate messages a second of
// packet time, of clients and of servers each, says which refusal is its
// second's first, counts the refused ones, does not reopen a second when
// time goes back a little, goes on with the capture's time after a stray
// stamp in the future, and is not reopened by time jumping back and forth.
func TestAdmitBoundsLearningPerSecond(t *testing.T) {
	tab := New(Config{MaxLearnRate: 3}, nil)
	type result struct{ ok, first bool }
	admit := func(kind Teaching, at time.Duration) result {
		ok, first := tab.Admit(kind, t0.Add(at))
		return result{ok, first}
	}
	want := []result{{true, false}, {true, false}, {true, false}, {false, true}, {false, false}}
	for i, w := range want {
		if got := admit(TeachesClient, time.Duration(i)*100*time.Millisecond); got != w {
			t.Errorf("second 0, client message %d: %+v, want %+v", i+1, got, w)
		}
	}
	if got := admit(TeachesServer, 900*time.Millisecond); got != (result{true, false}) {
		t.Errorf("a server's answer after a flood of clients' messages: %+v, want admitted", got)
	}
	if got := admit(TeachesClient, -5*time.Second); got != (result{false, false}) {
		t.Errorf("an older packet: %+v, want it counted in the newest second", got)
	}
	if got := admit(TeachesClient, time.Second); got != (result{true, false}) {
		t.Errorf("next second: %+v, want admitted", got)
	}
	if got := admit(TeachesNothing, 2*time.Second); got != (result{false, false}) {
		t.Errorf("a message that teaches nothing: %+v, want refused, not counted", got)
	}
	if n := tab.Stats().Limited; n != 3 {
		t.Errorf("%d limited, want 3", n)
	}
	// One stamp an hour ahead, then the capture's own time again.
	admit(TeachesClient, time.Hour)
	for i := range 10 {
		if got := admit(TeachesClient, time.Duration(10+i)*time.Second); !got.ok {
			t.Fatalf("second %d after a stamp an hour ahead: refused", 10+i)
		}
	}
	// Time jumping back and forth by an hour (a crafted capture) opens two
	// windows (after the first message's), not one a jump.
	jumpy := New(Config{MaxLearnRate: 3}, nil)
	var admitted int
	for i := range 100 {
		at := t0.Add(time.Duration(i%2) * time.Hour)
		if ok, _ := jumpy.Admit(TeachesClient, at); ok {
			admitted++
		}
	}
	if admitted != 7 {
		t.Errorf("%d of 100 admitted with time jumping back and forth, want 7 (the first, then two windows of 3)", admitted)
	}
	if got := New(Config{}, nil).maxRate; got != DefaultMaxLearnRate {
		t.Errorf("default rate %d, want %d", got, DefaultMaxLearnRate)
	}
}

// A message not admitted teaches nothing, but an answer from a sender not
// in Config.Servers is still marked ignored (that changes no lease).
func TestLearnNotAdmitted(t *testing.T) {
	tab := New(Config{Servers: []netip.Prefix{netip.MustParsePrefix("10.1.0.1/32")}}, nil)
	ack := func(from string) *schemas.Event {
		ev := dhcpEvent(0, "dhcp", schemas.DHCP{MessageType: "ack", ClientMAC: mac, AssignedIP: "10.1.0.7", LeaseTime: 60})
		ev.Source.IP = from
		return ev
	}
	listed, rogue := ack("10.1.0.1"), ack("10.1.0.66")
	learn(tab, listed, false)
	learn(tab, rogue, false)
	if _, ok := tab.Lookup("10.1.0.7", t0); ok || listed.Sensor.DHCP.Lease.Action != "" {
		t.Errorf("an answer not admitted was learnt: %+v", listed.Sensor.DHCP.Lease)
	}
	if rogue.Sensor.DHCP.Lease.Action != "ignored" || tab.Stats().Ignored != 1 {
		t.Errorf("a rogue answer not admitted: lease %+v, %d ignored; want it marked ignored", rogue.Sensor.DHCP.Lease, tab.Stats().Ignored)
	}
}

// The answer to a unicast renewal comes back on the client's flow: its
// event's source is the client, its sender the server. The server is
// judged by the sender, as the feeder judges it (Teaches4).
func TestUnicastRenewalJudgedBySender(t *testing.T) {
	server := netip.MustParseAddr("10.1.0.1")
	tab := New(Config{Servers: []netip.Prefix{netip.PrefixFrom(server, 32)}}, nil)
	ack := dhcpEvent(0, "dhcp", schemas.DHCP{MessageType: "ack", ClientMAC: mac, AssignedIP: "10.1.0.7", LeaseTime: 60})
	ack.Source.IP, ack.Destination.IP = "10.1.0.7", "10.1.0.1" // the flow's originator: the client
	if !tab.Learn(ack, server, true) || ack.Sensor.DHCP.Lease.Action != "assigned" {
		t.Fatalf("the server's answer on the client's flow: lease %+v, want assigned", ack.Sensor.DHCP.Lease)
	}
	if _, ok := tab.Lookup("10.1.0.7", t0); !ok {
		t.Error("the renewed lease is not held")
	}
}

package hosts

import (
	"net/netip"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers/dhcp"
)

// Only a DHCPv4 message the table can learn from teaches it: a client
// message with a name, an answer granting an address, a RELEASE or
// DECLINE naming the address it ends.
func TestTeaches4(t *testing.T) {
	mac := [6]byte{2, 0, 0, 0, 0, 1}
	leased := netip.MustParseAddr("10.1.0.7")
	msgType := func(n byte) pcapgen.DHCPOption { return pcapgen.DHCPOption{Code: 53, Value: []byte{n}} }
	name := pcapgen.DHCPOption{Code: 12, Value: []byte("ws42")}
	requested := pcapgen.DHCPOption{Code: 50, Value: leased.AsSlice()}
	release := pcapgen.DHCPMessage(1, 1, mac, netip.Addr{}, msgType(7))
	copy(release[12:16], leased.AsSlice()) // ciaddr
	for _, tc := range []struct {
		name  string
		msg   []byte
		teach bool
	}{
		{"named REQUEST", pcapgen.DHCPMessage(1, 1, mac, netip.Addr{}, msgType(3), name), true},
		{"REQUEST without a name", pcapgen.DHCPMessage(1, 1, mac, netip.Addr{}, msgType(3), requested), false},
		{"named DISCOVER", pcapgen.DHCPMessage(1, 1, mac, netip.Addr{}, msgType(1), name), true},
		{"OFFER", pcapgen.DHCPMessage(2, 1, mac, leased, msgType(2)), false},
		{"ACK granting an address", pcapgen.DHCPMessage(2, 1, mac, leased, msgType(5)), true},
		{"ACK without an address (to an INFORM)", pcapgen.DHCPMessage(2, 1, mac, netip.Addr{}, msgType(5)), false},
		{"NAK", pcapgen.DHCPMessage(2, 1, mac, netip.Addr{}, msgType(6)), false},
		{"RELEASE of its ciaddr", release, true},
		{"RELEASE without ciaddr", pcapgen.DHCPMessage(1, 1, mac, netip.Addr{}, msgType(7)), false},
		{"DECLINE of the address requested", pcapgen.DHCPMessage(1, 1, mac, netip.Addr{}, msgType(4), requested), true},
		{"BOOTP reply", pcapgen.DHCPMessage(2, 1, mac, leased), false},
	} {
		var m dhcp.Message
		if err := dhcp.Parse(tc.msg, &m); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := Teaches4(&m); got != tc.teach {
			t.Errorf("%s: teaches %v, want %v", tc.name, got, tc.teach)
		}
	}
}

// Admit lets through at most Config.MaxLearnRate messages a second of
// packet time, says which refusal is its second's first, counts the
// refused ones, and does not reopen a second when time goes back.
func TestAdmitBoundsLearningPerSecond(t *testing.T) {
	tab := New(Config{MaxLearnRate: 3}, nil)
	type result struct{ ok, first bool }
	admit := func(at time.Duration) result {
		ok, first := tab.Admit(t0.Add(at))
		return result{ok, first}
	}
	want := []result{{true, false}, {true, false}, {true, false}, {false, true}, {false, false}}
	for i, w := range want {
		if got := admit(time.Duration(i) * 100 * time.Millisecond); got != w {
			t.Errorf("second 0, message %d: %+v, want %+v", i+1, got, w)
		}
	}
	if got := admit(-5 * time.Second); got != (result{false, false}) {
		t.Errorf("an older packet: %+v, want it counted in the newest second", got)
	}
	if got := admit(time.Second); got != (result{true, false}) {
		t.Errorf("next second: %+v, want admitted", got)
	}
	if n := tab.Stats().Limited; n != 3 {
		t.Errorf("%d limited, want 3", n)
	}
	if got := New(Config{}, nil).maxRate; got != DefaultMaxLearnRate {
		t.Errorf("default rate %d, want %d", got, DefaultMaxLearnRate)
	}
}

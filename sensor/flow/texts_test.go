package flow

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// Texts gives each string bytes of its own that later strings never
// overwrite, and allocates once a block, not once a string.
func TestTextsStringsStayAndShareBlocks(t *testing.T) {
	var tx Texts
	var got []string
	for i := range 1000 {
		got = append(got, tx.str(fmt.Appendf(nil, "10.0.%d.%d", i/256, i%256)))
	}
	for i, s := range got {
		if want := fmt.Sprintf("10.0.%d.%d", i/256, i%256); s != want {
			t.Fatalf("string %d is %q later, want %q", i, s, want)
		}
	}
	b := []byte("198.51.100.200203.0.113.71:LQ9f3zDpsUCpTq7TLhMM8aIeCX8=")
	c := []byte("198.51.100.200203.0.113.71:LQ9f3zDpsUCpTq7TLhMM8aIeCX8!")
	if n := testing.AllocsPerRun(1000, func() { tx.str(b); tx.str(c) }); n > 2*float64(len(b))/textsBlock+0.01 {
		t.Errorf("%v allocations two strings of %d bytes, want one a %d-byte block", n, len(b), textsBlock)
	}

	var none *Texts
	if s := none.str(b); s != string(b) {
		t.Errorf("nil Texts: %q", s)
	}
}

// Each new flow's events print its addresses once and cut the strings
// from the worker's Texts: a flood of new flows makes no string a flow
// (it made one, the addresses and Community ID together), and a flow's
// events share theirs.
func TestNewFlowsEventsShareTextBlocks(t *testing.T) {
	f := synFlow()
	var texts Texts
	var ev schemas.Event
	ev.Related.IP = make([]string, 0, 2)
	n := testing.AllocsPerRun(1000, func() {
		var addrs Addrs // a new flow's
		FillNetworkFrom(&ev, f, &addrs, &texts)
		f.FillEventFrom(&ev, nil, &addrs, &texts)
	})
	if n > 0.1 {
		t.Errorf("a new flow's event and flow event: %v allocations", n)
	}
	if ev.Source.IP != "10.1.0.10" || ev.Destination.IP != "192.0.2.80" || ev.Network.CommunityID != f.CommunityID() {
		t.Errorf("flow event: %q %q %q, want 10.1.0.10 192.0.2.80 %q", ev.Source.IP, ev.Destination.IP, ev.Network.CommunityID, f.CommunityID())
	}
	var addrs Addrs
	FillNetworkFrom(&ev, f, &addrs, &texts)
	first := ev.Network.CommunityID
	f.FillEventFrom(&ev, nil, &addrs, &texts)
	if unsafe.StringData(ev.Network.CommunityID) != unsafe.StringData(first) {
		t.Errorf("a flow's two events cut two strings")
	}
}

// An Addrs names one block of one Texts: filled through another worker's
// Texts (whose block counts may equal this one's), or after its block was
// left behind, its strings are printed afresh, never read from another
// flow's bytes.
func TestAddrsNameOneTextsBlock(t *testing.T) {
	f := synFlow()
	var mine, other Texts
	other.str([]byte("172.16.9.9198.51.100.7:AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
	var addrs Addrs
	var ev schemas.Event
	FillNetworkFrom(&ev, f, &addrs, &mine)
	FillNetworkFrom(&ev, f, &addrs, &other)
	if ev.Source.IP != "10.1.0.10" || ev.Destination.IP != "192.0.2.80" || ev.Network.CommunityID != f.CommunityID() {
		t.Fatalf("through another Texts: %q %q %q", ev.Source.IP, ev.Destination.IP, ev.Network.CommunityID)
	}
	for range 2 * textsBlock / 8 { // the block the Addrs names is left behind
		mine.str([]byte("7.7.7.7:"))
	}
	FillNetworkFrom(&ev, f, &addrs, &mine)
	if ev.Source.IP != "10.1.0.10" || ev.Destination.IP != "192.0.2.80" {
		t.Fatalf("after its block: %q %q", ev.Source.IP, ev.Destination.IP)
	}
}

// synFlow is the flow of a SYN from 10.1.0.10:40000 to 192.0.2.80:443.
func synFlow() *Flow {
	p := decode.Packet{
		Timestamp: time.Unix(1700000000, 0), Src: netip.MustParseAddr("10.1.0.10"), Dst: netip.MustParseAddr("192.0.2.80"),
		SrcPort: 40000, DstPort: 443, Proto: decode.ProtoTCP, IPVersion: 4, TCPFlags: decode.SYN,
	}
	f, _ := NewTable(Config{}, func(*Flow) {}).Update(&p)
	return f
}

// str is a string of b's bytes cut from t.
func (t *Texts) str(b []byte) string {
	s, _ := t.cut(b)
	return s
}

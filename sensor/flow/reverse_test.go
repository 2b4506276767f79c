package flow

import (
	"testing"

	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// A flow picked up mid-stream with the server's packet first: the table
// takes the server for the originator until Reverse says otherwise; from
// then on everything reads as if the client had been seen first.
func TestReverseSwapsSidesAndKeepsCountingRight(t *testing.T) {
	pkts := decoded(t)[3:] // no handshake: request, response, ACKs, FINs; the response comes first
	var srv int
	for srv = range pkts {
		if pkts[srv].SrcPort == 80 && len(pkts[srv].Payload) > 0 {
			break
		}
	}
	var ended []Flow
	tab := NewTable(Config{}, func(f *Flow) { ended = append(ended, *f) })
	f, d := tab.Update(&pkts[srv])
	if d != FromOrig || f.Orig().Port != 80 {
		t.Fatalf("first packet from the server: dir %v, originator port %d", d, f.Orig().Port)
	}
	before := *f
	id := f.CommunityID()
	f.Reverse()
	if f.Orig() != before.Resp() || f.Resp() != before.Orig() || f.CommunityID() != id {
		t.Errorf("reversed: orig %v resp %v id %s; before orig %v resp %v id %s", f.Orig(), f.Resp(), f.CommunityID(), before.Orig(), before.Resp(), id)
	}
	if f.Packets != [2]uint64{0, 1} || f.Payload[FromResp] != before.Payload[FromOrig] || f.TCPFlags[FromResp] != before.TCPFlags[FromOrig] {
		t.Errorf("counters not swapped: packets %v payload %v flags %v", f.Packets, f.Payload, f.TCPFlags)
	}
	if h := f.History(); h != "^d" {
		t.Errorf("history %q, want ^d", h)
	}
	if s, ok := f.tcp.nextSeq[FromResp], f.tcp.bits&(seqValid<<FromResp) != 0; !ok || s != before.tcp.nextSeq[FromOrig] {
		t.Errorf("sequence state not swapped: %d valid=%v", s, ok)
	}
	g := *f
	g.Reverse()
	if g != before {
		t.Error("reversing twice is not the identity")
	}
	for i := range pkts {
		if i == srv {
			continue
		}
		if _, d := tab.Update(&pkts[i]); (d == FromOrig) != (pkts[i].SrcPort != 80) {
			t.Errorf("packet %d from port %d counted in direction %v", i, pkts[i].SrcPort, d)
		}
	}
	tab.Flush()
	if len(ended) != 1 {
		t.Fatalf("%d flows ended", len(ended))
	}
	e := &ended[0]
	var want [2]uint64
	for i := range pkts {
		if pkts[i].SrcPort == 80 {
			want[FromResp]++
		} else {
			want[FromOrig]++
		}
	}
	if e.Packets != want || e.Orig().Port == 80 || e.History()[0] != '^' || e.ConnState() != "OTH" {
		t.Errorf("ended: packets %v (want %v) orig %v history %s state %s", e.Packets, want, e.Orig(), e.History(), e.ConnState())
	}
	if e.TCPFlags[FromResp]&decode.FIN == 0 || e.TCPFlags[FromOrig]&decode.FIN == 0 {
		t.Errorf("flags %v", e.TCPFlags)
	}
}

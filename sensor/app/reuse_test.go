package app

import (
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// sharedCaptures are the shared test captures (pcap and pcapng), or a skip.
func sharedCaptures(t *testing.T) []string {
	var paths []string
	for _, pat := range []string{"*.pcap", "*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "pcaps", pat))
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		t.Skip("../shared/pcaps is absent: no shared captures to replay")
	}
	return paths
}

// replayCaptures runs one analyzer and flow table over every capture in
// turn (each capture's flows ended at its end, so later captures' flows
// take earlier ones' state when reuse is on) and returns every event, flow
// events included, as JSON.
func replayCaptures(t *testing.T, paths []string, noReuse bool) (out []string, kept int) {
	var a *Analyzer
	record := func(ev *schemas.Event) {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	var fev schemas.Event
	tab := flow.NewTable(flow.Config{}, func(f *flow.Flow) {
		fev = schemas.Event{}
		addrs := a.FlowEnded(f, &fev)
		f.FillEventFrom(&fev, nil, &addrs, nil)
		record(&fev)
	})
	a = New(Config{Files: &files.Config{}}, nil, record, nil)
	a.noReuse = noReuse
	dec := decode.NewDecoder(decode.DefragConfig{}, nil)
	var p decode.Packet
	var fr source.Frame
	for _, path := range paths {
		src, err := source.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for {
			if err := src.Next(&fr); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Logf("%s: %v", filepath.Base(path), err) // a capture cut on purpose
				}
				break
			}
			if dec.Decode(fr.Data, fr.Timestamp, fr.WireLen, fr.LinkType, &p) != decode.OK {
				continue
			}
			f, d := tab.Update(&p)
			a.Packet(f, d, &p)
		}
		src.Close()
		tab.Flush()
		kept = max(kept, a.states.Len())
	}
	return out, kept
}

// An ended flow's state, stream and DNS connection, reused by later
// flows, carry nothing of their previous flow: every event of every shared
// capture is the same as with new ones for each flow.
func TestReusedStateAsNew(t *testing.T) {
	paths := sharedCaptures(t)
	want, _ := replayCaptures(t, paths, true)
	got, kept := replayCaptures(t, paths, false)
	if kept == 0 {
		t.Fatal("no ended flow's state was kept for reuse")
	}
	if len(got) != len(want) {
		t.Fatalf("%d events with reuse, %d without", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d with reuse:\n%s\nwithout:\n%s", i, got[i], want[i])
		}
	}
	t.Logf("%d events from %d captures", len(got), len(paths))
}

// Ended flows' states are kept for the next flows, up to maxKeptStates,
// still paid for on the budget, and so are TCP flows' streams past the
// first maxFree: a burst of new flows after as many ended makes no state
// and no stream (each takes a kept one), and Shed gives the kept ones'
// bytes back.
func TestEndedStatesKeptOnBudget(t *testing.T) {
	const flows = 1000 // more than the 256 kept outside the budget before
	for _, c := range []struct {
		proto uint8
		kept  int64 // bytes kept on the budget after a burst
	}{
		{decode.ProtoUDP, flows * stateBytes},
		{decode.ProtoTCP, flows*stateBytes + (flows-maxFree)*streamBytes},
	} {
		acct := budget.New(1 << 30).NewAccount()
		a, tab := analyzerOnBudget(acct)
		burst := func(port uint16) map[any]bool {
			made := map[any]bool{}
			for i := range flows {
				p := unknownPayload(i, port, c.proto)
				f, d := tab.Update(&p)
				a.Packet(f, d, &p)
				st, _ := f.App.(*state)
				made[st] = true
				if st.stream != nil {
					made[st.stream] = true
				}
			}
			tab.Flush()
			return made
		}
		first := burst(1)
		if got := acct.Used(budget.Parsers); got != c.kept {
			t.Errorf("proto %d: %d ended flows kept: %d bytes on the budget, want %d", c.proto, flows, got, c.kept)
		}
		made := 0
		for x := range burst(2) {
			if !first[x] {
				made++
			}
		}
		if made > 0 {
			t.Errorf("proto %d: %d new flows after as many ended: %d states and streams made", c.proto, flows, made)
		}
		a.Shed(always, nil)
		if got := acct.Used(budget.Parsers); got != 0 {
			t.Errorf("proto %d: after Shed: %d bytes on the budget", c.proto, got)
		}
	}
}

// What is kept for reuse gives way to live flows: a new flow the budget
// refuses gets it back first and is inspected, and flows evicted to give
// memory back to another worker (Shed with evict) leave nothing kept
// behind, so their bytes go back rather than into the kept lists.
func TestKeptGivesWayToLiveFlows(t *testing.T) {
	acct := budget.New(64 << 20).NewAccount()
	a, tab := analyzerOnBudget(acct)
	flows := func(n int, port uint16) []*flow.Flow {
		var out []*flow.Flow
		for i := range n {
			p := unknownPayload(i, port, decode.ProtoTCP)
			f, d := tab.Update(&p)
			a.Packet(f, d, &p)
			out = append(out, f)
		}
		return out
	}
	flows(1000, 1)
	tab.Flush()
	kept := acct.Used(budget.Parsers)
	if kept == 0 {
		t.Fatal("nothing kept after 1,000 TCP flows ended")
	}
	for n := int64(4096); n > 0; n /= 2 { // the rest of the budget goes to flows
		for acct.Reserve(budget.Flows, n) {
		}
	}
	if f := flows(1, 2)[0]; f.App == uninspected {
		t.Errorf("a new flow refused while %d bytes were kept for reuse", kept)
	}
	if used := acct.Used(budget.Parsers); used >= kept {
		t.Errorf("kept for reuse: %d bytes on the budget, then %d", kept, used)
	}
	acct.Release(budget.Flows, acct.Used(budget.Flows))

	live := flows(500, 3)
	a.Shed(always, func() { tab.Shed(always) })
	for _, f := range live {
		if f.App != nil {
			t.Fatal("a live flow was not evicted")
		}
	}
	if got := acct.Used(budget.Parsers); got != 0 {
		t.Errorf("after shedding kept and live flows: %d bytes on the budget", got)
	}
}

// unknownPayload is a packet of flow i (from 10.0.i/16 and port to
// 192.0.2.1:9999) carrying bytes of no protocol.
func unknownPayload(i int, port uint16, proto uint8) decode.Packet {
	return decode.Packet{
		Timestamp: time.Unix(1700000000, 0), Src: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
		Dst: netip.MustParseAddr("192.0.2.1"), SrcPort: port, DstPort: 9999,
		Proto: proto, IPVersion: 4, Payload: []byte("not a protocol"),
	}
}

// analyzerOnBudget is an analyzer drawing on acct and a flow table whose
// ended flows it is told of.
func analyzerOnBudget(acct *budget.Account) (*Analyzer, *flow.Table) {
	a := New(Config{}, nil, func(*schemas.Event) {}, nil)
	a.UseBudget(acct)
	return a, flow.NewTable(flow.Config{}, func(f *flow.Flow) {
		var ev schemas.Event
		a.FlowEnded(f, &ev)
	})
}

// Live HTTP flows evicted to give memory back keep nothing of theirs on
// the budget either: their transaction slots are not moved into the pool.
func TestEvictedHTTPFlowsKeepNoSlots(t *testing.T) {
	acct := budget.New(64 << 20).NewAccount()
	a, tab := analyzerOnBudget(acct)
	for i := range 500 {
		p := unknownPayload(i, 4, decode.ProtoTCP)
		p.DstPort, p.Payload = 80, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		f, d := tab.Update(&p)
		a.Packet(f, d, &p)
	}
	a.Shed(always, func() { tab.Shed(always) })
	if got := acct.Used(budget.Parsers); got != 0 {
		t.Errorf("after evicting 500 HTTP flows: %d bytes on the budget", got)
	}
}

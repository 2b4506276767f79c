package flow

import (
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// A flow open longer than Config.Interim reports its counters so far, once
// per interval with traffic, and its final event still counts everything.
func TestInterimReports(t *testing.T) {
	pkts := decoded(t)
	var interims []Flow
	var ended []Flow
	tab := NewTable(Config{Interim: 10 * time.Second, TCPClosedTimeout: time.Minute}, func(f *Flow) { ended = append(ended, *f) })
	tab.OnInterim(func(f *Flow) { interims = append(interims, *f) })
	start := pkts[0].Timestamp
	// The session's packets spread out: 3 s apart, so it lasts 27 s.
	for i := range pkts {
		p := pkts[i]
		p.Timestamp = start.Add(time.Duration(i) * 3 * time.Second)
		if i == len(pkts)-1 {
			break // keep the final ACK: the flow stays open
		}
		tab.Update(&p)
	}
	// Packets at 0, 3, ... 24 s. The sweep before the packet at 12 s makes
	// the first report (4 packets) and schedules the next at 22 s, made by
	// the sweep before the packet at 24 s (8 packets).
	if len(interims) != 2 {
		t.Fatalf("%d interim reports, want 2", len(interims))
	}
	if got := interims[0].Packets[0] + interims[0].Packets[1]; got != 4 {
		t.Errorf("first report counts %d packets, want 4 (0, 3, 6, 9 s)", got)
	}
	if got := interims[1].Packets[0] + interims[1].Packets[1]; got != 8 {
		t.Errorf("second report counts %d packets, want 8", got)
	}
	// One more packet (at 24 s) since the last report, then idle: one
	// report at 34 s, none at 44 s.
	tab.Expire(start.Add(34 * time.Second))
	tab.Expire(start.Add(45 * time.Second))
	if len(interims) != 3 {
		t.Errorf("%d reports after an idle interval, want 3", len(interims))
	}
	tab.Flush()
	if len(ended) != 1 || ended[0].Packets[0]+ended[0].Packets[1] != uint64(len(pkts)-1) {
		t.Fatalf("ended %v", ended)
	}
	if st := tab.Stats(); st.Interim != 3 {
		t.Errorf("stats count %d interim reports", st.Interim)
	}

	var ev schemas.Event
	f := interims[1]
	f.FillInterimEvent(&ev, nil)
	if len(ev.Event.Type) != 1 || ev.Event.Type[0] != "connection" || !ev.Event.End.IsZero() || ev.Sensor.Flow.EndReason != "" {
		t.Errorf("interim event type=%v end=%v reason=%q", ev.Event.Type, ev.Event.End, ev.Sensor.Flow.EndReason)
	}
	if ev.Network.Packets != 8 || ev.Network.CommunityID == "" {
		t.Errorf("interim event packets=%d community_id=%q", ev.Network.Packets, ev.Network.CommunityID)
	}
}

// Without Config.Interim there is no report, and ended flows leave the
// report list (a table reused for many flows stays consistent).
func TestNoInterimByDefault(t *testing.T) {
	pkts := decoded(t)
	n := 0
	tab := NewTable(Config{}, func(*Flow) {})
	tab.OnInterim(func(*Flow) { n++ })
	for i := range pkts {
		p := pkts[i]
		p.Timestamp = p.Timestamp.Add(time.Duration(i) * time.Minute)
		tab.Update(&p)
	}
	tab.Flush()
	if n != 0 {
		t.Errorf("%d interim reports without Config.Interim", n)
	}
}

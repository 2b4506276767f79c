package anomaly

import (
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

type testFlow struct {
	id   string
	seen uint32
}

func (f *testFlow) FillNetwork(ev *schemas.Event) { ev.Network.CommunityID = f.id }
func (f *testFlow) MarkAnomaly(k Kind) bool {
	first := f.seen&(1<<k) == 0
	f.seen |= 1 << k
	return first
}

func TestOnePerKindAndFlow(t *testing.T) {
	var got []schemas.Anomaly
	var ids []string
	r := New(func(ev *schemas.Event) {
		if ev.Event.Dataset != schemas.DatasetAnomaly || ev.Event.Action != ev.Sensor.Anomaly.Kind {
			t.Fatalf("event %+v", ev.Event)
		}
		got = append(got, ev.Sensor.Anomaly)
		ids = append(ids, ev.Network.CommunityID)
	}, nil, 0)
	ts := time.Unix(1000, 0)
	a, b := &testFlow{id: "a"}, &testFlow{id: "b"}
	for range 5 {
		r.Report(RSTIgnored, a, ts, "bad MD5")
	}
	r.Report(OverlapConflict, a, ts, "")
	r.Report(RSTIgnored, b, ts, "out of window")
	want := []schemas.Anomaly{
		{Kind: "tcp.rst_ignored", Layer: "tcp", Detail: "bad MD5"},
		{Kind: "tcp.overlap_conflict", Layer: "tcp"},
		{Kind: "tcp.rst_ignored", Layer: "tcp", Detail: "out of window", Suppressed: 4},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v, want %+v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if ids[2] != "b" {
		t.Errorf("third event on flow %q, want b", ids[2])
	}
	c := r.Counts()
	if c.Seen[RSTIgnored] != 6 || c.Emitted[RSTIgnored] != 2 || c.Emitted[OverlapConflict] != 1 {
		t.Errorf("counts %+v", c)
	}
}

func TestRateLimitPerSecondOfPacketTime(t *testing.T) {
	n := 0
	var last schemas.Anomaly
	r := New(func(ev *schemas.Event) { n++; last = ev.Sensor.Anomaly }, nil, 3)
	ts := time.Unix(2000, 0)
	for range 10 {
		r.Report(MemoryLimit, nil, ts, "flows")
	}
	if n != 3 {
		t.Fatalf("%d events in one second, want 3", n)
	}
	r.Report(MemoryLimit, nil, ts.Add(time.Second), "flows")
	if n != 4 || last.Suppressed != 7 {
		t.Fatalf("next second: %d events, suppressed %d; want 4 and 7", n, last.Suppressed)
	}
	var nilr *Reporter
	nilr.Report(MemoryLimit, nil, ts, "") // must not panic
}

func TestEveryKindNamed(t *testing.T) {
	seen := map[string]bool{}
	for k := range NumKinds {
		if k.String() == "" || k.Layer() == "" || seen[k.String()] {
			t.Errorf("kind %d: name %q layer %q", k, k.String(), k.Layer())
		}
		seen[k.String()] = true
	}
}

// Reports of two Reporters handed over (Defer) and judged in their order
// by a third (Judge) give one Reporter's events: one rate limit, one count
// of what it held back, repeats on a flow counted as held back.
func TestDeferredReportsJudgedByOneLimit(t *testing.T) {
	type report struct {
		k  Kind
		f  *testFlow
		at time.Duration
	}
	events := func(emit func(func(*schemas.Event)) func(report)) []schemas.Anomaly {
		var got []schemas.Anomaly
		run := emit(func(ev *schemas.Event) { got = append(got, ev.Sensor.Anomaly) })
		for i := range 60 { // two reports on each of 60 flows: the second is held back
			f, at := &testFlow{id: string(rune('a' + i%26))}, time.Duration(i)*40*time.Millisecond
			run(report{RSTIgnored, f, at})
			run(report{RSTIgnored, f, at})
		}
		return got
	}
	want := events(func(out func(*schemas.Event)) func(report) {
		one := New(out, nil, 5)
		return func(r report) { one.Report(r.k, r.f, time.Unix(1000, 0).Add(r.at), "x") }
	})
	got := events(func(out func(*schemas.Event)) func(report) {
		judge := New(out, nil, 5)
		workers := [2]*Reporter{New(nil, nil, 5), New(nil, nil, 5)}
		for _, w := range workers {
			w.Defer(judge.Judge)
		}
		n := 0
		return func(r report) { workers[n%2].Report(r.k, r.f, time.Unix(1000, 0).Add(r.at), "x"); n++ }
	})
	if len(want) < 10 || want[5].Suppressed == 0 {
		t.Fatalf("one Reporter: %+v: the case checks too little", want)
	}
	if len(got) != len(want) {
		t.Fatalf("judged: %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

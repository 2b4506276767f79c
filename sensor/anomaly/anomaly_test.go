package anomaly

import (
	"slices"
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

type testFrame struct{ src string }

func (f testFrame) FillNetwork(ev *schemas.Event) { ev.Source.IP = f.src }

// A frame without a flow is limited per kind and address pair for a
// minute, whether its reports are judged at once or handed over (Defer)
// and judged by another Reporter; one without addresses by its kind's
// rate only. A pair's first report holds back the next ones even when the
// kind's rate held it back, as a flow's does.
func TestFrameReportsPerKindAndPairAMinute(t *testing.T) {
	type report struct {
		k    Kind
		pair uint64
		at   time.Duration
	}
	var reports []report
	const a, b = 0x7a3c_91d0_55e2_0f14, 0x1b44_e07f_a2c9_3d86 // address pair hashes
	for i := range 3 {
		at := time.Duration(i) * 25 * time.Second // 0, 25 s, 50 s: one minute
		reports = append(reports,
			report{TCPBadHeaderLength, a, at}, report{TCPBadHeaderLength, a, at}, report{TCPBadHeaderLength, b, at},
			report{UDPBadLength, a, at}, report{LinkMalformed, 0, at})
	}
	reports = append(reports, report{TCPBadHeaderLength, a, 61 * time.Second}) // the minute is over
	// More pairs than the rate lets out in second 100; all are held back in 101.
	for i := range 25 {
		reports = append(reports, report{UDPBadLength, uint64(i+1) << 40, 100 * time.Second})
	}
	for i := range 25 {
		reports = append(reports, report{UDPBadLength, uint64(i+1) << 40, 101 * time.Second})
	}
	type got struct {
		a   schemas.Anomaly
		src string
	}
	run := func(r *Reporter) {
		for _, rep := range reports {
			r.ReportFrame(rep.k, testFrame{src: "192.0.2.1"}, rep.pair, time.Unix(1000, 0).Add(rep.at), "")
		}
	}
	var inline []got
	run(New(func(ev *schemas.Event) { inline = append(inline, got{ev.Sensor.Anomaly, ev.Source.IP}) }, nil, 0))
	var kinds []string
	for _, g := range inline {
		kinds = append(kinds, g.a.Kind)
		if g.src != "192.0.2.1" {
			t.Errorf("event %+v without the frame's source", g)
		}
	}
	want := []string{"decode.tcp_bad_header_length", "decode.tcp_bad_header_length", "decode.udp_bad_length", "decode.link_malformed",
		"decode.link_malformed", "decode.link_malformed", "decode.tcp_bad_header_length"}
	for range 20 {
		want = append(want, "decode.udp_bad_length")
	}
	if !slices.Equal(kinds, want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	if s := inline[6].a.Suppressed; s != 6 {
		t.Errorf("the pair's report after a minute carries %d held back, want 6", s)
	}
	var judged []got
	judge := New(func(ev *schemas.Event) { judged = append(judged, got{ev.Sensor.Anomaly, ev.Source.IP}) }, nil, 0)
	worker := New(nil, nil, 0)
	worker.Defer(judge.Judge)
	run(worker)
	if !slices.Equal(judged, inline) {
		t.Errorf("judged later: %+v, want %+v", judged, inline)
	}
}

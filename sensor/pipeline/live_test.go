package pipeline

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// Traffic buckets of all workers add up to what was read, per second.
func TestTimeseriesBucketsAddUp(t *testing.T) {
	perSecond := func(workers int) (map[string]int64, int64) {
		out, st := replay(t, Config{Workers: workers, Timeseries: true}, filepath.Join(ownPcaps, "tcp-states.pcap"), filepath.Join(ownPcaps, "icmp.pcap"))
		m := map[string]int64{}
		var total int64
		for _, ev := range out.dataset("packetsleuth.timeseries") {
			m[str(ev, "@timestamp")] += num(ev, "packetsleuth.traffic.bytes")
			total += num(ev, "packetsleuth.traffic.packets")
			if str(ev, "event.kind") != "metric" {
				t.Errorf("bucket kind %q", str(ev, "event.kind"))
			}
		}
		if total != int64(st.Packets) {
			t.Errorf("workers=%d: buckets count %d packets, %d were decoded", workers, total, st.Packets)
		}
		return m, total
	}
	one, n1 := perSecond(1)
	two, n2 := perSecond(2)
	if n1 == 0 || n1 != n2 || len(one) != len(two) {
		t.Fatalf("1 worker: %v (%d); 2 workers: %v (%d)", one, n1, two, n2)
	}
	for sec, b := range one {
		if two[sec] != b {
			t.Errorf("second %s: %d bytes with 1 worker, %d with 2", sec, b, two[sec])
		}
	}
}

// Live mode: feeders run concurrently, one per source, into shared workers,
// and give the same flows as a replay.
func TestConcurrentFeeders(t *testing.T) {
	files := []string{filepath.Join(ownPcaps, "http-ethernet.pcap"), filepath.Join(ownPcaps, "tcp-states.pcap")}
	want, _ := replay(t, Config{}, files...)
	out := &collector{}
	p, err := New(Config{Workers: 2, Live: true, Output: out, Interfaces: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, path := range files {
		f := p.NewFeeder(filepath.Base(path))
		src, err := source.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer src.Close()
			if err := f.Feed(context.Background(), src); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	p.Close()
	// Live events may name their ingress interface; apart from that they
	// are the replay's.
	if got, w := withoutObserver(t, out.raw), withoutObserver(t, want.raw); !slices.Equal(got, w) {
		t.Errorf("live feeders:\n%v\nreplay:\n%v", got, w)
	}
	if st := p.Snapshot(); st.Frames == 0 || st.Flows.Created != 7 {
		t.Errorf("snapshot: frames=%d flows=%d", st.Frames, st.Flows.Created)
	}
}

// Sibling feeders (AF_PACKET fanout sockets of one interface) tag their
// packets with the interface of the first, which counts their frames too;
// the pipeline's totals count each frame once.
func TestSiblingFeeders(t *testing.T) {
	files := []string{filepath.Join(ownPcaps, "http-ethernet.pcap"), filepath.Join(ownPcaps, "tcp-states.pcap")}
	want, wantSt := replay(t, Config{}, files...)
	out := &collector{}
	p, err := New(Config{Workers: 2, Live: true, Output: out, Interfaces: []string{"eth7"}})
	if err != nil {
		t.Fatal(err)
	}
	first := p.NewFeeder("eth7")
	feeders := []*Feeder{first, first.NewSibling()}
	var wg sync.WaitGroup
	for i, path := range files {
		src, err := source.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer src.Close()
			if err := feeders[i].Feed(context.Background(), src); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	p.Close()
	if got, w := withoutObserver(t, out.raw), withoutObserver(t, want.raw); !slices.Equal(got, w) {
		t.Errorf("sibling feeders:\n%v\nreplay:\n%v", got, w)
	}
	for _, ev := range out.events {
		if name := str(ev, "observer.ingress.interface.name"); name != "eth7" {
			t.Errorf("%s event with interface %q", str(ev, "event.dataset"), name)
		}
	}
	all, own, sib, snap := first.Stats(), first.Stats(), feeders[1].Stats(), p.Snapshot()
	own.Frames -= sib.Frames
	if all.Frames != wantSt.Frames || snap.Frames != wantSt.Frames || all.Packets != wantSt.Packets || sib.Frames == 0 || own.Frames == 0 {
		t.Errorf("frames: interface %d (packets %d), sibling %d, snapshot %d; replay %d (packets %d)",
			all.Frames, all.Packets, sib.Frames, snap.Frames, wantSt.Frames, wantSt.Packets)
	}
}

func TestActiveFlowsInLiveMode(t *testing.T) {
	if _, err := (&Pipeline{}).ActiveFlows(context.Background()); err != ErrNotLive {
		t.Errorf("replay pipeline: %v", err)
	}
	p, err := New(Config{Workers: 2, Live: true, Output: &collector{}, Interfaces: []string{"eth9"}})
	if err != nil {
		t.Fatal(err)
	}
	src, err := source.OpenFile(filepath.Join(ownPcaps, "tcp-states.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := p.NewFeeder("eth9").Feed(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	p.NewFeeder("eth9").flush() // nothing pending: a no-op
	for _, f := range p.feeders {
		f.flush()
	}
	flows, err := p.ActiveFlows(context.Background())
	p.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The capture's packet times are long past, so a wall-clock tick may
	// already have ended some flows; every flow still listed must be whole.
	for _, f := range flows {
		if f.Interface != "eth9" || f.Packets == 0 || f.CommunityID == "" || f.SourceIP == "" {
			t.Errorf("active flow %+v", f)
		}
	}
	if len(flows) > 6 {
		t.Errorf("%d active flows, the capture has 6", len(flows))
	}
}

// withoutObserver returns the events, sorted, with observer.* removed.
func withoutObserver(t *testing.T, raw [][]byte) []string {
	out := make([]string, len(raw))
	for i, r := range raw {
		var m map[string]any
		if err := json.Unmarshal(r, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "observer")
		b, _ := json.Marshal(m)
		out[i] = string(b)
	}
	slices.Sort(out)
	return out
}

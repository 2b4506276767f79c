package pcapring

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/carve"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/pcapindex"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// mix writes a generated capture of at least size bytes.
func mix(t testing.TB, size int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mix.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pcapgen.WriteMix(f, size, 7); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// feed reads capture into the ring through one tap per interface (frame i
// on interface i%ifaces), as live feeders would, and returns every flow's
// frames in the order the ring sees them, and the order flows started.
func feed(t testing.TB, r *Ring, capture string, ifaces int) (map[string][][]byte, []string) {
	t.Helper()
	src, err := source.OpenFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := decode.NewDecoder(decode.DefragConfig{}, nil)
	ref := pcapindex.NewAssigner(0, decode.DefragConfig{}, nil)
	taps := make([]*Tap, ifaces)
	for i := range taps {
		taps[i] = r.Tap(i)
	}
	flows := map[string][][]byte{}
	var order []string
	held := map[int64][]byte{}
	var fr source.Frame
	var pkt decode.Packet
	for n := int64(0); ; n++ {
		if err := src.Next(&fr); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		st := dec.Decode(fr.Data, fr.Timestamp, fr.WireLen, fr.LinkType, &pkt)
		data := append([]byte(nil), fr.Data...)
		held[n] = data
		ref.Assign(st, &pkt, pcapindex.Ref{Offset: n}, func(cid string, r pcapindex.Ref) {
			if flows[cid] == nil {
				order = append(order, cid)
			}
			flows[cid] = append(flows[cid], held[r.Offset])
		})
		if st != decode.Held {
			delete(held, n)
		}
		taps[n%int64(ifaces)].Frame(&fr, st, &pkt)
	}
	for _, tp := range taps {
		tp.Flush()
	}
	return flows, order
}

// carved carves flow cid out of the ring's folder through its indexes.
func carved(t testing.TB, dir, cid string) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	out := carve.NewWriter(&buf, false)
	st, err := carve.Carve(context.Background(), nil, carve.Options{CommunityID: cid, IndexDirs: []string{dir}, AllIndexed: true,
		Warn: func(s string) { t.Errorf("carve: %s", s) }}, out)
	if err == nil {
		err = out.Close()
	}
	if err != nil {
		t.Fatalf("carve %s: %v", cid, err)
	}
	if st.Scanned > 0 {
		t.Errorf("carve %s scanned %d file(s): an index was not used", cid, st.Scanned)
	}
	if buf.Len() == 0 {
		return nil
	}
	rd, err := pcapgo.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		data, _, err := rd.ReadPacketData()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, data)
	}
}

// diskBytes sums the sizes of the files in dir.
func diskBytes(t testing.TB, dir string) int64 {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += info.Size()
	}
	return n
}

func newRing(t testing.TB, cfg Config) *Ring {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(t.TempDir(), "ring")
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func equalFrames(a, b [][]byte) bool { return slices.EqualFunc(a, b, bytes.Equal) }

// Every flow carved out of the ring (two interfaces, so two interface
// blocks and a sync point) equals the flow as it was captured; files and
// folder are private.
func TestRingCarveEqualsCapture(t *testing.T) {
	capture := mix(t, 2<<20)
	r := newRing(t, Config{MaxBytes: 64 << 20, FileBytes: 512 << 10, Links: []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeEthernet}})
	flows, order := feed(t, r, capture, 2)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.Files < 3 || st.FilesRemoved != 0 || st.QueueDrops != 0 {
		t.Fatalf("stats %+v: want 3+ files, none removed, no drops", st)
	}
	if info, _ := os.Stat(r.Dir()); info.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", info.Mode().Perm())
	}
	ents, _ := os.ReadDir(r.Dir())
	for _, e := range ents {
		if info, _ := e.Info(); info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	if len(order) < 20 {
		t.Fatalf("only %d flows in the mix", len(order))
	}
	// The two feeders' batches interleave: a flow's frames are compared
	// as a set.
	for _, cid := range order[:20] {
		got, want := carved(t, r.Dir(), cid), slices.Clone(flows[cid])
		slices.SortFunc(got, bytes.Compare)
		slices.SortFunc(want, bytes.Compare)
		if !equalFrames(got, want) {
			t.Errorf("flow %s: carved %d frames, captured %d (or bytes differ)", cid, len(got), len(flows[cid]))
		}
	}
}

// The ring keeps to max_bytes (indexes included) by removing its oldest
// files, counts them, and what stays is still carved right: a flow's
// surviving packets are the last ones it had.
func TestRingKeepsDiskBudget(t *testing.T) {
	capture := mix(t, 8<<20)
	const maxBytes = 3 << 20
	r := newRing(t, Config{MaxBytes: maxBytes, FileBytes: 256 << 10})
	flows, _ := feed(t, r, capture, 1)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.FilesRemoved == 0 || st.BytesRemoved == 0 {
		t.Fatalf("nothing removed from 8 MB into 3 MiB: %+v", st)
	}
	if got := diskBytes(t, r.Dir()); got > maxBytes || got != st.DiskBytes {
		t.Fatalf("ring holds %d bytes (stats %d), budget %d", got, st.DiskBytes, maxBytes)
	}
	idx, _ := filepath.Glob(filepath.Join(r.Dir(), "*"+pcapindex.Suffix))
	caps, _ := filepath.Glob(filepath.Join(r.Dir(), "*"+fileSuffix))
	if len(idx) != len(caps) || len(caps) < 2 {
		t.Fatalf("%d captures, %d indexes", len(caps), len(idx))
	}
	checked := 0
	for _, ip := range idx {
		x, err := pcapindex.Load(ip)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range x.Flows[:min(5, len(x.Flows))] {
			got := carved(t, r.Dir(), f.CommunityID)
			want := flows[f.CommunityID]
			if len(got) == 0 || len(got) > len(want) || !equalFrames(got, want[len(want)-len(got):]) {
				t.Errorf("flow %s: carved %d frames, not the last of its %d", f.CommunityID, len(got), len(want))
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no flow checked")
	}
	// A new ring in the same folder counts what is there.
	r2 := newRing(t, Config{Dir: r.Dir(), MaxBytes: 1 << 20, FileBytes: 256 << 10})
	r2.Close()
	if got := diskBytes(t, r.Dir()); got > 1<<20 || r2.Stats().FilesRemoved == 0 {
		t.Fatalf("a smaller ring over the same folder left %d bytes, removed %d files", got, r2.Stats().FilesRemoved)
	}
}

// max_bytes_per_flow keeps each flow's first frames up to the depth (the
// frame that crosses it included) and counts the rest.
func TestRingFlowDepth(t *testing.T) {
	capture := mix(t, 2<<20)
	const depth = 3000
	r := newRing(t, Config{MaxBytes: 64 << 20, MaxBytesPerFlow: depth})
	flows, order := feed(t, r, capture, 1)
	r.Close()
	if r.Stats().DepthSkipped == 0 {
		t.Fatal("no frame skipped for the depth")
	}
	cut := 0
	for _, cid := range order[:30] {
		want := flows[cid]
		n, sum := 0, 0
		for n < len(want) && sum < depth {
			sum += len(want[n])
			n++
		}
		got := carved(t, r.Dir(), cid)
		if !equalFrames(got, want[:n]) {
			t.Errorf("flow %s: carved %d frames, want its first %d of %d", cid, len(got), n, len(want))
		}
		if n < len(want) {
			cut++
		}
	}
	if cut == 0 {
		t.Fatal("no flow was longer than the depth")
	}
}

// keep: alerts writes only flows that raised an alert, with the frames
// the look-back held from before the alert; the others are counted.
func TestRingKeepAlerts(t *testing.T) {
	capture := mix(t, 1<<20)
	r := newRing(t, Config{MaxBytes: 64 << 20, Keep: KeepAlerts, Lookback: 1 << 62})
	flows, order := feed(t, r, capture, 1)
	alerted := order[3]
	r.Alert(alerted)
	if err := r.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.Close()
	st := r.Stats()
	if got := carved(t, r.Dir(), alerted); !equalFrames(got, flows[alerted]) {
		t.Errorf("alerted flow: carved %d frames, captured %d", len(got), len(flows[alerted]))
	}
	if st.Frames != uint64(len(flows[alerted])) {
		t.Errorf("%d frames written, want only the alerted flow's %d", st.Frames, len(flows[alerted]))
	}
	if st.NotKept == 0 {
		t.Error("the other flows' frames are not counted as not kept")
	}
	x, err := pcapindex.Load(pcapindex.PathFor("", firstCapture(t, r.Dir())))
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Flows) != 1 || x.Flows[0].CommunityID != alerted {
		t.Errorf("index lists %d flows, want only the alerted one", len(x.Flows))
	}
}

// Alerts on many flows, the look-back pushing out the oldest frames
// meanwhile: each alerted flow's carve is the end of its captured frames
// (those still held, then those after the alert), nothing of another flow.
func TestRingAlertsManyFlows(t *testing.T) {
	capture := mix(t, 2<<20)
	b := budget.New(256 << 20)
	r := newRing(t, Config{MaxBytes: 64 << 20, Keep: KeepAlerts, Lookback: 1 << 62, LookbackBytes: 512 << 10, Budget: b})
	flows, order := feed(t, r, capture, 1)
	var alerted []string
	for i := len(order) - 1; i >= 0 && len(alerted) < 40; i -= 1 + len(order)/60 {
		alerted = append(alerted, order[i])
		r.Alert(order[i])
	}
	r.Close()
	var written uint64
	for _, cid := range alerted {
		got, want := carved(t, r.Dir(), cid), flows[cid]
		if len(got) > len(want) || !equalFrames(got, want[len(want)-len(got):]) {
			t.Errorf("flow %s: carved %d frames, not the end of its %d", cid, len(got), len(want))
		}
		written += uint64(len(got))
	}
	st := r.Stats()
	if written == 0 || st.Frames != written || st.LookbackEvicted == 0 {
		t.Errorf("%d frames carved, stats %+v", written, st)
	}
	if used := b.Stats().Pools[budget.Packets].Used; used != 0 {
		t.Errorf("packets pool holds %d bytes after Close", used)
	}
}

// The look-back is bounded in bytes: older frames go first, counted.
func TestRingLookbackBound(t *testing.T) {
	capture := mix(t, 1<<20)
	b := budget.New(256 << 20)
	r := newRing(t, Config{MaxBytes: 64 << 20, Keep: KeepAlerts, Lookback: 1 << 62, LookbackBytes: 64 << 10, Budget: b})
	flows, order := feed(t, r, capture, 1)
	first := order[0] // its frames are the oldest: pushed out
	r.Alert(first)
	r.Close()
	st := r.Stats()
	if st.LookbackEvicted == 0 {
		t.Fatalf("no eviction from a 64 KiB look-back: %+v", st)
	}
	if st.Frames >= uint64(len(flows[first])) && len(flows[first]) > 10 {
		t.Errorf("the first flow kept all its %d frames through a 64 KiB look-back", len(flows[first]))
	}
	if used := b.Stats().Pools[budget.Packets].Used; used != 0 {
		t.Errorf("packets pool holds %d bytes after Close", used)
	}
}

// A feeder never waits: with no free batch the frame is dropped, counted.
func TestRingQueueFullDrops(t *testing.T) {
	r := newRing(t, Config{MaxBytes: 64 << 20})
	var taken []*batch
	for len(r.free) > 0 {
		taken = append(taken, <-r.free)
	}
	tp := r.Tap(0)
	fr := source.Frame{Data: make([]byte, 60), WireLen: 60}
	tp.Frame(&fr, decode.OK, &decode.Packet{})
	if got := r.Stats().QueueDrops; got != 1 {
		t.Fatalf("queue drops %d, want 1", got)
	}
	for _, b := range taken {
		r.free <- b
	}
	r.Close()
}

func TestRingConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{MaxBytes: 1 << 30}, "dir is required"},
		{Config{Dir: dir}, "max_bytes is required"},
		{Config{Dir: dir, MaxBytes: 1 << 30, Keep: "some"}, `"some" is not one of all, alerts`},
		{Config{Dir: dir, MaxBytes: 1 << 20}, "must hold two files"},
	} {
		_, err := New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

func firstCapture(t *testing.T, dir string) string {
	caps, _ := filepath.Glob(filepath.Join(dir, "*"+fileSuffix))
	if len(caps) == 0 {
		t.Fatal("no capture in the ring")
	}
	return caps[0]
}

// When the memory budget refuses a flow's state, its frames are written
// without a depth (kept rather than lost) and counted as untracked.
func TestRingBudgetRefusesFlowState(t *testing.T) {
	capture := mix(t, 1<<20)
	b := budget.New(2*batchCost + 8<<10) // two batches and a few flows
	var events []schemas.Event
	r := newRing(t, Config{MaxBytes: 64 << 20, MaxBytesPerFlow: 3000, Budget: b,
		Anomaly: func(ev *schemas.Event) { events = append(events, *ev) }})
	feed(t, r, capture, 1)
	r.Close()
	st := r.Stats()
	if st.Untracked == 0 || st.Frames == 0 {
		t.Fatalf("stats %+v: want untracked frames, still written", st)
	}
	// Each refusal is a limit.pcap_ring anomaly, rate-limited: at most 20
	// events per second of packet time, the others folded into them.
	k := anomaly.PcapRingLimit
	seen, suppressed, perSecond := st.Anomalies.Seen[k], uint64(0), map[int64]int{}
	for _, ev := range events {
		a := ev.Sensor.Anomaly
		if ev.Event.Dataset != schemas.DatasetAnomaly || a.Kind != "limit.pcap_ring" || a.Layer != "limit" || !strings.Contains(a.Detail, "pcap ring") {
			t.Fatalf("event %+v %+v", ev.Event, a)
		}
		suppressed += uint64(a.Suppressed)
		perSecond[ev.Timestamp.Unix()]++
	}
	if seen < st.Untracked || len(events) == 0 || st.Anomalies.Emitted[k] != uint64(len(events)) || suppressed > seen-uint64(len(events)) {
		t.Errorf("%d anomalies seen, %d events (%d folded), %d untracked frames", seen, len(events), suppressed, st.Untracked)
	}
	for sec, n := range perSecond {
		if n > anomaly.DefaultPerSecond {
			t.Errorf("%d events in second %d", n, sec)
		}
	}
	if denied := b.Stats().Pools[budget.Packets].Denied; denied == 0 {
		t.Error("the packets pool counts no refusal")
	}
	if used := b.Stats().Pools[budget.Packets].Used; used != 0 {
		t.Errorf("packets pool holds %d bytes after Close", used)
	}
	// With keep: alerts, a frame whose flow has no state is not held (an
	// alert could not find it): counted.
	b = budget.New(2*batchCost + 8<<10)
	r = newRing(t, Config{MaxBytes: 64 << 20, Keep: KeepAlerts, Budget: b})
	_, order := feed(t, r, capture, 1)
	r.Alert(order[len(order)-1])
	r.Close()
	if st := r.Stats(); st.Untracked == 0 || st.LookbackEvicted < st.Untracked {
		t.Errorf("keep alerts: stats %+v: want untracked frames counted as evicted", st)
	}
	if used := b.Stats().Pools[budget.Packets].Used; used != 0 {
		t.Errorf("keep alerts: packets pool holds %d bytes after Close", used)
	}
}

// max_age removes closed files once they are older than it (the writer's
// tick applies it, once a second), their indexes with them.
func TestRingMaxAgeRemovesOldFiles(t *testing.T) {
	r := newRing(t, Config{MaxBytes: 64 << 20, MaxAge: time.Millisecond})
	defer r.Close()
	feed(t, r, mix(t, 256<<10), 1)
	if err := r.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r.Stats().Files == 0 {
		t.Fatal("no file closed")
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats().FilesRemoved < r.Stats().Files {
		if time.Now().After(deadline) {
			t.Fatalf("files older than max_age still kept: %+v", r.Stats())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if left, _ := filepath.Glob(filepath.Join(r.Dir(), "*")); len(left) != 0 {
		t.Fatalf("left in the ring: %v", left)
	}
}

package profstage

import (
	"bytes"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		stack []string
		want  string
	}{
		// A malloc counts for the code that asked for it.
		{[]string{"runtime.mallocgc", "runtime.newobject", mod + "/sensor/flow.(*Table).alloc", mod + "/sensor/pipeline.(*worker).packet"}, "flow"},
		// Library code counts for its caller in the module.
		{[]string{"crypto/internal/fips140/sha256.blockSHANI", "crypto/sha256.(*Digest).Write", mod + "/schemas.EncodeWithID", mod + "/sensor/pipeline.(*worker).emit"}, "encode"},
		{[]string{"regexp.(*Regexp).doExecute", mod + "/rules.(*Evaluator).Eval"}, "rules"},
		{[]string{"syscall.Syscall", "os.(*File).Read", mod + "/sensor/source.(*Reader).next"}, "read"},
		{[]string{"compress/flate.(*decompressor).huffmanBlock", mod + "/parsers/http.(*conn).body", mod + "/sensor/app.(*Analyzer).Stream"}, "parse"},
		{[]string{mod + "/outputs.(*NDJSON).Write"}, "output"},
		{[]string{"github.com/gopacket/gopacket/layers.(*IPv4).DecodeFromBytes"}, "decode"},
		{[]string{"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker.func2", "runtime.systemstack"}, "gc"},
		{[]string{"runtime.futex", "runtime.notesleep", "runtime.mPark"}, "other"},
		// A package whose path only starts like a stage's is not in it.
		{[]string{mod + "/sensor/flowx.F"}, "other"},
	}
	for _, c := range cases {
		if got := Classify(c.stack); got != c.want {
			t.Errorf("Classify(%v) = %q, want %q", c.stack, got, c.want)
		}
	}
}

// TestReadRealProfile profiles the encoder for a moment with runtime/pprof
// and checks that the parsed profile puts the time in "encode".
func TestReadRealProfile(t *testing.T) {
	var prof bytes.Buffer
	if err := pprof.StartCPUProfile(&prof); err != nil {
		t.Skipf("CPU profiler busy: %v", err)
	}
	ev := &schemas.Event{Timestamp: time.Unix(1700000000, 0)}
	ev.Event.Dataset = schemas.DatasetFlow
	ev.Source.IP, ev.Destination.IP = "192.0.2.1", "198.51.100.7"
	var buf []byte
	var err error
	// Spin on CPU time, not wall time: the machine may be shared.
	for start := cpuNow(); cpuNow()-start < 400*time.Millisecond; {
		for range 1000 {
			buf, err = schemas.EncodeWithID(buf[:0], ev)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	pprof.StopCPUProfile()

	b, err := Read(&prof)
	if err != nil {
		t.Fatal(err)
	}
	if b.Total < 100*time.Millisecond {
		t.Fatalf("profile holds %v of samples, want at least 100ms", b.Total)
	}
	var sum time.Duration
	for _, s := range Stages {
		sum += b.Stage[s]
	}
	if sum != b.Total {
		t.Errorf("stages sum to %v, total %v", sum, b.Total)
	}
	// Every named stage but encode is idle here. ("other" is not: under
	// the race detector most samples land in its C code, which the
	// profiler cannot unwind.)
	if b.Stage["encode"] == 0 {
		t.Errorf("no encode samples:\n%s", b)
	}
	for _, s := range Stages {
		if s != "encode" && s != "other" && b.Stage[s] > b.Stage["encode"]/4 {
			t.Errorf("%s %v against encode %v:\n%s", s, b.Stage[s], b.Stage["encode"], b)
		}
	}
}

func TestReadRejectsNonProfiles(t *testing.T) {
	if _, err := Read(bytes.NewReader([]byte("not gzip"))); err == nil {
		t.Error("plain bytes: no error")
	}
}

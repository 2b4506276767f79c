package app

import (
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/packetsleuth/packetsleuth/files"
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

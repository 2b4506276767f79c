package app

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// An HTTP event and a file event say which groups they were written
// into (HTTPEventGroups, FileEventGroups), and encoded by those alone
// they are what the whole event encodes to: NTLM's user and packetsleuth
// ntlm object, the URL, headers and the file's hashes included.
func TestHTTPAndFileEventsEncodedByTheirGroups(t *testing.T) {
	pkts := pcapgen.HTTPNTLMSession(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.80:80"),
		pcapgen.Epoch, "alice", "CONTOSO", 24)
	want := map[string]schemas.Groups{schemas.DatasetHTTP: HTTPEventGroups, schemas.DatasetFile: FileEventGroups}
	seen := map[string]int{}
	users := 0
	var a *Analyzer
	a = New(Config{Files: &files.Config{}}, nil, func(ev *schemas.Event) {
		ds := ev.Event.Dataset
		g := a.EmitGroups(ev)
		if g != want[ds] {
			t.Errorf("%s event: groups %#x, want %#x", ds, g, want[ds])
		}
		if g == 0 {
			return
		}
		seen[ds]++
		if ev.User.Name == "alice" && len(ev.Sensor.NTLM.Messages) > 0 {
			users++
		}
		full, err := schemas.EncodeWithID(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		grouped, err := (&schemas.EncodeCache{}).EncodeGroupsWithID(nil, ev, g)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(full, grouped) {
			t.Errorf("%s event by its groups:\n%s\nwhole:\n%s", ds, grouped, full)
		}
	}, nil)
	tab := flow.NewTable(flow.Config{}, func(f *flow.Flow) { a.FlowEnded(f, &schemas.Event{}) })
	feedPackets(t, a, tab, pkts)
	tab.Flush()
	if seen[schemas.DatasetHTTP] != 2 || seen[schemas.DatasetFile] == 0 || users != 1 {
		t.Errorf("HTTP events %d (want 2), file events %d, with NTLM's user %d (want 1)", seen[schemas.DatasetHTTP], seen[schemas.DatasetFile], users)
	}
}

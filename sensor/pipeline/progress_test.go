package pipeline

import (
	"context"
	"os"
	"testing"
)

// A replay counts the bytes of its capture files (the progress bar's
// total) and how many it read: all of them at the end, gzip included.
func TestReplayCountsInputBytes(t *testing.T) {
	paths := []string{"../../testdata/pcaps/http-ethernet.pcap", "../../testdata/pcaps/http-ethernet.pcap.gz", "../../testdata/pcaps/multi-interface.pcapng"}
	var total int64
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
	}
	p, err := New(Config{Output: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Replay(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	if st.InputBytes != total || st.InputRead != total {
		t.Errorf("input %d of %d bytes read; the files hold %d", st.InputRead, st.InputBytes, total)
	}
}

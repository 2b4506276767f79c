package carve

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/pcapindex"
)

// BenchmarkCarve carves the largest flow of a generated 64 MB mix through
// its index and by scanning; bytes-read/op is what each read of captures.
func BenchmarkCarve(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "mix.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pcapgen.WriteMix(f, 64<<20, 1); err != nil {
		b.Fatal(err)
	}
	f.Close()
	x, _ := buildIndex(b, path)
	if err := x.Write(pcapindex.PathFor(dir, path)); err != nil {
		b.Fatal(err)
	}
	big := x.Flows[0]
	for _, fl := range x.Flows {
		if fl.Packets > big.Packets {
			big = fl
		}
	}
	for _, mode := range []struct {
		name    string
		noIndex bool
	}{{"index", false}, {"scan", true}} {
		b.Run(mode.name, func(b *testing.B) {
			b.ReportAllocs()
			var st Stats
			for range b.N {
				out := NewWriter(io.Discard, false)
				var err error
				st, err = Carve(context.Background(), []string{path}, Options{CommunityID: big.CommunityID, IndexDirs: []string{dir}, NoIndex: mode.noIndex}, out)
				if err != nil || st.Frames != uint64(big.Packets) {
					b.Fatalf("%d frames of %d: %v", st.Frames, big.Packets, err)
				}
			}
			b.ReportMetric(float64(st.BytesRead+st.IndexRead), "bytes-read/op")
		})
	}
}

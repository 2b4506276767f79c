package pipeline

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// An FTP data connection is another flow than the control connection that
// announced it; each is read by the worker its hash picks. Sharded by
// 5-tuple, the data connection's worker could read it before the control
// connection's worker had read the announcement, and the transfer's files
// and links were lost with several workers. Sharded by host pair, both
// are one worker's, in packet order: the events are one worker's.
func TestWorkersKeepHostPairsTogether(t *testing.T) {
	var pkts []pcapgen.Packet
	for i := range 6 { // several sessions, so that some pairs land on each worker
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, byte(10 + i)}), 50021)
		server := netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(21 + i)}), 21)
		at := pcapgen.Epoch.Add(time.Duration(i) * time.Second)
		pkts = append(pkts, pcapgen.FTPDownloads(client, server, at)...)
		pkts = append(pkts, pcapgen.FTPSession(netip.AddrPortFrom(client.Addr(), 50121), server, 50555, at.Add(500*time.Millisecond))...)
	}
	slices.SortStableFunc(pkts, func(x, y pcapgen.Packet) int { return x.Time.Compare(y.Time) })
	path := writePackets(t, pkts)
	one, _ := replay(t, Config{Workers: 1, App: filesOn.App}, path)
	if n := len(one.dataset("packetsleuth.file")); n != 6*5 {
		t.Fatalf("one worker: %d file events, want 30 (4 downloads and an upload per session)", n)
	}
	want := sortedLines(one.raw)
	for _, workers := range []int{2, 3} {
		for range 3 { // the interleaving of the workers changes from run to run
			out, _ := replay(t, Config{Workers: workers, App: filesOn.App}, path)
			if got := sortedLines(out.raw); !slices.Equal(got, want) {
				t.Fatalf("%d workers: events differ from one worker's:\n%s", workers, lineDiff(want, got))
			}
		}
	}
}

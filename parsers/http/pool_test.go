package http

import (
	"path/filepath"
	"reflect"
	"testing"
)

// Captures replayed one after another through Conns sharing a Pool (each
// capture's Conns take what the previous capture's gave back at End) give
// the transactions Conns of their own give.
func TestPoolTransactionsAsUnpooled(t *testing.T) {
	captures := []string{
		"http1-browsing.pcap", "http-pipelined-keepalive.pcap", "http-chunked-keepalive-loopback.pcap",
		"http-100-continue-post.pcap", "http1-loopback-cookies.pcapng", "http-te-chunked-evasion.pcap",
		"http-get.pcap", "http-post-urlencoded.pcap",
	}
	pool := new(Pool)
	total := 0
	for _, name := range captures {
		var out [2][]rec
		for i, cfg := range []Config{{}, {Pool: pool}} {
			r := newReassembler(t, cfg)
			readPcap(t, filepath.Join(pcapDir, name), r)
			out[i] = r.out
		}
		if len(out[0]) == 0 || !reflect.DeepEqual(out[1], out[0]) {
			t.Errorf("%s: with a pool:\n%+v\nwithout:\n%+v", name, out[1], out[0])
		}
		total += len(out[1])
	}
	if pool.slots.Len() == 0 || pool.bufs.Len() == 0 {
		t.Errorf("pool holds %d slots and %d buffers after %d transactions", pool.slots.Len(), pool.bufs.Len(), total)
	}
}

package pipeline

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/app"
)

// A decompression bomb (gzip of gzip of 64 MiB: 272 bytes of body) ends
// at http.max_decoded: the file event says size_limit and why, counts
// the decoded bytes up to the cap and has no hash. A body that never ends
// (3 MB of chunks, no last chunk, no FIN) is hashed up to
// files.max_file_bytes (1 MiB here), counted whole, noted, and ends
// truncated with the capture; neither is held in memory (only the files
// layer's fixed window per open file is).
func TestFileBoundsOnGeneratedCaptures(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:52000"), netip.MustParseAddrPort("203.0.113.80:80")
	bomb := pcapgen.HTTPBomb(client, server, pcapgen.Epoch, 64<<20)
	endless := pcapgen.HTTPEndlessBody(netip.AddrPortFrom(client.Addr(), 52001), server, pcapgen.Epoch.Add(1e9), 3_000_000)
	capture := writeFrames(t, "bounds.pcap", layers.LinkTypeEthernet, pcapgen.Frames(append(bomb, endless...), pcapgen.Ethernet))
	cfg := Config{Workers: 1, App: app.Config{Files: &files.Config{MaxFileBytes: 1 << 20}}}
	out, _ := replay(t, cfg, capture)
	byURL := map[string]map[string]any{}
	for _, ev := range out.dataset("packetsleuth.file") {
		byURL[str(ev, "url.path")] = ev
	}
	for path, want := range map[string]map[string]any{
		"/bomb.bin": {"packetsleuth.file.state": "size_limit", "packetsleuth.file.complete": false, "file.hash.sha256": nil,
			"file.size": 10 << 20, "packetsleuth.notes": "[file hashing stopped at files.max_file_bytes file cut at the protocol's size limit (http.max_decoded: a decompression bomb?)]"},
		"/stream": {"packetsleuth.file.state": "truncated", "packetsleuth.file.complete": false, "file.hash.sha256": nil,
			"file.size": 3_000_000, "packetsleuth.notes": "[file hashing stopped at files.max_file_bytes]"},
	} {
		ev := byURL[path]
		if ev == nil {
			t.Fatalf("no file event for %s (%d events)", path, len(byURL))
		}
		for k, v := range want {
			got := field(ev, k)
			if k == "file.size" {
				got = num(ev, k)
			}
			if fmt.Sprint(got) != fmt.Sprint(v) {
				t.Errorf("%s: %s = %v, want %v", path, k, got, v)
			}
		}
	}
}

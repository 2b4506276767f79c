package pipeline

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/enrich"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/rules"
)

// The generated file transfers give one file event each, typed, hashed
// and ended as their transfer was; intel on the EICAR hash and the shipped
// file rules fire on them.
func TestGeneratedFileTransfers(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:51000"), netip.MustParseAddrPort("203.0.113.80:80")
	capture := writeFrames(t, "files.pcap", layers.LinkTypeEthernet, pcapgen.Frames(pcapgen.HTTPFileTransfers(client, server, pcapgen.Epoch), pcapgen.Ethernet))

	intel := filepath.Join(t.TempDir(), "hashes.txt")
	os.WriteFile(intel, []byte("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\n"), 0o600)
	shared, err := enrich.Open(enrich.Config{Intel: []string{intel}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	set, errs := rules.LoadDefault()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	cfg := filesOn
	cfg.Workers = 2
	cfg.NewEnricher = func() Enricher { return shared.NewWorker() }
	cfg.NewDetector = func() Detector { return rules.NewEvaluator(set, rules.EvalOptions{}) }
	out, _ := replay(t, cfg, capture)

	evs := out.dataset("packetsleuth.file")
	byName := map[string]map[string]any{}
	for _, ev := range evs {
		byName[str(ev, "file.name")] = ev
	}
	if len(evs) != 4 || len(byName) != 4 {
		t.Fatalf("%d file events (names %v), want 4", len(evs), byName)
	}
	pe := pcapgen.PEFile(20000)
	for name, want := range map[string]map[string]any{
		"invoice.pdf.exe": {"file.size": int64(len(pe)), "file.mime_type": "application/vnd.microsoft.portable-executable",
			"file.extension": "exe", "packetsleuth.file.executable": "pe", "packetsleuth.file.declared_mime_type": "application/pdf",
			"packetsleuth.file.type_mismatch": true, "packetsleuth.file.state": "complete", "packetsleuth.file.direction": "download",
			"url.domain": "files.example.net", "packetsleuth.file.transaction": int64(1), "network.protocol": "http"},
		"eicar.com": {"file.size": int64(68), "file.hash.sha256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
			"packetsleuth.file.part": "multipart", "packetsleuth.file.direction": "upload", "file.mime_type": "text/plain"},
		"video.mp4": {"file.size": int64(1000), "packetsleuth.file.partial": true, "packetsleuth.file.range_start": int64(1000),
			"packetsleuth.file.range_total": int64(50000), "packetsleuth.file.state": "complete"},
		"lost.zip": {"file.size": int64(30000 - 1460), "packetsleuth.file.missing_bytes": int64(1460), "packetsleuth.file.state": "gap",
			"packetsleuth.file.complete": false, "file.hash.sha256": nil, "file.mime_type": "application/zip"},
	} {
		ev := byName[name]
		for k, v := range want {
			if got := field(ev, k); fmt.Sprint(got) != fmt.Sprint(v) {
				t.Errorf("%s: %s = %v, want %v", name, k, got, v)
			}
		}
	}
	if e := byName["eicar.com"]; field(e, "threat.enrichments") == nil {
		t.Errorf("eicar.com: no intel match: %v", e)
	}

	var fired []string
	for _, a := range out.dataset("packetsleuth.alert") {
		if id := str(a, "rule.id"); id >= "PS-FILE" && id < "PS-FILF" {
			fired = append(fired, id+" "+str(a, "file.name"))
		}
	}
	slices.Sort(fired)
	want := []string{"PS-FILE-001 invoice.pdf.exe", "PS-FILE-003 invoice.pdf.exe", "PS-FILE-004 invoice.pdf.exe", "PS-FILE-005 eicar.com"}
	if !slices.Equal(fired, want) {
		t.Errorf("file alerts %q, want %q", fired, want)
	}
}

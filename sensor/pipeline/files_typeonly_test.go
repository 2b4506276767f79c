package pipeline

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	phttp "github.com/packetsleuth/packetsleuth/parsers/http"
	"github.com/packetsleuth/packetsleuth/sensor/app"
)

// With files.hashes: [] a gzip body is inflated only as far as its type
// needs: the file event has the type facts of a whole inflation, no size
// (noted), and the HTTP event counts the body on the wire without a
// decoded size (noted); with the default hash both are whole.
func TestNoHashesInflatesOnlyForTheType(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:51000"), netip.MustParseAddrPort("203.0.113.80:80")
	capture := writeFrames(t, "files.pcap", layers.LinkTypeEthernet, pcapgen.Frames(pcapgen.HTTPFileTransfers(client, server, pcapgen.Epoch), pcapgen.Ethernet))
	events := func(fc files.Config) (file, http map[string]any) {
		out, _ := replay(t, Config{Workers: 1, App: app.Config{Files: &fc}}, capture)
		for _, ev := range out.dataset("packetsleuth.file") {
			if str(ev, "file.name") == "invoice.pdf.exe" {
				file = ev
			}
		}
		for _, ev := range out.dataset("packetsleuth.http") {
			if str(ev, "url.path") == "/invoice.pdf.exe" {
				http = ev
			}
		}
		if file == nil || http == nil {
			t.Fatalf("no file or HTTP event for /invoice.pdf.exe")
		}
		return file, http
	}
	wholeFile, wholeHTTP := events(files.Config{})
	typedFile, typedHTTP := events(files.Config{NoHashes: true})
	for _, k := range []string{"file.mime_type", "file.extension", "packetsleuth.file.executable", "packetsleuth.file.type_mismatch",
		"packetsleuth.file.state", "packetsleuth.file.complete", "http.response.body.bytes"} {
		if w, g := fmt.Sprint(field(wholeFile, k), field(wholeHTTP, k)), fmt.Sprint(field(typedFile, k), field(typedHTTP, k)); w != g {
			t.Errorf("%s: %s without hashes, %s with", k, g, w)
		}
	}
	if field(wholeFile, "file.size") == nil || field(wholeHTTP, "packetsleuth.http.response_body_decoded_bytes") == nil {
		t.Fatalf("with a hash: file.size %v, decoded %v", field(wholeFile, "file.size"), field(wholeHTTP, "packetsleuth.http.response_body_decoded_bytes"))
	}
	if v := field(typedFile, "file.size"); v != nil || !slices.Contains(strs(typedFile, "packetsleuth.notes"), "file decoded only for its type: size not known") {
		t.Errorf("without hashes: file.size %v, notes %v", v, field(typedFile, "packetsleuth.notes"))
	}
	if v := field(typedHTTP, "packetsleuth.http.response_body_decoded_bytes"); v != nil || !slices.Contains(strs(typedHTTP, "packetsleuth.notes"), phttp.NoteDecodeTyped) {
		t.Errorf("without hashes: decoded bytes %v, notes %v", v, field(typedHTTP, "packetsleuth.notes"))
	}
}

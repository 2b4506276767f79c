package pipeline

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// Every RDP column tshark fills on the shared captures agrees with the
// sensor's packetsleuth.rdp event of the connection: the cookie (the part
// after mstshash=, trailing spaces kept), requested and selected
// protocols, negotiation failure, and under standard security the client
// name, build, keyboard, desktop size and the server's encryption method
// and level. tshark prints masks and codes in hex: the sensor's names
// are turned back into them.
func TestRDPAgreesWithTshark(t *testing.T) {
	needShared(t)
	truths, _ := filepath.Glob(filepath.Join(sharedPcaps, "truth", "rdp-*.rdp.tsv"))
	if len(truths) == 0 {
		t.Fatal("no RDP truth tables")
	}
	bits := map[string]uint32{"rdp": 0, "tls": 1, "credssp": 2, "rdstls": 4, "credssp_early_user_auth": 8, "rdsaad": 0x10}
	mask := func(names ...string) string {
		var m uint32
		for _, n := range names {
			m |= bits[n]
		}
		return fmt.Sprintf("0x%08x", m)
	}
	failures := map[string]uint32{"ssl_required_by_server": 1, "ssl_not_allowed_by_server": 2, "ssl_cert_not_on_server": 3}
	methods := map[string]uint32{"none": 0, "40bit": 1, "128bit": 2, "56bit": 8, "fips": 0x10}
	levels := map[string]uint32{"none": 0, "low": 1, "client_compatible": 2, "high": 3, "fips": 4}
	total, agree := 0, 0
	for _, truthPath := range truths {
		capture := strings.TrimSuffix(filepath.Base(truthPath), ".rdp.tsv")
		out, _ := replay(t, Config{}, filepath.Join(sharedPcaps, capture))
		evs := map[string]map[string]any{}
		for _, ev := range out.dataset("packetsleuth.rdp") {
			evs[pairKey(fmt.Sprintf("%s:%d", str(ev, "source.ip"), num(ev, "source.port")), fmt.Sprintf("%s:%d", str(ev, "destination.ip"), num(ev, "destination.port")))] = ev
		}
		for _, row := range readTSV(t, truthPath) {
			ev := evs[pairKey(row["ip.src"]+":"+row["tcp.srcport"], row["ip.dst"]+":"+row["tcp.dstport"])]
			r := func(f string) string { return str(ev, "packetsleuth.rdp."+f) }
			n := func(f string) string { return strconv.FormatInt(num(ev, "packetsleuth.rdp."+f), 10) }
			var req []string
			if ev != nil {
				for _, v := range field(ev, "packetsleuth.rdp.requested_protocols").([]any) {
					req = append(req, v.(string))
				}
			}
			got := map[string]string{
				"rdp.rt_cookie":                 "Cookie: mstshash=" + r("cookie"),
				"rdp.negReq.requestedProtocols": mask(req...),
				"rdp.negReq.selectedProtocol":   mask(r("selected_protocol")),
				"rdp.negFailure.failureCode":    fmt.Sprintf("0x%08x", failures[r("negotiation_failure")]),
				"rdp.client.name":               r("client_name"),
				"rdp.client.build":              n("client_build"),
				"rdp.keyboardLayout":            n("keyboard_layout"),
				"rdp.desktop.width":             n("desktop_width"),
				"rdp.desktop.height":            n("desktop_height"),
				"rdp.encryptionMethod":          fmt.Sprintf("0x%08x", methods[r("encryption_method")]),
				"rdp.encryptionLevel":           fmt.Sprintf("0x%08x", levels[r("encryption_level")]),
			}
			for col, g := range got {
				want := row[col]
				if want == "" {
					continue
				}
				total++
				if ev != nil && g == want {
					agree++
					continue
				}
				t.Errorf("%s frame %s %s: tshark %q, sensor %q", capture, row["frame.number"], col, want, g)
			}
		}
	}
	t.Logf("RDP: %d of %d tshark cells agree (%.2f%%)", agree, total, 100*float64(agree)/float64(total))
	if total < 25 {
		t.Errorf("only %d cells compared", total)
	}
}

// After RDP selects CredSSP, the TLS handshake that follows is inspected:
// rdp-tls-cookie.pcap gives a TLS event with the server certificate on
// each of its two RDP connections (tshark does not decode this TLS).
func TestRDPHandsTLSToInspection(t *testing.T) {
	needShared(t)
	out, _ := replay(t, Config{}, filepath.Join(sharedPcaps, "rdp-tls-cookie.pcap"))
	tls := out.dataset("packetsleuth.tls")
	if len(tls) != 2 {
		t.Fatalf("%d TLS events, want 2", len(tls))
	}
	for _, ev := range tls {
		if s := str(ev, "tls.server.subject"); s != "CN=WIN2K8R2.awakecoding.ath.cx" || str(ev, "tls.client.ja3") == "" {
			t.Errorf("subject %q ja3 %q", s, str(ev, "tls.client.ja3"))
		}
		if p := str(ev, "network.protocol"); p != "tls" {
			t.Errorf("TLS event network.protocol %q", p)
		}
	}
	for _, ev := range out.dataset("packetsleuth.flow") {
		if p := str(ev, "network.protocol"); p != "rdp" {
			t.Errorf("flow %v: network.protocol %q, want rdp", ev["source"], p)
		}
	}
}

// RDP on port 443 is recognised by content, and its TLS is inspected,
// whatever the segmentation (one byte each, shuffled, overlapping).
func TestGeneratedRDPOnAnyPort(t *testing.T) {
	pkts := pcapgen.RDPOverTLS(netip.MustParseAddrPort("203.0.113.9:51000"), netip.MustParseAddrPort("10.2.0.5:443"), pcapgen.Epoch, "mallory", "rdp.example")
	frames := pcapgen.Frames(pkts, pcapgen.Ethernet)
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, "rdp-443.pcap", layers.LinkTypeEthernet, frames))
	rdp, tls := out.dataset("packetsleuth.rdp"), out.dataset("packetsleuth.tls")
	if len(rdp) != 1 || len(tls) != 1 {
		t.Fatalf("%d RDP, %d TLS events", len(rdp), len(tls))
	}
	if c, s := str(rdp[0], "packetsleuth.rdp.cookie"), str(rdp[0], "packetsleuth.rdp.selected_protocol"); c != "mallory" || s != "credssp" {
		t.Errorf("cookie %q selected %q", c, s)
	}
	if u := field(rdp[0], "related.user"); !slices.Equal(toStrings(u), []string{"mallory"}) {
		t.Errorf("related.user %v", u)
	}
	if sni := str(tls[0], "tls.client.server_name"); sni != "rdp.example" {
		t.Errorf("sni %q", sni)
	}
	checkResegmented(t, "rdp-443.pcap", layers.LinkTypeEthernet, frames, "packetsleuth.rdp")
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

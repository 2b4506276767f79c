package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The shipped rules on real captures: each attack raises its rule, and plain
// traffic raises nothing.
func TestShippedRulesOnSharedCaptures(t *testing.T) {
	const shared = "../../../shared/pcaps"
	if _, err := os.Stat(shared); err != nil {
		t.Skip("../shared/pcaps is not beside the repository")
	}
	cases := map[string][]string{
		"synflood.pcap":                 {"PS-NET-001"},
		"portscan-masscan-tcp.pcap":     {"PS-NET-001", "PS-NET-002"},
		"http-sll.pcap":                 {"PS-HTTP-004"},
		"dhcp-dora.pcapng":              {"PS-DHCP-001"},
		"snmp-v1-get.pcap":              {"PS-SNMP-001", "PS-SNMP-002"}, // set-requests with "public"
		"ntp-v3-sync-many-servers.pcap": nil,
		"http-get.pcap":                 nil,
		"http1-browsing.pcap":           nil,
		"dns-a-aaaa-mx.pcap":            nil,
		"tls12-handshake-cert.pcap":     nil,
		"tls-handshakes-many.pcapng":    nil,
		"mixed-browsing.pcapng":         nil,
		// kinit against an MIT KDC whose principals need no pre-authentication.
		"krb-kinit-pkinit.pcap":        {"PS-KRB-003"},
		"krb-as-tgs-rc4-ticket.pcap":   nil,
		"dcerpc-drsuapi-kerberos.pcap": nil,
		// Outlook also talks to the server over SMB1 named pipes.
		"dcerpc-mapi-exchange.pcap": {"PS-SMB-001", "PS-SMB-002"}, // SMB1 pipes; NTLMv1 (ALeonard) in the MAPI binds
	}
	for capture, want := range cases {
		for _, workers := range []string{"1", "2"} {
			out := filepath.Join(t.TempDir(), "events.ndjson")
			var stdout, stderr bytes.Buffer
			if rc := run([]string{"replay", "--quiet", "--workers", workers, "--out", out, filepath.Join(shared, capture)}, &stdout, &stderr); rc != 0 {
				t.Fatalf("%s: rc=%d %s", capture, rc, stderr.String())
			}
			got, _ := alertsAndAnomalies(t, out)
			if !slices.Equal(got, want) {
				t.Errorf("%s (workers=%s): alerts %v, want %v", capture, workers, got, want)
			}
		}
	}
}

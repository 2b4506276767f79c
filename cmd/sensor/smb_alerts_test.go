package main

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// The SMB and NTLM rules end to end, with the shipped rules: the generated
// PsExec conversation after 12 failed logons raises the brute force, the
// admin share, the executable written to it and the PsExec sequence; the
// same conversation from a listed admin host raises only the brute force
// rule; NTLMv1 over HTTP raises PS-SMB-002 and NTLMv2 nothing. On the shared
// captures, SMB1 (ntlm-smb1-raw) and PsExec's pipes (dcerpc-psexec-svcctl)
// are found.
func TestSMBCapturesRaiseTheSMBRules(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:50445"), netip.MustParseAddrPort("10.1.0.2:445")
	web := netip.MustParseAddrPort("10.1.0.3:80")
	psexec := pcapgen.Frames(pcapgen.SMBPsExecSession(client, server, pcapgen.Epoch, "mallory", "CONTOSO", 12), pcapgen.Ethernet)
	dir := t.TempDir()
	admins := filepath.Join(dir, "admins.yaml")
	if err := os.WriteFile(admins, []byte("lists:\n  - name: smb_admin_hosts\n    type: ip\n    items: [10.1.0.10]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		frames []pcapgen.Frame
		path   string
		extra  []string
		want   []string
	}{
		{name: "psexec", frames: psexec, want: []string{"PS-SMB-003", "PS-SMB-004", "PS-SMB-005", "PS-SMB-006"}},
		{name: "psexec-from-admin-host", frames: psexec, extra: []string{"--rules", admins}, want: []string{"PS-SMB-006"}},
		{name: "http-ntlmv1", frames: pcapgen.Frames(pcapgen.HTTPNTLMSession(client, web, pcapgen.Epoch, "alice", "CONTOSO", 24), pcapgen.Ethernet), want: []string{"PS-SMB-002"}},
		{name: "http-ntlmv2", frames: pcapgen.Frames(pcapgen.HTTPNTLMSession(client, web, pcapgen.Epoch, "alice", "CONTOSO", 312), pcapgen.Ethernet)},
		{name: "smb1", path: "../../../shared/pcaps/ntlm-smb1-raw.pcap", want: []string{"PS-SMB-001"}},
		{name: "psexec-shared", path: "../../../shared/pcaps/dcerpc-psexec-svcctl.pcap", want: []string{"PS-SMB-003", "PS-SMB-005"}},
	}
	for _, c := range cases {
		path := c.path
		if path == "" {
			path = filepath.Join(dir, c.name+".pcap")
			if err := pcapgen.Write(path, pcapgen.Capture{Name: c.name, Link: layers.LinkTypeEthernet, Frames: c.frames}); err != nil {
				t.Fatal(err)
			}
		} else if _, err := os.Stat(path); err != nil {
			t.Logf("%s: ../shared/pcaps is not beside the repository; skipped", c.name)
			continue
		}
		out := filepath.Join(dir, c.name+".ndjson")
		var stdout, stderr bytes.Buffer
		args := append(append([]string{"replay", "--quiet", "--out", out}, c.extra...), path)
		if rc := run(args, &stdout, &stderr); rc != 0 {
			t.Fatalf("%s: rc=%d %s", c.name, rc, stderr.String())
		}
		got, _ := alertsAndAnomalies(t, out)
		var smb []string
		for _, r := range got {
			if len(r) > 7 && r[:7] == "PS-SMB-" {
				smb = append(smb, r)
			}
		}
		if !slices.Equal(smb, c.want) {
			t.Errorf("%s: SMB alerts %v, want %v (all: %v)", c.name, smb, c.want, got)
		}
	}
}

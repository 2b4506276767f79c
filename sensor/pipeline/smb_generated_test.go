package pipeline

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// smbSummary replays frames and returns its packetsleuth.smb events as
// lines of the fields that say what happened.
func smbSummary(t *testing.T, name string, frames []pcapgen.Frame) ([]string, *collector) {
	t.Helper()
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, name, layers.LinkTypeEthernet, frames))
	var lines []string
	for _, ev := range out.dataset("packetsleuth.smb") {
		b, _ := json.Marshal(map[string]any{
			"action": str(ev, "packetsleuth.smb.action"), "outcome": str(ev, "event.outcome"),
			"user": str(ev, "user.domain") + `\` + str(ev, "user.name"), "ntlm": str(ev, "packetsleuth.ntlm.version"),
			"share": str(ev, "packetsleuth.smb.share"), "admin": field(ev, "packetsleuth.smb.admin_share"),
			"path": str(ev, "file.path"), "ext": str(ev, "file.extension"), "written": num(ev, "packetsleuth.smb.write_bytes"),
			"pipe": str(ev, "packetsleuth.smb.pipe"), "after": str(ev, "packetsleuth.smb.after_admin_exe"),
			"client": str(ev, "source.ip"), "dialect": str(ev, "packetsleuth.smb.dialect"),
		})
		lines = append(lines, string(b))
	}
	return lines, out
}

// The generated PsExec conversation on port 445: two failed logons, the
// good one, ADMIN$, PSEXESVC.exe written (6000 bytes), IPC$ and the
// svcctl pipe opened after it. The NT responses, challenge, session key
// and MIC (marker bytes in the generator) appear in no event, in any
// encoding.
func TestGeneratedSMBPsExec(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:50445"), netip.MustParseAddrPort("10.1.0.2:445")
	frames := pcapgen.Frames(pcapgen.SMBPsExecSession(client, server, pcapgen.Epoch, "mallory", "CONTOSO", 2), pcapgen.Ethernet)
	lines, out := smbSummary(t, "smb-psexec.pcap", frames)
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		`{"action":"session_setup","admin":null,"after":"","client":"10.1.0.10","dialect":"3.0.2","ext":"","ntlm":"v2","outcome":"failure","path":"","pipe":"","share":"","user":"CONTOSO\\mallory","written":0}`,
		`{"action":"session_setup","admin":null,"after":"","client":"10.1.0.10","dialect":"3.0.2","ext":"","ntlm":"v2","outcome":"success","path":"","pipe":"","share":"","user":"CONTOSO\\mallory","written":0}`,
		`{"action":"tree_connect","admin":true,"after":"","client":"10.1.0.10","dialect":"3.0.2","ext":"","ntlm":"","outcome":"success","path":"","pipe":"","share":"\\\\10.1.0.2\\ADMIN$","user":"CONTOSO\\mallory","written":0}`,
		`{"action":"file","admin":true,"after":"","client":"10.1.0.10","dialect":"3.0.2","ext":"exe","ntlm":"","outcome":"success","path":"\\\\10.1.0.2\\ADMIN$\\PSEXESVC.exe","pipe":"","share":"\\\\10.1.0.2\\ADMIN$","user":"CONTOSO\\mallory","written":6000}`,
		`{"action":"file","admin":true,"after":"PSEXESVC.exe","client":"10.1.0.10","dialect":"3.0.2","ext":"","ntlm":"","outcome":"success","path":"","pipe":"svcctl","share":"\\\\10.1.0.2\\IPC$","user":"CONTOSO\\mallory","written":72}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s\nin\n%s", want, got)
		}
	}
	if len(lines) != 7 {
		t.Errorf("%d events:\n%s", len(lines), got)
	}
	markers := [][]byte{{0xa7, 0xa7, 0xa7}, {0xb8, 0xb8, 0xb8}, {0xc9, 0xc9, 0xc9}, {0x01, 0x23, 0x45, 0x67, 0x89, 0xab}}
	for _, raw := range out.raw {
		for _, m := range markers {
			for _, enc := range []string{string(m), base64.StdEncoding.EncodeToString(m), base64.RawURLEncoding.EncodeToString(m), hexOf(m)} {
				if bytes.Contains(bytes.ToLower(raw), []byte(strings.ToLower(enc))) {
					t.Errorf("secret %x (as %q) in %s", m, enc, raw)
				}
			}
		}
	}
}

func hexOf(b []byte) string {
	const d = "0123456789abcdef"
	var s []byte
	for _, c := range b {
		s = append(s, d[c>>4], d[c&15])
	}
	return string(s)
}

// However an evader cuts the TCP segments (one byte each, reordered,
// overlapping with the same bytes), the SMB events are the same.
func TestGeneratedSMBResegmented(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:50446"), netip.MustParseAddrPort("10.1.0.2:445")
	frames := pcapgen.Frames(pcapgen.SMBPsExecSession(client, server, pcapgen.Epoch, "mallory", "CONTOSO", 1), pcapgen.Ethernet)
	want, _ := smbSummary(t, "smb.pcap", frames)
	for _, s := range pcapgen.Segmentations {
		hostile, err := pcapgen.Resegment(frames, layers.LinkTypeEthernet, s, 1)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := smbSummary(t, s.String()+"-smb.pcap", hostile)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n got %s\nwant %s", s, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// SMB over the NetBIOS session service (port 139): the session request
// and its positive response come first and are skipped.
func TestGeneratedSMBOverNetBIOS(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:50139"), netip.MustParseAddrPort("10.1.0.2:139")
	c := pcapgen.NewTCPConn(client, server, pcapgen.Epoch).Handshake()
	name := append([]byte{0x20}, strings.Repeat("EE", 16)...)
	req := append(append([]byte{0x81, 0, 0, byte(2 * (len(name) + 1))}, append(name, 0)...), append(name, 0)...)
	c.Data(true, req, 1460).Data(false, []byte{0x82, 0, 0, 0}, 1460)
	for _, ch := range pcapgen.SMBPsExecExchange("10.1.0.2", "bob", "LAB", 0) {
		c.Data(ch.FromClient, ch.B, 1460)
	}
	lines, _ := smbSummary(t, "smb-139.pcap", pcapgen.Frames(c.Close().Packets, pcapgen.Ethernet))
	if len(lines) != 5 || !strings.Contains(lines[0], `"user":"LAB\\bob"`) {
		t.Errorf("%s", strings.Join(lines, "\n"))
	}
}

// NTLM over HTTP: the 401 event names the server from its CHALLENGE, the
// authenticated request's event carries the user, domain and NTLMv1 — and
// no response bytes in any encoding.
func TestGeneratedHTTPNTLM(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:50080"), netip.MustParseAddrPort("10.1.0.3:80")
	frames := pcapgen.Frames(pcapgen.HTTPNTLMSession(client, server, pcapgen.Epoch, "alice", "CONTOSO", 24), pcapgen.Ethernet)
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, "http-ntlm.pcap", layers.LinkTypeEthernet, frames))
	evs := out.dataset("packetsleuth.http")
	if len(evs) != 2 {
		t.Fatalf("%d HTTP events", len(evs))
	}
	if got := str(evs[0], "packetsleuth.ntlm.server_nb_computer_name"); got != "WEB1" {
		t.Errorf("server name %q", got)
	}
	if msgs, _ := field(evs[0], "packetsleuth.ntlm.messages").([]any); len(msgs) != 2 || msgs[0] != "negotiate" || msgs[1] != "challenge" {
		t.Errorf("messages %v", msgs)
	}
	for name, want := range map[string]string{"user.name": "alice", "user.domain": "CONTOSO", "packetsleuth.ntlm.version": "v1", "packetsleuth.ntlm.workstation": "WS-0042"} {
		if got := str(evs[1], name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, raw := range out.raw {
		for _, m := range [][]byte{{0xa7, 0xa7, 0xa7}, {0xb8, 0xb8, 0xb8}, {0x01, 0x23, 0x45, 0x67, 0x89, 0xab}} {
			if bytes.Contains(raw, m) || bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(m))) || bytes.Contains(raw, []byte(hexOf(m))) {
				t.Errorf("secret %x in %s", m, raw)
			}
		}
	}
}

package pipeline

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// ftpOf replays frames and returns the FTP events, the data connection's
// flow event and the whole output.
func ftpOf(t *testing.T, name string, frames []pcapgen.Frame) ([]map[string]any, map[string]any, string) {
	t.Helper()
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, name, layers.LinkTypeEthernet, frames))
	var data map[string]any
	control := ""
	for _, ev := range out.dataset("packetsleuth.flow") {
		if str(ev, "network.protocol") == "ftp" {
			control = str(ev, "network.community_id")
		} else {
			data = ev
		}
	}
	if data == nil || str(data, "packetsleuth.ftp.control_community_id") != control || control == "" {
		t.Fatalf("%s: data flow %v not linked to control %q", name, data, control)
	}
	var all strings.Builder
	for _, r := range out.raw {
		all.Write(r)
	}
	evs := out.dataset("packetsleuth.ftp")
	for _, ev := range evs {
		// The time of a command is that of the segment its line ended in:
		// cut otherwise, it moves by the pieces' spacing.
		delete(ev["event"].(map[string]any), "id")
		delete(ev, "@timestamp")
	}
	return evs, data, all.String()
}

// FTP on port 2121 is found by content; the upload's event has the user,
// the absolute path, the size, and the EPSV data connection is labelled
// ftp-data and linked; the password is nowhere. However an evader cuts the
// segments (one byte each, reordered, overlapping), the events are the
// same and the data connection is linked.
func TestGeneratedFTP(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:50021"), netip.MustParseAddrPort("203.0.113.21:2121")
	frames := pcapgen.Frames(pcapgen.FTPSession(client, server, 50555, pcapgen.Epoch), pcapgen.Ethernet)
	evs, data, all := ftpOf(t, "ftp-2121.pcap", frames)
	if len(evs) != 6 {
		t.Fatalf("%d FTP events", len(evs))
	}
	stor := evs[4]
	for name, want := range map[string]string{
		"packetsleuth.ftp.command": "STOR", "file.path": "/home/alice/up.php", "file.extension": "php",
		"user.name": "alice", "packetsleuth.ftp.reply_code": "226", "file.size": "29",
	} {
		if got := ftpCell(stor, name); got != want {
			t.Errorf("STOR %s = %q, want %q", name, got, want)
		}
	}
	if got := ftpCell(evs[3], "packetsleuth.ftp.data_port"); got != "50555" {
		t.Errorf("EPSV data port %q", got)
	}
	if str(data, "network.protocol") != "ftp-data" {
		t.Errorf("data flow protocol %q", str(data, "network.protocol"))
	}
	if strings.Contains(all, "hunter2") {
		t.Error("the password is in the output")
	}
	want, _ := json.Marshal(evs)
	for _, s := range pcapgen.Segmentations {
		hostile, err := pcapgen.Resegment(frames, layers.LinkTypeEthernet, s, 1)
		if err != nil {
			t.Fatal(err)
		}
		got, _, _ := ftpOf(t, s.String()+"-ftp.pcap", hostile)
		if b, _ := json.Marshal(got); string(b) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", s, b, want)
		}
	}
}

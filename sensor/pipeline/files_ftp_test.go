package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// TestFTPDataFilesAgreeWithTshark: the files of the shared FTP captures'
// data connections (RETR and STOR; listings are not files) are complete
// file events with tshark's --export-objects ftp-data names, sizes and
// SHA-256, downloads for RETR and uploads for STOR, numbered like their
// command and linked to their control connection. tshark writes two
// transfers of one name to one file, so its objects are compared with the
// distinct files we report, and our file events one by one with tshark's
// RETR and STOR commands.
func TestFTPDataFilesAgreeWithTshark(t *testing.T) {
	needShared(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: its --export-objects is the truth here")
	}
	captures, _ := filepath.Glob(filepath.Join(sharedPcaps, "ftp-*.pcap"))
	if len(captures) < 4 {
		t.Fatalf("%d FTP captures in the shared captures, the manifest lists 4", len(captures))
	}
	for _, capture := range captures {
		name := filepath.Base(capture)
		transfers := tsharkTransfers(t, capture)
		var want []string
		for _, o := range tsharkExport(t, capture, "ftp-data") {
			want = append(want, fmt.Sprintf("%s %s %d", o.name, o.sha256, o.size))
		}
		slices.Sort(want)
		// One worker: with several, linking a data connection to its
		// command is best effort (a worker may read the data before
		// another has read the command).
		out, _ := replay(t, Config{Workers: 1, App: filesOn.App}, capture)
		controls := map[string]bool{}
		for _, ev := range out.dataset("packetsleuth.ftp") {
			controls[str(ev, "network.community_id")] = true
		}
		var got, how []string
		for _, ev := range out.dataset("packetsleuth.file") {
			if str(ev, "network.protocol") != "ftp" {
				continue
			}
			if field(ev, "packetsleuth.file.complete") != true {
				t.Errorf("%s: %s is %s", name, str(ev, "file.name"), str(ev, "packetsleuth.file.state"))
			}
			if !controls[str(ev, "packetsleuth.ftp.control_community_id")] {
				t.Errorf("%s: %s not linked to its control connection: %q", name, str(ev, "file.name"), str(ev, "packetsleuth.ftp.control_community_id"))
			}
			o := fmt.Sprintf("%s %s %d", str(ev, "file.name"), str(ev, "file.hash.sha256"), num(ev, "file.size"))
			if !slices.Contains(got, o) {
				got = append(got, o)
			}
			how = append(how, fmt.Sprintf("%s %d %s", str(ev, "packetsleuth.file.direction"), num(ev, "packetsleuth.file.transaction"), str(ev, "file.name")))
		}
		slices.Sort(got)
		if len(want) == 0 || !slices.Equal(want, got) {
			t.Errorf("%s: tshark exports\n%q\nwe report\n%q", name, want, got)
		}
		if !slices.Equal(how, transfers) {
			t.Errorf("%s: file events %q, tshark's transfer commands %q", name, how, transfers)
		}
	}
}

// tsharkTransfers lists the RETR, STOR and APPE commands of capture as
// tshark reads them: "download|upload N name", N the command's number.
func tsharkTransfers(t *testing.T, capture string) []string {
	t.Helper()
	out, err := exec.Command("tshark", "-r", capture, "-Y", "ftp.request.command", "-T", "fields", "-e", "ftp.request.command", "-e", "ftp.request.arg").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var xs []string
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		cmd, arg, _ := strings.Cut(line, "\t")
		switch cmd {
		case "RETR":
			xs = append(xs, fmt.Sprintf("download %d %s", i+1, path.Base(arg)))
		case "STOR", "APPE":
			xs = append(xs, fmt.Sprintf("upload %d %s", i+1, path.Base(arg)))
		}
	}
	return xs
}

// The files of generated FTP downloads end as their data connections do:
// whole with a FIN is complete (the executable hashed and typed), a reset
// or fewer bytes than the 150 reply declared is truncated, a capture gap
// is a gap; the listing is no file. Each names its command's transaction.
// However an evader cuts the segments, the files are the same.
func TestGeneratedFTPDownloadFiles(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.1.0.10:50021"), netip.MustParseAddrPort("203.0.113.21:21")
	frames := pcapgen.Frames(pcapgen.FTPDownloads(client, server, pcapgen.Epoch), pcapgen.Ethernet)
	want := ftpFiles(t, "ftp-downloads.pcap", frames)
	pe := sha256.Sum256(pcapgen.PEFile(20000))
	if truth := []string{
		fmt.Sprintf("download /pub/tool.exe 20134/20134 complete ftp tx=8 exe=pe sha=%.8s", hex.EncodeToString(pe[:])),
		"download /pub/cut.bin 2920/8000 truncated ftp tx=10 exe= sha=",
		"download /pub/lost.bin 6540/8000 gap ftp tx=12 exe= sha=",
		"download /pub/short.bin 4000/8000 truncated ftp tx=14 exe= sha=",
	}; !slices.Equal(want, truth) {
		t.Errorf("file events\n%s\nwant\n%s", strings.Join(want, "\n"), strings.Join(truth, "\n"))
	}
	for _, s := range pcapgen.Segmentations {
		hostile, err := pcapgen.Resegment(frames, layers.LinkTypeEthernet, s, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := ftpFiles(t, s.String()+"-ftp-downloads.pcap", hostile); !slices.Equal(got, want) {
			t.Errorf("%s: file events\n%s\nwant\n%s", s, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// ftpFiles replays frames with the files layer on and describes the file events.
func ftpFiles(t *testing.T, name string, frames []pcapgen.Frame) []string {
	out, _ := replay(t, Config{Workers: 1, App: filesOn.App}, writeFrames(t, name, layers.LinkTypeEthernet, frames))
	var got []string
	for _, ev := range out.dataset("packetsleuth.file") {
		got = append(got, fmt.Sprintf("%s %s %d/%d %s %s tx=%d exe=%s sha=%.8s", str(ev, "packetsleuth.file.direction"), str(ev, "file.path"),
			num(ev, "file.size"), num(ev, "packetsleuth.file.declared_size"), str(ev, "packetsleuth.file.state"),
			str(ev, "network.protocol"), num(ev, "packetsleuth.file.transaction"), str(ev, "packetsleuth.file.executable"), str(ev, "file.hash.sha256")))
	}
	return got
}

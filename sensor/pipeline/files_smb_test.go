package pipeline

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tsharkSMBOnly are tshark SMB objects the sensor does not report as files,
// and why.
var tsharkSMBOnly = map[string]string{
	"dcerpc-mapi-exchange.pcap mailbox.PAB": "SMB1 Read AndX: SMB1 is detected and flagged, its file bytes are not followed; " +
		"the reads cover 28,672 of the file's 114,688 bytes, tshark's object is the rest zeros",
	"smb2-windows-share-ntlm.pcap srvsvc": "the srvsvc pipe of an SMB3 multichannel session, whose IPC$ tree was connected on another " +
		"connection: the sensor keeps SMB state per connection, names it a file, and its DCE/RPC bind is the one " +
		"TestDCERPCOverSMBAgreesWithTshark expects to miss (frames 98, 101); tshark's object is the pipe's 160 bytes",
}

// tsharkCopy is the " (N)" tshark puts before the extension of the N-th
// object of a name.
var tsharkCopy = regexp.MustCompile(`\(\d+\)(\.[^.]*)?$`)

// TestSMBFilesAgreeWithTshark holds the SMB files to tshark's
// --export-objects smb on every shared capture with SMB: each object tshark
// exports is either a complete file event with its name, size and SHA-256,
// or one of three things the sensor reports otherwise, counted: bytes of a
// named pipe (tshark exports pipes as objects; their bytes are DCE/RPC,
// parsed as such, not files); a partial object (a read of the first 4 KiB
// of a larger file, which tshark exports with the bytes written through the
// same handle laid over it — ours are two truncated files of that name,
// the read with the whole file's size declared); or one listed in
// tsharkSMBOnly. Every complete SMB file we report is one of tshark's
// objects.
func TestSMBFilesAgreeWithTshark(t *testing.T) {
	needShared(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: its --export-objects is the truth here")
	}
	var captures []string
	for _, g := range []string{"smb*.pcap*", "dcerpc-*.pcap*", "krb-as-tgs-smb2-dcerpc.pcapng", "ntlm-smb1-raw.pcap"} {
		m, _ := filepath.Glob(filepath.Join(sharedPcaps, g))
		captures = append(captures, m...)
	}
	var agree, pipes, partial, listed, total int
	for _, c := range captures {
		name := filepath.Base(c)
		out, _ := replay(t, filesOn, c)
		pipe := map[string]bool{}
		for _, ev := range out.dataset("packetsleuth.smb") {
			if p := str(ev, "packetsleuth.smb.pipe"); p != "" {
				pipe[p] = true
			}
		}
		complete := map[string]bool{}
		truncated := map[string]bool{} // "name size" of a truncated read of a larger file
		for _, ev := range out.dataset("packetsleuth.file") {
			if str(ev, "network.protocol") != "smb" {
				continue
			}
			n, size := str(ev, "file.name"), num(ev, "file.size")
			switch {
			case field(ev, "packetsleuth.file.complete") == true:
				complete[fmt.Sprintf("%s %s %d", n, str(ev, "file.hash.sha256"), size)] = true
			case str(ev, "packetsleuth.file.state") == "truncated" && num(ev, "packetsleuth.file.declared_size") > size:
				truncated[fmt.Sprintf("%s %d", n, size)] = true
			}
		}
		theirs := map[string]bool{}
		for _, o := range tsharkExport(t, c, "smb") {
			total++
			n := strings.ReplaceAll(o.name, "%5c", `\`)
			n = n[strings.LastIndex(n, `\`)+1:]
			n = tsharkCopy.ReplaceAllString(n, "$1")
			key := fmt.Sprintf("%s %s %d", n, o.sha256, o.size)
			theirs[key] = true
			switch {
			case complete[key]:
				agree++
			case pipe[n]:
				pipes++
			case truncated[fmt.Sprintf("%s %d", n, o.size)]:
				partial++
			case tsharkSMBOnly[name+" "+n] != "":
				listed++
				t.Logf("%s: %s not compared: %s", name, n, tsharkSMBOnly[name+" "+n])
			default:
				t.Errorf("%s: tshark exports %s (%d bytes, %.12s), we report no such file", name, n, o.size, o.sha256)
			}
		}
		for k := range complete {
			if !theirs[k] {
				t.Errorf("%s: we report %s, tshark exports no such object", name, k)
			}
		}
	}
	t.Logf("tshark SMB objects: %d; complete files equal: %d, named pipes: %d, partial reads: %d, listed: %d", total, agree, pipes, partial, listed)
	if agree < 20 {
		t.Errorf("only %d objects agree: the comparison proves little", agree)
	}
}

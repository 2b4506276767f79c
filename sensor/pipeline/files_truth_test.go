package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/sensor/app"
)

// filesOn is the pipeline configuration with the files layer on.
var filesOn = Config{App: app.Config{Files: &files.Config{}}}

// object is an exported or reported file: its name, SHA-256 and size.
type object struct {
	name, sha256 string
	size         int64
}

func (o object) String() string { return fmt.Sprintf("%s %s %d", o.name, o.sha256, o.size) }

// tsharkExport exports the objects of proto from capture with tshark (one
// file per name: tshark writes a name twice over itself).
func tsharkExport(t *testing.T, capture, proto string) []object {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("tshark", "-r", capture, "-Q", "--export-objects", proto+","+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tshark: %v: %s", err, out)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var objs []object
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		objs = append(objs, object{e.Name(), hex.EncodeToString(sum[:]), int64(len(b))})
	}
	return objs
}

// completeFiles replays capture with the files layer on and returns
// "name sha256 size" of each complete file of protocol proto, sorted.
func completeFiles(t *testing.T, capture, proto string) []string {
	out, _ := replay(t, filesOn, capture)
	var objs []string
	for _, ev := range out.dataset("packetsleuth.file") {
		if field(ev, "packetsleuth.file.complete") == true && str(ev, "network.protocol") == proto {
			objs = append(objs, object{str(ev, "file.name"), str(ev, "file.hash.sha256"), num(ev, "file.size")}.String())
		}
	}
	slices.Sort(objs)
	return objs
}

// tsharkHTTPName is the name we give the object tshark names n: tshark
// numbers a name's copies ("inform(3)"), keeps the query ("x.bin%3fa=1"),
// names the root "%2f", and makes one up where the URL has none
// ("object53.text%2fhtml").
func tsharkHTTPName(n string) string {
	n = tsharkCopy.ReplaceAllString(n, "$1")
	if i := strings.Index(n, "%3f"); i >= 0 {
		n = n[:i]
	}
	if n == "%2f" || objectN.MatchString(n) {
		return ""
	}
	return n
}

var objectN = regexp.MustCompile(`^object\d+\.[a-z]+%2f`)

// tsharkExportDiffers lists the captures where tshark's export is known to
// be wrong, and why.
var tsharkExportDiffers = map[string]string{
	"http-connect-smtp.pcap":         "tshark exports the header lines after a CONNECT request line as a body (55 bytes of User-Agent)",
	"http-connect-tls-loopback.pcap": "tshark exports the stray line end after a CONNECT request as a 1-byte body",
}

// TestHTTPFilesAgreeWithTshark: every HTTP object tshark exports from the
// shared HTTP captures is a complete file event with the same name (as
// tsharkHTTPName reads tshark's), SHA-256 and size, and there is no other.
func TestHTTPFilesAgreeWithTshark(t *testing.T) {
	needShared(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: its --export-objects is the truth here")
	}
	captures, _ := filepath.Glob(filepath.Join(sharedPcaps, "http*.pcap*"))
	if len(captures) == 0 {
		t.Skip("no http*.pcap in the shared captures")
	}
	total := 0
	for _, c := range captures {
		if why, ok := tsharkExportDiffers[filepath.Base(c)]; ok {
			t.Logf("%s: not compared: %s", filepath.Base(c), why)
			continue
		}
		var want []string
		for _, o := range tsharkExport(t, c, "http") {
			o.name = tsharkHTTPName(o.name)
			want = append(want, o.String())
		}
		slices.Sort(want)
		got := completeFiles(t, c, "http")
		if !slices.Equal(want, got) {
			t.Errorf("%s: tshark exports %d objects, we report %d complete files\ntshark %v\nours   %v", filepath.Base(c), len(want), len(got), want, got)
		}
		total += len(want)
	}
	if total < 50 {
		t.Fatalf("only %d objects in the HTTP captures: the comparison proves little", total)
	}
}

// The EICAR attachment of the shared SMTP capture is a complete file with
// EICAR's SHA-256, an upload of the SMTP transaction.
func TestSMTPAttachmentIsAFile(t *testing.T) {
	needShared(t)
	out, _ := replay(t, filesOn, filepath.Join(sharedPcaps, "smtp-attachment-eicar.pcap"))
	var got []string
	for _, ev := range out.dataset("packetsleuth.file") {
		got = append(got, fmt.Sprint(str(ev, "network.protocol"), " ", str(ev, "file.name"), " ", num(ev, "file.size"), " ",
			str(ev, "file.hash.sha256"), " ", str(ev, "packetsleuth.file.part"), " ", str(ev, "packetsleuth.file.direction"), " ",
			field(ev, "packetsleuth.file.complete")))
	}
	want := []string{"smtp EICAR-Test-File 68 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f attachment upload true"}
	if !slices.Equal(got, want) {
		t.Errorf("file events %q, want %q", got, want)
	}
}

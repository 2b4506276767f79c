package pcapgen

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The expectations HostileDNSCases declares (and the pipeline test holds
// the sensor to) are what tshark shows, when tshark is installed.
func TestHostileDNSCasesMatchTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed: the declared expectations are not re-checked")
	}
	path := filepath.Join(t.TempDir(), "dns-hostile.pcap")
	if err := Write(path, HostileDNS()); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tshark, "-r", path, "-n", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
		"-E", "aggregator=,", "-Y", "dns.flags.response == 1", "-e", "dns.id", "-e", "dns.qry.name", "-e", "dns.a").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		id, rest, _ := strings.Cut(l, "\t")
		got[id] = rest
	}
	for _, c := range HostileDNSCases() {
		name := c.QName
		if name == "" {
			name = "<Name contains a pointer that loops>"
		}
		want := name + "\t" + strings.Join(c.Answers, ",")
		if g := got[fmt.Sprintf("0x%04x", c.ID)]; g != want {
			t.Errorf("%s: tshark shows %q, the case declares %q", c.Name, g, want)
		}
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// import-sigma converts the public SigmaHQ network rules into a rule file
// the sensor loads, and names every rule it leaves out with the reason.
func TestImportSigma(t *testing.T) {
	const dir = "../../../shared/sigma"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("../shared/sigma is not beside the repository")
	}
	out := filepath.Join(t.TempDir(), "sigma.yaml")
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"rules", "import-sigma", "--out", out, dir}, &stdout, &stderr); rc != 0 {
		t.Fatalf("rc=%d %s", rc, stderr.String())
	}
	if !strings.Contains(stderr.String(), "not converted: "+dir+"/network/zeek/zeek_dns_susp_zbit_flag.yml (Suspicious DNS Z Flag Bit Set): selection z_flag_unset: field \"Z\"") ||
		!strings.Contains(stderr.String(), " of 58 Sigma rules converted") {
		t.Errorf("report:\n%s", stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if rc := run([]string{"rules", "validate", out}, &stdout, &stderr); rc != 0 || !strings.HasPrefix(stdout.String(), "ok: ") {
		t.Errorf("validate: rc=%d %s %s", rc, stdout.String(), stderr.String())
	}
	stdout.Reset()
	if rc := run([]string{"rules", "list", out}, &stdout, &stderr); rc != 0 || !strings.Contains(stdout.String(), "SIGMA-aff715fa-4dd5-497a-8db3-910bea555566") {
		t.Errorf("list: rc=%d", rc)
	}
}

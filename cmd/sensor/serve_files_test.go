package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// sensor serve --config lists and downloads the files sensor run (here a
// replay with the same configuration) extracted to files.store.dir, sees
// a file kept after it started, and never touches the directory (a file
// the writer has in incoming/ is left alone); a download is audit-logged.
func TestServeFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sensor binary: skipped with -short")
	}
	dir := t.TempDir()
	store := filepath.Join(dir, "extracted")
	cfg := filepath.Join(dir, "sensor.yaml")
	y := "outputs:\n  - type: store\n    driver: sqlite\n    path: " + filepath.Join(dir, "h.db") +
		"\nfiles:\n  store:\n    dir: " + store + "\n    when: all\n"
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(dir, "files.pcap")
	frames := pcapgen.Frames(pcapgen.HTTPFileTransfers(netip.MustParseAddrPort("10.0.0.5:50000"), netip.MustParseAddrPort("198.51.100.80:80"), pcapgen.Epoch), pcapgen.Ethernet)
	if err := pcapgen.Write(pcap, pcapgen.Capture{Name: "files", Link: layers.LinkTypeEthernet, Frames: frames}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"replay", "--quiet", "--workers", "1", "--config", cfg, pcap}, &stdout, &stderr); rc != 0 {
		t.Fatalf("replay: rc=%d %s", rc, stderr.String())
	}
	pe := sha256.Sum256(pcapgen.PEFile(20000))
	peSum := hex.EncodeToString(pe[:])
	if _, err := os.Stat(filepath.Join(store, peSum)); err != nil {
		t.Fatalf("the replay kept no PE: %v", err)
	}
	writing := filepath.Join(store, "incoming", "f-being-written")
	if err := os.WriteFile(writing, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}

	bin := buildSensorBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	const token = "serve-files-token-0123456789"
	cmd := exec.Command(bin, "serve", "--config", cfg, "--listen", addr, "--token", "env:SERVE_FILES_TOKEN")
	cmd.Env = append(cmd.Environ(), "SERVE_FILES_TOKEN="+token)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	get := func(path string) (int, http.Header, []byte) {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, []byte(err.Error())
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, b
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if code, _, _ := get("/healthz"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up: %s", logs.String())
		}
	}
	list := func(query string) []string {
		code, _, body := get("/api/v1/files" + query)
		var page struct {
			Items []struct{ SHA256, Name string }
		}
		if code != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("files%s: %d %s", query, code, body)
		}
		var names []string
		for _, it := range page.Items {
			names = append(names, it.Name)
		}
		return names
	}
	if got := list("?executable=pe"); strings.Join(got, ",") != "invoice.pdf.exe" {
		t.Errorf("executables: %q", got)
	}
	if got := list("?name=EICAR"); strings.Join(got, ",") != "eicar.com" {
		t.Errorf("by name: %q", got)
	}
	// A file sensor run keeps while serve runs is listed.
	late := strings.Repeat("ab", 32)
	os.WriteFile(filepath.Join(store, late+".json"), []byte(`{"sha256":"`+late+`","size":3,"name":"late.bin"}`), 0o600)
	os.WriteFile(filepath.Join(store, late), []byte("abc"), 0o600)
	if got := list("?name=late"); strings.Join(got, ",") != "late.bin" {
		t.Errorf("a file kept after serve started: %q", got)
	}
	code, h, body := get("/api/v1/files/" + peSum + "/download")
	if code != 200 || h.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %s", code, body)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != peSum+".bin" || zr.File[0].Flags&1 == 0 {
		t.Fatalf("zip: %v %+v", err, zr)
	}
	if code, _, body := get("/api/v1/audit"); code != 200 || !strings.Contains(string(body), "file_download") || !strings.Contains(string(body), peSum) {
		t.Errorf("audit: %d %.300s", code, body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if _, err := os.Stat(writing); err != nil {
		t.Errorf("serve removed a file the writer had in incoming/: %v", err)
	}
}

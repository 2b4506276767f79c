package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestServeFlags(t *testing.T) {
	t.Setenv("PS_WEB_TOKEN", "")
	t.Setenv("PS_WEB_USER", "")
	t.Setenv("PS_WEB_PASSWORD_HASH", "")
	db := filepath.Join(t.TempDir(), "h.db")
	noStore := filepath.Join(t.TempDir(), "sensor.yaml")
	if err := os.WriteFile(noStore, []byte("outputs:\n  - type: file\n    path: /dev/null\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--store", db}, "set a token"},
		{[]string{"serve", "--store", db, "--no-auth", "--listen", "0.0.0.0:0"}, "loopback"},
		{[]string{"serve", "--store", db, "--token", "short"}, "at least 16"},
		{[]string{"serve", "--store", db, "--user", "admin", "--password-hash", "plain"}, "bcrypt"},
		{[]string{"serve", "--store", db, "--token", "env:PS_NOT_SET_ANYWHERE"}, "not set"},
		{[]string{"serve", "--config", noStore, "--token", "serve-flags-token-0123456789"}, "no output of type store"},
	} {
		var out, errb bytes.Buffer
		if code := run(c.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, %q (want %q)", c.args, code, errb.String(), c.want)
		}
	}
}

func TestHashPassword(t *testing.T) {
	var out, errb bytes.Buffer
	if code := cmdHashPassword(strings.NewReader("correct horse battery\n"), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	h := strings.TrimSpace(out.String())
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("correct horse battery")) != nil {
		t.Fatalf("%q is not a bcrypt hash of the password", h)
	}
	if code := cmdHashPassword(strings.NewReader("short\n"), &out, &errb); code != 2 {
		t.Fatalf("short password: exit %d", code)
	}
}

// TestServeBinary starts `sensor serve` as a process and talks to it.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sensor binary: skipped with -short")
	}
	bin := buildSensorBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	const token = "serve-test-token-0123456789"
	cmd := exec.Command(bin, "serve", "--store", filepath.Join(t.TempDir(), "h.db"), "--listen", addr, "--token", "env:SERVE_TEST_TOKEN")
	cmd.Env = append(cmd.Environ(), "SERVE_TEST_TOKEN="+token)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	get := func(path string, auth bool) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if code, _ := get("/healthz", false); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up: %s", logs.String())
		}
	}
	if code, _ := get("/api/v1/status", false); code != 401 {
		t.Errorf("status without token: %d", code)
	}
	if code, body := get("/api/v1/status", true); code != 200 || !strings.Contains(body, `"mode":"history"`) || strings.Contains(body, token) {
		t.Errorf("status: %d %s", code, body)
	}
	if code, body := get("/metrics", true); code != 200 || !strings.Contains(body, "packetsleuth_build_info") {
		t.Errorf("metrics: %d %.200s", code, body)
	}
	if code, body := get("/api/v1/rules", true); code != 200 || !strings.Contains(body, `"severity"`) {
		t.Errorf("rules: %d %.200s", code, body)
	}
	if code, body := get("/", false); code != 200 || !strings.Contains(body, `<script type="module" src="/app.js">`) {
		t.Errorf("UI: %d %.200s", code, body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	if strings.Contains(logs.String(), token) {
		t.Error("the token appears in the log")
	}
}

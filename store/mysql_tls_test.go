package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/testpki"
	"github.com/packetsleuth/packetsleuth/outputs"
)

// tls: makes the MariaDB connection TLS, verified against the CA, with a
// client certificate when cert and key are given; a server certificate of
// another CA is refused. The shared MariaDB has no TLS, so the test starts
// its own server on loopback with certificates of a test CA.
func TestMySQLTLS(t *testing.T) {
	ca := testpki.New(t, "store test CA")
	addr := startTLSMariaDB(t, ca)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cfg := Config{Driver: MySQL, DSN: outputs.Secret("ps:secret-pw@tcp(" + addr + ")/packetsleuth"), TLS: &outputs.ClientTLS{CA: ca.CAFile}}
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cipher, version := sslStatus(ctx, t, s.db)
	s.Close()
	if cipher == "" || !strings.HasPrefix(version, "TLSv1.") {
		t.Fatalf("tls: set, but the session is not encrypted (Ssl_cipher %q, Ssl_version %q)", cipher, version)
	}
	t.Logf("connected with %s, %s", version, cipher)

	// A user the server lets in only with a client certificate of the CA.
	cert, key := ca.Client("collector")
	cfg.DSN = outputs.Secret("ps_x509:secret-pw@tcp(" + addr + ")/packetsleuth")
	if s, err := Open(ctx, cfg); err == nil {
		s.Close()
		t.Fatal("a user that requires X509 got in without a client certificate")
	} else if !strings.Contains(err.Error(), "Access denied") {
		t.Errorf("without a client certificate: %v, want the server's access denied", err)
	}
	cfg.TLS = &outputs.ClientTLS{CA: ca.CAFile, Cert: cert, Key: key}
	s, err = Open(ctx, cfg)
	if err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	if cipher, _ := sslStatus(ctx, t, s.db); cipher == "" {
		t.Error("mTLS session not encrypted")
	}
	s.Close()

	other := testpki.New(t, "another CA")
	cfg.TLS = &outputs.ClientTLS{CA: other.CAFile}
	if s, err := Open(ctx, cfg); err == nil {
		s.Close()
		t.Fatal("a server certificate of another CA was accepted")
	} else if !strings.Contains(err.Error(), "certificate") || strings.Contains(err.Error(), "secret-pw") {
		t.Errorf("unclear error, or it shows the DSN: %v", err)
	} else {
		t.Logf("refused: %v", err)
	}
}

// sslStatus is the TLS cipher and version of a session of db ("" for
// plaintext).
func sslStatus(ctx context.Context, t *testing.T, db *sql.DB) (cipher, version string) {
	t.Helper()
	var name string
	if err := db.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_version'").Scan(&name, &version); err != nil {
		t.Fatal(err)
	}
	return cipher, version
}

// startTLSMariaDB starts a MariaDB server of the test's own on a loopback
// port (a temporary data dir, TLS with a server certificate of ca) with a
// database packetsleuth, a user ps and a user ps_x509 that needs a client
// certificate (both with password secret-pw), and returns its address. It
// skips the test when the MariaDB server binaries are not installed.
func startTLSMariaDB(t *testing.T, ca *testpki.CA) string {
	t.Helper()
	server, installDB := findBinary("mariadbd", "mysqld"), findBinary("mariadb-install-db", "mysql_install_db")
	if server == "" || installDB == "" {
		t.Skip("MariaDB server binaries (mariadbd, mariadb-install-db) not found: apt-get install mariadb-server-core")
	}
	dir := t.TempDir()
	cert, key := ca.Server("127.0.0.1", "localhost")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	sock := filepath.Join(dir, "mariadbd.sock")
	cnf := filepath.Join(dir, "my.cnf")
	user := ""
	if os.Geteuid() == 0 {
		user = "user = root\n" // mariadbd refuses to run as root unless told
	}
	conf := fmt.Sprintf(`[mariadbd]
%sdatadir = %s
socket = %s
pid-file = %s
log-error = %s
port = %d
bind-address = 127.0.0.1
skip-name-resolve
skip-log-bin
innodb_buffer_pool_size = 16M
innodb_log_file_size = 8M
ssl-ca = %s
ssl-cert = %s
ssl-key = %s
`, user, filepath.Join(dir, "data"), sock, filepath.Join(dir, "mariadbd.pid"), filepath.Join(dir, "mariadbd.log"), port, ca.CAFile, cert, key)
	if err := os.WriteFile(cnf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(installDB, "--defaults-file="+cnf, "--skip-test-db", "--auth-root-authentication-method=normal").CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", installDB, err, out)
	}
	cmd := exec.Command(server, "--defaults-file="+cnf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	root, err := sql.Open("mysql", "root@unix("+sock+")/")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	deadline := time.Now().Add(60 * time.Second)
	for err = root.Ping(); err != nil; err = root.Ping() {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "mariadbd.log"))
			t.Fatalf("mariadbd not ready after 60 s: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, q := range []string{
		"CREATE DATABASE packetsleuth",
		"CREATE USER 'ps'@'127.0.0.1' IDENTIFIED BY 'secret-pw' REQUIRE SSL",
		"CREATE USER 'ps_x509'@'127.0.0.1' IDENTIFIED BY 'secret-pw' REQUIRE X509",
		"GRANT ALL ON packetsleuth.* TO 'ps'@'127.0.0.1'",
		"GRANT ALL ON packetsleuth.* TO 'ps_x509'@'127.0.0.1'",
	} {
		if _, err := root.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// findBinary is the path of the first of names on PATH or in /usr/sbin
// (not on the PATH of every user), or "".
func findBinary(names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		if p := filepath.Join("/usr/sbin", n); fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return !errors.Is(err, os.ErrNotExist)
}

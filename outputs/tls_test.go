package outputs

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/testpki"
)

// testPKI is a throw-away CA with a server certificate for sink.test and
// a client certificate.
type testPKI struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func newTestPKI(t *testing.T) testPKI {
	ca := testpki.New(t, "test CA")
	p := testPKI{ca: ca.CAFile}
	p.serverCert, p.serverKey = ca.Server("sink.test")
	p.clientCert, p.clientKey = ca.Client("sensor")
	return p
}

func TestClientTLSErrorsNameTheOption(t *testing.T) {
	p := newTestPKI(t)
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    ClientTLS
		pre  string
		want []string // substrings of the error
	}{
		{"ca without PEM", ClientTLS{CA: notPEM}, "tls.", []string{"tls.ca: ", notPEM, "no PEM certificate"}},
		{"ca without PEM, top level", ClientTLS{CA: notPEM}, "", []string{"ca: " + notPEM}},
		{"ca missing", ClientTLS{CA: filepath.Join(t.TempDir(), "absent.pem")}, "", []string{"ca: ", "absent.pem"}},
		{"cert without key", ClientTLS{Cert: p.clientCert}, "tls.", []string{"tls.cert: needs key"}},
		{"key without cert", ClientTLS{Key: p.clientKey}, "", []string{"key: needs cert"}},
		{"cert with a foreign key", ClientTLS{Cert: p.clientCert, Key: p.serverKey}, "", []string{"cert: "}},
		{"all reported", ClientTLS{CA: notPEM, Cert: p.clientCert}, "outputs.x: ", []string{"outputs.x: ca: ", "\noutputs.x: cert: needs key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := tc.c.Config(tc.pre)
			if err == nil {
				t.Fatalf("no error (config %+v)", cfg)
			}
			if cfg != nil {
				t.Errorf("config returned with error %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestClientTLSDefaults(t *testing.T) {
	cfg, err := ClientTLS{ServerName: "sink.test", InsecureSkipVerify: true}.Config("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion %#x, want TLS 1.2 (%#x)", cfg.MinVersion, tls.VersionTLS12)
	}
	if cfg.ServerName != "sink.test" || !cfg.InsecureSkipVerify {
		t.Errorf("ServerName %q InsecureSkipVerify %v", cfg.ServerName, cfg.InsecureSkipVerify)
	}
	if cfg.RootCAs != nil || len(cfg.Certificates) != 0 {
		t.Error("no ca/cert set, yet RootCAs or Certificates are")
	}
}

// TestClientTLSMutual hands the built config to a real handshake with a
// server that trusts only the test CA for client certificates.
func TestClientTLSMutual(t *testing.T) {
	p := newTestPKI(t)
	cfg, err := ClientTLS{CA: p.ca, Cert: p.clientCert, Key: p.clientKey, ServerName: "sink.test"}.Config("tls.")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Certificates) != 1 || cfg.RootCAs == nil {
		t.Fatalf("Certificates %d, RootCAs %v", len(cfg.Certificates), cfg.RootCAs)
	}
	if err := handshake(t, p, cfg); err != nil {
		t.Fatalf("mTLS handshake: %v", err)
	}

	// Without the client certificate the same server refuses us, so the
	// handshake above really used the loaded pair.
	noCert, err := ClientTLS{CA: p.ca, ServerName: "sink.test"}.Config("")
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, p, noCert); err == nil {
		t.Fatal("handshake without a client certificate succeeded")
	}
	// Without the CA the server's certificate is not trusted.
	noCA, err := ClientTLS{Cert: p.clientCert, Key: p.clientKey, ServerName: "sink.test"}.Config("")
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, p, noCA); err == nil {
		t.Fatal("handshake trusted a server certificate of an unknown CA")
	}
}

// handshake runs client cfg against an mTLS server on loopback and returns
// the first error of either side.
func handshake(t *testing.T, p testPKI, cfg *tls.Config) error {
	t.Helper()
	srvPair, err := tls.LoadX509KeyPair(p.serverCert, p.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(p.ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{srvPair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		srvErr <- c.(*tls.Conn).Handshake()
	}()
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: cfg}
	c, cerr := d.Dial("tcp", ln.Addr().String())
	if c != nil {
		c.Close()
	}
	serr := <-srvErr
	if cerr != nil {
		return cerr
	}
	return serr
}

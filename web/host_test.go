package web

import (
	"context"
	"net/http"
	"net/netip"
	"testing"
)

// TestHostHeader: a DNS-rebinding page sends its own domain as Host, with
// a matching Origin; a server without auth must still refuse it.
func TestHostHeader(t *testing.T) {
	st := openStore(t)
	s, err := New(Config{Store: st, Auth: Auth{Disabled: true}, Hostnames: []string{"sensor.example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := serveLoopback(t, s)
	defer stop()

	for _, c := range []struct {
		host, method, path string
		want               int
	}{
		{"rebind.attacker.example:8080", "GET", "/api/v1/alerts", 421},
		{"rebind.attacker.example", "POST", "/api/v1/alerts/1/acknowledge", 421},
		{"rebind.attacker.example", "GET", "/", 421},
		{"localhost.attacker.example", "GET", "/api/v1/status", 421},
		{"192.0.2.1", "GET", "/api/v1/status", 421}, // not the listen address
		{addr, "GET", "/api/v1/status", 200},
		{"127.0.0.1", "GET", "/api/v1/status", 200},
		{"[::1]:8080", "GET", "/api/v1/status", 200},
		{"LOCALHOST:8080", "GET", "/api/v1/status", 200},
		{"Sensor.Example.ORG.", "GET", "/api/v1/status", 200},
		{"sensor.example.org:443", "GET", "/healthz", 200},
	} {
		req, _ := http.NewRequest(c.method, "http://"+addr+c.path, nil)
		req.Host = c.host
		req.Header.Set(CSRFHeader, "1")
		req.Header.Set("Origin", "http://"+c.host)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("%s %s with Host %s: %d, want %d", c.method, c.path, c.host, res.StatusCode, c.want)
		}
	}
}

// TestHostOnAllInterfaces: listening on 0.0.0.0, any IP literal names the
// server (it cannot be rebound), names still need configuring.
func TestHostOnAllInterfaces(t *testing.T) {
	s, err := New(Config{Auth: Auth{Token: testToken}})
	if err != nil {
		t.Fatal(err)
	}
	s.listenIP.Store(mustAddr("0.0.0.0"))
	for host, want := range map[string]bool{"192.0.2.7:8080": true, "[2001:db8::1]": true, "sensor.lan": false, "": false} {
		if got := s.hostAllowed(host); got != want {
			t.Errorf("%q: %v, want %v", host, got, want)
		}
	}
}

func mustAddr(s string) any {
	a, err := netip.ParseAddr(s)
	if err != nil {
		panic(err)
	}
	return a
}

// serveLoopback runs s.Serve on a free loopback port; stop ends it and
// returns Serve's error.
func serveLoopback(t *testing.T, s *Server) (addr string, stop func() error) {
	s.ready = make(chan string, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, "127.0.0.1:0") }()
	return <-s.ready, func() error { cancel(); return <-done }
}

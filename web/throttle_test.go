package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/packetsleuth/packetsleuth/metrics"
	"github.com/packetsleuth/packetsleuth/outputs"
)

// throttled is a server with a user, the test token, a settable clock and
// a log buffer; hit sends one request as if from addr.
type throttled struct {
	s   *Server
	now time.Time
	log bytes.Buffer
}

func newThrottled(t *testing.T, th Throttle) *throttled {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ts := &throttled{now: testBase}
	s, err := New(Config{Now: func() time.Time { return ts.now }, Log: slog.New(slog.NewTextHandler(&ts.log, nil)),
		Auth: Auth{Token: outputs.Secret(testToken), User: "admin", PasswordHash: outputs.Secret(hash), Throttle: th}})
	if err != nil {
		t.Fatal(err)
	}
	ts.s = s
	return ts
}

func (ts *throttled) hit(addr, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = addr
	req.Host = "localhost"
	req.Header.Set(CSRFHeader, "1")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	ts.s.Handler().ServeHTTP(w, req)
	return w
}

func (ts *throttled) login(addr, user, pw string) *httptest.ResponseRecorder {
	return ts.hit(addr, "POST", "/api/v1/login", `{"username":"`+user+`","password":"`+pw+`"}`)
}

func TestLoginThrottle(t *testing.T) {
	ts := newThrottled(t, Throttle{FreeFailures: 3, Delay: 2 * time.Second, Lockout: time.Minute})
	const a, b = "192.0.2.1:1000", "192.0.2.2:1000"
	for i := range 4 {
		if w := ts.login(a, "admin", "wrong"); w.Code != 401 {
			t.Fatalf("failure %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	// Blocked for 2 s: even the right password is refused, from any
	// address, because the user is blocked too.
	for _, addr := range []string{a, b} {
		w := ts.login(addr, "admin", "correct horse")
		if w.Code != 429 || w.Header().Get("Retry-After") != "2" {
			t.Fatalf("right password while blocked from %s: %d Retry-After %q", addr, w.Code, w.Header().Get("Retry-After"))
		}
	}
	// Each further failure doubles the block, up to the lockout.
	want := []string{"4", "8", "16", "32", "60", "60"}
	for i, ra := range want {
		ts.now = ts.now.Add(time.Hour / 60) // one minute: past any block so far
		if w := ts.login(a, "admin", "wrong"); w.Code != 401 {
			t.Fatalf("step %d: %d", i, w.Code)
		}
		if w := ts.login(a, "admin", "wrong"); w.Code != 429 || w.Header().Get("Retry-After") != ra {
			t.Fatalf("step %d: %d Retry-After %q, want 429 %s", i, w.Code, w.Header().Get("Retry-After"), ra)
		}
	}
	ts.now = ts.now.Add(61 * time.Second)
	if w := ts.login(b, "admin", "correct horse"); w.Code != 200 {
		t.Fatalf("right password after the lockout: %d %s", w.Code, w.Body)
	}
	// The success cleared the user: another address may fail freely again.
	if w := ts.login(b, "admin", "wrong"); w.Code != 401 {
		t.Fatalf("after success: %d", w.Code)
	}
	st := ts.s.AuthStats()
	if st.FailedPasswords != 11 || st.Throttled != 8 {
		t.Errorf("stats %+v, want 11 failed passwords and 8 throttled", st)
	}
}

func TestBearerThrottleAndScheme(t *testing.T) {
	ts := newThrottled(t, Throttle{FreeFailures: 2, Delay: 10 * time.Second, Lockout: time.Minute})
	const a, b = "[2001:db8::1]:1000", "[2001:db8:1::1]:1000"
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		if w := ts.hit(a, "GET", "/api/v1/session", "", "Authorization", scheme+" "+testToken); w.Code != 200 {
			t.Fatalf("%s token: %d", scheme, w.Code)
		}
	}
	for range 3 {
		if w := ts.hit(a, "GET", "/api/v1/session", "", "Authorization", "Bearer wrong-token-0123456789"); w.Code != 401 {
			t.Fatalf("wrong token: %d", w.Code)
		}
	}
	// The /64 of a is blocked, even with the right token; b is another /64.
	if w := ts.hit("[2001:db8::2]:1000", "GET", "/api/v1/session", "", "Authorization", "Bearer "+testToken); w.Code != 429 || w.Header().Get("Retry-After") != "10" {
		t.Fatalf("right token from a blocked /64: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
	if w := ts.hit(b, "GET", "/api/v1/session", "", "Authorization", "Bearer "+testToken); w.Code != 200 {
		t.Fatalf("right token from another address: %d", w.Code)
	}
	// Requests without credentials are not failures.
	for range 5 {
		ts.hit(b, "GET", "/api/v1/status", "")
	}
	if w := ts.hit(b, "GET", "/api/v1/session", "", "Authorization", "Bearer "+testToken); w.Code != 200 {
		t.Fatalf("after anonymous requests: %d", w.Code)
	}

	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Sources{WebAuth: ts.s.AuthStats}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	metrics.Handler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range []string{`packetsleuth_web_login_failures_total{method="token"} 3`,
		`packetsleuth_web_login_throttled_total{reason="blocked"} 1`, `packetsleuth_web_login_blocked 1`} {
		if !strings.Contains(rec.Body.String(), line+"\n") {
			t.Errorf("metrics lack %s:\n%s", line, rec.Body)
		}
	}
}

func TestFailedLoginLog(t *testing.T) {
	ts := newThrottled(t, Throttle{})
	const planted = "hunter2-planted-secret"
	ts.login("192.0.2.1:1", `evil\nuser=admin msg=\"ok\" \u001b[31m`, planted)
	ts.login("192.0.2.1:1", "admin", planted)
	ts.hit("192.0.2.1:1", "GET", "/api/v1/status", "", "Authorization", "Bearer "+planted)
	out := ts.log.String()
	if strings.Contains(out, planted) {
		t.Errorf("the password reached the log:\n%s", out)
	}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.HasPrefix(line, "time=") || strings.Contains(line, "\x1b") {
			t.Errorf("the user name was not escaped (a forged line or an ESC):\n%q", out)
		}
	}
	if !strings.Contains(out, `\x1b[31m`) || !strings.Contains(out, "remote=192.0.2.1:1") {
		t.Errorf("the log should name the escaped user and the address:\n%s", out)
	}
}

// TestPasswordCheckCap: with every bcrypt slot taken, a login waits about
// a second and is then answered 429 instead of queueing without bound.
func TestPasswordCheckCap(t *testing.T) {
	ts := newThrottled(t, Throttle{MaxChecks: 1})
	ts.s.throttle.checks <- struct{}{} // the only slot is busy
	w := ts.login("192.0.2.1:1", "admin", "correct horse")
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("login with no free slot: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
	<-ts.s.throttle.checks
	if w := ts.login("192.0.2.1:1", "admin", "correct horse"); w.Code != 200 {
		t.Fatalf("login with a free slot: %d", w.Code)
	}
	if st := ts.s.AuthStats(); st.Busy != 1 {
		t.Errorf("busy = %d, want 1", st.Busy)
	}
}

// TestHealthzDuringLoginFlood: 320 wrong logins from 8 loopback addresses
// with a default-cost bcrypt hash. All but a few are refused without a
// password check, and /healthz answers all along (its latency is measured
// by BenchmarkHealthzUnderLoginFlood).
func TestHealthzDuringLoginFlood(t *testing.T) {
	s, hs := floodServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	wait := loginFlood(ctx, hs.URL, 10)
	done := make(chan map[int]int)
	go func() { done <- wait() }()
	var codes map[int]int
	healthz := 0
	for codes == nil {
		select {
		case codes = <-done:
		default:
			res, err := hs.Client().Get(hs.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("healthz during the flood: %d", res.StatusCode)
			}
			healthz++
		}
	}
	st := s.AuthStats()
	t.Logf("flood answers %v, %d healthz answers, %+v", codes, healthz, st)
	if codes[http.StatusTooManyRequests] < 250 || codes[401] > 50 || st.FailedPasswords > 50 {
		t.Errorf("flood not throttled: %v, %d password checks failed", codes, st.FailedPasswords)
	}
}

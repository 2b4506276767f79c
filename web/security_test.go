package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/packetsleuth/packetsleuth/outputs"
)

var testBase = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

func timeStep(i int) time.Duration { return time.Duration(i) * 100 * time.Millisecond }

func nowMono() time.Time            { return time.Now() }
func sinceMono(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// reqOpt changes a test request.
type reqOpt func(*http.Request)

func bearer(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testToken) }
func csrf(r *http.Request)   { r.Header.Set(CSRFHeader, "1") }
func header(k, v string) reqOpt {
	return func(r *http.Request) { r.Header.Set(k, v) }
}
func cookie(c *http.Cookie) reqOpt { return func(r *http.Request) { r.AddCookie(c) } }

func do(t testing.TB, hs *httptest.Server, method, path, body string, opts ...reqOpt) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	res, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func postJSON(t testing.TB, hs *httptest.Server, path, body string, opts ...reqOpt) int {
	return do(t, hs, "POST", path, body, opts...).StatusCode
}

func putJSON(t testing.TB, hs *httptest.Server, path, body string) int {
	return do(t, hs, "PUT", path, body, bearer).StatusCode
}

func TestAuthAndCSRF(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	st := storeWithAlert(t)
	_, hs := testServer(t, Config{Store: st, Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "m 1\n") }),
		Auth: Auth{Token: outputs.Secret(testToken), User: "admin", PasswordHash: outputs.Secret(hash)}})

	code := func(res *http.Response) int { return res.StatusCode }
	// Public and protected routes.
	for path, want := range map[string]int{"/healthz": 200, "/": 200, "/app.js": 200, "/api/v1/status": 401,
		"/api/v1/flows": 401, "/metrics": 401, "/api/v1/nope": 401} {
		if got := code(do(t, hs, "GET", path, "")); got != want {
			t.Errorf("GET %s without credentials: %d, want %d", path, got, want)
		}
	}
	if got := code(do(t, hs, "GET", "/api/v1/status", "", header("Authorization", "Bearer wrong-token-0123456789"))); got != 401 {
		t.Errorf("wrong token: %d", got)
	}
	if got := code(do(t, hs, "GET", "/metrics", "", bearer)); got != 200 {
		t.Errorf("metrics with token: %d", got)
	}
	if got := code(do(t, hs, "GET", "/api/v1/nope", "", bearer)); got != 404 {
		t.Errorf("unknown API path: %d, want 404", got)
	}

	// Login: CSRF header required, wrong password refused, right one sets
	// an HttpOnly SameSite=Strict cookie.
	if got := postJSON(t, hs, "/api/v1/login", `{"username":"admin","password":"correct horse"}`); got != 403 {
		t.Errorf("login without CSRF header: %d, want 403", got)
	}
	if got := postJSON(t, hs, "/api/v1/login", `{"username":"admin","password":"wrong"}`, csrf); got != 401 {
		t.Errorf("wrong password: %d, want 401", got)
	}
	if got := postJSON(t, hs, "/api/v1/login", `{"username":"root","password":"correct horse"}`, csrf); got != 401 {
		t.Errorf("wrong user: %d, want 401", got)
	}
	res := do(t, hs, "POST", "/api/v1/login", `{"username":"admin","password":"correct horse"}`, csrf, header("Origin", hs.URL))
	if res.StatusCode != 200 {
		t.Fatalf("login: %d", res.StatusCode)
	}
	var sess *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == SessionCookie {
			sess = c
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/" || len(sess.Value) < 40 {
		t.Fatalf("session cookie: %+v", sess)
	}
	if got := code(do(t, hs, "GET", "/api/v1/status", "", cookie(sess))); got != 200 {
		t.Fatalf("GET with session cookie: %d", got)
	}
	// The token also works as the login password.
	if got := postJSON(t, hs, "/api/v1/login", `{"password":"`+testToken+`"}`, csrf); got != 200 {
		t.Errorf("login with the token: %d", got)
	}

	// State changes with the cookie need the header and the same origin.
	ack := "/api/v1/alerts/1/acknowledge"
	for name, c := range map[string]struct {
		opts []reqOpt
		want int
	}{
		"no header":          {[]reqOpt{cookie(sess)}, 403},
		"cross origin":       {[]reqOpt{cookie(sess), csrf, header("Origin", "http://evil.example")}, 403},
		"cross site fetch":   {[]reqOpt{cookie(sess), csrf, header("Sec-Fetch-Site", "cross-site")}, 403},
		"same site fetch":    {[]reqOpt{cookie(sess), csrf, header("Sec-Fetch-Site", "same-site")}, 403},
		"scheme mismatch":    {[]reqOpt{cookie(sess), csrf, header("Origin", strings.Replace(hs.URL, "http:", "https:", 1))}, 403},
		"same origin":        {[]reqOpt{cookie(sess), csrf, header("Origin", hs.URL), header("Sec-Fetch-Site", "same-origin")}, 200},
		"header, no origin":  {[]reqOpt{cookie(sess), csrf}, 200},
		"bearer, no header":  {[]reqOpt{bearer}, 200},
		"no credentials":     {[]reqOpt{csrf}, 401},
		"form post (simple)": {[]reqOpt{cookie(sess), header("Content-Type", "application/x-www-form-urlencoded")}, 403},
	} {
		if got := postJSON(t, hs, ack, `{"acknowledged":true}`, c.opts...); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
	// A CORS preflight gets no permission.
	res = do(t, hs, "OPTIONS", ack, "", header("Origin", "http://evil.example"), header("Access-Control-Request-Method", "POST"),
		header("Access-Control-Request-Headers", CSRFHeader))
	if res.Header.Get("Access-Control-Allow-Origin") != "" || res.Header.Get("Access-Control-Allow-Headers") != "" {
		t.Errorf("preflight answered with CORS headers: %v", res.Header)
	}

	// Logout ends the session.
	if got := postJSON(t, hs, "/api/v1/logout", "", cookie(sess), csrf); got != 204 {
		t.Errorf("logout: %d", got)
	}
	if got := code(do(t, hs, "GET", "/api/v1/status", "", cookie(sess))); got != 401 {
		t.Errorf("cookie after logout: %d, want 401", got)
	}
}

func TestSessionExpires(t *testing.T) {
	now := testBase
	_, hs := testServer(t, Config{Now: func() time.Time { return now }, SessionTTL: time.Hour})
	res := do(t, hs, "POST", "/api/v1/login", `{"password":"`+testToken+`"}`, csrf)
	sess := res.Cookies()[0]
	if got := do(t, hs, "GET", "/api/v1/session", "", cookie(sess)).StatusCode; got != 200 {
		t.Fatalf("fresh session: %d", got)
	}
	now = now.Add(61 * time.Minute)
	if got := do(t, hs, "GET", "/api/v1/session", "", cookie(sess)).StatusCode; got != 401 {
		t.Fatalf("expired session: %d, want 401", got)
	}
}

func TestAuthConfig(t *testing.T) {
	for _, a := range []Auth{
		{},
		{Token: "short"},
		{User: "admin"},
		{User: "admin", PasswordHash: "plaintext"},
	} {
		if _, err := New(Config{Auth: a}); err == nil {
			t.Errorf("%+v: accepted", a)
		}
	}
	if _, err := New(Config{Auth: Auth{Disabled: true}, TLSCert: "c.pem"}); err == nil {
		t.Error("cert without key accepted")
	}
}

func TestSecurityHeadersAndUI(t *testing.T) {
	_, hs := testServer(t, Config{})
	for _, p := range []string{"/", "/app.js", "/style.css", "/api/v1/status", "/healthz", "/flows"} {
		res := do(t, hs, "GET", p, "")
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") ||
			!strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", p, res.Header)
		}
	}
	if ct := do(t, hs, "GET", "/app.js", "").Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("app.js served as %q", ct)
	}
	if got := do(t, hs, "GET", "/README.md", "").StatusCode; got != 404 {
		t.Errorf("README.md served: %d", got)
	}
	// The UI has no inline script or style, nothing from another origin and
	// never parses strings as HTML.
	scriptTag := regexp.MustCompile(`<script\b[^>]*>`)
	err := fs.WalkDir(uiFS, "ui", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := uiFS.ReadFile(p)
		s := string(b)
		for _, u := range regexp.MustCompile(`https?://[^\s"')]+`).FindAllString(s, -1) {
			if u != "http://www.w3.org/2000/svg" {
				t.Errorf("%s refers to another origin: %s", p, u)
			}
		}
		switch filepath.Ext(p) {
		case ".html":
			for _, tag := range scriptTag.FindAllString(s, -1) {
				if !strings.Contains(tag, "src=") {
					t.Errorf("%s: inline script %s", p, tag)
				}
			}
			if strings.Contains(s, "<style") || regexp.MustCompile(`\sstyle=`).MatchString(s) || regexp.MustCompile(`\son[a-z]+=`).MatchString(s) {
				t.Errorf("%s: inline style or event handler", p)
			}
		case ".js":
			if strings.Contains(s, "innerHTML") || strings.Contains(s, "eval(") || strings.Contains(s, "insertAdjacentHTML") {
				t.Errorf("%s: parses strings as HTML or code", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNoSecretsInResponses(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	outs := func() []outputs.Stats {
		return []outputs.Stats{{Name: "pg", Type: "store", LastError: "dial postgres://ps:hunter2secret@db.example:5432/ps: refused; password=hunter2secret",
			LastErrorTime: time.Now()}, {Name: "file", Type: "file", Sent: 10}}
	}
	_, hs := testServer(t, Config{Outputs: outs, Live: newFakeLive(),
		Auth: Auth{Token: outputs.Secret(testToken), User: "admin", PasswordHash: outputs.Secret(hash)}})
	for _, p := range []string{"/api/v1/status", "/api/v1/session", "/api/v1/rules", "/api/v1/connections"} {
		req, _ := http.NewRequest("GET", hs.URL+p, nil)
		bearer(req)
		res, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, secret := range []string{testToken, string(hash), "hunter2secret"} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s leaks a secret: %s", p, b)
			}
		}
		if p == "/api/v1/status" && (!strings.Contains(string(b), `"healthy":false`) || !strings.Contains(string(b), `"healthy":true`)) {
			t.Errorf("status should report one failing and one healthy output: %s", b)
		}
	}
}

// selfSigned writes a throw-away certificate for 127.0.0.1.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "packetsleuth-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	s, err := New(Config{Auth: Auth{Token: testToken}, TLSCert: certFile, TLSKey: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := serveLoopback(t, s)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest("POST", "https://"+addr+"/api/v1/login", strings.NewReader(`{"password":"`+testToken+`"}`))
	csrf(req)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !res.Cookies()[0].Secure || res.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("TLS login: %d, cookie %+v, HSTS %q", res.StatusCode, res.Cookies(), res.Header.Get("Strict-Transport-Security"))
	}
	// Plain HTTP on the TLS port is refused.
	if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
		if res.StatusCode == 200 {
			t.Error("plain HTTP served on the TLS port")
		}
		res.Body.Close()
	}
	if err := stop(); err != nil {
		t.Fatalf("Serve after cancel: %v", err)
	}
}

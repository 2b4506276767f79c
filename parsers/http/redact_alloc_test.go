package http

import (
	"strings"
	"testing"
	"unsafe"
)

// A redacted credential costs one allocation, its result, however long
// the credential.
func TestRedactedAllocatesItsResultOnly(t *testing.T) {
	token := strings.Repeat("eyJhbGciOiJIUzI1NiJ9.", 8)
	if n := testing.AllocsPerRun(100, func() { _ = redacted("Bearer", token) }); n != 1 {
		t.Errorf("%v allocations", n)
	}
}

// Through a Pool, a credential sent again (on the next connection here)
// gives the string redacted before, without an allocation; another
// credential gives its own.
func TestPoolReusesRedactions(t *testing.T) {
	pool := new(Pool)
	req := "GET / HTTP/1.1\r\nAuthorization: Bearer " + strings.Repeat("x", 40) + "\r\nCookie: session=abcdef\r\n\r\n"
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	a := run(t, Config{Pool: pool}, req, resp)[0].Request
	b := run(t, Config{Pool: pool}, req, resp)[0].Request
	if b.Authorization != a.Authorization || unsafe.StringData(b.Authorization) != unsafe.StringData(a.Authorization) ||
		unsafe.StringData(b.Cookie) != unsafe.StringData(a.Cookie) {
		t.Errorf("second connection's fingerprints are new strings: %q %q", b.Authorization, b.Cookie)
	}
	if n := testing.AllocsPerRun(100, func() { _ = pool.redacted("", "session=abcdef") }); n != 0 {
		t.Errorf("a credential redacted again: %v allocations", n)
	}
	c := run(t, Config{Pool: pool}, strings.Replace(req, "abcdef", "abcdeg", 1), resp)[0].Request
	if c.Cookie == a.Cookie || c.Authorization != a.Authorization {
		t.Errorf("another cookie: %q, the same Authorization: %q", c.Cookie, c.Authorization)
	}
}

package http

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unsafe"
)

// tchar reports whether c is an RFC 9110 token character.
func tchar(c byte) bool { return tokenChars[c] }

// tokenChars holds the RFC 9110 token characters: every header name's
// byte is looked up, one load instead of a search of the punctuation.
var tokenChars = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0
	}
	return t
}()

// NameIs says whether the header name (a token, so ASCII: the parser
// keeps no other) is want, an ASCII name, whatever their case. Names of
// another length are told apart without a look at their bytes (EqualFold
// compares up to the first difference, "Content-" for many).
func NameIs(name, want string) bool {
	return len(name) == len(want) && strings.EqualFold(name, want)
}

// indexFold is the index of the first word (ASCII) in s whatever its
// case, or -1. Unlike an index in strings.ToLower(s), it is an index in s.
func indexFold(s, word string) int {
	for i := 0; i+len(word) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(word)], word) {
			return i
		}
	}
	return -1
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tchar(s[i]) {
			return false
		}
	}
	return true
}

func digit(c byte) bool { return c >= '0' && c <= '9' }

// validVersion checks the part after "HTTP/": "1." DIGIT.
func validVersion(v string) bool {
	return len(v) == 3 && v[0] == '1' && v[1] == '.' && digit(v[2])
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// parseRequestLine splits "METHOD SP URI SP HTTP/x.y". The URI is everything
// between the method and the last " HTTP/", so a space inside it is kept.
// With lenient (a truncated line) a missing version is accepted.
func parseRequestLine(line string, lenient bool) (method, uri, version string, ok bool) {
	line = trimOWS(line)
	sp := strings.IndexByte(line, ' ')
	if sp < 0 {
		if lenient && isToken(line) {
			return line, "", "", true
		}
		return "", "", "", false
	}
	method = line[:sp]
	if !isToken(method) {
		return "", "", "", false
	}
	rest := strings.TrimLeft(line[sp+1:], " ")
	j := strings.LastIndex(rest, " HTTP/")
	if j < 0 {
		if !lenient {
			return "", "", "", false
		}
		// A line cut short: drop a trailing partial " HTTP/1.1".
		if k := strings.LastIndexByte(rest, ' '); k >= 0 && strings.HasPrefix("HTTP/1.1", rest[k+1:]) {
			rest = rest[:k]
		}
		return method, rest, "", true
	}
	uri = strings.TrimRight(rest[:j], " ")
	version = rest[j+6:]
	if uri == "" || !validVersion(version) {
		if lenient {
			return method, uri, "", true
		}
		return "", "", "", false
	}
	return method, uri, version, true
}

// parseStatusLine splits "HTTP/x.y SP 3DIGIT [SP reason]".
func parseStatusLine(line string, lenient bool) (version string, code int, reason string, ok bool) {
	line = trimOWS(line)
	if len(line) < 12 || line[:5] != "HTTP/" || !validVersion(line[5:8]) || line[8] != ' ' {
		if lenient && len(line) >= 8 && line[:5] == "HTTP/" && validVersion(line[5:8]) {
			return line[5:8], 0, "", true
		}
		return "", 0, "", false
	}
	c := line[9:12]
	if !digit(c[0]) || !digit(c[1]) || !digit(c[2]) {
		return "", 0, "", false
	}
	if len(line) > 12 && line[12] != ' ' {
		return "", 0, "", false
	}
	code = int(c[0]-'0')*100 + int(c[1]-'0')*10 + int(c[2]-'0')
	if len(line) > 13 {
		reason = line[13:]
	}
	return line[5:8], code, reason, true
}

// statusCodeOf returns the status code of a complete status line in b, or 0.
func statusCodeOf(b []byte) int {
	if len(b) < 12 || b[8] != ' ' || !digit(b[9]) || !digit(b[10]) || !digit(b[11]) {
		return 0
	}
	return int(b[9]-'0')*100 + int(b[10]-'0')*10 + int(b[11]-'0')
}

// plausibleStart reports whether a partial first line can still become a
// valid start line, so non-HTTP streams fail after a few bytes.
func plausibleStart(b []byte, request bool) bool {
	if request {
		for i, c := range b {
			if c == ' ' {
				return i > 0
			}
			if !tchar(c) || i >= 32 {
				return false
			}
		}
		return true
	}
	const p = "HTTP/"
	n := min(len(b), len(p))
	return string(b[:n]) == p[:n]
}

// parseContentLength parses a Content-Length value; a list of identical
// values ("5, 5") is accepted with dup set.
func parseContentLength(v string) (n int64, dup, ok bool) {
	n = -1
	for part := range strings.SplitSeq(v, ",") {
		part = trimOWS(part)
		if part == "" || len(part) > 18 {
			return -1, false, false
		}
		var x int64
		for i := 0; i < len(part); i++ {
			if !digit(part[i]) {
				return -1, false, false
			}
			x = x*10 + int64(part[i]-'0')
		}
		if n >= 0 {
			if x != n {
				return -1, false, false
			}
			dup = true
		}
		n = x
	}
	return n, dup, n >= 0
}

// finalCoding returns the last non-empty element of a coding list
// (", \tchunked," gives "chunked").
func finalCoding(v string) string {
	last := ""
	for part := range strings.SplitSeq(v, ",") {
		if p := trimOWS(part); p != "" {
			last = p
		}
	}
	return last
}

// codings parses a Content-Encoding list (codings in the order they were
// applied) into decoding order, identity left out. ok is false when a
// coding is neither gzip nor deflate, or there are more than MaxCodings.
func codings(v string) (layers [MaxCodings]encoding, n int, ok bool) {
	var applied [MaxCodings]encoding
	for part := range strings.SplitSeq(v, ",") {
		var e encoding
		switch p := trimOWS(part); {
		case p == "" || strings.EqualFold(p, "identity"):
			continue
		case strings.EqualFold(p, "gzip") || strings.EqualFold(p, "x-gzip"):
			e = encGzip
		case strings.EqualFold(p, "deflate"):
			e = encDeflate
		default:
			return layers, 0, false
		}
		if n == MaxCodings {
			return layers, 0, false
		}
		applied[n] = e
		n++
	}
	for i := range n {
		layers[i] = applied[n-1-i]
	}
	return layers, n, true
}

func mimeType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(trimOWS(ct))
}

// redacted returns "<redacted sha256:XXXXXXXXXXXXXXXX>" for v, prefixed with
// prefix (the auth scheme and a space) when non-empty.
func redacted(prefix, v string) string {
	return (*recentRedactions)(nil).redacted(prefix, v)
}

// recentRedactions keeps the last fingerprints made, to return again for
// the same credential sent again (a cookie on each request of a
// keep-alive connection, or of each connection of a client) instead of a
// new string. A fixed few short strings: nothing that grows with traffic.
type recentRedactions struct {
	last [4]string
	next uint8
}

// redacted is the package's redacted, reusing r's strings; r may be nil.
func (r *recentRedactions) redacted(prefix, v string) string {
	// A view of v's bytes, which Sum256 only reads: []byte(v) is a copy,
	// on the heap past 32 bytes (most credentials).
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(v), len(v)))
	const tag = "<redacted sha256:"
	var b [64 + 32]byte
	out := append(b[:0], prefix...)
	if prefix != "" {
		out = append(out, ' ')
	}
	out = append(out, tag...)
	var h [16]byte
	hex.Encode(h[:], sum[:8])
	out = append(out, h[:]...)
	out = append(out, '>')
	if r == nil || len(out) > len(b) {
		return string(out)
	}
	for _, s := range r.last {
		if s == string(out) {
			return s
		}
	}
	s := string(out)
	r.last[r.next] = s
	r.next = (r.next + 1) % uint8(len(r.last))
	return s
}

// basicUser decodes Basic credentials and returns the user name only.
func basicUser(cred string, scratch []byte) (user string, ok bool) {
	cred = trimOWS(cred)
	if len(cred) > 4096 {
		return "", false
	}
	n := base64.StdEncoding.DecodedLen(len(cred))
	if cap(scratch) < n {
		scratch = make([]byte, n)
	}
	dst := scratch[:n]
	m, err := base64.StdEncoding.Decode(dst, []byte(cred))
	if err != nil {
		m, err = base64.RawStdEncoding.Decode(dst, []byte(strings.TrimRight(cred, "=")))
		if err != nil {
			return "", false
		}
	}
	dst = dst[:m]
	for i, c := range dst {
		if c == ':' {
			return string(dst[:i]), true
		}
	}
	return "", false
}

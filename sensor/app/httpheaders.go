package app

import (
	"strings"
	"unicode/utf8"

	phttp "github.com/packetsleuth/packetsleuth/parsers/http"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// DefaultHTTPHeaders are the headers HTTP events keep when http.headers
// is not set: those a SOC pivots on beyond the ECS fields (the client
// behind a proxy, the server software, redirects, download names).
var DefaultHTTPHeaders = []string{
	"x-forwarded-for", "x-real-ip", "forwarded", "via",
	"server", "x-powered-by", "location", "content-disposition",
}

// Bounds of the headers one event keeps, per direction.
const (
	maxKeptHeaders    = 32
	maxHeaderValueLen = 512
)

// secretHeaders carry credentials: kept only as their scheme (or not at
// all), never their value.
var secretHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true,
}

// HeaderSelection says which HTTP headers events keep (config
// http.headers; "*" keeps them all). Names match case-insensitively and
// are kept lower-cased. The zero value selects DefaultHTTPHeaders.
type HeaderSelection struct {
	set   bool // made by NewHeaderSelection (else: the defaults)
	all   bool
	names []string // lower case
	// folds: a name is not ASCII, so it may fold to a header name of
	// another length (the long s, ſ, to s); else names of another
	// length are passed over unread (phttp.NameIs)
	folds bool
}

// defaultSelection is the zero HeaderSelection's meaning.
var defaultSelection = NewHeaderSelection(nil)

// NewHeaderSelection selects names; nil selects DefaultHTTPHeaders, an
// empty non-nil list none.
func NewHeaderSelection(names []string) HeaderSelection {
	if names == nil {
		names = DefaultHTTPHeaders
	}
	s := HeaderSelection{set: true}
	for _, n := range names {
		if n == "*" {
			s.all = true
			continue
		}
		n = strings.ToLower(strings.TrimSpace(n))
		s.names = append(s.names, n)
		s.folds = s.folds || utf8.RuneCountInString(n) != len(n)
	}
	return s
}

// name returns the kept (lower-case) name of header n, or "".
func (s *HeaderSelection) name(n string) string {
	for _, k := range s.names {
		if phttp.NameIs(n, k) || s.folds && strings.EqualFold(k, n) {
			return k // the selection's string: no allocation
		}
	}
	if s.all {
		return strings.ToLower(n)
	}
	return ""
}

// pick appends the selected headers of hs to buf and counts the others.
// Credentials are never kept: Authorization keeps its scheme, cookies
// read "<redacted>".
func (s *HeaderSelection) pick(buf []schemas.HTTPHeader, hs []phttp.Header) ([]schemas.HTTPHeader, int) {
	dropped := 0
	for _, h := range hs {
		name := s.name(h.Name)
		if name == "" || len(buf) >= maxKeptHeaders {
			dropped++
			continue
		}
		v := h.Value
		if secretHeaders[name] {
			scheme, _, _ := strings.Cut(v, " ")
			if name == "cookie" || name == "set-cookie" || scheme == v {
				scheme = ""
			}
			v = strings.TrimSpace(scheme + " <redacted>")
		}
		if len(v) > maxHeaderValueLen {
			v = strings.ToValidUTF8(v[:maxHeaderValueLen], "")
		}
		buf = append(buf, schemas.HTTPHeader{Name: name, Value: v})
	}
	return buf, dropped
}

// httpHeaders fills the kept headers of both directions into ev, from
// the analyzer's scratch (the event is encoded before the next one).
func (a *Analyzer) httpHeaders(ev *schemas.Event, req *phttp.Request, resp *phttp.Response) {
	sel := &a.cfg.HTTPHeaders
	if !sel.set {
		sel = &defaultSelection
	}
	buf, nreq := sel.pick(a.hdrs[:0], req.Headers)
	reqN := len(buf)
	buf, nresp := sel.pick(buf, resp.Headers)
	a.hdrs = buf
	hi := &ev.Sensor.HTTP
	if reqN > 0 {
		hi.RequestHeaders = buf[:reqN:reqN]
	}
	if len(buf) > reqN {
		hi.ResponseHeaders = buf[reqN:]
	}
	hi.HeadersDropped = nreq + nresp
}

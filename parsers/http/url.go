package http

import (
	"strconv"
	"strings"
)

// URL holds the ECS url.* parts of a request target.
type URL struct {
	Original string // the request-target as sent (url.original)
	Scheme   string // lower case; "" for authority-form (CONNECT)
	Domain   string // host name or address; IPv6 literals keep their brackets ("[::1]"), as ECS asks
	Port     int    // explicit port, else the connection's port (origin-form), else the scheme default; 0 if unknown
	Path     string
	Query    string // without "?"
	Fragment string // without "#"
}

// SplitURL splits a request-target into ECS url parts. uri is Request.URI
// (origin-form "/p?q", absolute-form "http://h:8080/p" used with proxies,
// authority-form "h:443" of CONNECT, or "*"); host is the Host header, used
// when uri carries no authority; defaultScheme ("http") applies to
// origin-form; dstPort is the server port of the connection (0 if unknown).
// It never fails: odd input gives odd but bounded parts, and it does not
// allocate (Full does).
func SplitURL(uri, host, defaultScheme string, dstPort uint16) URL {
	u := URL{Original: uri}
	rest := uri
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		u.Fragment, rest = rest[i+1:], rest[:i]
	}
	authority := host
	origin := true
	if i := strings.Index(rest, "://"); i > 0 && validScheme(rest[:i]) {
		u.Scheme = strings.ToLower(rest[:i])
		rest = rest[i+3:]
		j := strings.IndexAny(rest, "/?")
		if j < 0 {
			j = len(rest)
		}
		authority, rest = rest[:j], rest[j:]
		origin = false
	} else if rest != "" && rest[0] != '/' && rest != "*" {
		// authority-form (CONNECT host:port)
		authority, rest = rest, ""
		origin = false
	} else {
		u.Scheme = strings.ToLower(defaultScheme)
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:] // never keep userinfo
	}
	var explicit bool
	u.Domain, u.Port, explicit = splitHostPort(authority)
	if !explicit {
		switch {
		case origin && dstPort != 0:
			u.Port = int(dstPort)
		default:
			u.Port = defaultPort(u.Scheme)
		}
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		u.Path, u.Query = rest[:i], rest[i+1:]
	} else {
		u.Path = rest
	}
	return u
}

// Full is url.full: scheme://domain[:port]path[?query][#fragment]
// rebuilt, "" without a domain.
func (u *URL) Full() string {
	if u.Domain == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(u.Scheme) + len(u.Domain) + len(u.Path) + len(u.Query) + len(u.Fragment) + 16)
	if u.Scheme != "" {
		b.WriteString(u.Scheme)
		b.WriteString("://")
	}
	b.WriteString(u.Domain)
	if u.Port != 0 && (u.Scheme == "" || u.Port != defaultPort(u.Scheme)) {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(u.Port))
	}
	b.WriteString(u.Path)
	if u.Query != "" {
		b.WriteByte('?')
		b.WriteString(u.Query)
	}
	if u.Fragment != "" {
		b.WriteByte('#')
		b.WriteString(u.Fragment)
	}
	return b.String()
}

func validScheme(s string) bool {
	if s == "" || len(s) > 32 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || digit(c) || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func defaultPort(scheme string) int {
	switch scheme {
	case "http", "ws":
		return 80
	case "https", "wss":
		return 443
	case "ftp":
		return 21
	}
	return 0
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port". A bare
// IPv6 address without brackets is kept whole.
func splitHostPort(a string) (host string, port int, explicit bool) {
	a = trimOWS(a)
	var p string
	if strings.HasPrefix(a, "[") {
		i := strings.IndexByte(a, ']')
		if i < 0 {
			return a, 0, false
		}
		host = a[:i+1]
		if r := a[i+1:]; strings.HasPrefix(r, ":") {
			p = r[1:]
		}
	} else if i := strings.IndexByte(a, ':'); i >= 0 && strings.IndexByte(a[i+1:], ':') < 0 {
		host, p = a[:i], a[i+1:]
	} else {
		host = a
	}
	if p == "" || len(p) > 5 {
		return host, 0, false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if !digit(p[i]) {
			return host, 0, false
		}
		n = n*10 + int(p[i]-'0')
	}
	if n == 0 || n > 65535 {
		return host, 0, false
	}
	return host, n, true
}

package ftp

import (
	"net/netip"
	"strconv"
	"strings"
)

// parsePort reads PORT's "h1,h2,h3,h4,p1,p2" (RFC 959).
func parsePort(s string) netip.AddrPort {
	var n [6]int
	f := strings.Split(strings.TrimSpace(s), ",")
	if len(f) != 6 {
		return netip.AddrPort{}
	}
	for i, x := range f {
		v, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil || v < 0 || v > 255 {
			return netip.AddrPort{}
		}
		n[i] = v
	}
	ip := netip.AddrFrom4([4]byte{byte(n[0]), byte(n[1]), byte(n[2]), byte(n[3])})
	return netip.AddrPortFrom(ip, uint16(n[4]<<8|n[5]))
}

// parsePASV finds the six numbers of a 227 reply, "Entering Passive Mode
// (h1,h2,h3,h4,p1,p2)"; servers vary the words and the parentheses.
func parsePASV(text string) netip.AddrPort {
	start := strings.IndexAny(text, "0123456789")
	if i := strings.IndexByte(text, '('); i >= 0 {
		start = i + 1
	}
	if start < 0 {
		return netip.AddrPort{}
	}
	s := text[start:]
	end := strings.IndexFunc(s, func(r rune) bool { return r != ',' && r != ' ' && (r < '0' || r > '9') })
	if end >= 0 {
		s = s[:end]
	}
	return parsePort(s)
}

// parseEPRT reads "|proto|address|port|" (RFC 2428); the delimiter is
// the first character.
func parseEPRT(s string) netip.AddrPort {
	if len(s) < 7 {
		return netip.AddrPort{}
	}
	f := strings.Split(s[1:], s[:1])
	if len(f) < 3 {
		return netip.AddrPort{}
	}
	ip, err := netip.ParseAddr(f[1])
	port, perr := strconv.ParseUint(f[2], 10, 16)
	if err != nil || perr != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ip, uint16(port))
}

// parseEPSV reads the port of "Entering Extended Passive Mode (|||port|)";
// the address is the server's (the zero Addr).
func parseEPSV(text string) netip.AddrPort {
	i := strings.IndexByte(text, '(')
	j := strings.LastIndexByte(text, ')')
	if i < 0 || j < i+5 {
		return netip.AddrPort{}
	}
	s := text[i+1 : j]
	f := strings.Split(s[1:], s[:1])
	if len(f) < 4 {
		return netip.AddrPort{}
	}
	port, err := strconv.ParseUint(f[2], 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(netip.Addr{}, uint16(port))
}

// bytesIn finds "(N bytes" in a reply ("Opening BINARY mode data
// connection for f (39 bytes).").
func bytesIn(text string) (int64, bool) {
	i := strings.Index(text, " bytes")
	if i < 0 {
		return 0, false
	}
	j := strings.LastIndexByte(text[:i], '(')
	if j < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(text[j+1:i], 10, 64)
	return n, err == nil && n >= 0
}

// quoted is the path of a 257 reply: between the first two quotes, with
// doubled quotes undone (RFC 959 appendix II).
func quoted(text string) string {
	i := strings.IndexByte(text, '"')
	if i < 0 {
		return ""
	}
	var b strings.Builder
	s := text[i+1:]
	for k := 0; k < len(s); k++ {
		if s[k] == '"' {
			if k+1 < len(s) && s[k+1] == '"' {
				b.WriteByte('"')
				k++
				continue
			}
			break
		}
		b.WriteByte(s[k])
	}
	return clip(b.String())
}

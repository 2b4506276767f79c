package web

import (
	"net"
	"net/netip"
	"strings"
)

// hostAllowed says whether a request's Host header names this server: a
// page whose domain an attacker re-points at the sensor (DNS rebinding)
// sends its own domain as Host, and must not reach the API. Allowed are
// "localhost", the configured Hostnames, and IP literals: the listen
// address or a loopback address (any address when listening on all
// interfaces, or before Serve knows the address). The port is not checked.
func (s *Server) hostAllowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), ".")
	if host == "" {
		return false
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		listen, _ := s.listenIP.Load().(netip.Addr)
		ip = ip.Unmap()
		return !listen.IsValid() || listen.IsUnspecified() || ip.IsLoopback() || ip == listen
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	for _, n := range s.cfg.Hostnames {
		if strings.EqualFold(host, strings.TrimSuffix(n, ".")) {
			return true
		}
	}
	return false
}

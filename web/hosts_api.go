package web

import (
	"net/http"

	"github.com/packetsleuth/packetsleuth/store"
)

// HostInfo is a DHCP lease as GET /api/v1/hosts lists it.
type HostInfo struct {
	store.Host
	Active bool `json:"active"` // the lease is live now (or at the at= time)
}

// handleHosts lists the IP → MAC → host name leases the sensors learnt
// from DHCP, newest first. Parameters: sensor, q (a part of the address,
// MAC or name), at (only the leases live then; active=true: now), limit.
func (s *Server) handleHosts(w http.ResponseWriter, r *http.Request) {
	if !s.needStore(w) {
		return
	}
	p := s.params(r)
	q := store.HostQuery{Sensor: p.str("sensor"), Match: p.str("q"), LiveAt: p.time("at"), Limit: p.int("limit", 1000, 1, 10000)}
	if p.bool("active") && q.LiveAt.IsZero() {
		q.LiveAt = p.now
	}
	if p.err != nil {
		s.fail(w, r, p.err)
		return
	}
	list, err := s.cfg.Store.Hosts(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	at := q.LiveAt
	if at.IsZero() {
		at = p.now
	}
	out := make([]HostInfo, 0, len(list))
	for _, h := range list {
		live := !at.Before(h.LeaseStart) && (h.LeaseEnd.IsZero() || at.Before(h.LeaseEnd))
		out = append(out, HostInfo{Host: h, Active: live})
	}
	writeJSON(w, http.StatusOK, map[string]any{"hosts": out})
}

package web

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/packetsleuth/packetsleuth/store"
)

// audit records an action in the store's audit trail (logged too, so a
// server without a store keeps a trace). A failure to write is logged and
// does not fail the request.
func (s *Server) audit(r *http.Request, action string, id identity, target string) {
	client, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		client = r.RemoteAddr
	}
	s.cfg.Log.Info("web: audit", "action", action, "user", logSafe(id.user), "role", id.role, "remote", client, "target", target)
	if s.cfg.Store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	e := store.AuditEntry{Time: s.cfg.Now(), Action: action, User: id.user, Role: id.role, Client: client, Target: target}
	if err := s.cfg.Store.AddAudit(ctx, e); err != nil {
		s.cfg.Log.Error("web: audit not stored", "action", action, "err", err)
	}
}

// AuditPage is the answer of GET /api/v1/audit: entries newest first, and
// the cursor of the next (older) page ("" at the end).
type AuditPage struct {
	Items []store.AuditEntry `json:"items"`
	Next  string             `json:"next"`
}

// handleAudit lists the audit trail (analysts only).
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	if s.who(r).role != RoleAnalyst {
		writeError(w, http.StatusForbidden, "the audit trail is for analysts")
		return
	}
	if !s.needStore(w) {
		return
	}
	q := r.URL.Query()
	limit, before := DefaultPage, int64(0)
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPage {
			writeError(w, http.StatusBadRequest, "limit: want 1.."+strconv.Itoa(MaxPage))
			return
		}
		limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "cursor: want the next value of the previous page")
			return
		}
		before = n
	}
	items, err := s.cfg.Store.Audit(r.Context(), limit+1, before)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := AuditPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.Next = strconv.FormatInt(items[limit-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, page)
}

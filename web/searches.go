package web

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/packetsleuth/packetsleuth/store"
)

// savedView is a UI view a search may name (a hash route without '#/').
var savedView = regexp.MustCompile(`^[a-z]+(/[a-z0-9._-]+)?$`)

// handleSearches lists the caller's saved searches.
func (s *Server) handleSearches(w http.ResponseWriter, r *http.Request) {
	if !s.needStore(w) {
		return
	}
	list, err := s.cfg.Store.SavedSearches(r.Context(), s.who(r).user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

// handleSaveSearch keeps a search for the caller (a name already kept is
// replaced).
func (s *Server) handleSaveSearch(w http.ResponseWriter, r *http.Request) {
	if !s.needStore(w) {
		return
	}
	var ss store.SavedSearch
	if err := decodeBody(r, &ss); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !savedView.MatchString(ss.View) {
		writeError(w, http.StatusBadRequest, "view: want a view of the UI, e.g. events/dns or flows")
		return
	}
	saved, err := s.cfg.Store.SaveSearch(r.Context(), s.who(r).user, ss)
	switch {
	case errors.Is(err, store.ErrTooMany):
		writeError(w, http.StatusConflict, "too many saved searches; delete some first")
	case errors.Is(err, store.ErrBadSearch):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		s.fail(w, r, err)
	default:
		writeJSON(w, http.StatusOK, saved)
	}
}

// handleDeleteSearch removes one of the caller's saved searches.
func (s *Server) handleDeleteSearch(w http.ResponseWriter, r *http.Request) {
	if !s.needStore(w) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "id: want a number")
		return
	}
	if err := s.cfg.Store.DeleteSearch(r.Context(), s.who(r).user, id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SavedSearch is a search a web user kept: a view of the UI and its query.
type SavedSearch struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	View    string    `json:"view"`  // e.g. events/dns, flows, alerts
	Query   string    `json:"query"` // the view's query string, e.g. where=...
	Created time.Time `json:"created"`
}

// Bounds of what a user may keep.
const (
	MaxSavedSearches  = 200
	maxSavedName      = 100
	maxSavedQuery     = 4096
	maxSavedViewBytes = 64
)

// ErrTooMany is returned when a user already keeps MaxSavedSearches, and
// ErrBadSearch (wrapped) for a search out of bounds.
var (
	ErrTooMany   = errors.New("store: too many saved searches")
	ErrBadSearch = errors.New("saved search out of bounds")
)

// SaveSearch keeps ss for user, replacing the user's search of the same
// name, and returns it with its id.
func (s *Store) SaveSearch(ctx context.Context, user string, ss SavedSearch) (SavedSearch, error) {
	if ss.Name == "" || len(ss.Name) > maxSavedName || ss.View == "" || len(ss.View) > maxSavedViewBytes || len(ss.Query) > maxSavedQuery {
		return ss, fmt.Errorf("%w: name (1..%d bytes), view (1..%d) and query (at most %d)", ErrBadSearch, maxSavedName, maxSavedViewBytes, maxSavedQuery)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, s.rebind("SELECT COUNT(*) FROM saved_searches WHERE user_name = ? AND name <> ?"), user, ss.Name).Scan(&n); err != nil {
		return ss, fmt.Errorf("store: saved search: %w", err)
	}
	if n >= MaxSavedSearches {
		return ss, ErrTooMany
	}
	ss.Created = time.Now().UTC()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ss, fmt.Errorf("store: saved search: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.rebind("DELETE FROM saved_searches WHERE user_name = ? AND name = ?"), user, ss.Name); err != nil {
		return ss, fmt.Errorf("store: saved search: %w", err)
	}
	const insert = "INSERT INTO saved_searches (user_name, name, view, query, created) VALUES (?, ?, ?, ?, ?)"
	args := []any{user, ss.Name, ss.View, ss.Query, ss.Created.UnixNano()}
	if s.driver == Postgres { // no LastInsertId
		err = tx.QueryRowContext(ctx, s.rebind(insert+" RETURNING id"), args...).Scan(&ss.ID)
	} else {
		var res sql.Result
		if res, err = tx.ExecContext(ctx, s.rebind(insert), args...); err == nil {
			ss.ID, err = res.LastInsertId()
		}
	}
	if err != nil {
		return ss, fmt.Errorf("store: saved search: %w", err)
	}
	return ss, tx.Commit()
}

// SavedSearches lists user's searches by name.
func (s *Store) SavedSearches(ctx context.Context, user string) ([]SavedSearch, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind("SELECT id, name, view, query, created FROM saved_searches WHERE user_name = ? ORDER BY name"), user)
	if err != nil {
		return nil, fmt.Errorf("store: saved searches: %w", err)
	}
	defer rows.Close()
	out := []SavedSearch{}
	for rows.Next() {
		var ss SavedSearch
		var created int64
		if err := rows.Scan(&ss.ID, &ss.Name, &ss.View, &ss.Query, &created); err != nil {
			return nil, fmt.Errorf("store: saved searches: %w", err)
		}
		ss.Created = time.Unix(0, created).UTC()
		out = append(out, ss)
	}
	return out, rows.Err()
}

// DeleteSearch removes user's search id; another user's is ErrNotFound.
func (s *Store) DeleteSearch(ctx context.Context, user string, id int64) error {
	res, err := s.db.ExecContext(ctx, s.rebind("DELETE FROM saved_searches WHERE user_name = ? AND id = ?"), user, id)
	if err != nil {
		return fmt.Errorf("store: saved search: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

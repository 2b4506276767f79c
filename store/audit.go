package store

import (
	"context"
	"fmt"
	"time"
)

// AuditEntry is one line of the audit trail (web logins and alert
// acknowledgements).
type AuditEntry struct {
	ID     int64     `json:"id"`
	Time   time.Time `json:"time"`
	Action string    `json:"action"` // login, login_failed, logout, acknowledge, unacknowledge
	User   string    `json:"user"`
	Role   string    `json:"role,omitempty"`
	Client string    `json:"client"`
	Target string    `json:"target,omitempty"`
}

// maxAuditField caps each text column: a failed login's user name is
// whatever the client sent.
const maxAuditField = 256

func clip(s string) string {
	if len(s) > maxAuditField {
		return s[:maxAuditField]
	}
	return s
}

// AddAudit appends e (its ID is ignored; a zero Time is now).
func (s *Store) AddAudit(ctx context.Context, e AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	_, err := s.db.ExecContext(ctx, s.rebind("INSERT INTO audit (ts, action, user_name, role, client, target) VALUES (?, ?, ?, ?, ?, ?)"),
		e.Time.UnixNano(), clip(e.Action), clip(e.User), clip(e.Role), clip(e.Client), clip(e.Target))
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// Audit returns up to limit entries, newest first, older than the entry
// with id before (0: from the newest).
func (s *Store) Audit(ctx context.Context, limit int, before int64) ([]AuditEntry, error) {
	q := "SELECT id, ts, action, user_name, role, client, target FROM audit"
	args := []any{}
	if before > 0 {
		q += " WHERE id < ?"
		args = append(args, before)
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var ts int64
		if err := rows.Scan(&e.ID, &ts, &e.Action, &e.User, &e.Role, &e.Client, &e.Target); err != nil {
			return nil, fmt.Errorf("store: audit: %w", err)
		}
		e.Time = time.Unix(0, ts).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

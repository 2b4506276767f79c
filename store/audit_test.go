package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestAuditTrail(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		s := open(t, mk(t))
		long := strings.Repeat("x", 1000)
		for i, e := range []AuditEntry{
			{Action: "login_failed", User: "root\x1b[2J", Client: "192.0.2.1"},
			{Action: "login", User: "admin", Role: "analyst", Client: "192.0.2.1"},
			{Action: "acknowledge", User: "admin", Role: "analyst", Client: "192.0.2.1", Target: "alert 7"},
			{Action: "logout", User: long, Client: "192.0.2.1"},
		} {
			e.Time = t0.Add(time.Duration(i) * time.Second)
			if err := s.AddAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		page, err := s.Audit(ctx, 3, 0)
		if err != nil || len(page) != 3 {
			t.Fatalf("first page: %v %v", page, err)
		}
		if page[0].Action != "logout" || len(page[0].User) != maxAuditField || page[2].Action != "login" ||
			page[1].Target != "alert 7" || !page[2].Time.Equal(t0.Add(time.Second)) || page[2].Role != "analyst" {
			t.Errorf("first page: %+v", page)
		}
		rest, err := s.Audit(ctx, 3, page[2].ID)
		if err != nil || len(rest) != 1 || rest[0].User != "root\x1b[2J" || rest[0].Client != "192.0.2.1" {
			t.Errorf("second page: %+v %v", rest, err)
		}
		// Retention: a year by default; older entries go at the next prune.
		if st, err := s.Prune(ctx, t0.Add(365*24*time.Hour+2500*time.Millisecond)); err != nil || st["audit"] != 3 {
			t.Errorf("prune: %v %v, want 3 audit entries removed", st, err)
		}
		if left, _ := s.Audit(ctx, 10, 0); len(left) != 1 || left[0].Action != "logout" {
			t.Errorf("after the prune: %+v", left)
		}
	})
}

package store

import (
	"context"
	"errors"
	"testing"
)

// TestSavedSearchesPerUser: each user sees only their own searches; the
// same name replaces; another user's id cannot be deleted.
func TestSavedSearchesPerUser(t *testing.T) {
	forEach(t, func(t *testing.T, cfg func(testing.TB) Config) {
		s := open(t, cfg(t))
		ctx := context.Background()
		a, err := s.SaveSearch(ctx, "ana", SavedSearch{Name: "nx", View: "events/dns", Query: `where=dns.response_code == "NXDOMAIN"`})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveSearch(ctx, "ana", SavedSearch{Name: "nx", View: "events/dns", Query: "where=x"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveSearch(ctx, "bob", SavedSearch{Name: "mine", View: "flows", Query: "ip=10.0.0.1"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.SavedSearches(ctx, "ana")
		if err != nil || len(got) != 1 || got[0].Query != "where=x" {
			t.Fatalf("ana's searches: %+v %v", got, err)
		}
		bob, _ := s.SavedSearches(ctx, "bob")
		if err := s.DeleteSearch(ctx, "ana", bob[0].ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("ana deleted bob's search: %v", err)
		}
		if err := s.DeleteSearch(ctx, "ana", got[0].ID); err != nil || a.ID == 0 {
			t.Errorf("delete own: %v", err)
		}
		if _, err := s.SaveSearch(ctx, "ana", SavedSearch{Name: "", View: "flows"}); err == nil {
			t.Error("a search without a name was kept")
		}
	})
}

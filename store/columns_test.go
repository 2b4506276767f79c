package store

import (
	"context"
	"slices"
	"testing"
)

// Every column of the event tables is one the store writes, but the id
// and the alerts' acknowledged flag: a column only repeating the document
// would cost each row on the way in for nothing (migration 15 of
// PostgreSQL dropped nine of the flows').
func TestEventTablesHoldWrittenColumns(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		s := open(t, mk(t))
		for _, table := range eventTables {
			rows, err := s.DB().QueryContext(context.Background(), "SELECT * FROM "+table+" WHERE 1 = 0")
			if err != nil {
				t.Fatal(err)
			}
			cols, err := rows.Columns()
			rows.Close()
			if err != nil {
				t.Fatal(err)
			}
			want := append([]string{"id"}, rowColumns[table]...)
			if table == "alerts" {
				want = append(want, "acknowledged")
			}
			slices.Sort(cols)
			slices.Sort(want)
			if !slices.Equal(cols, want) {
				t.Errorf("%s: columns %v, want %v", table, cols, want)
			}
		}
	})
}

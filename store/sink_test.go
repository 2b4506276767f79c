package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Records that cannot be decoded are reported by their place in the batch
// (what the collector dead-letters) and the others are written.
func TestSinkWriteReportsEachBadRecord(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		k, err := NewSink(mk(t))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := k.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		defer k.Close(ctx)
		bad := schemas.Record{Dataset: schemas.DatasetFlow, Kind: "event", Time: t0, JSON: []byte(`{"source":{"port":"x"}}`)}
		var batch []schemas.Record
		for i, fl := range makeFlows(3) {
			if i > 0 {
				batch = append(batch, bad)
			}
			batch = append(batch, record(t, fl.event()))
		}
		err = k.Write(ctx, batch)
		var be *outputs.BatchError
		if !errors.As(err, &be) || !slices.Equal(be.Permanent, []int{1, 3}) || len(be.Failed) != 0 || len(be.Reasons) != 2 {
			t.Fatalf("Write: %v (%+v)", err, be)
		}
		for i, r := range be.Reasons {
			if want := []string{"record 1:", "record 3:"}[i]; !strings.Contains(r.Error(), want) {
				t.Errorf("reason %d: %q does not name %q", i, r, want)
			}
		}
		if k.Stats.Flows != 3 {
			t.Errorf("%d flows written, want the 3 good ones", k.Stats.Flows)
		}
	})
}

package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// The Windows datasets (SMB, Kerberos, DCE/RPC) are kept by default in
// the events table, listed by short or full name with the endpoint
// filters, and pruned by their own retention key without touching the
// others'. A dataset the store does not keep is refused by name.
func TestWindowsDatasets(t *testing.T) {
	forEach(t, func(t *testing.T, mk func(testing.TB) Config) {
		ctx := context.Background()
		cfg := mk(t)
		cfg.Retention = map[string]Duration{"smb": Duration(time.Hour)}
		s := open(t, cfg)
		var recs []schemas.Record
		for i, ds := range []string{schemas.DatasetSMB, schemas.DatasetKerberos, schemas.DatasetDCERPC} {
			for h := range 3 { // at t0, t0+1h, t0+2h
				ev := &schemas.Event{Timestamp: t0.Add(time.Duration(h) * time.Hour)}
				ev.ECS.Version = schemas.ECSVersion
				ev.Event = schemas.EventMeta{Kind: "event", Dataset: ds}
				ev.Network = schemas.Network{Transport: "tcp", Protocol: strings.TrimPrefix(ds, "packetsleuth."), CommunityID: "1:w" + ds}
				ev.Source = schemas.Endpoint{IP: "10.0.0.5", Port: 49000 + i}
				ev.Destination = schemas.Endpoint{IP: "10.0.0.1", Port: []int{445, 88, 135}[i]}
				ev.Sensor.SMB.Share = `\\dc1\ADMIN$`
				recs = append(recs, record(t, ev))
			}
		}
		insertAll(t, s, recs, 100)
		for _, name := range []string{"smb", schemas.DatasetKerberos, "dcerpc"} {
			page, err := s.List(ctx, ListQuery{Dataset: name, IP: "10.0.0.5"})
			if err != nil || len(page.Items) != 3 || page.Items[0].Dataset != datasetOf(name) {
				t.Fatalf("%s: %d items, %v", name, len(page.Items), err)
			}
		}
		page, err := s.List(ctx, ListQuery{Dataset: "smb", Port: 445})
		if err != nil || len(page.Items) != 3 || !strings.Contains(string(page.Items[0].JSON), `ADMIN$`) {
			t.Errorf("smb by port: %d items %v", len(page.Items), err)
		}
		if page, err := s.List(ctx, ListQuery{Dataset: "kerberos", Port: 445}); err != nil || len(page.Items) != 0 {
			t.Errorf("kerberos on port 445: %d items %v", len(page.Items), err)
		}
		st, err := s.Prune(ctx, t0.Add(90*time.Minute)) // the smb event at t0 is past its hour
		if err != nil || st["smb"] != 1 {
			t.Fatalf("prune: %v %v", st, err)
		}
		for ds, want := range map[string]int{"smb": 2, "kerberos": 3, "dcerpc": 3} {
			if page, err := s.List(ctx, ListQuery{Dataset: ds}); err != nil || len(page.Items) != want {
				t.Errorf("%s after prune: %d items (want %d) %v", ds, len(page.Items), want, err)
			}
		}
		if _, err := s.List(ctx, ListQuery{Dataset: "ssh"}); err == nil || !strings.Contains(err.Error(), "smb, kerberos, dcerpc") {
			t.Errorf("ssh: %v", err)
		}
	})
}

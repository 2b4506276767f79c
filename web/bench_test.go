package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

// BenchmarkConnections: one page of 10 000 live connections, filtered by
// a /16 and sorted by bytes (what the UI polls every 2 s).
func BenchmarkConnections(b *testing.B) {
	live := &fakeLive{}
	t0 := time.Now()
	for i := range 10_000 {
		live.flows = append(live.flows, pipeline.ActiveFlow{CommunityID: fmt.Sprint("1:", i), Transport: "tcp",
			SourceIP: fmt.Sprintf("10.%d.%d.%d", i%3, i/256%256, i%256), SourcePort: 1024 + i, DestinationIP: "192.0.2.1",
			DestinationPort: 443, First: t0, Last: t0.Add(time.Duration(i) * time.Millisecond), Bytes: int64(i * 37 % 10007), Packets: int64(i % 97)})
	}
	s, err := New(Config{Live: live, Auth: Auth{Token: outputs.Secret(testToken)}})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	req := httptest.NewRequest("GET", "/api/v1/connections?ip=10.1.0.0/16&sort=bytes&limit=100", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

// BenchmarkFlowsPage: the first page of 50 flows from a SQLite store of
// 20 000, through the whole handler (auth, query, JSON).
func BenchmarkFlowsPage(b *testing.B) {
	st := openStore(b)
	var recs []schemas.Record
	for i := range 20_000 {
		ev := schemas.Event{Timestamp: testBase.Add(timeStep(i))}
		ev.Event.Kind, ev.Event.Dataset = "event", schemas.DatasetFlow
		ev.Network.Transport, ev.Network.Bytes, ev.Network.Packets = "tcp", int64(i), 3
		ev.Source.IP, ev.Destination.IP, ev.Destination.Port = fmt.Sprintf("10.0.%d.%d", i/250%250, i%250), "192.0.2.1", 443
		rec, _ := schemas.NewRecord(&ev)
		recs = append(recs, rec)
	}
	if _, err := st.Insert(context.Background(), recs); err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{Store: st, Auth: Auth{Token: outputs.Secret(testToken)}})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	req := httptest.NewRequest("GET", "/api/v1/flows?limit=50", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

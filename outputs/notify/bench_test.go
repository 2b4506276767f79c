package notify

import (
	"context"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// A notifier sits on the same fan-out as the SIEM outputs and sees every
// event; ignoring non-alerts must cost nothing.
func BenchmarkWriteNonAlerts(b *testing.B) {
	w, err := NewWebhook(WebhookOptions{URL: "http://127.0.0.1:9/"}, Common{})
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]schemas.Record, 500)
	for i := range batch {
		batch[i] = flowRecord(b)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// Filing alerts into groups (group_window set): decode, route, group.
func BenchmarkWriteGrouped(b *testing.B) {
	w, err := NewWebhook(WebhookOptions{URL: "http://127.0.0.1:9/"}, Common{GroupWindow: time.Hour, MaxAlerts: 10})
	if err != nil {
		b.Fatal(err)
	}
	batch := []schemas.Record{alertRecord(b, "PS-NET-001", 73, "192.0.2.7", "attack.t1046")}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	w.dispatcher.mu.Lock()
	w.groups = map[string]*group{} // nothing to send at the end
	w.order = nil
	w.dispatcher.mu.Unlock()
}

func TestCloseTwiceAndReconnect(t *testing.T) {
	srv := newRecorder(t, status(200, "ok"))
	w, err := NewWebhook(WebhookOptions{URL: outputs.Secret(srv.URL)}, Common{GroupWindow: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w.Connect(ctx)
	w.Connect(ctx) // reconnect: one flusher
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

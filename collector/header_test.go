package collector

import (
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	kgo "github.com/segmentio/kafka-go"

	"github.com/packetsleuth/packetsleuth/store"
)

// headerSeeds are sensors' events and messages that are not.
func headerSeeds(t testing.TB) []string {
	seeds := []string{`{}`, `null`, `[]`, `{"not json`, `{"event":{}}`, `{"Event":{"kind":"x"}}`,
		`{"@timestamp":"2026-12-06T10:00:00.123Z","event":{"id":"a\"b","kind":"event","dataset":"x"}}`,
		`{"event":{"kind":"event","dataset":"é"},"@timestamp":null} `, `{"@timestamp":"soon"}`}
	for _, d := range flowEvents(t, "edge-a", 3) {
		seeds = append(seeds, string(d))
	}
	return seeds
}

// The header of every message is what encoding/json reads, errors alike.
func TestHeaderDecode(t *testing.T) {
	for _, doc := range headerSeeds(t) {
		checkHeader(t, []byte(doc))
	}
	var h header
	if err := h.decode(flowEvents(t, "edge-a", 1)[0]); err != nil || h.Event.Dataset != "packetsleuth.flow" || h.Event.ID == "" || h.Timestamp.IsZero() {
		t.Errorf("a flow event's header: %+v %v", h, err)
	}
}

func checkHeader(t *testing.T, doc []byte) {
	var got, want header
	err := got.decode(doc)
	werr := json.Unmarshal(doc, &want)
	if (err == nil) != (werr == nil) || err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: %+v (%v), encoding/json %+v (%v)", doc, got, err, want, werr)
	}
}

func FuzzHeaderDecode(f *testing.F) {
	for _, d := range headerSeeds(f) {
		f.Add([]byte(d))
	}
	f.Fuzz(checkHeader)
}

// With a store among the outputs, a message is decoded once, as the
// store's row: the records are those the header alone makes (routing,
// dead letters), and each carries its row to the store.
func TestParseDecodesOnce(t *testing.T) {
	var msgs []kgo.Message
	for i, doc := range headerSeeds(t) {
		msgs = append(msgs, kgo.Message{Value: []byte(doc), Key: []byte{byte(i)}, Time: time.Unix(int64(i), 0)})
	}
	msgs = append(msgs, kgo.Message{Value: []byte(`{"event":{"kind":"event","dataset":"packetsleuth.flow"},"source":{"port":"80"}}`)})
	header := &Collector{m: NewMetrics(nil), log: slog.New(slog.DiscardHandler)}
	once := &Collector{m: NewMetrics(nil), log: slog.New(slog.DiscardHandler)}
	hb, ob := &batch{msgs: msgs}, &batch{msgs: msgs, rows: &store.Decoder{}}
	header.parse(hb)
	once.parse(ob)
	want, got := hb.recs, ob.recs
	if len(got) != len(want) || len(want) < 4 {
		t.Fatalf("%d records, the header makes %d", len(got), len(want))
	}
	rows := 0
	for i := range got {
		g, w := got[i], want[i]
		if g.Row != nil {
			rows++
		}
		g.Row = nil
		if !reflect.DeepEqual(g, w) {
			t.Errorf("record %d:\n%+v\nheader %+v", i, g, w)
		}
	}
	if last := got[len(got)-1]; last.Row != nil || last.Dataset != "packetsleuth.flow" {
		t.Errorf("a record the store will reject has a row, or no route: %+v", last)
	}
	if rows != len(got)-1 {
		t.Errorf("%d of %d records carry their row", rows, len(got))
	}
	if a, b := testutil.ToFloat64(once.m.deadLettered), testutil.ToFloat64(header.m.deadLettered); a != b || a == 0 {
		t.Errorf("dead-lettered %v, the header %v", a, b)
	}
}

package collector

import (
	"encoding/json"
	"reflect"
	"testing"
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

package schemas

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEncodeOmitsUnsetGroups(t *testing.T) {
	ts := time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC)
	ev := Event{Timestamp: ts, ECS: ECS{Version: ECSVersion}}
	ev.Event.Kind = "event"
	ev.Event.Category = []string{"network"}
	ev.Event.Dataset = DatasetFlow
	ev.Source.IP = "192.0.2.1"
	ev.Source.Port = 1234
	rec, err := NewRecord(&ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.JSON, &m); err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"dns", "http", "tls", "rule", "threat", "destination", "packetsleuth", "url", "user_agent"} {
		if _, ok := m[absent]; ok {
			t.Errorf("%s present in %s", absent, rec.JSON)
		}
	}
	if got := m["@timestamp"]; got != "2026-11-26T10:00:00.123456789Z" {
		t.Errorf("@timestamp = %v", got)
	}
	if rec.Dataset != DatasetFlow || strings.Contains(string(rec.JSON), "\n") {
		t.Errorf("record %+v", rec)
	}
}

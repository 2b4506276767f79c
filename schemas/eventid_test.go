package schemas

import (
	"encoding/json"
	"testing"
)

func encodeWithID(t *testing.T, ev *Event) (Event, string) {
	t.Helper()
	pre := []byte("garbage before")
	b, err := Encode(pre, ev)
	if err != nil {
		t.Fatal(err)
	}
	b = AddEventID(b, len(pre))
	if string(b[:len(pre)]) != "garbage before" {
		t.Fatal("AddEventID changed bytes before start")
	}
	var got Event
	if err := json.Unmarshal(b[len(pre):], &got); err != nil {
		t.Fatalf("not JSON after AddEventID: %v: %s", err, b[len(pre):])
	}
	return got, string(b[len(pre):])
}

func TestAddEventID(t *testing.T) {
	ev := Event{}
	ev.Event.Kind, ev.Event.Dataset = "event", DatasetFlow
	ev.Network.CommunityID = "1:abc="
	ev.Source.IP, ev.Source.Port = "192.0.2.1", 1234
	ev.Observer.Hostname = "a"
	// a captured string that looks like the keys must not confuse it
	ev.Sensor.Notes = []string{`"event":{"observer":{}}`}
	a, doc := encodeWithID(t, &ev)
	if len(a.Event.ID) != 32 || a.Event.Kind != "event" || a.Sensor.Notes[0] != ev.Sensor.Notes[0] {
		t.Fatalf("event after AddEventID: %s", doc)
	}
	// another host or version: the same id
	ev.Observer.Hostname, ev.Observer.Version = "b", "9.9"
	if b, _ := encodeWithID(t, &ev); b.Event.ID != a.Event.ID {
		t.Errorf("the id depends on the observer: %s vs %s", b.Event.ID, a.Event.ID)
	}
	// no observer at all (as without hostname): the same id
	ev.Observer = Observer{}
	if b, doc := encodeWithID(t, &ev); b.Event.ID != a.Event.ID {
		t.Errorf("the id depends on whether there is an observer: %s", doc)
	}
	if got := EventIDOf([]byte(doc)); string(got) != a.Event.ID {
		t.Errorf("EventIDOf = %q, want %q", got, a.Event.ID)
	}
	if got := EventIDOf([]byte(`{"dns":{"id":"x"},"event":{"kind":"event"}}`)); got != nil {
		t.Errorf("EventIDOf without an event.id = %q", got)
	}
	// any other difference: another id
	ev.Source.Port = 1235
	if c, _ := encodeWithID(t, &ev); c.Event.ID == a.Event.ID {
		t.Error("two different events share an id")
	}
}

func BenchmarkAddEventID(b *testing.B) {
	ev := Event{}
	ev.Event.Kind, ev.Event.Dataset = "event", DatasetFlow
	ev.Network.CommunityID = "1:e0H8FXGKa3iNVFPGza+GE3x1Op8="
	ev.Source.IP, ev.Source.Port = "10.1.0.10", 49152
	ev.Destination.IP, ev.Destination.Port = "192.0.2.80", 80
	ev.Observer.Hostname, ev.Observer.Product = "sensor", "PacketSleuth"
	doc, _ := Encode(nil, &ev)
	buf := make([]byte, 0, len(doc)+64)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		buf = AddEventID(append(buf[:0], doc...), 0)
	}
}

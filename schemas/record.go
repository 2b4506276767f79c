package schemas

import (
	"encoding/json"
	"time"
)

// Record is one encoded event on its way to the outputs. The JSON is
// encoded once, by the worker that made the event, and shared by every sink.
type Record struct {
	Dataset string    // event.dataset
	Kind    string    // event.kind ("event", "alert")
	Key     string    // partition key: network.community_id (may be empty)
	Time    time.Time // @timestamp
	JSON    []byte    // one ECS document, no trailing newline
}

// Encode appends ev as one line of JSON (without the newline) to buf.
func Encode(buf []byte, ev *Event) ([]byte, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return buf, err
	}
	return append(buf, b...), nil
}

// NewRecord encodes ev into a Record.
func NewRecord(ev *Event) (Record, error) {
	b, err := Encode(nil, ev)
	if err != nil {
		return Record{}, err
	}
	return Record{Dataset: ev.Event.Dataset, Kind: ev.Event.Kind, Key: ev.Network.CommunityID, Time: ev.Timestamp, JSON: b}, nil
}

// Decode reads one encoded event back.
func Decode(b []byte, ev *Event) error { return json.Unmarshal(b, ev) }

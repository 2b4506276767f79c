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

	// Of alerts, for routing (outputs.Route): event.severity and rule.id.
	Severity int
	Rule     string

	// Row is the history store's decoding of JSON when a collector made it
	// while routing the record (store.Decoder), so the store does not
	// decode it again; nil otherwise.
	Row any
}

// Encode appends ev as one line of JSON (without the newline) to buf and
// returns the extended buffer. The bytes are exactly those of
// encoding/json.Marshal(ev) (see encode.go), produced without reflection
// and without allocating when buf has room. On error (a NaN or infinite
// float, a time outside RFC 3339) it returns buf unchanged in length and an
// *EncodeError; the bytes past len(buf) may have been written to.
func Encode(buf []byte, ev *Event) ([]byte, error) {
	e := encoder{b: buf}
	return e.encode(ev)
}

// encode appends ev to e.b, as Encode does.
func (e *encoder) encode(ev *Event) ([]byte, error) {
	buf := e.b
	e.appendEvent(ev)
	if e.err != nil {
		return buf, e.err
	}
	return e.b, nil
}

// NewRecord encodes ev into a Record.
func NewRecord(ev *Event) (Record, error) {
	b, err := EncodeWithID(nil, ev)
	if err != nil {
		return Record{}, err
	}
	return RecordOf(ev, b), nil
}

// RecordOf is the record of ev whose encoding is b.
func RecordOf(ev *Event, b []byte) Record {
	return Record{Dataset: ev.Event.Dataset, Kind: ev.Event.Kind, Key: ev.Network.CommunityID, Time: ev.Timestamp, JSON: b,
		Severity: ev.Event.Severity, Rule: ev.Rule.ID}
}

// Decode reads one encoded event back.
func Decode(b []byte, ev *Event) error { return json.Unmarshal(b, ev) }

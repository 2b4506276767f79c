package store

import "github.com/packetsleuth/packetsleuth/schemas"

// Decoder lets a collector read each message once: it decodes the store's
// row of a document, which holds the fields the collector routes by, and
// the record carries that row to the store's Write (Record.Row), which
// then does not decode the document again (reading every message twice
// was a fifth of a collector's CPU).
type Decoder struct {
	rows []row
}

// Reset starts a batch: the rows of the previous batch are overwritten, so
// its records must no longer be written.
func (d *Decoder) Reset() { d.rows = d.rows[:0] }

// Decode fills rec's Dataset, Kind and Time from doc (what encoding/json
// reads there: event.dataset, event.kind, @timestamp) and keeps the row
// in rec.Row, and says true; it says false, leaving rec as it was, when the
// document does not decode as a row (not JSON, or a field the store reads
// of another type): the caller then reads what it needs itself, and the
// store's Write rejects that record as it would have.
func (d *Decoder) Decode(doc []byte, rec *schemas.Record) bool {
	d.rows = append(d.rows, row{}) // a new array leaves the rows handed out where they are
	r := &d.rows[len(d.rows)-1]
	if r.decodeJSON(doc) != nil {
		d.rows = d.rows[:len(d.rows)-1]
		return false
	}
	rec.Dataset, rec.Kind, rec.Time, rec.Row = r.Event.Dataset, r.Event.Kind, r.Timestamp, r
	return true
}

// decodedRow is rec's row: the one a Decoder kept (its time the record's,
// as decode sets it), or else rec decoded into r.
func decodedRow(rec *schemas.Record, i int, r *row) (*row, *RecordError) {
	if p, ok := rec.Row.(*row); ok {
		if !rec.Time.IsZero() {
			p.Timestamp = rec.Time
		}
		return p, nil
	}
	return r, r.decode(rec, i)
}

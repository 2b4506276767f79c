package outputs

import (
	"bufio"
	"encoding/json"
	"os"
	"sync"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// DeadLetter appends permanently rejected records to an NDJSON file, one
// line each: {"time":..., "output":..., "dataset":..., "reason":..., "event":{...}}.
// An event that is not JSON is kept as a string. Safe for concurrent use.
type DeadLetter struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	name string
	buf  []byte
}

// OpenDeadLetter opens (appending, creating 0600) the dead-letter file of
// the output called name.
func OpenDeadLetter(path, name string) (*DeadLetter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &DeadLetter{f: f, w: bufio.NewWriter(f), name: name}, nil
}

// Write appends rec with the reason it was rejected, flushed to the file.
func (d *DeadLetter) Write(rec schemas.Record, reason string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.buf[:0]
	b = append(b, `{"time":`...)
	b, _ = appendJSON(b, time.Now().UTC().Format(time.RFC3339Nano))
	b = append(b, `,"output":`...)
	b, _ = appendJSON(b, d.name)
	b = append(b, `,"dataset":`...)
	b, _ = appendJSON(b, rec.Dataset)
	b = append(b, `,"reason":`...)
	b, _ = appendJSON(b, reason)
	b = append(b, `,"event":`...)
	if json.Valid(rec.JSON) {
		b = append(b, rec.JSON...)
	} else {
		b, _ = appendJSON(b, string(rec.JSON))
	}
	b = append(b, "}\n"...)
	d.buf = b
	if _, err := d.w.Write(b); err != nil {
		return err
	}
	return d.w.Flush()
}

// Close flushes, syncs and closes the file.
func (d *DeadLetter) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	err := d.w.Flush()
	if e := d.f.Sync(); err == nil {
		err = e
	}
	if e := d.f.Close(); err == nil {
		err = e
	}
	return err
}

func appendJSON(b []byte, s string) ([]byte, error) {
	q, err := json.Marshal(s)
	return append(b, q...), err
}

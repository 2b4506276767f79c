package outputs

import (
	"bufio"
	"encoding/json"
	"os"
	"sync"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// deadLetter appends permanently rejected records to an NDJSON file, one
// line each: {"time":..., "output":..., "dataset":..., "reason":..., "event":{...}}.
type deadLetter struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	name string
	buf  []byte
}

func openDeadLetter(path, name string) (*deadLetter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &deadLetter{f: f, w: bufio.NewWriter(f), name: name}, nil
}

func (d *deadLetter) write(rec schemas.Record, reason string) error {
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

func (d *deadLetter) close() error {
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

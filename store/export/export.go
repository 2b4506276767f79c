// Package export turns ECS events into CSV, a JSON array or NDJSON, for
// `sensor export` (from the store or from an NDJSON file), and filters them
// with --where expressions.
//
// CSV columns are stable: first the fixed LeadingColumns (always present,
// in that order, even when empty), then every other dotted key found in
// the events, sorted. Nested objects become dotted keys (source.geo.
// country_iso_code); arrays are written as their JSON text
// (["10.0.0.1","192.0.2.1"]); null and absent fields are empty; numbers are
// written exactly as they were in the JSON. Building the column set needs
// every event, so CSV makes two passes over its source instead of holding
// the events in memory.
package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/packetsleuth/packetsleuth/internal/textsafe"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store"
)

// LeadingColumns start every CSV export, in this order.
var LeadingColumns = []string{
	"@timestamp", "event.dataset", "event.kind",
	"source.ip", "source.port", "destination.ip", "destination.port",
	"network.transport", "network.protocol", "network.community_id",
}

// Source walks events: it calls fn once per encoded ECS document, and may
// be called more than once (each call walks from the start).
type Source func(fn func(doc []byte) error) error

// MaxLine caps one NDJSON line.
const MaxLine = 16 << 20

// NDJSONFile is a Source reading one event per line of a file; blank lines
// are skipped. An error names the line.
func NDJSONFile(path string) Source {
	return func(fn func([]byte) error) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return NDJSON(f)(fn)
	}
}

// NDJSON is a single-pass Source over r (read it once: for CSV, buffer it
// or use NDJSONFile).
func NDJSON(r io.Reader) Source {
	return func(fn func([]byte) error) error {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), MaxLine)
		line := 0
		for sc.Scan() {
			line++
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 {
				continue
			}
			if !json.Valid(b) {
				return fmt.Errorf("line %d: not a JSON document", line)
			}
			if err := fn(b); err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("line %d: %w", line+1, err)
		}
		return nil
	}
}

// Filter is a compiled --where expression: the rules' language over
// schemas.Event with ECS dotted names (source.ip == "10.0.0.1" and
// destination.port in [80, 443]), their helpers (in_list, cidr_match, …)
// and the shipped lists and macros. It can only read the event.
type Filter struct {
	f *rules.Filter
}

// CompileFilter compiles a boolean expression; unknown fields and
// functions are errors with their column and a did-you-mean.
func CompileFilter(src string) (*Filter, error) {
	f, err := rules.CompileFilter(nil, src)
	if err != nil {
		return nil, fmt.Errorf("--where: %w", err)
	}
	return &Filter{f: f}, nil
}

// Match decodes doc and runs the expression on it.
func (f *Filter) Match(doc []byte) (bool, error) {
	var ev schemas.Event
	if err := schemas.Decode(doc, &ev); err != nil {
		return false, err
	}
	return f.f.Match(&ev)
}

// Where returns src without the events f rejects (f nil: src itself).
func Where(src Source, f *Filter) Source {
	if f == nil {
		return src
	}
	return func(fn func([]byte) error) error {
		return src(func(doc []byte) error {
			ok, err := f.Match(doc)
			if err != nil || !ok {
				return err
			}
			return fn(doc)
		})
	}
}

// Flatten turns one JSON object into dotted keys and cell text (see the
// package doc). It calls set once per leaf.
func Flatten(doc []byte, set func(key, value string)) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return err
	}
	if m == nil {
		return errors.New("not a JSON object")
	}
	return flatten("", m, set)
}

func flatten(prefix string, m map[string]any, set func(string, string)) error {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch v := v.(type) {
		case map[string]any:
			if err := flatten(key, v, set); err != nil {
				return err
			}
		case nil:
			set(key, "")
		case string:
			set(key, v)
		case json.Number:
			set(key, v.String())
		case bool:
			set(key, strconv.FormatBool(v))
		default: // arrays
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			set(key, string(b))
		}
	}
	return nil
}

// Columns returns the CSV columns of the events src walks: LeadingColumns,
// then the other keys sorted.
func Columns(src Source) ([]string, error) {
	seen := map[string]bool{}
	for _, c := range LeadingColumns {
		seen[c] = true
	}
	var rest []string
	err := src(func(doc []byte) error {
		return Flatten(doc, func(k, _ string) {
			if !seen[k] {
				seen[k] = true
				rest = append(rest, k)
			}
		})
	})
	slices.Sort(rest)
	return append(slices.Clone(LeadingColumns), rest...), err
}

// WriteCSV writes a header and one row per event (two passes over src).
// It returns the number of rows. Cells are made safe for spreadsheets and
// terminals (textsafe.CSVCell): control characters are escaped, and a
// cell that would start a formula gets a ' in front.
func WriteCSV(w io.Writer, src Source) (int, error) {
	return writeCSV(w, src, textsafe.CSVCells)
}

// WriteRawCSV is WriteCSV with every cell exactly as in the event.
func WriteRawCSV(w io.Writer, src Source) (int, error) {
	return writeCSV(w, src, func(rec []string) []string { return rec })
}

func writeCSV(w io.Writer, src Source, cells func([]string) []string) (int, error) {
	cols, err := Columns(src)
	if err != nil {
		return 0, err
	}
	idx := make(map[string]int, len(cols))
	for i, c := range cols {
		idx[c] = i
	}
	cw := csv.NewWriter(w)
	// The leading columns are ours ("@timestamp" must stay as it is); the
	// other names come from the events.
	header := slices.Clone(cols)
	cells(header[len(LeadingColumns):])
	if err := cw.Write(header); err != nil {
		return 0, err
	}
	rec := make([]string, len(cols))
	n := 0
	err = src(func(doc []byte) error {
		clear(rec)
		var missing error
		if err := Flatten(doc, func(k, v string) {
			i, ok := idx[k]
			if !ok {
				missing = fmt.Errorf("field %s was not there on the first pass", k)
				return
			}
			rec[i] = v
		}); err != nil {
			return err
		}
		if missing != nil {
			return missing
		}
		n++
		return cw.Write(cells(rec))
	})
	cw.Flush()
	return n, errors.Join(err, cw.Error())
}

// WriteNDJSON writes one event per line, as stored.
func WriteNDJSON(w io.Writer, src Source) (int, error) {
	bw := bufio.NewWriter(w)
	n := 0
	err := src(func(doc []byte) error {
		n++
		bw.Write(doc)
		return bw.WriteByte('\n')
	})
	return n, errors.Join(err, bw.Flush())
}

// WriteJSON writes a JSON array of the events, one per line.
func WriteJSON(w io.Writer, src Source) (int, error) {
	bw := bufio.NewWriter(w)
	n := 0
	bw.WriteString("[")
	err := src(func(doc []byte) error {
		if n > 0 {
			bw.WriteString(",")
		}
		n++
		bw.WriteString("\n")
		_, err := bw.Write(doc)
		return err
	})
	if n > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	return n, errors.Join(err, bw.Flush())
}

// Write writes src in format csv, json or ndjson (raw: CSV cells as they
// are, see WriteRawCSV).
func Write(w io.Writer, format string, src Source, raw bool) (int, error) {
	switch format {
	case "csv":
		if raw {
			return WriteRawCSV(w, src)
		}
		return WriteCSV(w, src)
	case "json":
		return WriteJSON(w, src)
	case "ndjson":
		return WriteNDJSON(w, src)
	}
	return 0, fmt.Errorf("unknown format %q (known: csv, json, ndjson)", format)
}

// Store is a Source over the events q selects in st, walked page by page
// (q.Limit is the page size). Each call runs the query again.
func Store(ctx context.Context, st *store.Store, q store.ListQuery) Source {
	return func(fn func([]byte) error) error {
		return st.Each(ctx, q, func(it store.Item) error { return fn(it.JSON) })
	}
}

// Package hunt runs detection rules over recorded history (retro-hunt):
// events from the store or NDJSON files, merged and put in event-time
// order, through one Evaluator, as a replay would have seen them — so a
// rule written today finds last month's attack, thresholds included.
package hunt

import (
	"bytes"
	"container/heap"
	"fmt"
	"iter"
	"time"

	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Doc is one encoded event and its @timestamp.
type Doc struct {
	Time time.Time
	JSON []byte
}

// Stream yields documents, usually in time order; an error ends it.
type Stream = iter.Seq2[Doc, error]

// DocOf reads the @timestamp of an encoded event. The sensor writes it
// first; other documents are decoded in full.
func DocOf(b []byte) (Doc, error) {
	const prefix = `{"@timestamp":"`
	if bytes.HasPrefix(b, []byte(prefix)) {
		if end := bytes.IndexByte(b[len(prefix):], '"'); end > 0 {
			if t, err := time.Parse(time.RFC3339Nano, string(b[len(prefix):len(prefix)+end])); err == nil {
				return Doc{Time: t, JSON: b}, nil
			}
		}
	}
	var ev schemas.Event
	if err := schemas.Decode(b, &ev); err != nil {
		return Doc{}, err
	}
	return Doc{Time: ev.Timestamp, JSON: b}, nil
}

// Merge interleaves streams that are each in time order into one in time
// order (ties keep stream order).
func Merge(streams ...Stream) Stream {
	return func(yield func(Doc, error) bool) {
		type head struct {
			doc  Doc
			next func() (Doc, error, bool)
			stop func()
		}
		var heads []*head
		defer func() {
			for _, h := range heads {
				h.stop()
			}
		}()
		for _, s := range streams {
			next, stop := iter.Pull2(s)
			heads = append(heads, &head{next: next, stop: stop})
		}
		live := heads[:0:0]
		for _, h := range heads {
			d, err, ok := h.next()
			if err != nil {
				yield(Doc{}, err)
				return
			}
			if ok {
				h.doc = d
				live = append(live, h)
			}
		}
		for len(live) > 0 {
			min := 0
			for i, h := range live {
				if h.doc.Time.Before(live[min].doc.Time) {
					min = i
				}
			}
			h := live[min]
			if !yield(h.doc, nil) {
				return
			}
			d, err, ok := h.next()
			switch {
			case err != nil:
				yield(Doc{}, err)
				return
			case ok:
				h.doc = d
			default:
				live = append(live[:min], live[min+1:]...)
			}
		}
	}
}

// Reorder puts a stream that is only roughly in time order (NDJSON of
// several workers) in order, holding at most window documents and
// maxBytes of them. A document older than one already passed on stays
// late: the rules count it as such.
func Reorder(s Stream, window int, maxBytes int64) Stream {
	return func(yield func(Doc, error) bool) {
		h := &docHeap{}
		var held int64
		for d, err := range s {
			if err != nil {
				yield(Doc{}, err)
				return
			}
			heap.Push(h, docAt{d, h.seq})
			h.seq++
			held += int64(len(d.JSON))
			for h.Len() > window || held > maxBytes {
				out := heap.Pop(h).(docAt).Doc
				held -= int64(len(out.JSON))
				if !yield(out, nil) {
					return
				}
			}
		}
		for h.Len() > 0 {
			if !yield(heap.Pop(h).(docAt).Doc, nil) {
				return
			}
		}
	}
}

type docAt struct {
	Doc
	seq int
}

type docHeap struct {
	d   []docAt
	seq int
}

func (h *docHeap) Len() int { return len(h.d) }
func (h *docHeap) Less(i, j int) bool {
	if c := h.d[i].Time.Compare(h.d[j].Time); c != 0 {
		return c < 0
	}
	return h.d[i].seq < h.d[j].seq
}
func (h *docHeap) Swap(i, j int) { h.d[i], h.d[j] = h.d[j], h.d[i] }
func (h *docHeap) Push(x any)    { h.d = append(h.d, x.(docAt)) }
func (h *docHeap) Pop() any {
	x := h.d[len(h.d)-1]
	h.d = h.d[:len(h.d)-1]
	return x
}

// Stats says what a hunt read and raised.
type Stats struct {
	Events  int            // events evaluated
	Skipped int            // alerts in the input (rules do not run on alerts)
	Alerts  map[string]int // by rule id
}

// Run evaluates every event of docs with set (one Evaluator, as one
// replay worker) and hands each alert to emit.
func Run(set *rules.Set, docs Stream, emit func(*schemas.Event) error) (Stats, error) {
	st := Stats{Alerts: map[string]int{}}
	ev := rules.NewEvaluator(set, rules.EvalOptions{})
	defer ev.Close()
	var emitErr error
	for d, err := range docs {
		if err != nil {
			return st, err
		}
		var e schemas.Event
		if err := schemas.Decode(d.JSON, &e); err != nil {
			return st, fmt.Errorf("event at %s: %w", d.Time.Format(time.RFC3339Nano), err)
		}
		if e.Event.Kind == "alert" {
			st.Skipped++
			continue
		}
		st.Events++
		ev.Eval(&e, func(a *schemas.Event) {
			st.Alerts[a.Rule.ID]++
			if emitErr == nil {
				emitErr = emit(a)
			}
		})
		if emitErr != nil {
			return st, emitErr
		}
	}
	return st, nil
}

package dns

import (
	"reflect"
	"testing"
	"time"
)

// txRecord is what a test keeps of an emitted transaction.
type txRecord struct {
	qID, rID     int // -1 when absent
	qName        string
	notes        []string
	qSize, rSize int
	rtt          time.Duration
}

func recorder(out *[]txRecord) func(*Transaction) {
	return func(tx *Transaction) {
		r := txRecord{qID: -1, rID: -1, qSize: tx.QuerySize, rSize: tx.ResponseSize,
			notes: append([]string(nil), tx.Notes...)}
		if tx.Query != nil {
			r.qID = int(tx.Query.ID)
			if len(tx.Query.Questions) > 0 {
				r.qName = tx.Query.Questions[0].Name
			}
		}
		if tx.Response != nil {
			r.rID = int(tx.Response.ID)
		}
		if tx.Query != nil && tx.Response != nil {
			r.rtt = tx.ResponseTime.Sub(tx.QueryTime)
		}
		*out = append(*out, r)
	}
}

// mk builds and parses a one-question message.
func mk(t *testing.T, id uint16, response bool, name string, qtype uint16) *Message {
	t.Helper()
	flags := uint16(0x0100)
	if response {
		flags |= 0x8080
	}
	var m Message
	if err := Parse(build(id, flags, name, qtype, nil, nil, nil), &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

var t0 = time.Unix(1700000000, 0)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestPairerPairs(t *testing.T) {
	var got []txRecord
	p := NewPairer(0, recorder(&got))
	// Two queries in flight, answered out of order; the response name
	// differs in case only (0x20 randomisation).
	q1 := mk(t, 1, false, "a.example", TypeA)
	p.Add(q1, 30, at(0))
	*q1 = Message{} // the pairer must hold its own copy
	p.Add(mk(t, 2, false, "b.example", TypeAAAA), 31, at(1))
	p.Add(mk(t, 2, true, "B.example", TypeAAAA), 60, at(21))
	p.Add(mk(t, 1, true, "a.example", TypeA), 70, at(40))
	want := []txRecord{
		{qID: 2, rID: 2, qName: "b.example", notes: nil, qSize: 31, rSize: 60, rtt: 20 * time.Millisecond},
		{qID: 1, rID: 1, qName: "a.example", notes: nil, qSize: 30, rSize: 70, rtt: 40 * time.Millisecond},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if p.Pending() != 0 || p.Paired != 2 {
		t.Errorf("pending %d paired %d", p.Pending(), p.Paired)
	}
}

func TestPairerQuestionMustMatch(t *testing.T) {
	var got []txRecord
	p := NewPairer(0, recorder(&got))
	p.Add(mk(t, 5, false, "a.example", TypeA), 30, at(0))
	// Same ID, other question: not this query's answer (spoofing or reuse).
	p.Add(mk(t, 5, true, "evil.example", TypeA), 30, at(1))
	// Same ID and name, other type.
	p.Add(mk(t, 5, true, "a.example", TypeAAAA), 30, at(2))
	if len(got) != 2 || got[0].qID != -1 || got[1].qID != -1 || p.Pending() != 1 {
		t.Fatalf("mismatches paired: %+v", got)
	}
	// A FORMERR without a question matches by ID alone.
	var formerr Message
	if err := Parse(hx("00 05 81 01 00 00 00 00 00 00 00 00"), &formerr); err != nil {
		t.Fatal(err)
	}
	p.Add(&formerr, 12, at(3))
	if len(got) != 3 || got[2].qID != 5 || got[2].rID != 5 || p.Pending() != 0 {
		t.Fatalf("FORMERR not paired: %+v", got)
	}
}

func TestPairerDuplicatesAndOrphans(t *testing.T) {
	var got []txRecord
	p := NewPairer(0, recorder(&got))
	// The retransmitted query of mixed-browsing frames 67/70, then its two
	// responses 71/76.
	p.Add(mk(t, 0xd6d9, false, "discovery.cem.cloud.us", TypeA), 40, at(0))
	p.Add(mk(t, 0xd6d9, false, "discovery.cem.cloud.us", TypeA), 40, at(1000))
	p.Add(mk(t, 0xd6d9, true, "discovery.cem.cloud.us", TypeA), 200, at(1010))
	p.Add(mk(t, 0xd6d9, true, "discovery.cem.cloud.us", TypeA), 200, at(1020))
	want := []txRecord{
		{qID: 0xd6d9, rID: -1, qName: "discovery.cem.cloud.us", notes: []string{NoteDuplicateQuery}, qSize: 40},
		{qID: 0xd6d9, rID: 0xd6d9, qName: "discovery.cem.cloud.us", notes: nil, qSize: 40, rSize: 200, rtt: 10 * time.Millisecond},
		{qID: -1, rID: 0xd6d9, notes: []string{NoteOrphanResponse}, rSize: 200},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if p.Duplicates != 1 || p.Orphans != 1 || p.Paired != 1 || p.Unanswered != 1 {
		t.Errorf("counters %+v", p)
	}
}

func TestPairerExpire(t *testing.T) {
	var got []txRecord
	p := NewPairer(0, recorder(&got))
	p.Add(mk(t, 1, false, "a.example", TypeA), 30, at(0))
	p.Add(mk(t, 2, false, "b.example", TypeA), 30, at(500))
	p.Add(mk(t, 3, false, "c.example", TypeA), 30, at(1500))
	if n := p.Expire(at(1000), time.Second); n != 0 || len(got) != 0 {
		t.Fatalf("expired early: %d", n)
	}
	if n := p.Expire(at(2000), time.Second); n != 2 {
		t.Fatalf("expired %d, want 2", n)
	}
	if got[0].qID != 1 || got[1].qID != 2 || got[0].rID != -1 || !reflect.DeepEqual(got[0].notes, []string{NoteNoResponse}) {
		t.Errorf("expired %+v", got)
	}
	// A late response to an expired query is an orphan.
	p.Add(mk(t, 1, true, "a.example", TypeA), 30, at(2100))
	if got[2].qID != -1 || got[2].notes[0] != NoteOrphanResponse {
		t.Errorf("late response %+v", got[2])
	}
	if n := p.Flush(); n != 1 || got[3].qID != 3 || p.Pending() != 0 {
		t.Errorf("flush %d %+v", n, got)
	}
}

func TestPairerBound(t *testing.T) {
	var got []txRecord
	p := NewPairer(4, recorder(&got))
	for i := 0; i < 6; i++ {
		p.Add(mk(t, uint16(i), false, "x.example", TypeA), 30, at(i))
	}
	if p.Pending() != 4 || len(got) != 2 || p.Evicted != 2 {
		t.Fatalf("pending %d emitted %d", p.Pending(), len(got))
	}
	for i, r := range got {
		if r.qID != i || r.rID != -1 || r.notes[0] != NoteEvicted {
			t.Errorf("evicted %+v", r)
		}
	}
	// The survivors still pair.
	p.Add(mk(t, 5, true, "x.example", TypeA), 30, at(10))
	if got[2].qID != 5 || got[2].rID != 5 {
		t.Errorf("pair after eviction %+v", got[2])
	}
	if NewPairer(0, nil).maxPending != DefaultMaxPending {
		t.Error("default bound")
	}
}

func TestPairerRecyclesWithoutAliasing(t *testing.T) {
	// A query copy recycled for a later query must not show the earlier
	// query's records.
	var got []*Message
	p := NewPairer(0, func(tx *Transaction) {
		if tx.Query != nil {
			got = append(got, tx.Query.Clone())
		}
	})
	var big, small Message
	if err := Parse(vecCompression, &big); err != nil {
		t.Fatal(err)
	}
	big.Response = false
	p.Add(&big, len(vecCompression), at(0))
	p.Flush()
	small = *mk(t, 9, false, "z.example", TypeA)
	p.Add(&small, 30, at(1))
	p.Flush()
	if len(got) != 2 || len(got[1].Answers) != 0 || got[1].Questions[0].Name != "z.example" || len(got[0].Answers) != 2 {
		t.Fatalf("recycled copy: %+v", got[1])
	}
}

func TestPairerByteBudget(t *testing.T) {
	var got []txRecord
	p := NewPairer(0, recorder(&got))
	q := mk(t, 1, false, "a.example", TypeA)
	cost := queryCost(q)
	p.MaxPendingBytes = 3*cost + cost/2 // room for three such queries
	for i := 0; i < 5; i++ {
		p.Add(mk(t, uint16(i), false, "a.example", TypeA), 30, at(i))
	}
	if p.Pending() != 3 || p.Evicted != 2 || p.bytes != 3*cost || got[0].notes[0] != NoteEvicted {
		t.Fatalf("pending %d evicted %d bytes %d", p.Pending(), p.Evicted, p.bytes)
	}
	p.Flush()
	if p.bytes != 0 {
		t.Errorf("bytes after flush %d", p.bytes)
	}
	// A query larger than the whole budget is still held alone.
	p.MaxPendingBytes = 1
	p.Add(q, 30, at(9))
	if p.Pending() != 1 {
		t.Errorf("oversized query dropped")
	}
}

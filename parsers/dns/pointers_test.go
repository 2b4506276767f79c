package dns

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// Pointers that go forward are decoded, as tshark decodes them: scanners
// send names that end in a pointer to a name placed later in the message.
func TestForwardPointers(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		msg        []byte
	}{
		// 12: pointer forward to 18, past the question's type and class.
		{"whole name", "a", hx("00 01 01 00 00 01 00 00 00 00 00 00",
			"c0 12", "00 01 00 01", // 12: -> 18; A IN
			"01 61 00")}, // 18: "a" (trailing bytes, as tshark shows them)
		// 12: "www", then a pointer forward to 22, the owner of an
		// additional record.
		{"label then pointer", "www.example.com", hx("00 02 01 00 00 01 00 00 00 00 00 01",
			"03 77 77 77 c0 16", "00 01 00 01", // 12: "www" -> 22; A IN
			"07 65 78 61 6d 70 6c 65 03 63 6f 6d 00",      // 22: example.com
			"00 01 00 01 00 00 00 00 00 04 00 00 00 00")}, // 35: A IN, TTL 0, 0.0.0.0
		// 12: -> 18 -> 20 -> 22 "a": forward hops chained.
		{"forward chain", "a", hx("00 03 01 00 00 01 00 00 00 00 00 00",
			"c0 12", "00 01 00 01", // 12: -> 18; A IN
			"c0 14 c0 16 01 61 00")}, // 18: -> 20, 20: -> 22, 22: "a"
		// 12: -> 18, which points back to the question's type bytes
		// at 14: "00" is the root.
		{"forward then back", ".", hx("00 04 01 00 00 01 00 00 00 00 00 00",
			"c0 12", "00 01 00 01", // 12: -> 18; A IN
			"c0 0e")}, // 18: -> 14 (00: root)
	} {
		var m Message
		if err := Parse(tc.msg, &m); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if len(m.Questions) != 1 || m.Questions[0].Name != tc.want || m.Err != nil {
			t.Errorf("%s: questions %+v, err %v; want %q", tc.name, m.Questions, m.Err, tc.want)
		}
	}
}

// Loops end at a bound, with an error at the name's offset and in
// Message.Err; the question is kept without its name, as tshark keeps it.
func TestPointerLoops(t *testing.T) {
	hdr := "00 01 01 00 00 01 00 00 00 00 00 00" // ID 1, RD, QD 1
	for _, tc := range []struct {
		name string
		msg  []byte
		want error
	}{
		// 12: pointer to itself
		{"self", hx(hdr, "c0 0c", "00 01 00 01"), ErrPointerLoop},
		// 12: -> 18, 18: -> 12: forward and back for ever
		{"two", hx(hdr, "c0 12", "00 01 00 01", "c0 0c"), ErrPointerLoop},
		// 12: "a", then at 14 a pointer back to 12: the name would be
		// a.a.a.a... and ends at 255 bytes
		{"run", hx(hdr, "01 61 c0 0c", "00 01 00 01"), ErrNameTooLong},
	} {
		var m Message
		err := Parse(tc.msg, &m)
		if !errors.Is(err, tc.want) || m.Err != err {
			t.Errorf("%s: err = %v (m.Err %v), want %v", tc.name, err, m.Err, tc.want)
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.Offset != 12 || pe.Section != "question" {
			t.Errorf("%s: error context %+v", tc.name, pe)
		}
		if m.ID != 1 || !m.RecursionDesired || len(m.Questions) != 1 || m.Questions[0].Name != "" || m.Questions[0].Type != TypeA {
			t.Errorf("%s: header and nameless question not kept: %+v", tc.name, m)
		}
	}
}

// Records after a looping name are decoded (tshark shows them too): a
// looping question name cannot hide the answers.
func TestRecordsAfterALoopingName(t *testing.T) {
	msg := hx("00 09 81 80 00 01 00 02 00 00 00 00",
		"c0 0c 00 01 00 01", // 12: pointer to itself, A IN
		"c0 0c 00 01 00 01 00 00 00 3c 00 04 c0 00 02 01",    // 18: owner loops too; A 192.0.2.1
		"01 62 00 00 01 00 01 00 00 00 3c 00 04 c0 00 02 02") // 34: "b" A 192.0.2.2
	var m Message
	err := Parse(msg, &m)
	var pe *Error
	if !errors.As(err, &pe) || pe.Offset != 12 || !errors.Is(err, ErrPointerLoop) {
		t.Fatalf("err %v; want the question's loop, the first error", err)
	}
	if len(m.Answers) != 2 || m.Answers[0].Name != "" || m.Answers[0].Data != "192.0.2.1" ||
		m.Answers[1].Name != "b" || m.Answers[1].Data != "192.0.2.2" {
		t.Errorf("answers %+v", m.Answers)
	}
}

// forwardChain builds a query whose question name is a chain of n forward
// pointers ending at "a".
func forwardChain(n int) []byte {
	b := hx("00 05 01 00 00 01 00 00 00 00 00 00", "c0 12", "00 01 00 01") // 12: -> 18
	for i := 1; i < n; i++ {
		at := 18 + 2*i
		b = append(b, 0xc0|byte(at>>8), byte(at))
	}
	return append(b, 1, 'a', 0)
}

func TestForwardChainCap(t *testing.T) {
	var m Message
	if err := Parse(forwardChain(MaxPointers), &m); err != nil || m.Questions[0].Name != "a" {
		t.Errorf("chain at the cap: %v %+v", err, m.Questions)
	}
	if err := Parse(forwardChain(MaxPointers+1), &m); !errors.Is(err, ErrPointerLoop) {
		t.Errorf("chain over the cap: %v", err)
	}
}

// chainedOwners builds a response of n answers whose owner names, like
// its question name, each follow a chain of MaxPointers pointers: the most
// work a message of its size can ask of the name decoder.
func chainedOwners(n int) []byte {
	chainAt := 18 + 12*n // the last answer's rdata
	ptr := []byte{0xc0 | byte(chainAt>>8), byte(chainAt)}
	b := hx("00 06 81 80 00 01", "00 00 00 00 00 00")
	b[6], b[7] = byte(n>>8), byte(n)
	b = append(append(b, ptr...), 0, 1, 0, 1) // 12: question, A IN
	for i := 0; i < n; i++ {                  // opaque type, TTL 0, no rdata
		b = append(append(b, ptr...), 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 0)
	}
	var chain []byte
	for i := 1; i < MaxPointers; i++ {
		at := chainAt + 2*i
		chain = append(chain, 0xc0|byte(at>>8), byte(at))
	}
	chain = append(chain, 1, 'a', 0)
	b[len(b)-2], b[len(b)-1] = byte(len(chain)>>8), byte(len(chain))
	return append(b, chain...)
}

func TestChainedOwners(t *testing.T) {
	var m Message
	if err := Parse(chainedOwners(40), &m); err != nil || len(m.Answers) != 40 || m.Answers[39].Name != "a" {
		t.Fatalf("%v, %d answers", err, len(m.Answers))
	}
}

// BenchmarkChainedOwners measures the worst case of an MTU-sized (1,500
// byte) message, to compare with BenchmarkParse.
func BenchmarkChainedOwners(b *testing.B) {
	msg := chainedOwners(40)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	var m Message
	for b.Loop() {
		if err := Parse(msg, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// A malformed message with a header is paired all the same, its
// transaction noted; one without a header is only counted. Every failure
// reaches OnError.
func TestConnPairsMalformedMessages(t *testing.T) {
	loopQuery := hx("00 07 01 00 00 01 00 00 00 00 00 00", "c0 0c 00 01 00 01")  // 12: pointer to itself
	loopResp := hx("00 07 81 80 00 01 00 00 00 00 00 00", "c0 0c 00 01 00 01")   // the same, answered
	cutResp := hx("00 08 81 80 00 01 00 01 00 00 00 00", "01 61 00 00 01 00 01", // "a" A IN
		"c0 0c 00 01 00 01 00 00 00 3c 00 04 c0 00") // answer A, 2 of its 4 address bytes
	goodQuery := hx("00 08 01 00 00 01 00 00 00 00 00 00", "01 61 00 00 01 00 01")
	var notes [][]string
	var names []string
	var errs []error
	c := NewConn(0, func(tx *Transaction) {
		notes = append(notes, append([]string(nil), tx.Notes...))
		m := tx.Query
		if m == nil {
			m = tx.Response
		}
		name := ""
		if len(m.Questions) > 0 {
			name = m.Questions[0].Name
		}
		names = append(names, name)
	})
	c.OnError = func(err error, _ time.Time) { errs = append(errs, err) }
	for _, b := range [][]byte{loopQuery, loopResp, goodQuery, cutResp, {0, 9, 1}} {
		_ = c.Datagram(b, time.Time{})
	}
	c.End(time.Time{})
	want := [][]string{
		{"malformed query: question at offset 12: compression pointer loop", "malformed response: question at offset 12: compression pointer loop"},
		{"malformed response: answer at offset 19: message truncated"},
	}
	if !reflect.DeepEqual(notes, want) || !reflect.DeepEqual(names, []string{"", "a"}) {
		t.Errorf("transactions: notes %q names %q; want notes %q", notes, names, want)
	}
	if len(errs) != 4 || c.ParseErrors != 4 || !errors.Is(errs[3], ErrTruncated) {
		t.Errorf("errors %v, counted %d; want 4", errs, c.ParseErrors)
	}
	// Over TCP the same.
	notes, names = nil, nil
	tc := NewConn(0, c.Pairer.emit)
	if err := tc.Data(parsers.ToServer, frame(loopQuery), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := tc.Data(parsers.ToClient, frame(loopResp), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(notes, want[:1]) || tc.ParseErrors != 2 {
		t.Errorf("TCP: notes %q, %d errors", notes, tc.ParseErrors)
	}
}

// A record whose owner and target are both the question name (both from
// the name cache) keeps its data.
func TestSelfCNAMEKeepsItsData(t *testing.T) {
	msg := hx("00 0a 81 80 00 01 00 01 00 00 00 00",
		"01 61 00 00 05 00 01",                      // 12: "a" CNAME IN
		"c0 0c 00 05 00 01 00 00 00 3c 00 02 c0 0c") // 19: a CNAME a
	var m Message
	if err := Parse(msg, &m); err != nil || len(m.Answers) != 1 {
		t.Fatalf("%v, %d answers", err, len(m.Answers))
	}
	if rr := m.Answers[0]; rr.Name != "a" || rr.Data != "a" || rr.Target != "a" {
		t.Errorf("answer %+v", rr)
	}
}

// A response whose echoed question name loops still answers its query:
// one transaction, with the query's name and the response's answers.
func TestLoopingEchoStillPairs(t *testing.T) {
	query := hx("00 0b 01 00 00 01 00 00 00 00 00 00", "01 61 00 00 01 00 01") // "a" A IN
	resp := hx("00 0b 81 80 00 01 00 01 00 00 00 00",
		"c0 0c 00 01 00 01", // 12: pointer to itself, A IN
		"01 61 00 00 01 00 01 00 00 00 3c 00 04 c0 00 02 01") // 18: "a" A 192.0.2.1
	var got []string
	c := NewConn(0, func(tx *Transaction) {
		if tx.Query == nil || tx.Response == nil {
			got = append(got, "unpaired")
			return
		}
		got = append(got, tx.Query.Questions[0].Name+" "+tx.Response.Answers[0].Data)
		got = append(got, tx.Notes...)
	})
	_ = c.Datagram(query, time.Time{})
	_ = c.Datagram(resp, time.Time{})
	c.End(time.Time{})
	want := []string{"a 192.0.2.1", "malformed response: question at offset 12: compression pointer loop"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

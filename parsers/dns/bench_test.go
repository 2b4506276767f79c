package dns

import (
	"testing"
	"time"
)

// typicalResponse is a real response when the captures are present (12 A
// records for google.com, dns-a-aaaa-mx.pcap frame 2), else vecCompression.
func typicalResponse(tb testing.TB) []byte {
	if _, err := statDir(); err == nil {
		for _, p := range capturePayloads(tb, pcapDir+"/dns-a-aaaa-mx.pcap") {
			if p.frame == 2 {
				return p.data
			}
		}
	}
	return vecCompression
}

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct {
		name string
		msg  []byte
	}{
		{"A-12-answers", typicalResponse(b)},
		{"CNAME+A", vecCompression},
		{"HTTPS", vecHTTPS},
		{"ECS-query", vecECS},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var m Message
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.msg)))
			for b.Loop() {
				if err := Parse(bc.msg, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestParseAllocs(t *testing.T) {
	msg := typicalResponse(t)
	var m Message
	_ = Parse(msg, &m)
	// One string holds every name and data of the message.
	if a := testing.AllocsPerRun(100, func() { _ = Parse(msg, &m) }); a > 1 {
		t.Errorf("%v allocs per Parse, want at most 1", a)
	}
}

func BenchmarkPairer(b *testing.B) {
	var q, r Message
	if err := Parse(vecCompression, &r); err != nil {
		b.Fatal(err)
	}
	r.CopyTo(&q)
	q.Response = false
	p := NewPairer(0, func(*Transaction) {})
	ts := time.Unix(0, 0)
	b.ReportAllocs()
	for b.Loop() {
		p.Add(&q, 40, ts)
		p.Add(&r, 67, ts)
	}
}

// A new flow's Conn (with its Pairer) is one allocation, and its first
// query waits in a slot that comes with it: a query and its response cost
// the Conn, the message strings and the query's copy, nothing per list.
func TestConnFirstTransactionAllocs(t *testing.T) {
	query := build(0x1234, 0x0100, "www.example.com", 1, nil, nil, nil)
	resp := build(0x1234, 0x8180, "www.example.com", 1, nil, nil, nil)
	n := 0
	emit := func(*Transaction) { n++ }
	if a := testing.AllocsPerRun(100, func() { NewConn(0, emit) }); a != 1 {
		t.Errorf("NewConn: %v allocations, want 1", a)
	}
	allocs := testing.AllocsPerRun(100, func() {
		c := NewConn(0, emit)
		if err := c.Datagram(query, t0); err != nil {
			t.Fatal(err)
		}
		if err := c.Datagram(resp, at(1)); err != nil {
			t.Fatal(err)
		}
	})
	if n != 101 {
		t.Fatalf("%d transactions, want 101", n)
	}
	// The Conn; the transaction's one string; per message its label
	// buffer growing; the parsed questions (their copy in the pending
	// query is inline).
	// (The Pairer, the pending query's slot and its lists took 4 more.)
	if allocs > 6 {
		t.Errorf("a flow's first transaction: %v allocations, want at most 6", allocs)
	}
}

package dns

import (
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/intern"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// flowKey names a flow the same way from both ends.
func flowKey(flow string, tcp bool) (key string, toServer bool) {
	a, b, _ := strings.Cut(flow, ">")
	toServer = strings.HasSuffix(b, ":53")
	if a > b {
		a, b = b, a
	}
	return map[bool]string{true: "tcp ", false: "udp "}[tcp] + a + " " + b, toServer
}

type pairCounts struct{ paired, unanswered, duplicates, orphans int }

// handlerFunc is a Handler that hands transactions to a function and
// counts parse errors.
type handlerFunc struct {
	emit func(*Transaction)
	errs *int
}

func (h handlerFunc) Transaction(tx *Transaction) { h.emit(tx) }
func (h handlerFunc) ParseError(error, time.Time) { *h.errs++ }

// runConns sends a capture's DNS through one Conn per flow (TCP messages
// re-framed and fed in 5-byte pieces) and sums the Pairer counters. With
// shared, the Conns are NewConnHandler's, all decoding into shared.
func runConns(t *testing.T, capture string, shared ...*Message) (pairCounts, []Transaction) {
	if len(shared) > 0 {
		return runConnsOf(t, capture, func(h Handler) *Conn { return NewConnHandler(0, h, shared[0], nil) })
	}
	return runConnsOf(t, capture, nil)
}

// runConnsOf is runConns with each flow's Conn made by newConn (nil:
// NewConn's, with messages of their own).
func runConnsOf(t *testing.T, capture string, newConn func(Handler) *Conn) (pairCounts, []Transaction) {
	conns := map[string]*Conn{}
	var txs []Transaction
	var order []string
	for _, p := range capturePayloads(t, capture) {
		key, toServer := flowKey(p.flow, p.tcp)
		c := conns[key]
		if c == nil {
			keep := func(tx *Transaction) {
				cp := *tx
				if tx.Query != nil {
					cp.Query = tx.Query.Clone()
				}
				if tx.Response != nil {
					cp.Response = tx.Response.Clone()
				}
				cp.Notes = append([]string(nil), tx.Notes...)
				txs = append(txs, cp)
			}
			if newConn != nil {
				c = newConn(handlerFunc{keep, new(int)})
			} else {
				c = NewConn(0, keep)
			}
			conns[key] = c
			order = append(order, key)
		}
		if !p.tcp {
			if err := c.Datagram(p.data, p.ts); err != nil {
				t.Fatal(err)
			}
			continue
		}
		d := parsers.ToClient
		if toServer {
			d = parsers.ToServer
		}
		f := frame(p.data)
		for len(f) > 0 {
			n := min(5, len(f))
			if err := c.Data(d, f[:n], p.ts); err != nil {
				t.Fatal(err)
			}
			f = f[n:]
		}
	}
	var pc pairCounts
	for _, k := range order {
		c := conns[k]
		c.End(t0)
		pc.paired += c.Pairer.Paired
		pc.unanswered += c.Pairer.Unanswered
		pc.duplicates += c.Pairer.Duplicates
		pc.orphans += c.Pairer.Orphans
	}
	return pc, txs
}

// A Conn, which leaves each message's text in its arena until the Pairer
// delivers it with its partner's, gives the transactions that Parse and a
// Pairer of Parse's messages give.
func TestConnTextAsParse(t *testing.T) {
	for _, file := range []string{"dns-a-aaaa-mx.pcap", "dns-tcp.pcap", "mixed-browsing.pcapng", "dns-ipv6-fragmented.pcap", "dns-txt.pcap", "dns-cname-additionals.pcap"} {
		path := filepath.Join(pcapDir, file)
		_, got := runConns(t, path, new(Message))
		var want []Transaction
		keep := func(tx *Transaction) {
			cp := *tx
			for _, m := range []**Message{&cp.Query, &cp.Response} {
				if *m != nil {
					*m = (*m).Clone()
				}
			}
			cp.Notes = append([]string(nil), tx.Notes...)
			want = append(want, cp)
		}
		pairers := map[string]*Pairer{}
		var order []string
		for _, p := range capturePayloads(t, path) {
			key, _ := flowKey(p.flow, p.tcp)
			if pairers[key] == nil {
				pairers[key] = NewPairer(0, keep)
				order = append(order, key)
			}
			var m Message
			if err := Parse(p.data, &m); err == nil || len(p.data) >= HeaderSize {
				pairers[key].Add(&m, len(p.data), p.ts)
			}
		}
		for _, k := range order {
			pairers[k].Flush()
		}
		if len(want) == 0 || len(got) != len(want) {
			t.Fatalf("%s: %d transactions through Conns, %d through Parse", file, len(got), len(want))
		}
		for i := range want {
			g, w := &got[i], &want[i]
			same := func(a, b *Message) bool { return (a == nil) == (b == nil) && (a == nil || sameMessage(a, b)) }
			if !same(g.Query, w.Query) || !same(g.Response, w.Response) || !reflect.DeepEqual(g.Notes, w.Notes) || g.QuerySize != w.QuerySize || g.ResponseSize != w.ResponseSize {
				t.Errorf("%s: transaction %d through a Conn %+v, through Parse %+v", file, i, g, w)
			}
		}
	}
}

func TestConnPairsCaptures(t *testing.T) {
	// Expected counts read off the truth tables: query and response rows per
	// flow and ID.
	for _, c := range []struct {
		file string
		want pairCounts
	}{
		{"dns-a-aaaa-mx.pcap", pairCounts{paired: 3}},
		{"dns-tcp.pcap", pairCounts{paired: 1}},
		// frames 67 and 70 repeat one query (67 closed as a duplicate),
		// 71 answers 70 and 76 repeats the answer (an orphan)
		{"mixed-browsing.pcapng", pairCounts{paired: 15, unanswered: 1, duplicates: 1, orphans: 1}},
		// frames 3 and 5 repeat a query over IPv6, 8 answers the second
		{"dns-ipv6-fragmented.pcap", pairCounts{paired: 2, unanswered: 1, duplicates: 1}},
	} {
		if _, err := statDir(); err != nil {
			t.Skip("shared captures missing")
		}
		got, txs := runConns(t, filepath.Join(pcapDir, c.file))
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.file, got, c.want)
		}
		for _, tx := range txs {
			if tx.Query != nil && tx.Response != nil {
				if tx.Query.ID != tx.Response.ID || tx.Query.Questions[0].Name != tx.Response.Questions[0].Name ||
					tx.Query.Response || !tx.Response.Response || tx.ResponseTime.Before(tx.QueryTime) || tx.QuerySize == 0 {
					t.Errorf("%s: bad pair %+v", c.file, tx)
				}
			}
		}
	}
}

func TestConnGapAndGarbage(t *testing.T) {
	var n int
	c := NewConn(0, func(tx *Transaction) {
		if tx.Query != nil && tx.Response != nil {
			n++
		}
	})
	q := append([]byte(nil), vecCompression...)
	q[2] &^= 0x80 // the query of vecCompression
	// A partial frame, then a gap: the partial is dropped.
	if err := c.Data(parsers.ToServer, frame(q)[:10], t0); err != nil {
		t.Fatal(err)
	}
	c.Gap(parsers.ToServer, 100, t0)
	if err := c.Data(parsers.ToServer, frame(q), t0); err != nil {
		t.Fatal(err)
	}
	if err := c.Data(parsers.ToClient, frame(vecCompression), at(5)); err != nil {
		t.Fatal(err)
	}
	if n != 1 || c.Gaps != 1 || c.ParseErrors != 0 {
		t.Fatalf("pairs %d gaps %d errors %d", n, c.Gaps, c.ParseErrors)
	}
	// Frames that do not parse: the third in a row ends the stream.
	junk := frame([]byte("not dns"))
	for i := 1; i <= MaxConsecutiveErrors; i++ {
		err := c.Data(parsers.ToServer, junk, t0)
		if (err != nil) != (i == MaxConsecutiveErrors) {
			t.Fatalf("frame %d: err %v", i, err)
		}
	}
	if err := c.Datagram([]byte{1, 2, 3}, t0); err == nil || c.ParseErrors != MaxConsecutiveErrors+1 {
		t.Fatalf("datagram error %v, %d", err, c.ParseErrors)
	}
}

// Conns of NewConnHandler sharing one Message pair every capture's DNS
// exactly as Conns with messages of their own.
func TestConnHandlerSharedMessage(t *testing.T) {
	if _, err := statDir(); err != nil {
		t.Skip("shared captures missing")
	}
	shared := new(Message)
	for _, file := range []string{"dns-a-aaaa-mx.pcap", "dns-tcp.pcap", "mixed-browsing.pcapng", "dns-ipv6-fragmented.pcap", "dns-txt.pcap", "dns-cname-additionals.pcap"} {
		path := filepath.Join(pcapDir, file)
		wantCounts, want := runConns(t, path)
		gotCounts, got := runConns(t, path, shared)
		if gotCounts != wantCounts || len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: shared message: %+v %+v\nown messages: %+v %+v", file, gotCounts, got, wantCounts, want)
		}
	}
}

// A Conn readied by ResetHandler after another flow, left with pending
// queries, half a TCP frame, a gap and parse errors, pairs every capture's
// DNS as a new Conn.
func TestResetHandlerAsNew(t *testing.T) {
	if _, err := statDir(); err != nil {
		t.Skip("shared captures missing")
	}
	shared := new(Message)
	q := append([]byte(nil), vecCompression...)
	q[2] &^= 0x80 // the query of vecCompression
	used := func(h Handler) *Conn {
		c := NewConnHandler(0, handlerFunc{func(*Transaction) { t.Error("the previous flow's handler was called") }, new(int)}, shared, nil)
		_ = c.Datagram(q, t0)
		_ = c.Data(parsers.ToServer, frame(q)[:7], t0)
		c.Gap(parsers.ToClient, 3, t0)
		_ = c.Datagram([]byte("junk"), t0)
		c.ResetHandler(0, h, shared, nil)
		return c
	}
	for _, file := range []string{"dns-a-aaaa-mx.pcap", "dns-tcp.pcap", "mixed-browsing.pcapng", "dns-ipv6-fragmented.pcap", "dns-txt.pcap", "dns-cname-additionals.pcap"} {
		path := filepath.Join(pcapDir, file)
		wantCounts, want := runConns(t, path, shared)
		gotCounts, got := runConnsOf(t, path, used)
		if gotCounts != wantCounts || len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: reset Conns: %+v %+v\nnew Conns: %+v %+v", file, gotCounts, got, wantCounts, want)
		}
	}
	c := used(handlerFunc{func(*Transaction) {}, new(int)})
	if c.Gaps != 0 || c.ParseErrors != 0 || c.Pairer.Pending() != 0 {
		t.Errorf("reset Conn: gaps %d, errors %d, %d pending", c.Gaps, c.ParseErrors, c.Pairer.Pending())
	}
	if n := testing.AllocsPerRun(100, func() { c.ResetHandler(0, handlerFunc{}, shared, nil) }); n != 0 {
		t.Errorf("ResetHandler: %v allocations", n)
	}
}

// A UDP flow of one query and its response through NewConnHandler with a
// shared Message allocates only the Conn and the transaction's text: the
// query's text waits in the Pairer's room and shares the response's string.
func TestConnHandlerAllocations(t *testing.T) {
	q := append([]byte(nil), vecCompression...)
	q[2] &^= 0x80          // the query of vecCompression,
	clear(q[6:HeaderSize]) // without its records
	shared := new(Message)
	h := &handlerFunc{func(*Transaction) {}, new(int)}
	flow := func() {
		c := NewConnHandler(0, h, shared, nil)
		_ = c.Datagram(q, t0)
		_ = c.Datagram(vecCompression, at(5))
		c.End(at(6))
	}
	flow()
	if n := testing.AllocsPerRun(100, flow); n > 2 {
		t.Errorf("%v allocations per flow, want at most 2", n)
	}
}

// With a table of names shared by the Conns, a transaction whose names and
// data were met before allocates nothing for its text (the ID is a piece
// of idDigits), and reads as one without the table.
func TestConnHandlerNamesTable(t *testing.T) {
	q := append([]byte(nil), vecCompression...)
	q[2] &^= 0x80
	clear(q[6:HeaderSize])
	shared, names := new(Message), new(intern.Table)
	var got, want []*Transaction
	keep := func(into *[]*Transaction) *handlerFunc {
		return &handlerFunc{func(tx *Transaction) {
			c := *tx
			c.Query, c.Response = tx.Query.Clone(), tx.Response.Clone()
			*into = append(*into, &c)
		}, new(int)}
	}
	for _, run := range []struct {
		into  *[]*Transaction
		names *intern.Table
	}{{&want, nil}, {&got, names}} {
		c := NewConnHandler(0, keep(run.into), shared, run.names)
		_ = c.Datagram(q, t0)
		_ = c.Datagram(vecCompression, at(5))
	}
	if len(got) != 1 || len(want) != 1 || !sameMessage(got[0].Query, want[0].Query) || !sameMessage(got[0].Response, want[0].Response) || got[0].Response.IDText != strconv.Itoa(int(want[0].Response.ID)) {
		t.Fatalf("with the table %+v, without %+v", got, want)
	}
	// A table's slots are chosen by a hash seeded per table: two of the
	// transaction's strings in one slot (about one table in a hundred)
	// would replace each other at every transaction. Three tables all
	// doing so is a fault, not chance.
	var n float64
	for range 3 {
		h := &handlerFunc{func(*Transaction) {}, new(int)}
		c := NewConnHandler(0, h, shared, new(intern.Table))
		if n = testing.AllocsPerRun(100, func() {
			_ = c.Datagram(q, t0)
			_ = c.Datagram(vecCompression, at(5))
		}); n == 0 {
			return
		}
	}
	t.Errorf("%v allocations per transaction of names met before", n)
}

// A message's TextSize is its names and data only: its IDText is a piece
// of idDigits, which the message does not keep alive.
func TestTextSizeIsNamesAndData(t *testing.T) {
	m := mk(t, 54321, false, "a.example", TypeA)
	if m.IDText != "54321" || m.TextSize != len("a.example") {
		t.Errorf("IDText %q, TextSize %d, want 54321 and %d", m.IDText, m.TextSize, len("a.example"))
	}
	var short Message
	_ = Parse([]byte{1, 2, 3}, &short)
	if short.IDText != "" || short.TextSize != 0 {
		t.Errorf("a message shorter than a header: IDText %q, TextSize %d", short.IDText, short.TextSize)
	}
}

// idText is every ID's decimal.
func TestIDText(t *testing.T) {
	for id := range 1 << 16 {
		if got := idText(uint16(id)); got != strconv.Itoa(id) {
			t.Fatalf("idText(%d) = %q", id, got)
		}
	}
}

// A flow's first query keeps its EDNS options in the Pairer's own room:
// an unanswered query with a client subnet and a cookie costs the Conn and
// the message's text.
func TestConnHandlerEDNSQueryAllocations(t *testing.T) {
	shared := new(Message)
	var opts []uint16
	h := &handlerFunc{func(tx *Transaction) { opts = append(opts[:0], tx.Query.EDNS.Options...) }, new(int)}
	flow := func() {
		c := NewConnHandler(0, h, shared, nil)
		_ = c.Datagram(vecECS, t0)
		c.End(at(6))
	}
	flow()
	if !reflect.DeepEqual(opts, []uint16{8, 10}) {
		t.Fatalf("options %v, want [8 10]", opts)
	}
	if n := testing.AllocsPerRun(100, flow); n > 2 {
		t.Errorf("%v allocations per flow, want at most 2", n)
	}
}

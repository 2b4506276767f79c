package tls

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// snapshot is what emit saw of h, taken during the call, without its
// empty values (a pooled Handshake's empty slices need not be nil).
func snapshot(t *testing.T, h *Handshake) string {
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	b, err = json.Marshal(dropEmpty(v))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dropEmpty removes the empty strings, lists and objects, zeros and falses
// of a decoded JSON value's objects.
func dropEmpty(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			e = dropEmpty(e)
			switch y := e.(type) {
			case nil:
				delete(x, k)
				continue
			case string:
				if y == "" {
					delete(x, k)
					continue
				}
			case bool:
				if !y {
					delete(x, k)
					continue
				}
			case float64:
				if y == 0 {
					delete(x, k)
					continue
				}
			case []any:
				if len(y) == 0 {
					delete(x, k)
					continue
				}
			case map[string]any:
				if len(y) == 0 {
					delete(x, k)
					continue
				}
			}
			x[k] = e
		}
	case []any:
		for i := range x {
			x[i] = dropEmpty(x[i])
		}
	}
	return v
}

// sameHandshakes fails t unless got, the snapshots of capture's handshakes
// made as how says, are want; it returns how many there are.
func sameHandshakes(t *testing.T, capture, how string, got, want []string) int {
	if len(got) != len(want) {
		t.Fatalf("%s: %d handshakes %s, %d otherwise", capture, len(got), how, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: handshake %d %s:\n%s\notherwise:\n%s", capture, i, how, got[i], want[i])
		}
	}
	return len(got)
}

// A Pool shared by the connections of every TLS capture, in packet order
// (several open at once), gives each emit the same Handshake as a Conn of
// its own would.
func TestPoolHandshakesAsUnpooled(t *testing.T) {
	pool := new(Pool)
	emitted := 0
	for _, capture := range tlsCaptures {
		path := filepath.Join(pcapDir, capture)
		var want, got []string
		for _, cfg := range []Config{{}, {Pool: pool}} {
			out := &want
			if cfg.Pool != nil {
				out = &got
			}
			walkTCP(t, path, func(client, server endpoint) parsers.StreamParser {
				return NewConn(cfg, func(h *Handshake) { *out = append(*out, snapshot(t, h)) })
			})
		}
		emitted += sameHandshakes(t, capture, "with a pool", got, want)
	}
	if emitted == 0 {
		t.Fatal("no handshake emitted")
	}
	if pool.hs.Len() == 0 || pool.hs.Len() > maxPooled || pool.bufs.Len() > maxPooled {
		t.Errorf("pool holds %d handshakes and %d buffers", pool.hs.Len(), pool.bufs.Len())
	}
}

// Connections one after another through a Pool allocate less than without
// it: the Handshake, its hello lists and the fingerprint buffer are reused.
func TestPoolSavesAllocations(t *testing.T) {
	recs := transcripts(t, filepath.Join(pcapDir, "tls12-handshake-cert.pcap"))
	chunks := recs[0].chunks
	run := func(cfg Config) float64 {
		return testing.AllocsPerRun(50, func() {
			c := NewConn(cfg, func(*Handshake) {})
			for _, ch := range chunks {
				_ = c.Data(ch.dir, ch.data, time.Time{})
			}
			c.End(time.Time{})
		})
	}
	without, with := run(Config{}), run(Config{Pool: new(Pool)})
	t.Logf("allocations per connection: %v without a pool, %v with", without, with)
	if with >= without-5 {
		t.Errorf("%v allocations per connection with a pool, %v without", with, without)
	}
}

// releasing is a Conn that gives itself back to its Pool at End.
type releasing struct{ *Conn }

func (r releasing) End(ts time.Time) {
	r.Conn.End(ts)
	r.Release()
}

// Conns given back to a Pool (ended, or released with half a record
// held) and made again by NewConn parse every TLS capture as new Conns
// do: nothing of their previous connection is left.
func TestPoolConnsAsNew(t *testing.T) {
	pool := new(Pool)
	emitted := 0
	partial := []byte{22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3}
	for _, capture := range tlsCaptures {
		path := filepath.Join(pcapDir, capture)
		var want, got []string
		walkTCP(t, path, func(client, server endpoint) parsers.StreamParser {
			return NewConn(Config{}, func(h *Handshake) { want = append(want, snapshot(t, h)) })
		})
		cut := NewConn(Config{Pool: pool}, func(*Handshake) { t.Error("a released Conn emitted") })
		_ = cut.Data(parsers.ToServer, partial, time.Time{})
		cut.Release()
		walkTCP(t, path, func(client, server endpoint) parsers.StreamParser {
			return releasing{NewConn(Config{Pool: pool}, func(h *Handshake) { got = append(got, snapshot(t, h)) })}
		})
		emitted += sameHandshakes(t, capture, "with reused Conns", got, want)
	}
	if emitted == 0 {
		t.Fatal("no handshake emitted")
	}
	if n := pool.conns.Len(); n == 0 || n > maxPooledConns {
		t.Errorf("pool holds %d Conns", n)
	}
	c := NewConn(Config{Pool: pool}, nil)
	if n := testing.AllocsPerRun(100, func() { c.End(time.Time{}); c.Release(); c = NewConn(Config{Pool: pool}, nil) }); n != 0 {
		t.Errorf("a Conn released and made again: %v allocations", n)
	}
}

// A client met again through a Pool costs no string for its fingerprints,
// its server's, or its server name: the Pool keeps them, and hands out the
// very strings of the first connection.
func TestPoolKeepsRepeatedStrings(t *testing.T) {
	pool := new(Pool)
	var got []string
	conn := func(chunks []chunk) {
		c := NewConn(Config{Pool: pool}, func(h *Handshake) {
			got = append(got[:0], h.JA3String, h.JA3S, h.ClientHello.ServerName)
		})
		for _, ch := range chunks {
			_ = c.Data(ch.dir, ch.data, time.Time{})
		}
		c.End(time.Time{})
		c.Release()
	}
	for _, capture := range tlsCaptures {
		for _, rec := range transcripts(t, filepath.Join(pcapDir, capture)) {
			got = got[:0]
			conn(rec.chunks)
			if len(got) < 3 || slices.Contains(got, "") {
				continue // a handshake without a server hello or a name
			}
			first := slices.Clone(got)
			kept := testing.AllocsPerRun(50, func() { conn(rec.chunks) })
			for i := range first {
				if got[i] != first[i] || unsafe.StringData(got[i]) != unsafe.StringData(first[i]) {
					t.Errorf("%s: string %d of a repeated connection is a new %q, not the kept %q", capture, i, got[i], first[i])
				}
			}
			forgotten := testing.AllocsPerRun(50, func() { pool.Forget(); conn(rec.chunks) })
			if forgotten-kept < 3 {
				t.Errorf("%s: %v allocations per repeated connection, %v with the strings forgotten: want 3 fewer", capture, kept, forgotten)
			}
			return
		}
	}
	t.Fatal("no capture has a handshake with both hellos and a server name")
}

// A pooled Handshake's certificate list is the array of its connection
// before: a server's chain costs no list per connection.
func TestPoolReusesCertificateList(t *testing.T) {
	recs := transcripts(t, filepath.Join(pcapDir, "tls12-handshake-cert.pcap"))
	pool := new(Pool)
	var lists []*Certificate
	conn := func() {
		c := NewConn(Config{Pool: pool}, func(h *Handshake) {
			if len(h.Certificates) > 0 {
				lists = append(lists, &h.Certificates[0])
			}
		})
		for _, ch := range recs[0].chunks {
			_ = c.Data(ch.dir, ch.data, time.Time{})
		}
		c.End(time.Time{})
		c.Release()
	}
	conn()
	conn()
	if len(lists) != 2 || lists[0] != lists[1] {
		t.Errorf("certificate lists of two connections: %v", lists)
	}
}

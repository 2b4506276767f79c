package http

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// Captures replayed one after another through Conns sharing a Pool (each
// capture's Conns take what the previous capture's gave back at End) give
// the transactions Conns of their own give.
func TestPoolTransactionsAsUnpooled(t *testing.T) {
	captures := []string{
		"http1-browsing.pcap", "http-pipelined-keepalive.pcap", "http-chunked-keepalive-loopback.pcap",
		"http-100-continue-post.pcap", "http1-loopback-cookies.pcapng", "http-te-chunked-evasion.pcap",
		"http-get.pcap", "http-post-urlencoded.pcap",
	}
	pool := new(Pool)
	total := 0
	for _, name := range captures {
		var out [2][]rec
		for i, cfg := range []Config{{}, {Pool: pool}} {
			r := newReassembler(t, cfg)
			readPcap(t, filepath.Join(pcapDir, name), r)
			out[i] = r.out
		}
		if len(out[0]) == 0 || !reflect.DeepEqual(out[1], out[0]) {
			t.Errorf("%s: with a pool:\n%+v\nwithout:\n%+v", name, out[1], out[0])
		}
		total += len(out[1])
	}
	if pool.slots.Len() == 0 || pool.bufs.Len() == 0 {
		t.Errorf("pool holds %d slots and %d buffers after %d transactions", pool.slots.Len(), pool.bufs.Len(), total)
	}
}

// Conns given back to their Pool at End (one after a request cut in its
// headers, the others after whole captures) and made again by NewConn
// give every capture's transactions as new Conns do.
func TestPoolConnsAsNew(t *testing.T) {
	pool := new(Pool)
	total := 0
	for _, name := range []string{
		"http1-browsing.pcap", "http-pipelined-keepalive.pcap", "http-100-continue-post.pcap",
		"http1-loopback-cookies.pcapng", "http-te-chunked-evasion.pcap", "http-post-urlencoded.pcap",
	} {
		cut := NewConnHandler(Config{Pool: pool}, nil)
		_ = cut.Data(parsers.ToServer, []byte("POST /x HTTP/1.1\r\nContent-Length: 9\r\nHost: a"), t0)
		cut.End(t0)
		cut.Release()
		var out [2][]rec
		for i, cfg := range []Config{{}, {Pool: pool}} {
			r := newReassembler(t, cfg)
			r.release = cfg.Pool != nil
			readPcap(t, filepath.Join(pcapDir, name), r)
			out[i] = r.out
		}
		if len(out[0]) == 0 || !reflect.DeepEqual(out[1], out[0]) {
			t.Errorf("%s: with reused Conns:\n%+v\nwith new ones:\n%+v", name, out[1], out[0])
		}
		total += len(out[1])
	}
	if n := pool.conns.Len(); n == 0 || n > maxPooledConns {
		t.Errorf("pool holds %d Conns after %d transactions", n, total)
	}
}

// Connections that end after one transaction each give their slots to
// the Pool, and as many later ones take them instead of making slots:
// past freeSlots each kept slot is paid for on the budget, the Conns'
// account, and Shed gives the bytes back.
func TestPoolKeepsSlotsOnBudget(t *testing.T) {
	const conns = 100 // more than the 16 slots kept before
	acct := budget.New(1 << 30).NewAccount()
	pool := new(Pool)
	cfg := Config{Pool: pool, Budget: acct}
	req := []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	resp := []byte("HTTP/1.1 204 No Content\r\n\r\n")
	burst := func() {
		var open []*Conn
		for range conns {
			c := NewConnHandler(cfg, nil)
			_ = c.Data(parsers.ToServer, req, t0)
			_ = c.Data(parsers.ToClient, resp, t0)
			open = append(open, c)
		}
		for _, c := range open {
			c.End(t0)
			c.Release()
		}
	}
	burst()
	if got, want := acct.Used(budget.Parsers), (conns-freeSlots)*slotBytes; got != want {
		t.Errorf("%d slots kept: %d bytes on the budget, want %d", conns, got, want)
	}
	kept := testing.AllocsPerRun(5, burst)
	shed := testing.AllocsPerRun(5, func() { pool.Shed(func() bool { return true }); burst() })
	if shed-kept < conns-freeSlots {
		t.Errorf("%d connections of a transaction each: %v allocations after as many ended, %v with only %d slots kept", conns, kept, shed, freeSlots)
	}
	pool.Shed(func() bool { return true })
	if got := acct.Used(budget.Parsers); got != 0 || pool.slots.Len() != freeSlots {
		t.Errorf("after Shed: %d bytes on the budget, %d slots kept", got, pool.slots.Len())
	}
}

// A slot kept past its Conn holds nothing of it: no header value (custom
// token headers are not redacted) nor body byte lingers past the lists'
// lengths for a later flow's lifetime, and a slot whose lists outgrew its
// own room, holding more than the slotBytes it is charged, is not kept.
func TestKeptSlotHoldsNothingOfItsConn(t *testing.T) {
	acct := budget.New(1 << 30).NewAccount()
	pool := new(Pool)
	cfg := Config{Pool: pool, Budget: acct}
	resp := []byte("HTTP/1.1 204 No Content\r\n\r\n")
	session := func(headers int) {
		req := "POST /login HTTP/1.1\r\nHost: a\r\nContent-Length: 16\r\n"
		for i := range headers {
			req += fmt.Sprintf("X-Api-Key-%d: SECRET%d\r\n", i, i)
		}
		c := NewConnHandler(cfg, nil)
		_ = c.Data(parsers.ToServer, []byte(req+"\r\npassword=hunter2"), t0)
		_ = c.Data(parsers.ToClient, resp, t0)
		c.End(t0)
		c.Release()
	}
	session(3)
	if pool.slots.Len() != 1 {
		t.Fatalf("%d slots kept, want 1", pool.slots.Len())
	}
	s, _ := pool.slots.Get()
	for _, h := range append(s.tx.Request.Headers[:cap(s.tx.Request.Headers)], s.tx.Response.Headers[:cap(s.tx.Response.Headers)]...) {
		if h != (Header{}) {
			t.Errorf("a kept slot still holds header %q: %q", h.Name, h.Value)
		}
	}
	if s.tx.Request.Body != nil || s.tx.Notes != nil {
		t.Errorf("a kept slot still holds a body of %d bytes, notes %q", cap(s.tx.Request.Body), s.tx.Notes)
	}
	session(slotHeaders + 1)
	if pool.slots.Len() != 0 {
		t.Errorf("a slot whose headers outgrew its room was kept")
	}
}

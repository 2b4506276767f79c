package http

import (
	"fmt"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// A new connection's first transaction keeps every header field, fewer or
// more than a new slot has room for, in order; through a Pool that has
// line buffers but no slot, it costs four allocations: the Conn with its
// queues, the slot with its header room and the two header blocks' text
// (none per header field or queue entry).
func TestNewSlotHeaders(t *testing.T) {
	for _, n := range []int{0, 3, slotHeaders, slotHeaders + 1, 40} {
		var req strings.Builder
		req.WriteString("GET / HTTP/1.1\r\n")
		for i := range n {
			fmt.Fprintf(&req, "X-H%d: v%d\r\n", i, i)
		}
		req.WriteString("\r\n")
		resp := "HTTP/1.1 204 No Content\r\nServer: s\r\n\r\n"
		var out []Transaction
		c := collect(Config{}, &out)
		mustData(t, c, parsers.ToServer, req.String())
		mustData(t, c, parsers.ToClient, resp)
		c.End(t0)
		if len(out) != 1 {
			t.Fatalf("%d headers: %d transactions", n, len(out))
		}
		h := out[0].Request.Headers
		if len(h) != n {
			t.Fatalf("%d headers: kept %d", n, len(h))
		}
		for i, f := range h {
			if f.Name != fmt.Sprintf("X-H%d", i) || f.Value != fmt.Sprintf("v%d", i) {
				t.Errorf("%d headers: field %d is %+v", n, i, f)
			}
		}
		if rh := out[0].Response.Headers; len(rh) != 1 || rh[0] != (Header{Name: "Server", Value: "s"}) {
			t.Errorf("response headers %+v", rh)
		}
	}
	req, resp := []byte("GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: b\r\nAccept: */*\r\n\r\n"), []byte("HTTP/1.1 204 No Content\r\nServer: s\r\nDate: d\r\n\r\n")
	pool := new(Pool)
	allocs := testing.AllocsPerRun(50, func() {
		for pool.slots.Len() > 0 {
			pool.slots.Get()
		}
		c := NewConn(Config{Pool: pool}, func(*Transaction) {})
		_ = c.Data(parsers.ToServer, req, t0)
		_ = c.Data(parsers.ToClient, resp, t0)
		c.End(t0)
	})
	if allocs > 4 {
		t.Errorf("%v allocations for a new connection's transaction", allocs)
	}
	t.Logf("%v allocations", allocs)
}

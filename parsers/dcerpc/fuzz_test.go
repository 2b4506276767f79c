package dcerpc

import (
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// FuzzConn feeds b as a connection: the first byte picks the piece size,
// and the direction changes after every piece whose last byte is odd. The
// parser must not panic, must hold at most one PDU per direction and one
// endpoint mapper answer, and must give back what it reserved at End.
func FuzzConn(f *testing.F) {
	var seed []byte
	for _, ch := range psexecLike() {
		seed = append(seed, ch.b...)
	}
	f.Add(append([]byte{0}, seed...))
	f.Add(append([]byte{3}, seed...))
	f.Add(append([]byte{0}, pdu(ptResponse, 3, 2, respBody(0, mapAnswer()), nil)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		step := int(b[0]%32) + 1
		b = b[1:]
		acct := budget.New(1 << 30).NewAccount()
		c := NewConn(acct, func(call *Call) {
			if len(call.Contexts) > maxOffered || len(call.Endpoints) > maxEndpoints || len(call.Notes) > maxNotes {
				t.Fatalf("unbounded call %+v", call)
			}
		})
		c.OnAuth = func(*Auth) {}
		d := parsers.ToServer
		for len(b) > 0 {
			k := min(step, len(b))
			_ = c.Data(d, b[:k], time.Time{})
			if used := acct.Used(budget.Parsers); used > 2*(1<<16)+maxStub {
				t.Fatalf("%d bytes held", used)
			}
			if b[k-1]&1 == 1 {
				d = d.Reverse()
			}
			b = b[k:]
		}
		c.End(time.Time{})
		if used := acct.Used(budget.Parsers); used != 0 {
			t.Fatalf("%d bytes reserved after End", used)
		}
	})
}

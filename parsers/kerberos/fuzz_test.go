package kerberos

import (
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// FuzzParse: any bytes parse or fail cleanly, what parses keeps its
// lists within their bounds, and SniffDatagram's early refusal says what
// Parse says.
func FuzzParse(f *testing.F) {
	f.Add(kdcReq(ASReq, []string{"robin"}, "R", []string{"krbtgt", "R"}, []int{18, 23}, 2))
	f.Add(kdcRep(TGSRep, "bob", "R", []string{"cifs", "h"}, 23, 18))
	f.Add(krbErr(25, "R", "krbtgt", "R"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if SniffDatagram(b) != (err == nil && m.IsRequest()) {
			t.Fatalf("SniffDatagram(% x) = %v, Parse: %v", b, SniffDatagram(b), err)
		}
		if err != nil {
			return
		}
		if len(m.Etypes) > maxEtypes || len(m.PATypes) > maxPAData || len(m.CName) > maxNames || len(m.SName) > maxNames {
			t.Fatalf("unbounded %+v", m)
		}
	})
}

// FuzzConn feeds b as a TCP connection in pieces (the first byte picks
// their size), switching direction after each odd last byte: no panic,
// held bytes bounded by one record per direction, all given back at End.
func FuzzConn(f *testing.F) {
	s := record(kdcReq(ASReq, []string{"robin"}, "R", []string{"krbtgt", "R"}, []int{18, 23}, 2))
	s = append(s, record(krbErr(24, "R", "krbtgt", "R"))...)
	f.Add(append([]byte{0}, s...))
	f.Add(append([]byte{2}, s...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		step := int(b[0]%32) + 1
		b = b[1:]
		acct := budget.New(1 << 30).NewAccount()
		c := NewConn(acct, func(*Exchange) {})
		d := parsers.ToServer
		for len(b) > 0 {
			k := min(step, len(b))
			_ = c.Data(d, b[:k], time.Time{})
			if used := acct.Used(budget.Parsers); used > 2*(maxRecord+4) {
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

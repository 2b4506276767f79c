package kerberos

import (
	"testing"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// The sniffer runs on the first bytes of most TCP streams: saying No to
// them costs no allocation.
func TestSniffNoAllocatesNothing(t *testing.T) {
	for _, s := range []string{"GET / HTTP/1.1\r\n", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "SSH-2.0-x\r\n", "\x00\x00\x00\x01x"} {
		b := []byte(s)
		if v := Sniff(b); v != parsers.No {
			t.Errorf("Sniff(%q) = %v", s, v)
		}
		if n := testing.AllocsPerRun(10, func() { Sniff(b) }); n != 0 {
			t.Errorf("Sniff(%q): %v allocations", s, n)
		}
	}
}

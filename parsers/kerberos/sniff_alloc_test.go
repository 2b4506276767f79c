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

// SniffDatagram runs on the first datagram of most UDP flows: saying no
// to one that is not Kerberos costs no allocation.
func TestSniffDatagramNoAllocatesNothing(t *testing.T) {
	ntp := append([]byte{0x23}, make([]byte, 47)...)                            // a client's request
	ssdp := []byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n") // a universal tag, then more
	snmp := []byte{0x30, 0x03, 0x02, 0x01, 0x01, 0x04}                          // a SEQUENCE with bytes after it
	for _, b := range [][]byte{ntp, ssdp, snmp} {
		if SniffDatagram(b) {
			t.Errorf("SniffDatagram(% x) is true", b[:4])
		}
		if n := testing.AllocsPerRun(10, func() { SniffDatagram(b) }); n != 0 {
			t.Errorf("SniffDatagram(% x): %v allocations", b[:4], n)
		}
	}
}

package pcapgen

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// DNSCase is one hostile DNS exchange over UDP. QName and Answers are what
// TShark 4.0.17 shows (dns.qry.name, dns.a) for the response.
type DNSCase struct {
	Name            string
	ID              uint16
	Query, Response []byte
	// QName is the question name; "" when it cannot be decoded (tshark
	// shows "<Name contains a pointer that loops>").
	QName string
	// Answers are the A records decoded from the response: a looping
	// name does not hide the records after it.
	Answers []string
	// BadQuery and BadResponse tell which messages are malformed.
	BadQuery, BadResponse bool
}

// maxPointers is how many compression pointers tshark (and parsers/dns)
// follow in one name.
const maxPointers = 255

// HostileDNSCases returns DNS messages that look malformed to a strict
// decoder but are not, and some that really are:
//
//   - forward-pointer: the question name is "www" and a pointer forward to
//     "example.com" placed in a later record (scanners send these; tshark
//     decodes them);
//   - forward-chain: the name is a chain of 10 forward pointers;
//   - chain-at-cap: a chain of 254 pointers, so that the answer's owner
//     name, a pointer to the question name, follows 255: tshark's limit;
//   - pointer-loop: two pointers pointing at each other;
//   - chain-too-long: 256 pointers, one over the limit;
//   - label-loop: a label then a pointer back to it, a.a.a... for ever;
//   - truncated-answer: a good query, and a response cut in its answer.
//
// Each message carries its pointer targets in the rdata of an additional
// record of a private-use type (65280), so the rest of the message parses.
func HostileDNSCases() []DNSCase {
	www := []byte("\x03www")
	exampleCom := []byte("\x07example\x03com\x00")
	chain := func(n int, tail []byte) func(at int) ([]byte, []byte) {
		return func(at int) ([]byte, []byte) {
			var rd []byte
			for i := 1; i < n; i++ {
				rd = binary.BigEndian.AppendUint16(rd, 0xc000|uint16(at+2*i))
			}
			return pointerTo(at), append(rd, tail...)
		}
	}
	cases := []struct {
		name, qname string
		bad         bool
		build       func(at int) (qname, rdata []byte)
	}{
		{"forward-pointer", "www.example.com", false, func(at int) ([]byte, []byte) {
			return append(append([]byte(nil), www...), pointerTo(at)...), exampleCom
		}},
		{"forward-chain", "www.example.com", false, chain(10, append(append([]byte(nil), www...), exampleCom...))},
		{"chain-at-cap", "www.example.com", false, chain(maxPointers-1, append(append([]byte(nil), www...), exampleCom...))},
		{"pointer-loop", "", true, func(at int) ([]byte, []byte) {
			return pointerTo(at), pointerTo(12)
		}},
		{"chain-too-long", "", true, chain(maxPointers+1, exampleCom)},
		{"label-loop", "", true, func(at int) ([]byte, []byte) {
			return append([]byte("\x01a"), pointerTo(12)...), nil
		}},
	}
	var out []DNSCase
	for i, c := range cases {
		id := uint16(0x5100 + i)
		out = append(out, DNSCase{Name: c.name, ID: id, QName: c.qname, Answers: []string{"192.0.2.1"}, BadQuery: c.bad, BadResponse: c.bad,
			Query: hostileDNS(id, false, c.build), Response: hostileDNS(id, true, c.build)})
	}
	// A good query; its response ends 2 bytes into the answer's address.
	good := func(at int) ([]byte, []byte) { return append(append([]byte(nil), www...), exampleCom...), nil }
	id := uint16(0x5100 + len(cases))
	resp := hostileDNS(id, true, good)
	out = append(out, DNSCase{Name: "truncated-answer", ID: id, QName: "www.example.com", BadResponse: true,
		Query: hostileDNS(id, false, good), Response: resp[:len(resp)-11-2]})
	return out
}

func pointerTo(at int) []byte { return binary.BigEndian.AppendUint16(nil, 0xc000|uint16(at)) }

// hostileDNS builds a message: the question, in a response an A answer
// whose owner points to the question, then an additional record whose
// rdata starts at the offset build is given. build returns the question
// name and that rdata; the name's length may not depend on the offset.
func hostileDNS(id uint16, response bool, build func(at int) (qname, rdata []byte)) []byte {
	q, _ := build(0)
	at := 12 + len(q) + 4 + 11 // the additional record's rdata: after its root owner, type, class, TTL, length
	var an uint16
	if response {
		at += 16
		an = 1
	}
	q, rd := build(at)
	flags := uint16(0x0100) // RD
	if response {
		flags = 0x8180 // QR RD RA
	}
	b := binary.BigEndian.AppendUint16(nil, id)
	for _, v := range []uint16{flags, 1, an, 0, 1} {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	b = append(append(b, q...), 0, 1, 0, 1) // type A, class IN
	if response {
		b = append(b, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1) // -> question name, A 192.0.2.1, TTL 60
	}
	b = append(b, 0, 0xff, 0, 0, 1, 0, 0, 0, 0) // root owner, TYPE65280, IN, TTL 0
	b = binary.BigEndian.AppendUint16(b, uint16(len(rd)))
	return append(b, rd...)
}

// HostileDNS is every HostileDNSCases exchange over UDP, one client port
// per case, a second apart, in Ethernet frames.
func HostileDNS() Capture {
	var pkts []Packet
	for i, c := range HostileDNSCases() {
		client := netip.AddrPortFrom(dnsC.Addr(), uint16(54000+i))
		pkts = append(pkts, UDPExchange(client, dnsS, Epoch.Add(time.Duration(i)*time.Second), c.Query, c.Response)...)
	}
	return Capture{Name: "dns-hostile.pcap", Link: layers.LinkTypeEthernet, Frames: Frames(pkts, Ethernet),
		Describe: "DNS with forward and chained compression pointers, pointer loops, a cut answer"}
}

// HostileDNSBadMessages is how many messages of HostileDNSCases are
// malformed: what a replay of HostileDNS counts as DNS parser errors.
func HostileDNSBadMessages() int {
	n := 0
	for _, c := range HostileDNSCases() {
		for _, bad := range []bool{c.BadQuery, c.BadResponse} {
			if bad {
				n++
			}
		}
	}
	return n
}

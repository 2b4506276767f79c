package app

import (
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/dns"
	phttp "github.com/packetsleuth/packetsleuth/parsers/http"
	"github.com/packetsleuth/packetsleuth/parsers/quic"
	ptls "github.com/packetsleuth/packetsleuth/parsers/tls"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// dnsTimeout is how long a DNS query waits for its answer (packet time)
// before it is emitted as unanswered; a flow that ends first emits its
// pending queries then.
const dnsTimeout = 10 * time.Second

// dnsPorts are DNS, mDNS and LLMNR.
func dnsPort(p uint16) bool { return p == 53 || p == 5353 || p == 5355 }

// udp handles one datagram.
func (st *state) udp(d parsers.Dir, p *decode.Packet) {
	a := st.a
	if st.proto == "" {
		switch {
		case dnsPort(p.SrcPort) || dnsPort(p.DstPort):
			st.dns = dns.NewConn(a.cfg.DNSPending, st.emitDNS)
			st.detected("dns")
		case d == parsers.ToServer && quic.Sniff(p.Payload):
			st.quic = &quic.CryptoAssembler{}
			st.detected("quic")
		default:
			st.dead = true
			return
		}
	}
	switch {
	case st.dns != nil:
		if err := st.dns.Datagram(p.Payload, p.Timestamp); err != nil {
			a.stats.ParserErrors["dns"]++
		}
		if st.dns.Pairer.Pending() > 0 {
			st.dns.Pairer.Expire(p.Timestamp, dnsTimeout) // unanswered queries, in packet time
		}
	case st.quic != nil && d == parsers.ToServer:
		if err := quic.ParseInitial(p.Payload, st.quic); err != nil {
			a.stats.ParserErrors["quic"]++
			st.dead = true
			return
		}
		if st.quic.Complete() {
			st.emitQUIC(p.Timestamp)
			st.dead = true
		}
	}
}

// Data receives a TCP direction's in-order bytes from the reassembler. The
// first bytes decide the protocol: HTTP or TLS on any port, DNS on its ports.
func (st *state) Data(d parsers.Dir, b []byte, ts time.Time) error {
	if st.parser == nil {
		if st.dead || len(b) == 0 {
			return nil
		}
		if !st.choose(d, b) {
			st.dead = true
			return nil
		}
	}
	err := st.parser.Data(d, b, ts)
	if err != nil {
		st.a.stats.ParserErrors[st.proto]++
	}
	return err
}

func (st *state) choose(d parsers.Dir, b []byte) bool {
	a := st.a
	if _, ok := phttp.Sniff(b); ok {
		st.parser = phttp.NewConn(a.cfg.HTTP, st.emitHTTP)
		st.detected("http")
		return true
	}
	if d == parsers.ToServer && ptls.Sniff(b) {
		st.parser = ptls.NewConn(a.cfg.TLS, st.emitTLS)
		st.detected("tls")
		return true
	}
	if dnsPort(st.f.Orig.Port) || dnsPort(st.f.Resp.Port) {
		st.parser = dns.NewConn(a.cfg.DNSPending, st.emitDNS)
		st.detected("dns")
		return true
	}
	return false
}

// Gap reports bytes the reassembler never saw.
func (st *state) Gap(d parsers.Dir, n int, ts time.Time) {
	if st.parser != nil {
		st.parser.Gap(d, n, ts)
	}
}

// End closes the parser, which emits what it still holds.
func (st *state) End(ts time.Time) {
	if st.parser != nil {
		st.parser.End(ts)
	}
}

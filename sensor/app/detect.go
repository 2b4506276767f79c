package app

import (
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/dhcp"
	pkrb "github.com/packetsleuth/packetsleuth/parsers/kerberos"
	"github.com/packetsleuth/packetsleuth/parsers/ntp"
	"github.com/packetsleuth/packetsleuth/parsers/quic"
	"github.com/packetsleuth/packetsleuth/parsers/snmp"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// dnsTimeout is how long a DNS query waits for its answer (packet time)
// before it is emitted as unanswered; a flow that ends first emits its
// pending queries then.
const dnsTimeout = 10 * time.Second

// udpSniffs is how many datagrams of a UDP flow the sniffers judge before
// the flow is left unparsed.
const udpSniffs = 4

// dnsPorts are DNS, mDNS and LLMNR.
func dnsPort(p uint16) bool { return p == 53 || p == 5353 || p == 5355 }

// udp handles one datagram.
func (st *state) udp(d parsers.Dir, p *decode.Packet) {
	a := st.a
	if st.proto == "" {
		switch {
		case dhcp.Sniff(p.Payload) == parsers.Yes:
			st.detected("dhcp", false)
		case sipSniff(p.Payload):
			st.detected("sip", false)
		case dnsPort(p.SrcPort) || dnsPort(p.DstPort):
			st.detected("dns", false)
		case dhcp.Sniff6(p.Payload):
			st.detected("dhcpv6", false)
		case d == parsers.ToServer && pkrb.SniffDatagram(p.Payload):
			st.krb = st.newKerberos()
			st.detected("kerberos", false)
		case d == parsers.ToServer && quic.Sniff(p.Payload):
			st.quic = &quic.CryptoAssembler{}
			st.detected("quic", false)
		case ntp.Sniff(p.Payload):
			st.detected("ntp", false)
		case snmp.Sniff(p.Payload):
			st.detected("snmp", false)
		default:
			// Datagrams stand alone: a server drops one it cannot read,
			// so a client may send junk before its first real datagram.
			// The flow is given up only after udpSniffs of them.
			if st.junk++; st.junk >= udpSniffs {
				st.dead = true
			}
			return
		}
	}
	switch {
	case st.proto == "dhcp":
		st.dhcpDatagram(p)
	case st.proto == "sip":
		st.sipDatagram(p)
	case st.proto == "dhcpv6":
		st.dhcp6Datagram(p)
	case st.proto == "ntp":
		st.ntpDatagram(p)
	case st.proto == "snmp":
		st.snmpDatagram(p)
	case st.proto == "dns":
		st.dnsDatagram(p)
	case st.krb != nil:
		_ = st.krb.Datagram(p.Payload, p.Timestamp) // errors go to krbError
		if st.krb.Pending() > 0 {
			st.krb.Expire(p.Timestamp, krbTimeout)
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

// datagramError counts a datagram that did not parse as its flow's
// protocol proto and reports it as an anomaly.
func (st *state) datagramError(proto string, err error, ts time.Time) {
	st.a.stats.ParserErrors[proto]++
	st.a.anom.Report(anomaly.ParserError, st.f, ts, err.Error())
}

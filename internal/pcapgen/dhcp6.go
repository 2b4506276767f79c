package pcapgen

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"time"
)

// DHCPv6 builders (RFC 8415). An option is its code and value; the
// builders below make the values.

// DHCP6Option is one option of a generated DHCPv6 message.
type DHCP6Option struct {
	Code  uint16
	Value []byte
}

func appendOptions6(b []byte, opts []DHCP6Option) []byte {
	for _, o := range opts {
		b = binary.BigEndian.AppendUint16(b, o.Code)
		b = binary.BigEndian.AppendUint16(b, uint16(len(o.Value)))
		b = append(b, o.Value...)
	}
	return b
}

// DHCP6Message builds a client or server message: type, 24-bit xid, options.
func DHCP6Message(typ uint8, xid uint32, opts ...DHCP6Option) []byte {
	b := []byte{typ, byte(xid >> 16), byte(xid >> 8), byte(xid)}
	return appendOptions6(b, opts)
}

// DHCP6Relay wraps inner in a relay message (12 RELAY-FORW, 13
// RELAY-REPL) with its hop count, link and peer addresses, an
// interface-id option and the relay-message option.
func DHCP6Relay(typ, hops uint8, link, peer netip.Addr, inner []byte) []byte {
	b := []byte{typ, hops}
	l, p := link.As16(), peer.As16()
	b = append(append(b, l[:]...), p[:]...)
	return appendOptions6(b, []DHCP6Option{{18, []byte("eth0")}, {9, inner}})
}

// DUIDLLT is a DUID-LLT of an Ethernet address made at time t (seconds
// since 2000).
func DUIDLLT(mac [6]byte, t uint32) []byte {
	b := []byte{0, 1, 0, 1}
	b = binary.BigEndian.AppendUint32(b, t)
	return append(b, mac[:]...)
}

// DUIDLL is a DUID-LL of an Ethernet address.
func DUIDLL(mac [6]byte) []byte { return append([]byte{0, 3, 0, 1}, mac[:]...) }

// DUIDEN is a DUID-EN: enterprise number and identifier.
func DUIDEN(enterprise uint32, id []byte) []byte {
	return append(binary.BigEndian.AppendUint32([]byte{0, 2}, enterprise), id...)
}

// IANA is an IA_NA option (or IA_PD with code 25) holding opts.
func IANA(code uint16, iaid, t1, t2 uint32, opts ...DHCP6Option) DHCP6Option {
	b := binary.BigEndian.AppendUint32(nil, iaid)
	b = binary.BigEndian.AppendUint32(b, t1)
	b = binary.BigEndian.AppendUint32(b, t2)
	return DHCP6Option{code, appendOptions6(b, opts)}
}

// IAAddr6 is an IA address option.
func IAAddr6(a netip.Addr, preferred, valid uint32) DHCP6Option {
	v := a.As16()
	b := binary.BigEndian.AppendUint32(v[:], preferred)
	return DHCP6Option{5, binary.BigEndian.AppendUint32(b, valid)}
}

// IAPrefix6 is an IA prefix option.
func IAPrefix6(p netip.Prefix, preferred, valid uint32) DHCP6Option {
	b := binary.BigEndian.AppendUint32(nil, preferred)
	b = binary.BigEndian.AppendUint32(b, valid)
	a := p.Addr().As16()
	return DHCP6Option{26, append(append(b, byte(p.Bits())), a[:]...)}
}

// ClientFQDN6 is a client FQDN option (flags, then the name in DNS wire
// format with its root label).
func ClientFQDN6(flags uint8, name string) DHCP6Option {
	b := []byte{flags}
	for _, l := range strings.Split(name, ".") {
		b = append(append(b, byte(len(l))), l...)
	}
	return DHCP6Option{39, append(b, 0)}
}

// VendorClass6 is a vendor class option with one data item.
func VendorClass6(enterprise uint32, data string) DHCP6Option {
	b := binary.BigEndian.AppendUint32(nil, enterprise)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return DHCP6Option{16, append(b, data...)}
}

// DHCP6 scenario addresses: a client on fe80::9ab1:1cff:fe99:4929
// (MAC 90:b1:1c:99:49:29) leased DHCP6Leased by server fe80::1.
var (
	DHCP6ClientMAC = [6]byte{0x90, 0xb1, 0x1c, 0x99, 0x49, 0x29}
	DHCP6Leased    = netip.MustParseAddr("2001:db8:0:1::1a")
	dhcp6Client    = netip.MustParseAddrPort("[fe80::9ab1:1cff:fe99:4929]:546")
	dhcp6Server    = netip.MustParseAddrPort("[fe80::1]:547")
	dhcp6Group     = netip.MustParseAddrPort("[ff02::1:2]:547")
	dhcp6Relay     = netip.MustParseAddrPort("[2001:db8:0:1::1]:547")
	dhcp6Central   = netip.MustParseAddrPort("[2001:db8::547]:547")
)

// DHCP6Lifecycle is one client's DHCPv6 life from t: SOLICIT, ADVERTISE,
// REQUEST, REPLY (DHCP6Leased for 7200 s, FQDN ws42.corp.example), RENEW
// and REPLY, REBIND and a REPLY delegating a prefix, INFORMATION-REQUEST
// and REPLY, DECLINE, then a relayed SOLICIT and a relayed REPLY refusing
// with NoAddrsAvail, and RELEASE. Every message of the client carries its
// DUID-LLT.
func DHCP6Lifecycle(t time.Time) []Packet {
	duid := DUIDLLT(DHCP6ClientMAC, 0x2a3b4c5d)
	client := DHCP6Option{1, duid}
	server := DHCP6Option{2, DUIDLL([6]byte{0, 0x5e, 0, 0x53, 0, 1})}
	fqdn := ClientFQDN6(1, "ws42.corp.example")
	vendor := VendorClass6(311, "MSFT 5.0")
	oro := DHCP6Option{6, []byte{0, 23, 0, 24, 0, 39}}
	lease := IANA(3, 0x0e000c29, 3600, 5760, IAAddr6(DHCP6Leased, 3600, 7200))
	pd := IANA(25, 7, 900, 1400, IAPrefix6(netip.MustParsePrefix("2001:db8:ff00::/56"), 1800, 3600))
	noAddrs := DHCP6Option{13, append([]byte{0, 2}, "no addresses"...)}
	relayed := DHCP6Relay(12, 0, netip.MustParseAddr("2001:db8:0:2::"), netip.MustParseAddr("fe80::2"),
		DHCP6Message(1, 0x0c0c0c, DHCP6Option{1, DUIDLL([6]byte{2, 0, 0, 0, 0, 2})}, IANA(3, 2, 0, 0)))
	refused := DHCP6Relay(13, 0, netip.MustParseAddr("2001:db8:0:2::"), netip.MustParseAddr("fe80::2"),
		DHCP6Message(7, 0x0c0c0c, DHCP6Option{1, DUIDLL([6]byte{2, 0, 0, 0, 0, 2})}, server, IANA(3, 2, 0, 0, noAddrs)))
	msgs := []struct {
		src, dst netip.AddrPort
		b        []byte
	}{
		{dhcp6Client, dhcp6Group, DHCP6Message(1, 0x1d1cf1, client, IANA(3, 0x0e000c29, 0, 0), fqdn, vendor, oro)},
		{dhcp6Server, dhcp6Client, DHCP6Message(2, 0x1d1cf1, client, server, lease)},
		{dhcp6Client, dhcp6Group, DHCP6Message(3, 0x2e2e2e, client, server, lease, fqdn, vendor, oro)},
		{dhcp6Server, dhcp6Client, DHCP6Message(7, 0x2e2e2e, client, server, lease, fqdn)},
		{dhcp6Client, dhcp6Group, DHCP6Message(5, 0x3f3f3f, client, server, lease)},
		{dhcp6Server, dhcp6Client, DHCP6Message(7, 0x3f3f3f, client, server, lease)},
		{dhcp6Client, dhcp6Group, DHCP6Message(6, 0x404040, client, pd)},
		{dhcp6Server, dhcp6Client, DHCP6Message(7, 0x404040, client, server, pd)},
		{dhcp6Client, dhcp6Group, DHCP6Message(11, 0x515151, client, oro, vendor)},
		{dhcp6Server, dhcp6Client, DHCP6Message(7, 0x515151, client, server)},
		{dhcp6Client, dhcp6Group, DHCP6Message(9, 0x626262, client, server, IANA(3, 9, 0, 0, IAAddr6(netip.MustParseAddr("2001:db8:0:1::99"), 0, 0)))},
		{dhcp6Relay, dhcp6Central, relayed},
		{dhcp6Central, dhcp6Relay, refused},
		{dhcp6Client, dhcp6Group, DHCP6Message(8, 0x737373, client, server, lease)},
	}
	pkts := make([]Packet, len(msgs))
	for i, m := range msgs {
		pkts[i] = UDPDatagram(m.src, m.dst, t.Add(time.Duration(i)*time.Second), m.b)
	}
	return pkts
}

package pcapgen

import (
	"net/netip"
	"slices"
	"time"
)

// WorkerClocks is traffic whose events depend on when each worker sweeps
// its idle flows, and in what order a rule's shared threshold state sees
// flows of several workers:
//   - 60 UDP exchanges of distinct clients in the first second, then
//     silence on them: they time out at the first sweep past the UDP
//     timeout (a minute);
//   - a vertical port scan: one source sends a SYN to each of 25 ports of
//     one host (the shipped rule's threshold) within a second, every one
//     answered by RST-ACK, so the closed flows end at one or two sweeps,
//     5 s later, in every worker at once;
//   - one UDP flow that keeps sending, a packet every 500 ms for 90 s: its
//     worker's packets carry the clock past those timeouts. A worker
//     sweeping only on its own packets never sees that time, and ends
//     its idle flows at the end of input instead.
//
// The 5-tuples spread over any number of workers; packets are in time order.
func WorkerClocks() []Packet {
	var pkts []Packet
	t := Epoch
	for i := range 60 {
		cli := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 20, byte(i / 200), byte(10 + i%200)}), uint16(40000+i))
		srv := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 21, 0, byte(1 + i%5)}), 7100+uint16(i%3))
		pkts = append(pkts, UDPExchange(cli, srv, t.Add(time.Duration(i)*10*time.Millisecond), []byte("ping"), []byte("pong"))...)
	}
	scanner, target := netip.MustParseAddr("10.20.9.9"), netip.MustParseAddr("198.51.100.7")
	for i := range 25 {
		c := NewTCPConn(netip.AddrPortFrom(scanner, 55000), netip.AddrPortFrom(target, uint16(20+i)), t.Add(200*time.Millisecond+time.Duration(i)*20*time.Millisecond))
		c.Step = 50 * time.Microsecond
		pkts = append(pkts, c.Send(true, fSYN, nil).Send(false, fRST|fACK, nil).Packets...)
	}
	a, b := netip.MustParseAddrPort("10.20.7.7:7000"), netip.MustParseAddrPort("10.21.7.7:7001")
	for i := range 180 {
		pkts = append(pkts, UDPExchange(a, b, t.Add(time.Second+time.Duration(i)*500*time.Millisecond), []byte("tick"), nil)[0])
	}
	slices.SortStableFunc(pkts, func(x, y Packet) int { return x.Time.Compare(y.Time) })
	return pkts
}

// Probes is n unanswered TCP SYNs to dst from n distinct sources, one a
// microsecond from t: new flows that cost a sensor memory and give nothing
// back.
func Probes(n int, dst netip.AddrPort, t time.Time) []Packet {
	pkts := make([]Packet, 0, n)
	for i := range n {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 30 + byte(i>>16), byte(i >> 8), byte(i)}), 40000)
		c := NewTCPConn(src, dst, t.Add(time.Duration(i)*time.Microsecond))
		pkts = append(pkts, c.Send(true, fSYN, nil).Packets...)
	}
	return pkts
}

// The captures below each hold state that spans host pairs, which
// several workers (each owning some pairs) must use in packet order to
// give one worker's events.

// RogueDHCPAnswers is a DHCP server no list allows answering n clients,
// one every 100 ms: an OFFER to broadcast, then an ACK to the client's
// new address. The shipped rule PS-DHCP-001 suppresses by server (for a
// day): of its 2n answers over n+1 host pairs, the first (an OFFER) is
// the one alert.
func RogueDHCPAnswers(n int) []Packet {
	server := netip.MustParseAddrPort("192.0.2.66:67")
	bcast := netip.MustParseAddrPort("255.255.255.255:68")
	var pkts []Packet
	for i := range n {
		mac := [6]byte{0x02, 0, 0, 0, 0x10, byte(i)}
		ip := netip.AddrFrom4([4]byte{10, 40, 0, byte(10 + i)})
		t := Epoch.Add(time.Duration(i) * 100 * time.Millisecond)
		pkts = append(pkts,
			UDPDatagram(server, bcast, t, DHCPMessage(2, uint32(i), mac, ip, dhcpOpt(53, 2), dhcpOpt(54, 192, 0, 2, 66))),
			UDPDatagram(server, netip.AddrPortFrom(ip, 68), t.Add(time.Millisecond), DHCPMessage(2, uint32(i), mac, ip, dhcpOpt(53, 5), dhcpOpt(54, 192, 0, 2, 66), dhcpOpt(51, 0, 0, 0x0e, 0x10))))
	}
	return pkts
}

// NamedClients is n clients, one every 100 ms, each naming itself in a
// REQUEST (from 0.0.0.0 to broadcast), acknowledged by unicast from the
// server, then sending a datagram to another host: the host table names
// the ACK and that traffic, other pairs', from the REQUEST.
func NamedClients(n int) []Packet {
	server := netip.MustParseAddrPort("192.168.50.1:67")
	var pkts []Packet
	for i := range n {
		mac := [6]byte{0x02, 0, 0, 0, 0x20, byte(i)}
		ip := netip.AddrFrom4([4]byte{192, 168, 50, byte(10 + i)})
		name := []byte("client-" + string(rune('a'+i%26)))
		t := Epoch.Add(time.Duration(i) * 100 * time.Millisecond)
		pkts = append(pkts,
			UDPDatagram(netip.MustParseAddrPort("0.0.0.0:68"), netip.MustParseAddrPort("255.255.255.255:67"), t,
				DHCPMessage(1, uint32(i), mac, netip.Addr{}, dhcpOpt(53, 3), DHCPOption{Code: 12, Value: name})),
			UDPDatagram(server, netip.AddrPortFrom(ip, 68), t.Add(time.Millisecond),
				DHCPMessage(2, uint32(i), mac, ip, dhcpOpt(53, 5), dhcpOpt(54, 192, 168, 50, 1), dhcpOpt(51, 0, 0, 0x0e, 0x10))))
		pkts = append(pkts, UDPExchange(netip.AddrPortFrom(ip, 5000), netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 7000), t.Add(2*time.Millisecond), []byte("hi"), nil)[0])
	}
	return pkts
}

// ResetsAcrossPairs is n HTTP sessions of distinct host pairs in each of
// two seconds, each with a RST outside the server's window: more
// tcp.rst_ignored anomalies a second than their rate limit (20) lets
// through, the count held back carried by the next second's first.
func ResetsAcrossPairs(n int) []Packet {
	var pkts []Packet
	for s := range 2 {
		for i := range n {
			client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 50, byte(s), byte(10 + i)}), 41000)
			server := netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(10 + i)}), 80)
			t := Epoch.Add(time.Duration(s)*time.Second + time.Duration(i)*time.Duration(int(time.Second)/(2*n)))
			pkts = append(pkts, ResetSession(client, server, t, ResetOutOfWindow)...)
		}
	}
	slices.SortStableFunc(pkts, func(x, y Packet) int { return x.Time.Compare(y.Time) })
	return pkts
}

func dhcpOpt(code uint8, v ...byte) DHCPOption { return DHCPOption{Code: code, Value: v} }

// HorizontalScans is scanners sources each sending a SYN to port 445 of
// the same hosts hosts, unanswered, the scanners in turn host by host,
// one SYN a microsecond from t: every flow is open at the end of input
// (and any timeout), and each scanner crosses the shipped horizontal scan
// threshold (PS-NET-003, 20 hosts) at its 20th, across many host pairs.
func HorizontalScans(scanners, hosts int, t time.Time) []Packet {
	pkts := make([]Packet, 0, scanners*hosts)
	for h := range hosts {
		dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 50, byte(h >> 8), byte(h)}), 445)
		for s := range scanners {
			src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 60, byte(s >> 8), byte(s)}), 50000)
			c := NewTCPConn(src, dst, t.Add(time.Duration(len(pkts))*time.Microsecond))
			pkts = append(pkts, c.Send(true, fSYN, nil).Packets...)
		}
	}
	return pkts
}

package pcapgen

import (
	"net/netip"
	"time"
)

// DHCPFlood is DHCP-looking traffic an attacker sends to make a sensor's
// workers wait for each other (each DHCP message that may teach the host
// table is read by all in packet order), mixed with ordinary traffic,
// spread over `pairs` address pairs. Each of `perSecond` steps a second,
// for `seconds` seconds from Epoch, sends:
//   - a DHCP ACK granting an address, from UDP port 6767 to 6768: the
//     magic cookie on ports that are not DHCP's;
//   - an OFFER from port 67 to 68: DHCP that teaches a host table nothing;
//   - a REQUEST naming its client (option 12), from 68 to 67, then the
//     server's ACK granting a distinct address, from 67 to 68: real-looking
//     DHCP that does teach it;
//   - a UDP exchange between two ordinary hosts.
//
// So 2·perSecond messages a second can teach a host table.
func DHCPFlood(pairs, perSecond, seconds int) []Packet {
	step := time.Second / time.Duration(perSecond)
	pkts := make([]Packet, 0, perSecond*seconds*6)
	for i := range perSecond * seconds {
		t := Epoch.Add(time.Duration(i) * step)
		p := i % pairs
		client := netip.AddrFrom4([4]byte{10, 60, byte(p >> 8), byte(p)})
		server := netip.AddrFrom4([4]byte{10, 61, byte(p >> 8), byte(p)})
		leased := netip.AddrFrom4([4]byte{10, 62 + byte(i>>16), byte(i >> 8), byte(i)})
		mac := [6]byte{0x02, 0x60, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
		ack := DHCPMessage(2, uint32(i), mac, leased, dhcpOpt(53, 5), dhcpOpt(54, server.AsSlice()...), dhcpOpt(51, 0, 0, 0x0e, 0x10))
		offer := DHCPMessage(2, uint32(i), mac, leased, dhcpOpt(53, 2), dhcpOpt(54, server.AsSlice()...))
		request := DHCPMessage(1, uint32(i), mac, netip.Addr{}, dhcpOpt(53, 3), dhcpOpt(12, []byte("flood-host")...), dhcpOpt(50, leased.AsSlice()...))
		pkts = append(pkts,
			UDPDatagram(netip.AddrPortFrom(server, 6767), netip.AddrPortFrom(client, 6768), t, ack),
			UDPDatagram(netip.AddrPortFrom(server, 67), netip.AddrPortFrom(client, 68), t.Add(step/5), offer),
			UDPDatagram(netip.AddrPortFrom(client, 68), netip.AddrPortFrom(server, 67), t.Add(2*step/5), request),
			UDPDatagram(netip.AddrPortFrom(server, 67), netip.AddrPortFrom(client, 68), t.Add(3*step/5), ack),
			UDPDatagram(netip.AddrPortFrom(client, 40000), netip.AddrPortFrom(server, 7000), t.Add(4*step/5), []byte("ping")),
			UDPDatagram(netip.AddrPortFrom(server, 7000), netip.AddrPortFrom(client, 40000), t.Add(9*step/10), []byte("pong")))
	}
	return pkts
}

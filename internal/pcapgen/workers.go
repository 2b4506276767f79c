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

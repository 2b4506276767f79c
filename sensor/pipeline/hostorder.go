package pipeline

import (
	"runtime"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/dhcp"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// The host table (Config.Hosts) learns from DHCP and names every event's
// hosts, whatever their pair: a DHCP request (from 0.0.0.0 to broadcast)
// names a client whose answer, and later traffic, are other pairs', so
// other workers'. With several workers replaying, the table is used in
// packet order: a worker given a DHCP packet waits until the others are
// past it, and a worker given anything after a DHCP packet of another
// worker waits until that one is read. DHCP is rare; the waits are short
// and only around it.

// hostWait is one such wait, before pkts[at] (or after the last):
// barrier, until every other worker is past packet n (a DHCP packet);
// else until worker of has read packet dhcp.
type hostWait struct {
	at      int
	n       uint64 // the number of the packet at at (or of the next one)
	dhcp    uint64
	of      int
	barrier bool
}

// learnsHosts reports whether p may teach the host table: DHCP by its
// content (as the analyzer finds it), DHCPv6 on its ports.
func learnsHosts(p *decode.Packet) bool {
	if p.Proto != decode.ProtoUDP {
		return false
	}
	if dhcp.Sniff(p.Payload) == parsers.Yes {
		return true
	}
	return (p.SrcPort == 546 || p.SrcPort == 547 || p.DstPort == 546 || p.DstPort == 547) && dhcp.Sniff6(p.Payload)
}

// ordersHosts says whether the feeder orders the host table's uses.
func (f *Feeder) ordersHosts() bool { return f.p.seq != nil && f.p.cfg.Hosts != nil }

// awaitDHCP makes worker j, before what comes next in b, wait for the last
// DHCP packet another worker was given.
func (f *Feeder) awaitDHCP(j int, b *batch, n uint64) {
	if f.dhcp > f.toldDHCP[j] {
		f.toldDHCP[j] = f.dhcp
		if f.dhcpOf != j {
			b.waits = append(b.waits, hostWait{at: len(b.pkts), n: n, dhcp: f.dhcp, of: f.dhcpOf})
		}
	}
}

// hostWaits orders packet pkt, about to go to worker i, with the host
// table's uses by other workers.
func (f *Feeder) hostWaits(i int, b *batch, pkt *decode.Packet) {
	f.awaitDHCP(i, b, pkt.Number)
	if learnsHosts(pkt) {
		b.waits = append(b.waits, hostWait{at: len(b.pkts), n: pkt.Number, barrier: true})
		f.dhcp, f.dhcpOf, f.toldDHCP[i] = pkt.Number, i, pkt.Number
	}
}

// Progress: a worker's passed is 2n when it has done all it was given
// before the sweep ahead of packet n, 2n+1 when also that sweep. It says
// so after each batch and before each wait, which is all the others
// need: a worker either runs on to its batch's end or waits.
func sweepMark(n uint64) uint64  { return 2 * n }
func packetMark(n uint64) uint64 { return 2*n + 1 }

// hostWait waits as hw says.
func (w *worker) hostWait(hw *hostWait) {
	w.passed.Store(sweepMark(hw.n))
	if hw.barrier {
		for _, o := range w.peers {
			if o != w {
				await(func() bool { return o.passed.Load() >= packetMark(hw.n) })
			}
		}
		return
	}
	o := w.peers[hw.of]
	await(func() bool { return o.passed.Load() > packetMark(hw.dhcp) })
}

// await returns once ok does: it yields, then sleeps a little between looks.
func await(ok func() bool) {
	for spins := 0; !ok(); spins++ {
		if spins < 64 {
			runtime.Gosched()
		} else {
			time.Sleep(20 * time.Microsecond)
		}
	}
}

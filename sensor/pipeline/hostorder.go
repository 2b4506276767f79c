package pipeline

import (
	"errors"
	"runtime"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/dhcp"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/hosts"
)

// The host table (Config.Hosts) learns from DHCP and names every event's
// hosts, whatever their pair: a DHCP request (from 0.0.0.0 to broadcast)
// names a client whose answer, and later traffic, are other pairs', so
// other workers'. With several workers replaying, the table is used in
// packet order: a worker given a DHCP packet that teaches the table waits
// until the others are past it (a barrier), and a worker given anything
// after such a packet of another worker waits until that one is read.
//
// An attacker can send DHCP-looking datagrams as fast as any, so only
// what can teach the table makes the workers wait: a DHCPv4 message on
// port 67 or 68, a DHCPv6 one on 546 or 547, of a type and with the
// fields the table learns from (hosts.Table.Teaches4, Teaches6: answers
// only from the servers it allows), within the table's learning rates
// (hosts.Table.Admit, hosts.max_learn_rate clients' messages and as many
// servers' answers a second of packet time). The feeder decides so in
// packet order, for one worker as for several (decode.Packet.TeachesHosts),
// and a worker learns from no other packet: any number of workers learn
// alike. Past a rate, the first message refused in each second is
// reported (limit.hosts, on its flow).

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

// learnRateDetail is the limit.hosts anomaly's detail past the rate.
const learnRateDetail = "DHCP past hosts.max_learn_rate messages a second: not learnt from"

// hostMessages are the feeder's DHCP messages, parsed to judge a packet.
type hostMessages struct {
	v4 dhcp.Message
	v6 dhcp.Message6
}

// teachesHosts reports whether p is a DHCP message the host table learns
// from, taking it from the table's learning rate; p is marked with a
// limit.hosts anomaly when it is the first refused in its second.
func (f *Feeder) teachesHosts(p *decode.Packet) bool {
	h := f.p.cfg.Hosts
	if h == nil || p.Proto != decode.ProtoUDP || p.Fault != decode.NoFault {
		return false
	}
	ok, first := h.Admit(f.hostMsgs.teach(h, p), p.Timestamp)
	if first {
		p.Anomalies.Add(anomaly.HostLimit)
	}
	return ok
}

// teach says whether UDP datagram p carries a DHCP message that can
// change host table h, read as the application layer reads it.
func (m *hostMessages) teach(h *hosts.Table, p *decode.Packet) hosts.Teaching {
	switch {
	case p.SrcPort == 67 || p.SrcPort == 68 || p.DstPort == 67 || p.DstPort == 68:
		if dhcp.Sniff(p.Payload) != parsers.Yes {
			return hosts.TeachesNothing
		}
		if err := dhcp.Parse(p.Payload, &m.v4); err == nil || errors.Is(err, dhcp.ErrTruncated) {
			return h.Teaches4(&m.v4, p.Src)
		}
	case p.SrcPort == 546 || p.SrcPort == 547 || p.DstPort == 546 || p.DstPort == 547:
		_ = dhcp.Parse6(p.Payload, &m.v6) // a message cut short still gives its event
		if m.v6.Type != 0 {
			return h.Teaches6(&m.v6, p.Src)
		}
	}
	return hosts.TeachesNothing
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
	if pkt.TeachesHosts {
		b.waits = append(b.waits, hostWait{at: len(b.pkts), n: pkt.Number, barrier: true})
		f.dhcp, f.dhcpOf, f.toldDHCP[i] = pkt.Number, i, pkt.Number
		f.counts.HostBarriers++
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

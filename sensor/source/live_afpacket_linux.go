//go:build linux

package source

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"
)

const afpacketAvailable = true

// afpacketBlock is the size of one TPACKET_V3 ring block: a multiple of the
// page size that holds the largest snaplen.
const afpacketBlock = 1 << 20

// openAFPacket opens LiveConfig.Fanout sockets (at least one), each with
// its own ring (the buffer size split among them) and the BPF filter; with
// more than one they form a PACKET_FANOUT hash group, so that every frame
// reaches one socket, and every frame of a flow the same socket (the
// kernel's flow hash is symmetric and ignores the ports of IP fragments,
// so the fragments of a datagram also stay together). PACKET_FANOUT_FLAG_DEFRAG
// is not set: with it the kernel would hand over reassembled datagrams
// instead of the fragments on the wire, so the frame counts, the
// decoder's fragment checks (overlaps, incomplete datagrams) and the
// events would no longer be those of a replay of the same traffic.
func (l *Live) openAFPacket() error {
	link := layers.LinkTypeEthernet
	if b, err := os.ReadFile("/sys/class/net/" + l.cfg.Interface + "/type"); err == nil && string(b) == "65534\n" {
		link = layers.LinkTypeRaw // tun devices: no link header
	}
	// The filter's return value is the snaplen, as with libpcap: an empty
	// expression compiles to "accept, keep snaplen bytes".
	prog, err := pcap.CompileBPFFilter(link, l.cfg.Snaplen, l.cfg.BPF)
	if err != nil {
		return err
	}
	raw := make([]bpf.RawInstruction, len(prog))
	for i, in := range prog {
		raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	n := max(l.cfg.Fanout, 1)
	blocks := max(l.cfg.BufferSize/afpacketBlock/n, 2)
	var group uint16
	if n > 1 {
		ifi, err := net.InterfaceByName(l.cfg.Interface)
		if err != nil {
			return err
		}
		group = fanoutGroups.reserve(uint16(os.Getpid()<<6 ^ ifi.Index))
		release := func() { fanoutGroups.release(group) }
		defer func() {
			if len(l.socks) < n {
				release() // open failed: the caller closes the sockets
			} else {
				closeLast := l.socks[n-1].closeFn
				l.socks[n-1].closeFn = func() { closeLast(); release() }
			}
		}()
	}
	l.link = link
	for i := 0; i < n; i++ {
		tp, err := afpacket.NewTPacket(
			afpacket.OptInterface(l.cfg.Interface),
			afpacket.TPacketVersion3,
			afpacket.OptFrameSize(2048),
			afpacket.OptBlockSize(afpacketBlock),
			afpacket.OptNumBlocks(blocks),
			afpacket.OptPollTimeout(l.cfg.ReadTimeout),
			afpacket.OptAddVLANHeader(true),
		)
		if err != nil {
			return err
		}
		s := &liveSocket{l: l, read: tp.ZeroCopyReadPacketData, closeFn: tp.Close,
			kstats: func() (uint64, uint64, error) {
				_, v3, err := tp.SocketStats()
				return uint64(v3.Drops()), 0, err
			}}
		l.socks = append(l.socks, s)
		if err := tp.SetBPF(raw); err != nil {
			return err
		}
		// The socket was bound before the filter was set: what its ring
		// got until now is unfiltered and uncut.
		s.skipBefore = time.Now().UnixNano()
		if l.cfg.Promisc && i == 0 {
			if err := tp.SetPromiscuous(true); err != nil {
				return err
			}
		}
		if n == 1 {
			continue
		}
		// Until it joins, a socket sees every frame (as the group does):
		// those frames are skipped, except on the first socket.
		joined := time.Now()
		err = tp.SetFanout(afpacket.FanoutHash, group)
		for try := 0; err != nil && i == 0 && try < 16; try++ {
			// The id is taken by another process's group (with other
			// settings, or another interface): pick another.
			fanoutGroups.release(group)
			group = fanoutGroups.reserve(group + 1)
			err = tp.SetFanout(afpacket.FanoutHash, group)
		}
		if err != nil {
			return fmt.Errorf("fanout group %d: %w", group, err)
		}
		if i > 0 {
			s.skipBefore = joined.UnixNano()
		}
	}
	return nil
}

// fanoutGroups are the fanout group ids this process uses. Group ids are
// per network namespace: an id is derived from the process id and the
// interface index, and never given to two open groups of this process.
var fanoutGroups = groupIDs{used: map[uint16]bool{}}

type groupIDs struct {
	mu   sync.Mutex
	used map[uint16]bool
}

// reserve returns the first id from start on that this process does not
// use.
func (g *groupIDs) reserve(start uint16) uint16 {
	g.mu.Lock()
	defer g.mu.Unlock()
	id := start
	for g.used[id] {
		id++
	}
	g.used[id] = true
	return id
}

func (g *groupIDs) release(id uint16) {
	g.mu.Lock()
	delete(g.used, id)
	g.mu.Unlock()
}

func isTimeout(err error) bool {
	return errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, pcap.NextErrorTimeoutExpired)
}

//go:build linux

package source

import (
	"errors"
	"os"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"
)

const afpacketAvailable = true

// afpacketBlock is the size of one TPACKET_V3 ring block: a multiple of the
// page size that holds the largest snaplen.
const afpacketBlock = 1 << 20

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
	blocks := max(l.cfg.BufferSize/afpacketBlock, 2)
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
	raw := make([]bpf.RawInstruction, len(prog))
	for i, in := range prog {
		raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	if err := tp.SetBPF(raw); err != nil {
		tp.Close()
		return err
	}
	if l.cfg.Promisc {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return err
		}
	}
	l.link = link
	l.read = tp.ZeroCopyReadPacketData
	l.kstats = func() (uint64, uint64, error) {
		_, v3, err := tp.SocketStats()
		return uint64(v3.Drops()), 0, err
	}
	l.closeFn = tp.Close
	return nil
}

func isTimeout(err error) bool {
	return errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, pcap.NextErrorTimeoutExpired)
}

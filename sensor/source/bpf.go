package source

import (
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

// Filter applies a tcpdump-syntax BPF expression to frames of any link type,
// compiling it (with libpcap) once per link type met.
type Filter struct {
	expr     string
	compiled map[layers.LinkType]*pcap.BPF
}

// NewFilter checks expr by compiling it for Ethernet, and returns a filter.
// An empty expression is nil: it matches everything.
func NewFilter(expr string) (*Filter, error) {
	if expr == "" {
		return nil, nil
	}
	f := &Filter{expr: expr, compiled: map[layers.LinkType]*pcap.BPF{}}
	if _, err := f.forLink(layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Filter) forLink(lt layers.LinkType) (*pcap.BPF, error) {
	if b, ok := f.compiled[lt]; ok {
		return b, nil
	}
	b, err := pcap.NewBPF(lt, 262144, f.expr)
	if err != nil {
		err = fmt.Errorf("bpf %q for link type %d: %w", f.expr, lt, err)
	}
	f.compiled[lt] = b // nil after an error: such frames never match
	return b, err
}

// Match says whether the frame passes the filter. A nil Filter passes all.
func (f *Filter) Match(fr *Frame) bool {
	if f == nil {
		return true
	}
	b, _ := f.forLink(fr.LinkType)
	if b == nil {
		return false
	}
	ci := gopacket.CaptureInfo{Timestamp: fr.Timestamp, CaptureLength: len(fr.Data), Length: fr.WireLen}
	return b.Matches(ci, fr.Data)
}

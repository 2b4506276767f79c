package pcapgen

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Segmentation is a way an evader re-cuts the data of a TCP conversation
// without changing the byte stream each side receives.
type Segmentation uint8

const (
	// OneByte sends every data byte in a segment of its own, in order.
	OneByte Segmentation = iota
	// Reordered cuts each segment into 3-byte pieces sent in shuffled order.
	Reordered
	// Overlapping sends 4-byte pieces starting every 2 bytes (each byte
	// twice, with the same content), then the whole segment once more.
	Overlapping
	// Conflicting first sends bytes 4 to 7 of each segment of 8 bytes or
	// more with other content ('X'), ahead of the hole before them, then the
	// whole segment: the receiver and the monitor may keep different copies.
	// It is not in Segmentations: the byte stream is not the same.
	Conflicting
)

var segmentationNames = [...]string{"one-byte", "reordered", "overlapping", "conflicting"}

func (s Segmentation) String() string { return segmentationNames[s] }

// Segmentations lists every Segmentation, for tests that try them all.
var Segmentations = []Segmentation{OneByte, Reordered, Overlapping}

// piece is a part of a segment's payload, at offset off; b replaces the
// payload's bytes when set.
type piece struct {
	off, n int
	b      []byte
}

func (s Segmentation) pieces(n int, rng *rand.Rand) []piece {
	var ps []piece
	switch s {
	case OneByte:
		for i := range n {
			ps = append(ps, piece{off: i, n: 1})
		}
	case Reordered:
		for i := 0; i < n; i += 3 {
			ps = append(ps, piece{off: i, n: min(3, n-i)})
		}
		rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	case Overlapping:
		for i := 0; i < n; i += 2 {
			ps = append(ps, piece{off: i, n: min(4, n-i)})
		}
		ps = append(ps, piece{off: 0, n: n})
	case Conflicting:
		if n >= 8 {
			ps = append(ps, piece{off: 4, n: 4, b: []byte("XXXX")})
		}
		ps = append(ps, piece{off: 0, n: n})
	}
	return ps
}

// Resegment re-cuts every TCP segment that carries data in frames (of link
// type link) as s says; other frames are kept as they are. Pieces of a
// segment get times spread between the segment's and the next frame's, so
// the capture stays in time order. The same input and seed give the same
// output.
func Resegment(frames []Frame, link layers.LinkType, s Segmentation, seed uint64) ([]Frame, error) {
	rng := rand.New(rand.NewPCG(seed, 0))
	var out []Frame
	for i, fr := range frames {
		pkt := gopacket.NewPacket(fr.Data, link, gopacket.NoCopy)
		tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil || len(tcp.Payload) == 0 || tcp.SYN || tcp.RST {
			out = append(out, fr)
			continue
		}
		var outer []gopacket.SerializableLayer
		var netLayer gopacket.NetworkLayer
		for _, l := range pkt.Layers() {
			if l == tcp {
				break
			}
			sl, ok := l.(gopacket.SerializableLayer)
			if !ok {
				return nil, fmt.Errorf("frame %d: layer %s cannot be rewritten", i+1, l.LayerType())
			}
			if nl, ok := l.(gopacket.NetworkLayer); ok {
				netLayer = nl
			}
			outer = append(outer, sl)
		}
		if netLayer == nil {
			return nil, fmt.Errorf("frame %d: TCP without a network layer", i+1)
		}
		if ip, ok := netLayer.(*layers.IPv4); ok && (ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0) {
			return nil, fmt.Errorf("frame %d: fragmented TCP", i+1)
		}
		data := tcp.Payload
		ps := s.pieces(len(data), rng)
		step := time.Microsecond
		if i+1 < len(frames) {
			step = min(step, frames[i+1].Time.Sub(fr.Time)/time.Duration(len(ps)+1))
		}
		for j, p := range ps {
			seg := *tcp
			seg.Seq = tcp.Seq + uint32(p.off)
			seg.FIN = tcp.FIN && p.off+p.n == len(data)
			if err := seg.SetNetworkLayerForChecksum(netLayer); err != nil {
				return nil, err
			}
			b := p.b
			if b == nil {
				b = data[p.off : p.off+p.n]
			}
			ls := append(append([]gopacket.SerializableLayer(nil), outer...), &seg, gopacket.Payload(b))
			out = append(out, Frame{Time: fr.Time.Add(time.Duration(j) * step), Data: serialize(ls...)})
		}
	}
	return out, nil
}

// ReadFrames reads a pcap or pcapng capture of one link type.
func ReadFrames(r io.ReadSeeker) (layers.LinkType, []Frame, error) {
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var src source
	var link layers.LinkType
	if pr, err := pcapgo.NewReader(r); err == nil {
		src, link = pr, pr.LinkType()
	} else {
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return 0, nil, err
		}
		nr, err := pcapgo.NewNgReader(r, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return 0, nil, errors.New("neither pcap nor pcapng")
		}
		src, link = nr, nr.LinkType()
	}
	var frames []Frame
	for {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			return link, frames, nil
		}
		if err != nil {
			return 0, nil, err
		}
		frames = append(frames, Frame{Time: ci.Timestamp, Data: append([]byte(nil), data...)})
	}
}

package decode

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// DefragConfig bounds IP fragment reassembly.
type DefragConfig struct {
	Timeout      time.Duration // an incomplete datagram is dropped this long (packet time) after its first fragment
	MaxDatagrams int           // incomplete datagrams held at once; the oldest is dropped beyond
}

// DefaultDefragConfig is what Suricata and Linux use, roughly: 30 s and a few
// thousand datagrams.
var DefaultDefragConfig = DefragConfig{Timeout: 30 * time.Second, MaxDatagrams: 4096}

const maxDatagram = 65535

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

type span struct{ start, end int }

// orderEntry names a datagram by key and first time: a key can come back
// after its datagram completed, and the stale entry must not touch the new one.
type orderEntry struct {
	k     fragKey
	first time.Time
}

type datagram struct {
	first time.Time
	buf   []byte
	have  []span // received ranges, first-wins on overlap
	total int    // length of the whole payload, -1 until the last fragment
}

// Defragmenter rebuilds IPv4 and IPv6 datagrams from their fragments with
// bounded memory. Overlapping bytes keep the first copy received (the policy
// of BSD and Windows, and Suricata's default). Not safe for concurrent use.
type Defragmenter struct {
	cfg     DefragConfig
	pending map[fragKey]*datagram
	order   []orderEntry // datagrams by first fragment time, for expiry and the bound
	out     []byte       // the last reassembled datagram, reused

	Timeouts  uint64 // datagrams dropped incomplete (timeout or bound)
	Overlaps  uint64 // fragments that overlapped bytes already held
	Oversized uint64 // fragments reaching past 65535 bytes
}

// NewDefragmenter returns a reassembler bounded by cfg (zero fields take the
// defaults).
func NewDefragmenter(cfg DefragConfig) *Defragmenter {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultDefragConfig.Timeout
	}
	if cfg.MaxDatagrams <= 0 {
		cfg.MaxDatagrams = DefaultDefragConfig.MaxDatagrams
	}
	return &Defragmenter{cfg: cfg, pending: map[fragKey]*datagram{}}
}

// Pending is the number of incomplete datagrams held.
func (f *Defragmenter) Pending() int { return len(f.pending) }

func (f *Defragmenter) add4(ip *layers.IPv4, ts time.Time) ([]byte, Status) {
	k := fragKey{
		src: netip.AddrFrom4([4]byte(ip.SrcIP.To4())), dst: netip.AddrFrom4([4]byte(ip.DstIP.To4())),
		id: uint32(ip.Id), proto: uint8(ip.Protocol),
	}
	return f.add(k, int(ip.FragOffset)*8, ip.Flags&layers.IPv4MoreFragments != 0, ip.Payload, ts)
}

func (f *Defragmenter) add6(src, dst netip.Addr, fr *layers.IPv6Fragment, ts time.Time) ([]byte, Status) {
	k := fragKey{src: src, dst: dst, id: fr.Identification, proto: uint8(fr.NextHeader)}
	return f.add(k, int(fr.FragmentOffset)*8, fr.MoreFragments, fr.Payload, ts)
}

// add stores one fragment. It returns the whole payload (valid until the next
// call) and OK once every byte is there, Held while bytes are missing, and
// Malformed for a fragment that cannot belong to a valid datagram.
func (f *Defragmenter) add(k fragKey, off int, more bool, data []byte, ts time.Time) ([]byte, Status) {
	f.expire(ts)
	end := off + len(data)
	if end > maxDatagram {
		f.Oversized++
		return nil, Malformed
	}
	d := f.pending[k]
	if d == nil {
		for len(f.pending) >= f.cfg.MaxDatagrams {
			f.drop(f.order[0])
			f.order = f.order[1:]
		}
		d = &datagram{first: ts, total: -1}
		f.pending[k] = d
		f.order = append(f.order, orderEntry{k, ts})
	}
	held := 0
	if n := len(d.have); n > 0 {
		held = d.have[n-1].end
	}
	switch {
	case !more && (d.total >= 0 && d.total != end || held > end),
		more && d.total >= 0 && end > d.total:
		// Two different ends, or bytes past the end: no valid datagram.
		f.discard(k)
		return nil, Malformed
	case !more:
		d.total = end
	}
	if len(d.buf) < end {
		d.buf = append(d.buf, make([]byte, end-len(d.buf))...)
	}
	f.insert(d, off, end, data)
	if d.total < 0 || !covered(d.have, d.total) {
		return nil, Held
	}
	f.out = append(f.out[:0], d.buf[:d.total]...)
	delete(f.pending, k)
	return f.out, OK
}

// insert copies the parts of data[off:end] not already held.
func (f *Defragmenter) insert(d *datagram, off, end int, data []byte) {
	pos := off
	overlapped := false
	for _, s := range d.have {
		if s.end <= pos || s.start >= end {
			continue
		}
		overlapped = true
		if s.start > pos {
			copy(d.buf[pos:s.start], data[pos-off:s.start-off])
		}
		if s.end > pos {
			pos = s.end
		}
	}
	if pos < end {
		copy(d.buf[pos:end], data[pos-off:])
	}
	if overlapped {
		f.Overlaps++
	}
	d.have = mergeSpan(d.have, span{off, end})
}

// mergeSpan adds s to the sorted, disjoint list have.
func mergeSpan(have []span, s span) []span {
	out := have[:0:0]
	placed := false
	for _, h := range have {
		switch {
		case h.end < s.start:
			out = append(out, h)
		case s.end < h.start:
			if !placed {
				out = append(out, s)
				placed = true
			}
			out = append(out, h)
		default:
			s.start, s.end = min(s.start, h.start), max(s.end, h.end)
		}
	}
	if !placed {
		out = append(out, s)
	}
	return out
}

func covered(have []span, total int) bool {
	return len(have) == 1 && have[0].start == 0 && have[0].end >= total
}

// expire drops datagrams whose first fragment is older than the timeout.
func (f *Defragmenter) expire(now time.Time) {
	for len(f.order) > 0 && now.Sub(f.order[0].first) >= f.cfg.Timeout {
		f.drop(f.order[0])
		f.order = f.order[1:]
	}
	if len(f.order) == 0 && cap(f.order) > 4*f.cfg.MaxDatagrams {
		f.order = nil // let a burst's backing array go
	}
}

// discard forgets the datagram under k (its order entry goes stale).
func (f *Defragmenter) discard(k fragKey) { delete(f.pending, k) }

// drop discards the datagram e names, if it is still the one held.
func (f *Defragmenter) drop(e orderEntry) {
	if d, ok := f.pending[e.k]; ok && d.first.Equal(e.first) {
		delete(f.pending, e.k)
		f.Timeouts++
	}
}

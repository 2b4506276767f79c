package decode

import (
	"math/bits"
	"net/netip"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// DefragConfig bounds IP fragment reassembly. Zero fields take the defaults.
type DefragConfig struct {
	// Timeout drops an incomplete datagram this long (packet time) after
	// its first fragment.
	Timeout time.Duration
	// MaxDatagrams bounds the incomplete datagrams held at once.
	MaxDatagrams int
	// MaxBytes bounds the memory held by incomplete datagrams (their
	// fragments and bookkeeping), in bytes.
	MaxBytes int64
	// MaxFragments bounds the fragments one datagram may take; a datagram
	// sent in more pieces is dropped.
	MaxFragments int
}

// DefaultDefragConfig is what Suricata and Linux use, roughly: 30 s, a few
// thousand datagrams, tens of megabytes. A 64 KiB datagram needs 45
// fragments at an MTU of 1500 and 119 at the IPv4 minimum of 576.
var DefaultDefragConfig = DefragConfig{Timeout: 30 * time.Second, MaxDatagrams: 4096, MaxBytes: 32 << 20, MaxFragments: 256}

const maxDatagram = 65535

// Held bytes live in pages allocated only where fragments land, each with a
// bitmap of the bytes it holds: a fragment costs what it covers however many
// came before it, and a tiny fragment at a high offset costs one page.
const (
	pageSize  = 512
	pageWords = pageSize / 64
	maxPages  = (maxDatagram + pageSize - 1) / pageSize
)

type fragPage struct {
	held [pageWords]uint64 // bit i of word w: byte 64w+i is held
	data [pageSize]byte
}

// Reserved bytes: a datagram's bookkeeping (struct, map entry) and a page
// (with its slot in the page list).
var (
	datagramCost = int64(unsafe.Sizeof(datagram{}) + unsafe.Sizeof(fragKey{}) + 32)
	pageCost     = int64(unsafe.Sizeof(fragPage{}) + 16)
)

// freePages and freeDatagrams bound what is kept for reuse, so that the
// steady state of small datagrams does not allocate.
const (
	freePages     = 256
	freeDatagrams = 64
)

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

type datagram struct {
	key        fragKey
	first      time.Time
	prev, next *datagram             // arrival order, oldest first
	present    [maxPages / 64]uint64 // which pages exist
	pages      []*fragPage           // the existing pages, by index
	have       int                   // bytes held
	end        int                   // end of the highest fragment held
	total      int                   // length of the whole payload, -1 until the last fragment
	frags      int                   // fragments received
	cost       int64                 // bytes reserved for it
	noted      anomaly.Set           // to report with the datagram
}

// Defragmenter rebuilds IPv4 and IPv6 datagrams from their fragments with
// bounded memory. Overlapping bytes keep the first copy received (the policy
// of BSD and Windows, and Suricata's default). Not safe for concurrent use.
type Defragmenter struct {
	cfg        DefragConfig
	acct       *budget.Account
	pending    map[fragKey]*datagram
	head, tail *datagram // arrival order, for expiry and the bounds
	bytes      int64     // reserved for pending datagrams
	free       []*fragPage
	freeDG     []*datagram
	out        []byte // the last reassembled datagram, reused
	steps      uint64 // words and pages visited by insertions, for the complexity test

	Timeouts  uint64 // datagrams dropped incomplete at timeout
	Limited   uint64 // datagrams dropped at a bound (datagrams, bytes, fragments, budget)
	Overlaps  uint64 // fragments that overlapped bytes already held
	Conflicts uint64 // overlapping fragments whose bytes differ from those held
	Oversized uint64 // fragments reaching past 65535 bytes
}

// NewDefragmenter returns a reassembler bounded by cfg (zero fields take the
// defaults) whose memory is reserved from acct (nil: unlimited).
func NewDefragmenter(cfg DefragConfig, acct *budget.Account) *Defragmenter {
	def := DefaultDefragConfig
	if cfg.Timeout <= 0 {
		cfg.Timeout = def.Timeout
	}
	if cfg.MaxDatagrams <= 0 {
		cfg.MaxDatagrams = def.MaxDatagrams
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = def.MaxBytes
	}
	if cfg.MaxFragments <= 0 {
		cfg.MaxFragments = def.MaxFragments
	}
	return &Defragmenter{cfg: cfg, acct: acct, pending: map[fragKey]*datagram{}}
}

// Pending is the number of incomplete datagrams held.
func (f *Defragmenter) Pending() int { return len(f.pending) }

// Bytes is the memory reserved for incomplete datagrams.
func (f *Defragmenter) Bytes() int64 { return f.bytes }

func (f *Defragmenter) add4(ip *layers.IPv4, ts time.Time) ([]byte, Status, anomaly.Set) {
	k := fragKey{
		src: netip.AddrFrom4([4]byte(ip.SrcIP.To4())), dst: netip.AddrFrom4([4]byte(ip.DstIP.To4())),
		id: uint32(ip.Id), proto: uint8(ip.Protocol),
	}
	return f.add(k, int(ip.FragOffset)*8, ip.Flags&layers.IPv4MoreFragments != 0, ip.Payload, ts)
}

func (f *Defragmenter) add6(src, dst netip.Addr, fr *layers.IPv6Fragment, ts time.Time) ([]byte, Status, anomaly.Set) {
	k := fragKey{src: src, dst: dst, id: fr.Identification, proto: uint8(fr.NextHeader)}
	return f.add(k, int(fr.FragmentOffset)*8, fr.MoreFragments, fr.Payload, ts)
}

// add stores one fragment. It returns the whole payload (valid until the next
// call) and OK once every byte is there, Held while bytes are missing, and
// Malformed for a fragment that cannot belong to a valid datagram. The set
// names the anomalies to report: those of a completed datagram, or
// FragmentLimit when a bound dropped a datagram to make room or refused
// this fragment's.
func (f *Defragmenter) add(k fragKey, off int, more bool, data []byte, ts time.Time) ([]byte, Status, anomaly.Set) {
	f.expire(ts)
	end := off + len(data)
	if end > maxDatagram {
		f.Oversized++
		return nil, Malformed, 0
	}
	var noted anomaly.Set
	d := f.pending[k]
	if d == nil {
		for len(f.pending) >= f.cfg.MaxDatagrams {
			f.limit(f.head, &noted)
		}
		if !f.reserve(datagramCost, nil, &noted) {
			return nil, Held, noted
		}
		d = f.newDatagram()
		d.key, d.first, d.total, d.cost = k, ts, -1, datagramCost
		f.pending[k] = d
		f.link(d)
	}
	switch {
	case !more && (d.total >= 0 && d.total != end || d.end > end),
		more && d.total >= 0 && end > d.total:
		// Two different ends, or bytes past the end: no valid datagram.
		f.remove(d)
		return nil, Malformed, noted
	case !more:
		d.total = end
	}
	if d.frags++; d.frags > f.cfg.MaxFragments {
		f.limit(d, &noted)
		return nil, Held, noted
	}
	if !f.insert(d, off, data, &noted) {
		return nil, Held, noted // d was dropped: the budget could not hold its pages
	}
	d.end = max(d.end, end)
	if d.total < 0 || d.have < d.total {
		return nil, Held, noted
	}
	f.out = f.out[:0]
	for _, p := range d.pages {
		f.out = append(f.out, p.data[:min(pageSize, d.total-len(f.out))]...)
	}
	noted |= d.noted
	f.remove(d)
	return f.out, OK, noted
}

// insert copies the bytes of data (at off) not already held, comparing those
// that are. It reports false if d had to be dropped for lack of memory.
func (f *Defragmenter) insert(d *datagram, off int, data []byte, noted *anomaly.Set) bool {
	overlapped, conflict := false, false
	for len(data) > 0 {
		pi := off / pageSize
		p := d.page(pi)
		if p == nil {
			if !f.reserve(pageCost, d, noted) {
				return false
			}
			d.cost += pageCost
			p = f.newPage()
			f.steps += uint64(d.insertPage(pi, p))
		}
		lo := off % pageSize
		n := min(len(data), pageSize-lo)
		for i := 0; i < n; {
			w, b := (lo+i)/64, (lo+i)%64
			m := min(n-i, 64-b) // bytes of this word in the fragment
			mask := ^uint64(0) >> (64 - m) << b
			held := p.held[w] & mask
			src, dst := data[i:i+m], p.data[lo+i:lo+i+m]
			switch {
			case held == 0:
				copy(dst, src)
				d.have += m
			default:
				overlapped = true
				for j := range m {
					if p.held[w]&(1<<(b+j)) == 0 {
						dst[j] = src[j]
						d.have++
					} else if dst[j] != src[j] {
						conflict = true
					}
				}
			}
			p.held[w] |= mask
			i += m
			f.steps++
		}
		off += n
		data = data[n:]
	}
	if overlapped {
		f.Overlaps++
	}
	if conflict {
		f.Conflicts++
		d.noted.Add(anomaly.FragmentOverlap)
	}
	return true
}

// page returns d's page of index i, or nil.
func (d *datagram) page(i int) *fragPage {
	w, b := i/64, uint(i%64)
	if d.present[w]&(1<<b) == 0 {
		return nil
	}
	return d.pages[d.rank(i)]
}

// rank is the position of page i in d.pages: the pages present below it.
func (d *datagram) rank(i int) int {
	r := 0
	for w := range i / 64 {
		r += bits.OnesCount64(d.present[w])
	}
	return r + bits.OnesCount64(d.present[i/64]&(1<<uint(i%64)-1))
}

// insertPage adds page i and returns how many pages it moved up.
func (d *datagram) insertPage(i int, p *fragPage) int {
	r := d.rank(i)
	d.pages = append(d.pages, nil)
	moved := copy(d.pages[r+1:], d.pages[r:])
	d.pages[r] = p
	d.present[i/64] |= 1 << uint(i%64)
	return moved
}

// reserve takes n bytes for the datagram in progress (keep, nil when it is
// not yet created), dropping the oldest other datagrams while the byte bound
// or the budget refuses. It reports false, with keep dropped, when nothing
// is left to drop.
func (f *Defragmenter) reserve(n int64, keep *datagram, noted *anomaly.Set) bool {
	for {
		if f.bytes+n <= f.cfg.MaxBytes && f.acct.Reserve(budget.Fragments, n) {
			f.bytes += n
			return true
		}
		victim := f.head
		if victim == keep {
			victim = victim.next
		}
		if victim == nil {
			if keep != nil {
				f.limit(keep, noted)
			} else {
				f.Limited++
				noted.Add(anomaly.FragmentLimit)
			}
			return false
		}
		f.limit(victim, noted)
	}
}

// limit drops d at a bound, counted and noted.
func (f *Defragmenter) limit(d *datagram, noted *anomaly.Set) {
	f.remove(d)
	f.Limited++
	noted.Add(anomaly.FragmentLimit)
}

func (f *Defragmenter) newDatagram() *datagram {
	if n := len(f.freeDG); n > 0 {
		d := f.freeDG[n-1]
		f.freeDG = f.freeDG[:n-1]
		return d
	}
	return new(datagram)
}

func (f *Defragmenter) newPage() *fragPage {
	if n := len(f.free); n > 0 {
		p := f.free[n-1]
		f.free = f.free[:n-1]
		p.held = [pageWords]uint64{}
		return p
	}
	return new(fragPage)
}

// expire drops datagrams whose first fragment is older than the timeout.
func (f *Defragmenter) expire(now time.Time) {
	for f.head != nil && now.Sub(f.head.first) >= f.cfg.Timeout {
		f.remove(f.head)
		f.Timeouts++
	}
}

func (f *Defragmenter) link(d *datagram) {
	d.prev = f.tail
	if f.tail != nil {
		f.tail.next = d
	} else {
		f.head = d
	}
	f.tail = d
}

// remove forgets d and gives back its memory.
func (f *Defragmenter) remove(d *datagram) {
	if d.prev != nil {
		d.prev.next = d.next
	} else {
		f.head = d.next
	}
	if d.next != nil {
		d.next.prev = d.prev
	} else {
		f.tail = d.prev
	}
	delete(f.pending, d.key)
	for _, p := range d.pages {
		if len(f.free) < freePages {
			f.free = append(f.free, p)
		}
	}
	f.acct.Release(budget.Fragments, d.cost)
	f.bytes -= d.cost
	clear(d.pages)
	*d = datagram{pages: d.pages[:0]}
	if len(f.freeDG) < freeDatagrams {
		f.freeDG = append(f.freeDG, d)
	}
}

// Package pcapindex finds the packets of a flow in a capture file: it gives
// every frame the Community ID of its flow (IP fragments included, which
// belong to the flow of the datagram they complete), and keeps per capture
// file an index of Community ID → record offsets and time range, so that a
// carve reads only the packets of the flow it wants.
package pcapindex

import (
	"net/netip"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// Ref is one frame of a capture file.
type Ref struct {
	Offset int64 // source.Frame.Offset: where File.SeekRecord finds it again
	TS     int64 // capture time, Unix nanoseconds
	Len    int   // length on the wire
}

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

type held struct {
	refs  []Ref
	first int64
}

// Costs drawn from the memory budget (pool flows): a cached Community ID
// and a held fragment.
const (
	cidCost  = 128
	fragCost = 64
)

// Assigner gives decoded frames the Community ID of their flow. A fragment
// waits until its datagram completes (then it and the fragments before it
// get the datagram's flow) or is dropped, as the decoder's reassembly
// drops it: at the same timeout, or when more datagrams are pending than
// it holds. Not safe for concurrent use.
type Assigner struct {
	seed    uint16
	defrag  decode.DefragConfig
	acct    *budget.Account
	cids    map[flow.Key]string
	pending map[fragKey]*held
	sweep   int64 // packet time of the last expiry sweep

	// Unassigned counts fragments whose datagram never completed, and
	// Uncached the packets whose flow ID the budget could not keep (it
	// is computed again for each of them).
	Unassigned, Uncached uint64
}

// NewAssigner returns an Assigner with Community ID seed seed, holding
// fragments within the bounds of cfg (zero fields: the defaults) and
// reserving its memory from acct (nil: unlimited).
func NewAssigner(seed uint16, cfg decode.DefragConfig, acct *budget.Account) *Assigner {
	def := decode.DefaultDefragConfig
	if cfg.Timeout <= 0 {
		cfg.Timeout = def.Timeout
	}
	if cfg.MaxDatagrams <= 0 {
		cfg.MaxDatagrams = def.MaxDatagrams
	}
	return &Assigner{seed: seed, defrag: cfg, acct: acct, cids: map[flow.Key]string{}, pending: map[fragKey]*held{}}
}

// Assign takes the decoder's verdict on one frame and calls emit for every
// frame whose flow is now known: the frame itself, and for the fragment
// that completes a datagram the held fragments before it.
func (a *Assigner) Assign(st decode.Status, p *decode.Packet, r Ref, emit func(cid string, r Ref)) {
	if p.Fragment {
		a.expire(r.TS)
		k := fragKey{p.Src, p.Dst, p.FragID, p.Proto}
		switch {
		case st == decode.Held:
			a.hold(k, r)
			return
		case st == decode.OK && p.Defragmented:
			cid := a.cid(p)
			if h := a.pending[k]; h != nil {
				for _, hr := range h.refs {
					emit(cid, hr)
				}
				a.drop(k, h, false)
			}
			emit(cid, r)
			return
		case st != decode.OK:
			if h := a.pending[k]; h != nil {
				a.drop(k, h, true)
			}
			a.Unassigned++
			return
		}
		// OK without a datagram: the reassembly dropped it at a bound and
		// passed the fragment on portless, as the flow table sees it.
	}
	if st != decode.OK {
		return
	}
	emit(a.cid(p), r)
}

// cid returns the Community ID of p's flow, the one its first packet gave.
func (a *Assigner) cid(p *decode.Packet) string {
	k := flow.KeyOf(p)
	if id, ok := a.cids[k]; ok {
		return id
	}
	id := flow.PacketCommunityID(a.seed, p)
	if a.acct.Reserve(budget.Flows, cidCost) {
		a.cids[k] = id
	} else {
		a.Uncached++
	}
	return id
}

func (a *Assigner) hold(k fragKey, r Ref) {
	h := a.pending[k]
	if h == nil {
		for len(a.pending) >= a.defrag.MaxDatagrams {
			a.dropOldest()
		}
		h = &held{first: r.TS}
		a.pending[k] = h
	}
	if !a.acct.Reserve(budget.Fragments, fragCost) {
		a.Unassigned++
		return
	}
	h.refs = append(h.refs, r)
}

func (a *Assigner) drop(k fragKey, h *held, lost bool) {
	if lost {
		a.Unassigned += uint64(len(h.refs))
	}
	a.acct.Release(budget.Fragments, int64(len(h.refs))*fragCost)
	delete(a.pending, k)
}

func (a *Assigner) dropOldest() {
	var oldest fragKey
	var oh *held
	for k, h := range a.pending {
		if oh == nil || h.first < oh.first {
			oldest, oh = k, h
		}
	}
	a.drop(oldest, oh, true)
}

// expire drops the datagrams older than the timeout, at most once per
// second of packet time.
func (a *Assigner) expire(now int64) {
	if now-a.sweep < int64(time.Second) || len(a.pending) == 0 {
		return
	}
	a.sweep = now
	for k, h := range a.pending {
		if now-h.first > int64(a.defrag.Timeout) {
			a.drop(k, h, true)
		}
	}
}

// Close drops what is still held and gives its memory back.
func (a *Assigner) Close() {
	for k, h := range a.pending {
		a.drop(k, h, true)
	}
	a.acct.Release(budget.Flows, int64(len(a.cids))*cidCost)
	a.cids = nil
}

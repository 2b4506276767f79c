package pcapindex

import (
	"encoding/binary"
	"path/filepath"
	"sort"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// flowCost is the budget drawn for a flow's entry, besides its offsets.
const flowCost = 96

// Builder builds the index of one capture file as its frames are read.
// Its memory (about a flow entry per flow and two bytes per packet) is
// drawn from the budget's flows pool; a refusal leaves the packet out and
// the index marked partial, so a carve scans that capture instead.
type Builder struct {
	assign *Assigner
	acct   *budget.Account
	flows  map[string]*building
	frames uint64
	held   int64 // reserved from the budget
	// Partial: some frame of a flow could not be indexed.
	Partial bool
}

type building struct {
	Flow
	prev int64
}

// NewBuilder returns a Builder for Community ID seed seed, holding
// fragments as the decoder's cfg does, reserving its memory from acct.
func NewBuilder(seed uint16, cfg decode.DefragConfig, acct *budget.Account) *Builder {
	return &Builder{assign: NewAssigner(seed, cfg, acct), acct: acct, flows: map[string]*building{}}
}

// Add indexes one frame, given the decoder's verdict on it.
func (b *Builder) Add(st decode.Status, p *decode.Packet, r Ref) {
	b.frames++
	b.assign.Assign(st, p, r, b.add)
}

// AddFlow indexes one frame whose flow the caller's own Assigner found
// (the packet ring assigns across the files it rotates through).
func (b *Builder) AddFlow(cid string, r Ref) {
	b.frames++
	b.add(cid, r)
}

func (b *Builder) add(cid string, r Ref) {
	f := b.flows[cid]
	if f == nil {
		if !b.reserve(flowCost + int64(len(cid))) {
			return
		}
		f = &building{Flow: Flow{CommunityID: cid, First: r.TS, Last: r.TS}}
		b.flows[cid] = f
	}
	var tmp [binary.MaxVarintLen64]byte
	n := binary.PutVarint(tmp[:], r.Offset-f.prev)
	if len(f.offsets)+n > cap(f.offsets) {
		grow := max(cap(f.offsets), 16)
		if !b.reserve(int64(grow)) {
			return
		}
		f.offsets = append(make([]byte, 0, cap(f.offsets)+grow), f.offsets...)
	}
	f.offsets = append(f.offsets, tmp[:n]...)
	f.prev = r.Offset
	f.First, f.Last = min(f.First, r.TS), max(f.Last, r.TS)
	f.Packets++
	f.Bytes += uint64(r.Len)
}

func (b *Builder) reserve(n int64) bool {
	if !b.acct.Reserve(budget.Flows, n) {
		b.Partial = true
		return false
	}
	b.held += n
	return true
}

// Index returns the finished index of the capture at path (fingerprinted
// now), with the sync points its reader found, and gives the builder's
// memory back.
func (b *Builder) Index(path string, syncs []int64) (*Index, error) {
	b.assign.Close()
	defer func() {
		b.acct.Release(budget.Flows, b.held)
		b.held, b.flows = 0, nil
	}()
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	size, head, err := Fingerprint(abs)
	if err != nil {
		return nil, err
	}
	x := &Index{Capture: abs, Size: size, Head: head, Seed: b.assign.seed, Frames: b.frames, Partial: b.Partial, Syncs: syncs}
	x.Flows = make([]Flow, 0, len(b.flows))
	for _, f := range b.flows {
		x.Flows = append(x.Flows, f.Flow)
	}
	sort.Slice(x.Flows, func(i, j int) bool { return x.Flows[i].CommunityID < x.Flows[j].CommunityID })
	return x, nil
}

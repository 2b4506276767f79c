package flow

// index finds flows by key: open addressing with linear probing over two
// parallel arrays, the keys' 32-bit hashes (probed without touching the
// flows) and the flows. It costs 12 bytes a slot and is at most 3/4 full,
// far less than a map of keys (the keys live in the flows only), and a
// lookup touches one flow unless two hashes collide.
type index struct {
	hashes []uint32
	flows  []*Flow
	mask   uint32
	n      int
}

const (
	minIndexSlots = 1 << 10
	slotBytes     = 4 + 8
)

// full says whether one more flow would pass the load limit.
func (x *index) full() bool { return (x.n+1)*4 > len(x.flows)*3 }

// resize rebuilds the index with slots slots (a power of two above n).
// It moves the flows by the hashes it holds: reading each flow's own
// would cost a cache miss per flow, a table of a flood's size growing.
func (x *index) resize(slots int) {
	hashes, flows := x.hashes, x.flows
	x.hashes, x.flows, x.mask = make([]uint32, slots), make([]*Flow, slots), uint32(slots-1)
	for i, f := range flows {
		if f != nil {
			x.place(hashes[i], f)
		}
	}
}

// home is the slot where a key that hashes to h is looked for first.
func (x *index) home(h uint32) uint32 { return h & x.mask }

// place puts f, whose key hashes to h, in the first free slot from h's.
func (x *index) place(h uint32, f *Flow) {
	i := x.home(h)
	for x.flows[i] != nil {
		i = (i + 1) & x.mask
	}
	x.hashes[i], x.flows[i] = h, f
}

func (x *index) find(k *Key, h uint32) *Flow {
	if x.flows == nil {
		return nil
	}
	for i := x.home(h); ; i = (i + 1) & x.mask {
		f := x.flows[i]
		if f == nil {
			return nil
		}
		if x.hashes[i] == h && f.Key.equal(k) {
			return f
		}
	}
}

// insert adds f (its hash set, its key not present); the caller made room.
func (x *index) insert(f *Flow) {
	x.place(f.hash, f)
	x.n++
}

// remove takes f out, shifting back the entries that probed past its slot
// so that no lookup stops early (no tombstones).
func (x *index) remove(f *Flow) {
	i := x.home(f.hash)
	for x.flows[i] != f {
		i = (i + 1) & x.mask
	}
	for j := i; ; {
		j = (j + 1) & x.mask
		if x.flows[j] == nil {
			break
		}
		// The entry at j may move to i unless its home slot lies in (i, j].
		if home := x.home(x.hashes[j]); (j-home)&x.mask < (j-i)&x.mask {
			continue
		}
		x.hashes[i], x.flows[i] = x.hashes[j], x.flows[j]
		i = j
	}
	x.hashes[i], x.flows[i] = 0, nil
	x.n--
}

package flow

import (
	"sync/atomic"
	"unsafe"
)

// Texts hands a worker's events their address strings (FillNetworkFrom),
// each copied into a block of textsBlock bytes that the next ones share:
// one allocation a block, where each flow's strings were one. A flow's
// events share one string while it lies in the current block (an Addrs
// notes where it was cut, not a pointer, so a flow's state keeps no block
// alive), and an enricher told the last addresses knows them by their
// pointer. A string is cut from bytes never written before and never
// written after, so whoever keeps one (a record's key in an output
// queue, an alert waiting for the sequencer, the enricher's last
// address) may keep it as long as it likes; it keeps its block alive with
// it. Nothing that lives as long as a flow keeps one: the app state keeps
// its Addrs by value, an FTP expectation its own copy
// (app.Expectations). A string kept while its event is on its way holds
// its block with the strings of the events around it; a record an output
// keeps alone (a filtered runner's) copies its key (outputs.copyRecords),
// so that a queue of them does not hold a block each. The zero Texts is
// ready; a nil one allocates each string.
type Texts struct {
	block []byte      // the current block
	used  int         // its bytes cut
	gen   uint64      // the current block's number (textsBlocks)
	macs  []macString // MAC cache entries not yet used (MAC)
}

// textsBlocks numbers the blocks of every Texts, so that an Addrs names
// one block of one Texts for good: a number never comes back (64 bits do
// not wrap), nor names another worker's block.
var textsBlocks atomic.Uint64

// textsBlock is a block's size: the strings of about 36 IPv4 flows (56
// bytes each).
const textsBlock = 2048

// cut returns a string of b's bytes and where it lies in the current
// block.
func (t *Texts) cut(b []byte) (string, int) {
	if t == nil || len(b) == 0 {
		return string(b), 0
	}
	if len(b) > len(t.block)-t.used {
		t.block, t.used = make([]byte, textsBlock), 0
		t.gen = textsBlocks.Add(1)
	}
	off := t.used
	s := t.block[off : off+len(b) : off+len(b)]
	copy(s, b)
	t.used += len(b)
	return unsafe.String(&s[0], len(s)), off
}

// text returns the text of a, printed for endpoints o and r: fresh when
// printAddrs printed it just now, else the one cut for it before when
// that lies in the current block, else printed again.
func (t *Texts) text(a *Addrs, o, r Endpoint, fresh []byte) string {
	if t != nil && a.gen == t.gen && a.gen != 0 { // printAddrs sets gen 0
		return unsafe.String(&t.block[a.off], int(a.n))
	}
	if fresh == nil {
		var buf [2*maxAddrLen + communityIDLen]byte
		fresh = a.appendText(buf[:0], o, r)
	}
	s, off := t.cut(fresh)
	if t != nil {
		a.gen, a.off = t.gen, uint16(off)
	}
	return s
}

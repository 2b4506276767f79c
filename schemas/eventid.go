package schemas

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/sha256pair"
)

// EncodeWithID is Encode, and gives an event without an event.id one
// derived from its content. The id is the first 128 bits of the SHA-256 of
// the document without its event.id and without its observer and agent
// objects, in hex: a replay of the same capture gives the same ids whatever
// the host, sensor name, version or worker count, so stores and SIEMs can drop what an
// at-least-once output delivered twice. Events that differ in any byte
// (time, addresses, protocol fields, enrichment, rule) get different ids;
// two byte-identical events, which nothing can tell apart, share one.
//
// SHA-256 because the id must resist collisions made on purpose: events
// carry attacker-written bytes, and two different events given one id would
// have the store keep only one. A keyed hash (SipHash, maphash) is
// collision-resistant only while its key is secret, and the ids must agree
// across sensors and re-runs; BLAKE2b is no faster than SHA-256 on CPUs
// with SHA extensions (Go's crypto/sha256 uses SHA-NI), for documents of a
// kilobyte. 128 bits keep a birthday bound of 2^64 work.
//
// It costs one pass of SHA-256: the encoder writes a placeholder id where
// the id goes (first in the event object) and notes where the event
// object, the observer and the agent are, so nothing is searched for or
// moved.
func EncodeWithID(buf []byte, ev *Event) ([]byte, error) {
	return encodeCached(buf, ev, nil, 0)
}

// EncodeWithID is EncodeWithID through c (a nil c caches nothing).
func (c *EncodeCache) EncodeWithID(buf []byte, ev *Event) ([]byte, error) {
	return encodeCached(buf, ev, c, 0)
}

// EncodeGroupsWithID is EncodeWithID for an event whose caller wrote no
// group of Event or of its packetsleuth object but those in groups, into
// an event it had zeroed: the encoder does not look at the others (most
// of an event's 7.9 KB). A group outside groups that is set is left out;
// in a test binary that panics instead (checkGroups), so that a writer
// whose declared groups fall behind what it writes fails every test that
// meets it rather than losing fields unseen.
func (c *EncodeCache) EncodeGroupsWithID(buf []byte, ev *Event, groups Groups) ([]byte, error) {
	out, id, err := c.EncodeGroupsPending(buf, ev, groups)
	if err == nil {
		id.Fill(out[len(buf):])
	}
	return out, err
}

// EncodePending is EncodeWithID without the id's hash: the id's place
// holds zeroes until id.Fill writes it into the encoded event, which may
// be later and on another goroutine (the hash is the largest part of an
// encoding). An event that has its id needs no Fill (id is zero).
func (c *EncodeCache) EncodePending(buf []byte, ev *Event) (out []byte, id PendingID, err error) {
	return encodePending(buf, ev, c, 0)
}

// EncodeGroupsPending is EncodeGroupsWithID as EncodePending is
// EncodeWithID.
func (c *EncodeCache) EncodeGroupsPending(buf []byte, ev *Event, groups Groups) (out []byte, id PendingID, err error) {
	start := len(buf)
	out, id, err = encodePending(buf, ev, c, ^groups)
	if err == nil && checkGroups() {
		if full, fullID, _ := encodePending(nil, ev, nil, 0); !bytes.Equal(full, out[start:]) || fullID != id {
			panic(fmt.Sprintf("schemas: EncodeGroupsWithID left out a group that is set (groups %#x):\n full    %s\n grouped %s", groups, full, out[start:]))
		}
	}
	return out, id, err
}

// checkGroups makes EncodeGroupsWithID check that it left out nothing an
// event holds: in test binaries only, and not in one that runs benchmarks,
// which measure what a production binary does. Asked at the first grouped
// encode, once the test flags are parsed.
var checkGroups = sync.OnceValue(func() bool {
	if !testing.Testing() {
		return false
	}
	bench := flag.Lookup("test.bench")
	return bench == nil || bench.Value.String() == ""
})

func encodeCached(buf []byte, ev *Event, c *EncodeCache, skip Groups) ([]byte, error) {
	out, id, err := encodePending(buf, ev, c, skip)
	if err == nil {
		id.Fill(out[len(buf):])
	}
	return out, err
}

func encodePending(buf []byte, ev *Event, c *EncodeCache, skip Groups) ([]byte, PendingID, error) {
	e := encoder{b: buf, skip: skip}
	if c != nil {
		e.observers, e.agents, e.lists, e.runs, e.utc = &c.observer, &c.agent, &c.lists, &c.runs, c.utc
		defer func() { c.utc = e.utc }()
	}
	if ev.Event.ID != "" {
		out, err := e.encode(ev)
		return out, PendingID{}, err
	}
	start := len(buf)
	ev.Event.ID = idPlaceholder
	e.appendEvent(ev)
	ev.Event.ID = ""
	if e.err != nil {
		return buf, PendingID{}, e.err
	}
	at := e.eventAt - start + 1 // past the comma: the event object is never first
	id := PendingID{from: at + len(eventKey)}
	id.to = at + len(eventIDKey) + idLen + 1 // past the value's closing quote
	if e.b[start+id.to] == ',' {
		id.to++
	}
	if e.obsTo > 0 {
		id.obsFrom, id.obsTo = e.obsFrom-start, e.obsTo-start
	}
	return e.b, id, nil
}

// A PendingID says where the event.id of an event encoded without it
// (EncodePending) goes, and which bytes of the encoding it is made of:
// all but the id itself and the observer and agent objects.
type PendingID struct {
	from, to       int // the id's key and value (and the comma after)
	obsFrom, obsTo int // the observer and agent; 0, 0: none
}

// Fill writes the id into doc, the event's encoding (as EncodePending
// appended it, and as long). The zero PendingID writes nothing.
func (id PendingID) Fill(doc []byte) {
	if id.from == 0 {
		return
	}
	parts := id.parts(doc)
	sum := sha256pair.Sum(parts[:])
	id.put(doc, &sum)
}

// parts are the bytes of doc the id is the hash of, in order.
func (id PendingID) parts(doc []byte) [3][]byte {
	if id.obsTo > 0 {
		return [3][]byte{doc[:id.from], doc[id.to:id.obsFrom], doc[id.obsTo:]}
	}
	return [3][]byte{doc[:id.from], doc[id.to:]}
}

// put writes the first half of sum, in hex, as the id in doc.
func (id PendingID) put(doc []byte, sum *[sha256.Size]byte) {
	val := id.from + len(eventIDKey) - len(eventKey)
	dst := (*[idLen]byte)(doc[val : val+idLen])
	for i := range idLen / 2 { // a byte's two digits at a time
		binary.LittleEndian.PutUint16(dst[2*i:], hexPairs[sum[i]])
	}
}

// IDFiller fills in the ids of encoded events two at a time: a pair of
// SHA-256 sums costs little more than one (sha256pair). Its zero value is
// ready; it is not safe for concurrent use.
type IDFiller struct {
	pair sha256pair.Pair
}

// Fill does ids[i].Fill(recs[i].JSON) for every i.
func (f *IDFiller) Fill(ids []PendingID, recs []Record) {
	first := -1 // a pending id waiting for another
	for i := range ids {
		if ids[i].from == 0 {
			continue
		}
		if first < 0 {
			first = i
			continue
		}
		a, b := ids[first].parts(recs[first].JSON), ids[i].parts(recs[i].JSON)
		sa, sb := f.pair.Sum2(a[:], b[:])
		ids[first].put(recs[first].JSON, &sa)
		ids[i].put(recs[i].JSON, &sb)
		first = -1
	}
	if first >= 0 {
		ids[first].Fill(recs[first].JSON)
	}
}

// hexPairs[b] holds the two lower-case hex digits of b, the first in its
// low byte.
var hexPairs = func() (t [256]uint16) {
	for b := range t {
		t[b] = uint16(hexDigits[b>>4]) | uint16(hexDigits[b&0xf])<<8
	}
	return t
}()

// idPlaceholder holds the place of the id while the event is encoded.
var idPlaceholder = strings.Repeat("0", idLen)

// idLen is the length of an event.id: 128 bits in hex.
const idLen = 32

// eventKey opens the event object: in the encoding a key is followed
// directly by `":{` only where it is a key (in a string value the quote
// would be escaped).
var eventKey = []byte(`"event":{`)

// eventIDKey starts an encoded event's event.id: the encoder writes it
// first in the event object.
var eventIDKey = []byte(`"event":{"id":"`)

// EventIDOf returns the event.id of an encoded event, as it stands in the
// JSON (the string's escaped contents), or nil when it has none. Outputs
// that can, use it as their document id, so that a record delivered twice
// is stored once.
func EventIDOf(doc []byte) []byte {
	i := bytes.Index(doc, eventIDKey)
	if i < 0 {
		return nil
	}
	v := doc[i+len(eventIDKey):]
	for j := 0; j < len(v); j++ {
		switch v[j] {
		case '\\':
			j++
		case '"':
			return v[:j:j]
		}
	}
	return nil
}

package schemas

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
)

// AddEventID gives the encoded event b[start:] (as Encode wrote it, with
// no event.id) an event.id derived from its content, and returns b. The id
// is the first 128 bits of the SHA-256 of the document without its
// observer object, in hex: a replay of the same capture gives the same ids
// whatever the host, sensor version or worker count, so stores and SIEMs
// can drop what an at-least-once output delivered twice. Events that differ
// in any byte (time, addresses, protocol fields, enrichment, rule) get
// different ids; two byte-identical events, which nothing can tell apart,
// share one.
func AddEventID(b []byte, start int) []byte {
	doc := b[start:]
	i := bytes.Index(doc, eventKey)
	if i < 0 || doc[0] != '{' {
		return b
	}
	h := sha256.New()
	if o := bytes.Index(doc, observerKey); o > 0 {
		// hash the document as if it had no observer key: drop the key,
		// its object and one comma beside it
		end := o + len(observerKey) - 1 + skipObject(doc[o+len(observerKey)-1:])
		if doc[o-1] == ',' {
			o--
		} else if end < len(doc) && doc[end] == ',' {
			end++
		}
		h.Write(doc[:o])
		h.Write(doc[end:])
	} else {
		h.Write(doc)
	}
	var sum [sha256.Size]byte
	var id [idLen]byte
	hex.Encode(id[:], h.Sum(sum[:0])[:idLen/2])

	p := start + i + len(eventKey)
	ins := make([]byte, 0, idLen+8)
	ins = append(ins, `"id":"`...)
	ins = append(ins, id[:]...)
	ins = append(ins, '"')
	if p < len(b) && b[p] != '}' {
		ins = append(ins, ',')
	}
	n := len(b)
	b = append(b, ins...)
	copy(b[p+len(ins):], b[p:n])
	copy(b[p:], ins)
	return b
}

// idLen is the length of an event.id: 128 bits in hex.
const idLen = 32

var (
	// keys of the top-level objects: in the encoding a key is followed
	// directly by `":{` only where it is a key (in a string value the
	// quote would be escaped)
	eventKey    = []byte(`"event":{`)
	observerKey = []byte(`"observer":{`)
)

// skipObject returns the length of the JSON object at the start of b,
// stepping over strings (with escapes) and nested objects and arrays.
func skipObject(b []byte) int {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(b)
}

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

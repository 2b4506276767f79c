package rules

import (
	"encoding/binary"
	"slices"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// A group key holds the values of a rule's group fields. Every value but
// the last is preceded by its length (uvarint): the values are the wire's
// (header values, DNS names, user agents) and may hold any byte, so no
// separator could tell where one ends — two groups would share a key and a
// group alert's fields would shift. A key of one field is its value.

// appendGroupKey appends the group key of fields in ev to k.
func appendGroupKey(k []byte, fields []field, ev *schemas.Event) []byte {
	last := len(fields) - 1
	for i := range last {
		// Room for the length when it takes one byte (most values), so
		// that the value need not be moved to make it.
		k = append(k, 0)
		at := len(k)
		k = fields[i].appendValue(k, ev)
		if n := len(k) - at; n < 0x80 {
			k[at-1] = byte(n)
		} else {
			k = prefixLength(slices.Delete(k, at-1, at), at-1)
		}
	}
	if last >= 0 {
		k = fields[last].appendValue(k, ev)
	}
	return k
}

// prefixLength inserts before k[at:] its length, making it a key part
// that is not the last.
func prefixLength(k []byte, at int) []byte {
	var n [binary.MaxVarintLen64]byte
	return slices.Insert(k, at, n[:binary.PutUvarint(n[:], uint64(len(k)-at))]...)
}

// splitGroupKey returns the n values of a group key (appendGroupKey's).
func splitGroupKey(key string, n int) []string {
	vals := make([]string, 0, n)
	for range n - 1 {
		l, w := binary.Uvarint([]byte(key))
		if w <= 0 || l > uint64(len(key)-w) {
			return vals // not a key of n values: none is made so
		}
		vals = append(vals, key[w:w+int(l)])
		key = key[w+int(l):]
	}
	return append(vals, key)
}

//go:build !schemagen

package schemas

import (
	"slices"
	"unsafe"
)

// The root's observer and agent, the string lists of the fields tagged
// encode:"memo" and the runs of fields tagged encode:"run" go through the
// encoder's EncodeCache (in a file of its own: the generator builds this
// package without the appendX it calls).

// observer writes the root's observer, through the cache if there is one.
func (e *encoder) observer(v *Observer) {
	if !e.observers.hit(e, v) {
		from := len(e.b)
		e.field(`,"observer":`)
		e.appendObserver(v)
		e.observers.keep(e, v, from)
	}
}

// agent writes the root's agent, through the cache if there is one.
func (e *encoder) agent(v *Agent) {
	if !e.agents.hit(e, v) {
		from := len(e.b)
		e.field(`,"agent":`)
		e.appendAgent(v)
		e.agents.keep(e, v, from)
	}
}

// memoStrings writes an omitempty []string field whose lists a few values
// make (a ClientHello's cipher names: a few clients' lists make most of
// them, and one of about 40 names costs ~9,000 instructions to encode),
// through the cache's memo of the last lists written if there is one: a
// list is compared name by name (mostly the same pointers) and its
// encoding copied.
func (e *encoder) memoStrings(key string, v []string) {
	if len(v) == 0 {
		return
	}
	m := e.lists
	if m == nil {
		e.stringsField(key, v)
		return
	}
	for i := range m.lists {
		if l := &m.lists[i]; l.json != nil && l.key == key && slices.Equal(l.v, v) {
			e.inPlace(l.json)
			return
		}
	}
	from := len(e.b)
	e.stringsField(key, v)
	if len(e.b)-from <= memoListBytes {
		l := &m.lists[m.next]
		m.next = (m.next + 1) % len(m.lists)
		l.key, l.v, l.json = key, append(l.v[:0], v...), append(l.json[:0], e.b[from:]...)
	}
}

// runSlots is how many values of each run of fields tagged encode:"run"
// the memo keeps: a flow event's, and those of the few kinds of event a
// worker's flows give besides (each slot replaced in turn).
const runSlots = 4

// sameString says whether a run's string m is v, told without the call of
// == when their lengths differ or both are empty.
func sameString(m, v string) bool {
	return len(m) == len(v) && (len(m) == 0 || m == v)
}

// keepString copies s into text, a memo slot's own bytes, and returns the
// copy: a run's value may view a buffer its producer writes again (a
// parser's arena, a reused block), and a kept view would then change
// with it, the memo saying "same" to a value it never saw. The slot's
// json bounds its text.
func keepString(text []byte, s string) (string, []byte) {
	if s == "" {
		return "", text
	}
	start := len(text)
	text = append(text, s...)
	return unsafe.String(&text[start], len(s)), text
}

// sameList says whether a run's list m, as kept (keepList), is v: the
// same strings, and nil only if v is (a list without omitempty writes
// nil as null and an empty one as []).
func sameList(m, v []string) bool {
	if len(m) != len(v) || (m == nil) != (v == nil) {
		return false
	}
	for i, s := range m {
		if !sameString(s, v[i]) {
			return false
		}
	}
	return true
}

// keepList copies v into m's array for the memo of a run, its strings
// into text (keepString): nil stays nil, an empty list stays empty but
// not nil.
func keepList(m []string, text []byte, v []string) ([]string, []byte) {
	if v == nil {
		return nil, text
	}
	if m = m[:0]; m == nil {
		m = make([]string, 0, len(v))
	}
	for _, s := range v {
		var k string
		k, text = keepString(text, s)
		m = append(m, k)
	}
	return m, text
}

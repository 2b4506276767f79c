package rules

import (
	"net/netip"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// natEnv is what a condition compiled to Go reads: the event, and its
// source.ip and destination.ip parsed. The shipped macros test the two
// addresses about a dozen times per event (outbound, authorised_scanner,
// the ip lists); each Evaluator keeps one natEnv, so an address is parsed
// once per event, and once per flow while its events share the strings.
//
// Before a flow event the worker tells the Evaluator the addresses its
// strings were printed from (AddrsPrinted), which are then not parsed at
// all.
type natEnv struct {
	ev       *schemas.Event
	src, dst addrMemo
	// gen numbers the event (Evaluator.Eval counts it up), and memo holds
	// the macros' values of the event numbered in each slot's gen
	// (Macro.memo): the shipped rules test the outbound macro in five
	// rules of a flow event. A macro's value depends on the event only
	// (its fields, the loaded lists, pure helpers), never on the rule
	// that asks, and Eval changes nothing of the event between its rules.
	gen  uint64
	memo []macroMemo
}

type macroMemo struct {
	gen uint64
	val bool
}

// memoMacro is the macro compiled as b, computed once per event in the
// memo's slot (a natEnv without a memo computes it each time).
func memoMacro(slot int, b func(*natEnv) bool) func(*natEnv) bool {
	return func(x *natEnv) bool {
		if slot >= len(x.memo) {
			return b(x)
		}
		m := &x.memo[slot]
		if m.gen != x.gen {
			v := b(x) // a panic leaves the slot unset, for the next rule to fail alike
			m.gen, m.val = x.gen, v
		}
		return m.val
	}
}

// newEvent makes the memo answer for the next event only.
func (x *natEnv) newEvent() { x.gen++ }

// addrMemo is one address field as parseAddr reads it. It keeps the
// string it parsed and parses again when the field holds another one (a
// parser or an enricher set it), so it never answers for an old value.
// The zero addrMemo is "".
type addrMemo struct {
	s string
	a netip.Addr
	// set is the last address list asked about a, and isIn its answer:
	// the shipped rules ask home_networks of one address in several
	// rules of an event (the outbound macro). A list does not change
	// once loaded.
	set  *prefixSet
	isIn bool
}

// printed sets m to s, printed from a (netip.Addr.String, which
// parseAddr reads back as a).
func (m *addrMemo) printed(s string, a netip.Addr) { m.s, m.a, m.set = s, a, nil }

func (m *addrMemo) addr(s string) netip.Addr {
	if s != m.s {
		m.s, m.a, m.set = s, parseAddr(s), nil
	}
	return m.a
}

// in says whether the address s is in p (p.matchAddr).
func (m *addrMemo) in(p *prefixSet, s string) bool {
	a := m.addr(s)
	if m.set != p {
		m.set, m.isIn = p, p.matchAddr(a)
	}
	return m.isIn
}

// AddrsPrinted tells the Evaluator that the next event's source.ip and
// destination.ip are src and dst printed (netip.Addr.String), as a flow
// event's are: its conditions take them as parsed instead of parsing them
// back (a flood of new flows parsed two addresses per event). An event
// with other strings is parsed as before. pipeline.AddrReader.
func (e *Evaluator) AddrsPrinted(src, dst netip.Addr, srcText, dstText string) {
	e.nat.src.printed(srcText, src)
	e.nat.dst.printed(dstText, dst)
}

// Package ahocorasick tells, in one pass over a text, whether any of a set
// of literals occurs in it, ignoring ASCII case: the prefilter that lets
// the rules run a regular expression only on text that can match it.
package ahocorasick

// Matcher is a deterministic Aho-Corasick automaton over byte classes.
// It is read-only after New and safe for concurrent use.
type Matcher struct {
	class   [256]uint8 // byte -> class; ASCII upper and lower case share one
	nclass  int
	next    []int32 // next[state+class], state a multiple of nclass; -1: a literal ended
	accept  []bool  // while building: a literal ends at this state
	matches bool    // the empty literal is in the set: every text matches
}

// New builds the matcher of lits. Case is folded for ASCII letters only;
// other bytes must match exactly.
func New(lits []string) *Matcher {
	m := &Matcher{}
	// class 0 is every byte no literal contains
	for _, l := range lits {
		if l == "" {
			m.matches = true
		}
		for i := 0; i < len(l); i++ {
			b := lower(l[i])
			if m.class[b] == 0 {
				m.nclass++
				m.class[b] = uint8(m.nclass)
			}
		}
	}
	m.nclass++
	for b := 'A'; b <= 'Z'; b++ {
		m.class[b] = m.class[b+'a'-'A']
	}
	// the trie: -1 where no edge
	m.next = m.newState(nil)
	m.accept = []bool{false}
	for _, l := range lits {
		s := int32(0)
		for i := 0; i < len(l); i++ {
			c := int32(m.class[l[i]])
			t := m.next[s*int32(m.nclass)+c]
			if t < 0 {
				t = int32(len(m.accept))
				m.next[s*int32(m.nclass)+c] = t
				m.next = m.newState(m.next)
				m.accept = append(m.accept, false)
			}
			s = t
		}
		m.accept[s] = true
	}
	// failure links breadth first, completing every missing edge
	fail := make([]int32, len(m.accept))
	queue := []int32{}
	for c := 0; c < m.nclass; c++ {
		t := &m.next[c]
		if *t < 0 {
			*t = 0
		} else {
			queue = append(queue, *t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		m.accept[s] = m.accept[s] || m.accept[fail[s]]
		for c := int32(0); c < int32(m.nclass); c++ {
			t := &m.next[s*int32(m.nclass)+c]
			f := m.next[fail[s]*int32(m.nclass)+c]
			if *t < 0 {
				*t = f
				continue
			}
			fail[*t] = f
			queue = append(queue, *t)
		}
	}
	// Contains stops at the first accepting state: edges into one say so,
	// the others hold the target's offset in next
	for i, t := range m.next {
		if m.accept[t] {
			m.next[i] = -1
		} else {
			m.next[i] = t * int32(m.nclass)
		}
	}
	m.accept = nil
	return m
}

func (m *Matcher) newState(next []int32) []int32 {
	for range m.nclass {
		next = append(next, -1)
	}
	return next
}

// Contains reports whether any literal occurs in s.
func (m *Matcher) Contains(s string) bool {
	if m.matches {
		return true
	}
	st := int32(0)
	for i := 0; i < len(s); i++ {
		st = m.next[st+int32(m.class[s[i]])]
		if st < 0 {
			return true
		}
	}
	return false
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

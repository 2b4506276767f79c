package flow

// Each calls fn for every active flow, least recently active first. fn must
// not keep the *Flow nor update the table.
func (t *Table) Each(fn func(*Flow)) {
	for c := range t.lists {
		for f := t.lists[c].head; f != nil; f = f.next {
			fn(f)
		}
	}
}

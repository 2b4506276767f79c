package freelist

import "testing"

func TestListBoundedLIFO(t *testing.T) {
	var l List[*int]
	if _, ok := l.Get(); ok {
		t.Fatal("Get from an empty list")
	}
	a, b, c := new(int), new(int), new(int)
	l.Put(a, 2)
	l.Put(b, 2)
	l.Put(c, 2) // over the bound: dropped
	if l.Len() != 2 {
		t.Fatalf("Len %d, want 2", l.Len())
	}
	if x, _ := l.Get(); x != b {
		t.Error("Get did not return the last thing put")
	}
	if x, _ := l.Get(); x != a {
		t.Error("second Get did not return the first thing put")
	}
	if _, ok := l.Get(); ok || l.items[:1][0] != nil {
		t.Error("a taken thing is still held by the list")
	}
}

func TestPutBufKeepsOnlyBuffersWorthKeeping(t *testing.T) {
	var l List[[]byte]
	PutBuf(&l, nil, 8, 4)                 // no room: nothing to keep
	PutBuf(&l, make([]byte, 3, 16), 8, 4) // outsized: left to the GC
	if l.Len() != 0 {
		t.Fatalf("Len %d after a nil and an outsized buffer, want 0", l.Len())
	}
	PutBuf(&l, make([]byte, 3, 8), 8, 4)
	b, ok := l.Get()
	if !ok || len(b) != 0 || cap(b) != 8 {
		t.Fatalf("Get = len %d cap %d ok %v, want an empty buffer of cap 8", len(b), cap(b), ok)
	}
}

// Take gives back what was put last, then new zero things.
func TestTake(t *testing.T) {
	var l List[*int]
	a := new(int)
	*a = 7
	l.Put(a, 4)
	if got := Take(&l); got != a {
		t.Fatalf("Take = %p, want the one put %p", got, a)
	}
	if got := Take(&l); got == nil || got == a || *got != 0 {
		t.Fatalf("Take of an empty list = %v, want a new zero one", got)
	}
}

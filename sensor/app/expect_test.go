package app

import (
	"net/netip"
	"testing"
	"time"
)

func TestExpectationsAreBoundedAndExpire(t *testing.T) {
	e := NewExpectations()
	t0 := time.Unix(1000, 0)
	ap := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 49152)
	}
	for i := range maxExpected + 1 {
		e.Add(ap(i), t0.Add(time.Duration(i)*time.Millisecond))
	}
	if len(e.m) != maxExpected {
		t.Fatalf("%d entries held", len(e.m))
	}
	if e.Has(ap(0), t0) || !e.Has(ap(1), t0) || !e.Has(ap(maxExpected), t0) {
		t.Error("a full table forgets its oldest announcement")
	}
	if e.Has(ap(5), t0.Add(expectTTL+time.Second)) {
		t.Error("an announcement outlived its time")
	}
	var none *Expectations
	none.Add(ap(1), t0)
	if none.Has(ap(1), t0) {
		t.Error("a nil table holds nothing")
	}
}

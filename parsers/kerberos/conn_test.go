package kerberos

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers"
)

var (
	kdcReq = pcapgen.KrbRequest
	kdcRep = pcapgen.KrbReply
	krbErr = pcapgen.KrbError
	record = pcapgen.KrbRecord
	der    = pcapgen.DER
)

func seq(v ...[]byte) []byte     { return der(0x30, v...) }
func ctx(n int, v []byte) []byte { return der(0xa0|byte(n), v) }
func str(s string) []byte        { return der(0x1b, []byte(s)) }
func integ(n byte) []byte        { return der(0x02, []byte{n}) }

func TestParseMessages(t *testing.T) {
	m, err := Parse(kdcReq(ASReq, []string{"robin"}, "CYLERA.LAB", []string{"krbtgt", "CYLERA.LAB"}, []int{18, 23, -128}, 2, 128))
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != ASReq || Principal(m.CName) != "robin" || m.Realm != "CYLERA.LAB" || Principal(m.SName) != "krbtgt/CYLERA.LAB" ||
		!slices.Equal(m.Etypes, []int{18, 23, -128}) || !m.PreAuth() || m.Till.Year() != 2037 {
		t.Errorf("AS-REQ %+v", m)
	}
	if got := KDCOptionNames(m.KDCOptions); !slices.Equal(got, []string{"forwardable", "renewable", "canonicalize", "renewable-ok"}) {
		t.Errorf("options %v", got)
	}
	m, err = Parse(kdcRep(TGSRep, "spotless", "OFFENSE.LOCAL", []string{"HTTP", "dc"}, 23, 18))
	if err != nil || m.TicketEtype != 23 || m.EncEtype != 18 || m.CRealm != "OFFENSE.LOCAL" || Principal(m.SName) != "HTTP/dc" {
		t.Errorf("TGS-REP %+v %v", m, err)
	}
	m, err = Parse(krbErr(24, "R", "krbtgt", "R"))
	if err != nil || m.ErrorCode != 24 || ErrorName(m.ErrorCode) != "KDC_ERR_PREAUTH_FAILED" {
		t.Errorf("KRB-ERROR %+v %v", m, err)
	}
}

// Each message is parsed the same whether the record arrives whole or a
// byte at a time, and requests pair with their answers in order.
func TestTCPRecordsSplitAnywhere(t *testing.T) {
	stream := [][]byte{
		record(kdcReq(ASReq, []string{"bob"}, "R", []string{"krbtgt", "R"}, []int{23})),
		record(krbErr(25, "R", "krbtgt", "R")),
		record(kdcReq(ASReq, []string{"bob"}, "R", []string{"krbtgt", "R"}, []int{23}, 2)),
		record(kdcRep(ASRep, "bob", "R", []string{"krbtgt", "R"}, 18, 23)),
	}
	for _, step := range []int{0, 1, 5} {
		var xs []Exchange
		c := NewConn(nil, func(x *Exchange) { xs = append(xs, *x) })
		for i, rec := range stream {
			d := parsers.Dir(i % 2)
			for len(rec) > 0 {
				n := len(rec)
				if step > 0 {
					n = min(n, step)
				}
				if err := c.Data(d, rec[:n], time.Time{}); err != nil {
					t.Fatal(err)
				}
				rec = rec[n:]
			}
		}
		c.End(time.Time{})
		if len(xs) != 2 || xs[0].Response.ErrorCode != 25 || xs[0].Request.PreAuth() ||
			xs[1].Response.Type != ASRep || !xs[1].Request.PreAuth() {
			t.Fatalf("step %d: %+v", step, xs)
		}
	}
}

func TestUnmatchedAndLyingLengths(t *testing.T) {
	var xs []Exchange
	var errs []error
	c := NewConn(nil, func(x *Exchange) { xs = append(xs, *x) })
	c.OnError = func(err error, _ time.Time) { errs = append(errs, err) }
	bad := kdcReq(ASReq, []string{"x"}, "R", []string{"krbtgt", "R"}, []int{23})
	bad[1] = 0x7f // the application tag claims more than the record holds
	for _, rec := range [][]byte{record(bad), record(kdcReq(TGSReq, nil, "R", []string{"cifs", "h"}, []int{23}))} {
		if err := c.Data(parsers.ToServer, rec, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(errs) != 1 {
		t.Errorf("errors %v", errs)
	}
	c.End(time.Time{})
	if len(xs) != 1 || xs[0].Response != nil || xs[0].Request.Type != TGSReq {
		t.Errorf("exchanges %+v", xs)
	}
	// A record marker out of bounds ends the direction.
	c = NewConn(nil, func(*Exchange) {})
	if err := c.Data(parsers.ToServer, []byte{0x7f, 0, 0, 0, 1}, time.Time{}); !errors.Is(err, ErrNotKerberos) {
		t.Errorf("huge record: %v", err)
	}
	// An answer with no request stands alone.
	xs = nil
	c = NewConn(nil, func(x *Exchange) { xs = append(xs, *x) })
	if err := c.Datagram(krbErr(6, "R", "krbtgt", "R"), time.Time{}); err != nil || len(xs) != 1 || xs[0].Request != nil {
		t.Errorf("lone answer: %v %+v", err, xs)
	}
}

// Deep nesting costs a bounded walk: the reader never recurses into
// elements the Kerberos structure does not name.
func TestDeepNesting(t *testing.T) {
	inner := str("x")
	for range 2000 {
		inner = seq(inner)
	}
	m := der(0x6a, seq(ctx(1, integ(5)), ctx(2, integ(10)), ctx(4, seq(ctx(0, der(0x03, []byte{0, 0, 0, 0, 0})),
		ctx(1, inner), ctx(2, str("R")), ctx(8, seq(integ(23)))))))
	if _, err := Parse(m); err == nil || !strings.Contains(err.Error(), "principal") {
		t.Errorf("nested cname: %v", err)
	}
	if _, err := Parse(der(0x6a, inner)); err == nil {
		t.Error("nested body accepted")
	}
}

func TestSniff(t *testing.T) {
	req := record(kdcReq(ASReq, []string{"bob"}, "R", []string{"krbtgt", "R"}, []int{23}))
	// Marker, application and SEQUENCE headers, pvno and msg-type: 18
	// bytes decide, fewer do not.
	for i := 0; i < 18; i++ {
		if v := Sniff(req[:i]); v != parsers.More {
			t.Errorf("%d bytes: %v", i, v)
		}
	}
	if v := Sniff(req); v != parsers.Yes {
		t.Errorf("request: %v", v)
	}
	if v := Sniff(record(krbErr(25, "R", "a"))); v != parsers.No {
		t.Errorf("an answer first: %v", v)
	}
	if v := Sniff([]byte("GET / HTTP/1.1\r\n")); v != parsers.No {
		t.Errorf("HTTP: %v", v)
	}
	lying := append([]byte{}, req...)
	binary.BigEndian.PutUint32(lying, uint32(len(req))) // 4 more than the message
	if v := Sniff(lying); v != parsers.No {
		t.Errorf("record and message lengths disagree: %v", v)
	}
	if !SniffDatagram(req[4:]) || SniffDatagram(req[4:30]) {
		t.Error("SniffDatagram")
	}
}

func TestBudgetRefusal(t *testing.T) {
	var limited []string
	c := NewConn(budget.New(100).NewAccount(), func(*Exchange) {})
	c.OnLimit = func(d string) { limited = append(limited, d) }
	rec := record(kdcReq(ASReq, []string{strings.Repeat("a", 300)}, "R", []string{"krbtgt", "R"}, []int{23}))
	for _, piece := range [][]byte{rec[:10], rec[10:]} {
		if err := c.Data(parsers.ToServer, piece, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(limited) != 1 {
		t.Fatalf("limits %q", limited)
	}
}

func BenchmarkParseTGSRep(b *testing.B) {
	m := kdcRep(TGSRep, "spotless", "OFFENSE.LOCAL", []string{"HTTP", "dc-mantvydas.offense.local"}, 23, 18)
	b.SetBytes(int64(len(m)))
	b.ReportAllocs()
	for range b.N {
		if _, err := Parse(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConnExchange(b *testing.B) {
	req := record(kdcReq(TGSReq, nil, "R", []string{"cifs", "host"}, []int{18, 17, 23}, 1, 128))
	rep := record(kdcRep(TGSRep, "bob", "R", []string{"cifs", "host"}, 18, 18))
	b.SetBytes(int64(len(req) + len(rep)))
	b.ReportAllocs()
	for range b.N {
		c := NewConn(nil, func(*Exchange) {})
		_ = c.Data(parsers.ToServer, req, time.Time{})
		_ = c.Data(parsers.ToClient, rep, time.Time{})
		c.End(time.Time{})
	}
}

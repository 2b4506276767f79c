package tls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

func testCertDER(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(4711), Subject: pkix.Name{CommonName: cn, Organization: []string{"Example"}},
		DNSNames: []string{cn, "www." + cn}, NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1800000000, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// A certificate described through the cache is the one ParseCertificate
// describes, the first time and again; a repeat costs no allocation.
func TestCertCacheSameDescription(t *testing.T) {
	b := budget.New(1 << 30)
	cc := NewCertCache(b.NewAccount())
	der := testCertDER(t, "example.org")
	want := ParseCertificate(der)
	if want.Err != nil || want.SubjectCommonName != "example.org" {
		t.Fatalf("reference description: %+v", want)
	}
	for i := range 3 {
		if got := cc.Parse(der); !reflect.DeepEqual(got, want) {
			t.Fatalf("parse %d through the cache:\n got %+v\nwant %+v", i, got, want)
		}
	}
	// Another certificate is another entry, not the first one's.
	other := testCertDER(t, "example.net")
	if got := cc.Parse(other); got.SubjectCommonName != "example.net" || got.SHA256 == want.SHA256 {
		t.Errorf("second certificate described as %q %s", got.SubjectCommonName, got.SHA256)
	}
	if st := cc.Stats(); st.Hits != 2 || st.Misses != 2 {
		t.Errorf("stats %+v, want 2 hits and 2 misses", st)
	}
	if n := testing.AllocsPerRun(100, func() { cc.Parse(der) }); n != 0 {
		t.Errorf("a cached certificate costs %v allocations", n)
	}
	// A chain through the cache equals the chain without it.
	chain := appendCertEntry(appendCertEntry(nil, der), other)
	chain = append([]byte{0, byte(len(chain) >> 8), byte(len(chain))}, chain...)
	plain, err1 := ParseCertificates(chain)
	cached, err2 := cc.ParseCertificates(chain)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(plain, cached) {
		t.Errorf("chain: %v %v, equal %v", err1, err2, reflect.DeepEqual(plain, cached))
	}
	if b.Stats().Pools[budget.Parsers].Used == 0 {
		t.Error("cached certificates draw nothing on the budget")
	}
	cc.Release()
	if used := b.Stats().Pools[budget.Parsers].Used; used != 0 {
		t.Errorf("%d bytes held after Release", used)
	}
}

func appendCertEntry(b, der []byte) []byte {
	return append(append(b, 0, byte(len(der)>>8), byte(len(der))), der...)
}

// Made-up certificates cycle through a bounded cache: entries and budget
// stay at the bound, the oldest go first, large ones are not kept.
func TestCertCacheBounded(t *testing.T) {
	b := budget.New(1 << 30)
	cc := NewCertCache(b.NewAccount())
	fake := func(i, size int) []byte {
		der := make([]byte, size)
		binary.BigEndian.PutUint32(der, uint32(i))
		return der
	}
	const size = 200
	for i := range certCacheEntries + 50 {
		if c := cc.Parse(fake(i, size)); c.Err == nil || c.Size != size {
			t.Fatalf("made-up certificate %d: %+v", i, c)
		}
	}
	if len(cc.m) != certCacheEntries {
		t.Errorf("%d entries, want %d", len(cc.m), certCacheEntries)
	}
	if used, want := b.Stats().Pools[budget.Parsers].Used, int64(certCacheEntries*(size+certEntryBytes)); used != want {
		t.Errorf("budget holds %d bytes, want %d", used, want)
	}
	before := cc.Stats()
	cc.Parse(fake(0, size))                   // evicted: a miss
	cc.Parse(fake(certCacheEntries+49, size)) // the newest: a hit
	if st := cc.Stats(); st.Misses != before.Misses+1 || st.Hits != before.Hits+1 {
		t.Errorf("oldest/newest lookups: %+v after %+v", st, before)
	}
	big := make([]byte, certCacheMaxDER+1)
	cc.Parse(big)
	if _, ok := cc.m[string(big)]; ok {
		t.Error("a certificate larger than the cap was kept")
	}
	cc.Release()
	if used := b.Stats().Pools[budget.Parsers].Used; used != 0 {
		t.Errorf("%d bytes held after Release", used)
	}
}

// When the budget refuses, certificates are still described, not kept,
// and the refusals counted.
func TestCertCacheBudgetRefused(t *testing.T) {
	spent := budget.New(1) // smaller than an account's first chunk: refuses all
	cc := NewCertCache(spent.NewAccount())
	der := testCertDER(t, "example.com")
	for range 2 {
		if c := cc.Parse(der); c.SubjectCommonName != "example.com" {
			t.Fatalf("described as %+v", c)
		}
	}
	if st := cc.Stats(); st.Refused != 2 || st.Hits != 0 || len(cc.ents) != 0 {
		t.Errorf("stats %+v with %d entries, want 2 refused and none kept", st, len(cc.ents))
	}
	if spent.Stats().Pools[budget.Parsers].Denied == 0 {
		t.Error("no refusal counted by the budget")
	}
}

// A nil cache describes every certificate anew.
func TestCertCacheNil(t *testing.T) {
	var cc *CertCache
	der := testCertDER(t, "example.edu")
	if got, want := cc.Parse(der), ParseCertificate(der); !reflect.DeepEqual(got, want) {
		t.Errorf("nil cache: %+v, want %+v", got, want)
	}
}

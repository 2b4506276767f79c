package dns

import (
	"testing"
	"time"
)

// typicalResponse is a real response when the captures are present (12 A
// records for google.com, dns-a-aaaa-mx.pcap frame 2), else vecCompression.
func typicalResponse(tb testing.TB) []byte {
	if _, err := statDir(); err == nil {
		for _, p := range capturePayloads(tb, pcapDir+"/dns-a-aaaa-mx.pcap") {
			if p.frame == 2 {
				return p.data
			}
		}
	}
	return vecCompression
}

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct {
		name string
		msg  []byte
	}{
		{"A-12-answers", typicalResponse(b)},
		{"CNAME+A", vecCompression},
		{"HTTPS", vecHTTPS},
		{"ECS-query", vecECS},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var m Message
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.msg)))
			for b.Loop() {
				if err := Parse(bc.msg, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestParseAllocs(t *testing.T) {
	msg := typicalResponse(t)
	var m Message
	_ = Parse(msg, &m)
	// One string holds every name and data of the message.
	if a := testing.AllocsPerRun(100, func() { _ = Parse(msg, &m) }); a > 1 {
		t.Errorf("%v allocs per Parse, want at most 1", a)
	}
}

func BenchmarkPairer(b *testing.B) {
	var q, r Message
	if err := Parse(vecCompression, &r); err != nil {
		b.Fatal(err)
	}
	r.CopyTo(&q)
	q.Response = false
	p := NewPairer(0, func(*Transaction) {})
	ts := time.Unix(0, 0)
	b.ReportAllocs()
	for b.Loop() {
		p.Add(&q, 40, ts)
		p.Add(&r, 67, ts)
	}
}

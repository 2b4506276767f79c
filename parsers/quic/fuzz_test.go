package quic

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzParseInitial(f *testing.F) {
	f.Add(mustHex(f, rfc9001ClientInitial))
	flows, order := clientDatagramsOrNil(f, "tls-sni.pcapng")
	for i, k := range order {
		if i >= 8 {
			break
		}
		for _, d := range flows[k] {
			f.Add(d)
		}
	}
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	f.Add(protect(f, Version2, dcid, 0, concat(cryptoFrame(0, []byte{1, 0, 0, 8}), []byte{0x02, 0x05, 0x00, 0x01, 0x00, 0x03})))
	var a CryptoAssembler
	f.Fuzz(func(t *testing.T, b []byte) {
		a.Reset()
		_ = ParseInitial(b, &a)
		// The same bytes as two datagrams must not break anything either.
		_ = ParseInitial(b, &a)
		if len(a.buf) > MaxCryptoData {
			t.Fatalf("CRYPTO buffer %d bytes", len(a.buf))
		}
	})
}

// FuzzCryptoFrames fuzzes the decrypted side: the frames of one Initial packet.
func FuzzCryptoFrames(f *testing.F) {
	f.Add(concat(cryptoFrame(30, []byte("abc")), []byte{0x03, 0x05, 0x00, 0x01, 0x00, 0x03, 1, 2, 3}, cryptoFrame(0, []byte{1, 0, 0, 40})))
	var a CryptoAssembler
	f.Fuzz(func(t *testing.T, frames []byte) {
		a.Reset()
		if a.frames(frames) == nil {
			_ = a.checkHello()
		}
		for i := 1; i < len(a.ranges); i++ {
			if a.ranges[i-1].end >= a.ranges[i].start {
				t.Fatalf("ranges not disjoint and sorted: %v", a.ranges)
			}
		}
	})
}

// clientDatagramsOrNil is clientDatagrams without the skip: fuzzing still
// runs when the shared captures are missing.
func clientDatagramsOrNil(f *testing.F, capture string) (map[flowKey][][]byte, []flowKey) {
	if _, err := os.Stat(filepath.Join(pcapDir, capture)); err != nil {
		return nil, nil
	}
	return clientDatagrams(f, capture)
}

func BenchmarkParseInitial(b *testing.B) {
	pkt := mustHex(b, rfc9001ClientInitial)
	var a CryptoAssembler
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		a.Reset()
		if err := ParseInitial(pkt, &a); err != nil || !a.Complete() {
			b.Fatal(err)
		}
	}
}

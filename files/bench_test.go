package files

import (
	"testing"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// BenchmarkFile measures typing and hashing a 1 MiB file written in
// 1448-byte pieces (one TCP segment's payload each), per hash set.
func BenchmarkFile(b *testing.B) {
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"none", Config{NoHashes: true}},
		{"md5", Config{Hashes: []Hash{MD5}}},
		{"sha1", Config{Hashes: []Hash{SHA1}}},
		{"sha256", Config{Hashes: []Hash{SHA256}}},
		{"md5+sha1+sha256", Config{Hashes: []Hash{MD5, SHA1, SHA256}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			tr := NewTracker(c.cfg, nil)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				f := tr.Open(&parsers.FileInfo{}, nil)
				for p := data; len(p) > 0; p = p[min(len(p), 1448):] {
					f.Write(p[:min(len(p), 1448)])
				}
				f.Close(parsers.FileComplete, t0)
			}
		})
	}
}

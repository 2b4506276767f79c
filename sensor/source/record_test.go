package source

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// A classic pcap read through the buffer (gzip here) gives the frames and
// the error texts of pcapgo's reader, whole and cut anywhere in a record,
// and a record longer than the buffer is read whole.
func TestBufferedRecordsAsPcapgo(t *testing.T) {
	var mix bytes.Buffer
	if _, err := pcapgen.WriteMix(&mix, 2*readBuffer, 9); err != nil {
		t.Fatal(err)
	}
	b := mix.Bytes()
	for name, in := range map[string][]byte{"whole": b, "cut in a body": b[:len(b)-7], "cut in a header": b[:len(b)-len(b)%4096], "header only": b[:24]} {
		want, wantErr := pcapgoFrames(t, in)
		got, gotErr := readFrames(t, gzipped(t, in))
		if len(got) != len(want) {
			t.Fatalf("%s: %d frames, pcapgo %d", name, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i].data, want[i]) {
				t.Fatalf("%s: frame %d differs from pcapgo's", name, i)
			}
		}
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && !strings.Contains(gotErr.Error(), "truncated record") {
			t.Errorf("%s: ends with %v, pcapgo with %v", name, gotErr, wantErr)
		}
	}
	// a record longer than the buffer (a snap length of 1 MiB and more)
	big := bytes.Clone(b[:24])
	big[16], big[17], big[18], big[19] = 0, 0, 0x20, 0 // snaplen 2 MiB
	rec := make([]byte, 16+readBuffer+100)
	rec[8], rec[10], rec[12], rec[14] = 100, 0x10, 100, 0x10 // caplen = orig = 1 MiB + 100
	rec[16+readBuffer+99] = 0xab
	got, err := readFrames(t, gzipped(t, append(big, rec...)))
	if err != nil || len(got) != 1 || len(got[0].data) != readBuffer+100 || got[0].data[readBuffer+99] != 0xab {
		t.Errorf("a record of 1 MiB + 100: %d frames, err %v", len(got), err)
	}
}

// pcapgoFrames reads b with pcapgo's reader: copies of the frames and the
// error that ended them (nil at a clean end).
func pcapgoFrames(t *testing.T, b []byte) ([][]byte, error) {
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		data, _, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, bytes.Clone(data))
	}
}

// BenchmarkBufferedRead reads a gzip-compressed classic pcap (inflated on
// its own goroutine, records read in place from the buffer).
func BenchmarkBufferedRead(b *testing.B) {
	var mix, z bytes.Buffer
	if _, err := pcapgen.WriteMix(&mix, 32<<20, 1); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "mix.pcap")
	if err := os.WriteFile(path, mix.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"plain-mapped", "gzip"} {
		p := path
		if name == "gzip" {
			z.Reset()
			zw := gzip.NewWriter(&z)
			zw.Write(mix.Bytes())
			zw.Close()
			p = path + ".gz"
			if err := os.WriteFile(p, z.Bytes(), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(name, func(b *testing.B) { benchRead(b, p, mix.Len()) })
	}
}

// benchRead measures reading every frame of path, a capture of size bytes.
func benchRead(b *testing.B, path string, size int) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		s, err := OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		var fr Frame
		for s.Next(&fr) == nil {
		}
		s.Close()
	}
}

// A record whose header claims a gigabyte (the file's snap length allows
// it) in a file that holds a few bytes of it costs memory for the bytes
// that are there, not for the claim, and ends as a cut record.
func TestBufferedRecordClaimingMoreThanItHas(t *testing.T) {
	var mix bytes.Buffer
	if _, err := pcapgen.WriteMix(&mix, 1, 1); err != nil {
		t.Fatal(err)
	}
	in := bytes.Clone(mix.Bytes()[:24])
	in[16], in[17], in[18], in[19] = 0xff, 0xff, 0xff, 0xff // snaplen 4 GiB - 1
	rec := make([]byte, 16+100)
	rec[11], rec[15] = 0x40, 0x40 // caplen = orig = 1 GiB
	path := gzipped(t, append(in, rec...))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := readFrames(t, path)
	runtime.ReadMemStats(&after)
	if len(got) != 0 || err == nil || !strings.Contains(err.Error(), "truncated record") {
		t.Errorf("%d frames, err %v; want a truncated record", len(got), err)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 64<<20 {
		t.Errorf("reading a 140-byte capture allocated %d MiB", grown>>20)
	}
}

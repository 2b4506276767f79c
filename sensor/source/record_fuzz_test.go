package source

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzClassicRecords reads arbitrary bytes after a classic pcap header from
// a mapping and through the buffer (gzip): no panic, and both give the same
// frames and the same end.
func FuzzClassicRecords(f *testing.F) {
	hdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
	f.Add(hdr, []byte{})
	f.Add(hdr, []byte{1, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 'a', 'b', 'c', 'd'})
	f.Add(hdr, []byte{1, 0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0, 'a', 'b'})
	f.Add(hdr[:20], []byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, head, body []byte) {
		if len(head) < 24 {
			return
		}
		b := append(append([]byte{0xd4, 0xc3, 0xb2, 0xa1}, head[4:24]...), body...)
		path := filepath.Join(t.TempDir(), "f.pcap")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := OpenFile(path)
		if err != nil {
			return // a header pcapgo refuses
		}
		s.Close()
		got, gotErr := readFrames(t, path)
		gz := gzipped(t, b)
		want, wantErr := readFrames(t, gz)
		if len(got) != len(want) {
			t.Fatalf("%d frames mapped, %d buffered", len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i].data, want[i].data) || got[i].wireLen != want[i].wireLen || got[i].clamped != want[i].clamped {
				t.Fatalf("frame %d differs", i)
			}
		}
		if g, w := strings.ReplaceAll(errText(gotErr), path, "F"), strings.ReplaceAll(errText(wantErr), gz, "F"); g != w {
			t.Fatalf("mapped ends with %q, buffered with %q", g, w)
		}
	})
}

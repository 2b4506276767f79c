package source

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"
)

type readFrame struct {
	off  int64
	data []byte
	ts   int64
	link int
	wire int
}

func readAll(t *testing.T, path string) ([]readFrame, []int64) {
	t.Helper()
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := collect(s, func(fr *Frame) readFrame {
		return readFrame{fr.Offset, bytes.Clone(fr.Data), fr.Timestamp.UnixNano(), int(fr.LinkType), fr.WireLen}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, s.SyncPoints()
}

// TestSeekReadsTheSameFrames reads every other frame (and then only the
// last) through SeekRecord, as a carve does, and gets what a sequential read
// got: plain and gzip pcap, pcapng with several interfaces and link types.
func TestSeekReadsTheSameFrames(t *testing.T) {
	for _, name := range []string{"http-ethernet.pcap", "http-ethernet.pcap.gz", "multi-interface.pcapng", "fragments.pcap", "http-sll2.pcap"} {
		path := filepath.Join("..", "..", "testdata", "pcaps", name)
		all, syncs := readAll(t, path)
		if len(all) < 3 {
			t.Fatalf("%s: %d frames", name, len(all))
		}
		for _, pick := range [][]readFrame{everyOther(all), all[len(all)-1:]} {
			s, err := OpenFileForSeek(path)
			if err != nil {
				t.Fatal(err)
			}
			s.SetSyncPoints(slices.Clone(syncs))
			var fr Frame
			for _, want := range pick {
				if err := s.SeekRecord(want.off); err != nil {
					t.Fatal(err)
				}
				if err := s.Next(&fr); err != nil {
					t.Fatalf("%s at %d: %v", name, want.off, err)
				}
				got := readFrame{fr.Offset, fr.Data, fr.Timestamp.UnixNano(), int(fr.LinkType), fr.WireLen}
				if got.off != want.off || !bytes.Equal(got.data, want.data) || got.ts != want.ts || got.link != want.link || got.wire != want.wire {
					t.Fatalf("%s: frame at %d: got %+v, want %+v", name, want.off, got, want)
				}
			}
			if filepath.Ext(name) != ".gz" && len(pick) == 1 && s.BytesRead() > 3*seekBuffer {
				t.Errorf("%s: reading the last frame read %d bytes", name, s.BytesRead())
			}
			s.Close()
		}
	}
}

func everyOther(fs []readFrame) []readFrame {
	var out []readFrame
	for i := 1; i < len(fs); i += 2 {
		out = append(out, fs[i])
	}
	return out
}

// TestSeekBackInGzipFails: a gzip capture is read forward only.
func TestSeekBackInGzipFails(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "pcaps", "http-ethernet.pcap.gz")
	all, _ := readAll(t, path)
	s, err := OpenFileForSeek(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var fr Frame
	if err := s.SeekRecord(all[2].off); err != nil {
		t.Fatal(err)
	}
	if err := s.Next(&fr); err != nil {
		t.Fatal(err)
	}
	if err := s.SeekRecord(all[0].off); err == nil {
		t.Fatal("went back in a gzip file")
	}
}

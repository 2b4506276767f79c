package source

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

type frameRec struct {
	data    []byte
	ts      int64
	wireLen int
	clamped bool
}

// readFrames reads every frame of path (copies), and the error that ended it.
func readFrames(t *testing.T, path string) ([]frameRec, error) {
	t.Helper()
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return collect(s, func(fr *Frame) frameRec {
		return frameRec{bytes.Clone(fr.Data), fr.Timestamp.UnixNano(), fr.WireLen, fr.Clamped}
	})
}

// collect reads every frame of s as rec copies it, and the error that
// ended them (nil at a clean end).
func collect[T any](s *File, rec func(*Frame) T) ([]T, error) {
	var out []T
	var fr Frame
	for {
		if err := s.Next(&fr); err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return out, err
		}
		out = append(out, rec(&fr))
	}
}

// gzipped writes a gzip copy of b: read through the buffered reader, its
// frames are what the mapped reader must give for b.
func gzipped(t *testing.T, b []byte) string {
	t.Helper()
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(b)
	w.Close()
	path := filepath.Join(t.TempDir(), "capture.pcap.gz")
	if err := os.WriteFile(path, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A plain classic pcap is read from a mapping: the same frames, clamped
// records and errors (text and offset) as the buffered reader gives for
// the same bytes; across the point where pages behind the reader are
// released (a capture of several times dropBehind), whole, cut and with
// records whose captured length exceeds the original.
func TestMappedReadsAsBuffered(t *testing.T) {
	var mix bytes.Buffer
	if _, err := pcapgen.WriteMix(&mix, 3*dropBehind, 3); err != nil {
		t.Fatal(err)
	}
	over, err := pcapgen.CapOverOrig(catalogue(t, "http-ethernet.pcap"), 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	// the second record claims more than any snap length: damaged
	bad := bytes.Clone(over[:24+16+int(binary.LittleEndian.Uint32(over[24+8:]))+16+100])
	binary.LittleEndian.PutUint32(bad[24+16+int(binary.LittleEndian.Uint32(over[24+8:]))+8:], 1<<30)
	for name, b := range map[string][]byte{
		"damaged": bad,
		"mix":     mix.Bytes(), "mix cut": mix.Bytes()[:mix.Len()-7], "mix cut in a header": mix.Bytes()[:mix.Len()-mix.Len()%4096],
		"cap over orig": over, "big-endian": pcapToBigEndian(over), "header only": mix.Bytes()[:24],
	} {
		path := filepath.Join(t.TempDir(), "capture.pcap")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if s.mm == nil {
			t.Fatalf("%s: not read from a mapping", name)
		}
		s.Close()
		got, gotErr := readFrames(t, path)
		gz := gzipped(t, b)
		want, wantErr := readFrames(t, gz)
		if len(got) != len(want) {
			t.Fatalf("%s: %d frames mapped, %d buffered", name, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if !bytes.Equal(g.data, w.data) || g.ts != w.ts || g.wireLen != w.wireLen || g.clamped != w.clamped {
				t.Fatalf("%s: frame %d differs", name, i)
			}
		}
		if gotErr, wantErr := strings.ReplaceAll(errText(gotErr), path, "F"), strings.ReplaceAll(errText(wantErr), gz, "F"); gotErr != wantErr {
			t.Errorf("%s: mapped ends with %q, buffered with %q", name, gotErr, wantErr)
		}
		t.Logf("%s: %d frames, end %q", name, len(got), errText(gotErr))
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// A frame may be written to (the mapping is private): the file is not.
func TestMappedFrameWritable(t *testing.T) {
	path := writeCut(t, catalogue(t, "http-ethernet.pcap"), func(n int) int { return n })
	before, _ := os.ReadFile(path)
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fr Frame
	if err := s.Next(&fr); err != nil {
		t.Fatal(err)
	}
	clear(fr.Data)
	s.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("writing into a frame changed the file")
	}
}

// A gzip capture is inflated ahead on its own goroutine; closing the file
// in the middle stops it (the race detector watches the file's close).
func TestGzipReadAheadClose(t *testing.T) {
	var mix bytes.Buffer
	if _, err := pcapgen.WriteMix(&mix, 4*readBuffer, 5); err != nil {
		t.Fatal(err)
	}
	path := gzipped(t, mix.Bytes())
	for _, frames := range []int{0, 1, 1000} {
		s, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var fr Frame
		for range frames {
			if err := s.Next(&fr); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// a gzip stream that holds no capture fails cleanly
	bad := gzipped(t, []byte("not a capture at all, but long enough to read"))
	if _, err := OpenFile(bad); !errors.Is(err, ErrNotCapture) {
		t.Errorf("gzip of text: %v", err)
	}
}

// SeekRecord on a mapped file goes to the record at the offset, back or
// forward.
func TestMappedSeekRecord(t *testing.T) {
	path := writeCut(t, catalogue(t, "http-ethernet.pcap"), func(n int) int { return n })
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.mm == nil {
		t.Fatal("not read from a mapping")
	}
	var offs []int64
	var datas [][]byte
	var fr Frame
	for s.Next(&fr) == nil {
		offs = append(offs, fr.Offset)
		datas = append(datas, bytes.Clone(fr.Data))
	}
	for _, i := range []int{3, 1, len(offs) - 1, 0} {
		if err := s.SeekRecord(offs[i]); err != nil {
			t.Fatal(err)
		}
		if err := s.Next(&fr); err != nil || fr.Offset != offs[i] || !bytes.Equal(fr.Data, datas[i]) {
			t.Errorf("record %d at %d: offset %d, err %v", i, offs[i], fr.Offset, err)
		}
	}
	if err := s.SeekRecord(1 << 40); err == nil {
		t.Error("a seek past the end succeeded")
	}
}

// A held mapped file keeps every frame valid while its consumer holds it:
// pages go back only behind what Release passed (so resident memory still
// follows the consumer), and a frame read again after that is unchanged. A
// file read through a buffer cannot hold.
func TestHeldFramesStayUntilReleased(t *testing.T) {
	path, mix := writeMix(t, 4*dropBehind, 7)
	want, err := readFrames(t, gzipped(t, mix))
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Hold() {
		t.Fatal("a mapped file cannot hold")
	}
	var held [][]byte
	var offs []int64
	var fr Frame
	for s.Next(&fr) == nil {
		held = append(held, fr.Data)
		offs = append(offs, fr.Offset)
	}
	if len(held) != len(want) {
		t.Fatalf("%d frames, want %d", len(held), len(want))
	}
	if s.mm.dropped != 0 {
		t.Fatalf("pages up to %d given back with nothing released", s.mm.dropped)
	}
	half := offs[len(offs)/2]
	s.Release(half)
	if s.mm.dropped == 0 || int64(s.mm.dropped) > half {
		t.Fatalf("release of %d gave back pages up to %d", half, s.mm.dropped)
	}
	for i := range held {
		if !bytes.Equal(held[i], want[i].data) {
			t.Fatalf("held frame %d changed", i)
		}
	}
	gz, err := OpenFile(gzipped(t, mix))
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	if gz.Hold() {
		t.Error("a gzip file claims its frames last")
	}
}

// writeMix writes a classic pcap of about size bytes of generated traffic
// (pcapgen.WriteMix) and returns its path and bytes.
func writeMix(t *testing.T, size int64, seed uint64) (string, []byte) {
	t.Helper()
	var mix bytes.Buffer
	if _, err := pcapgen.WriteMix(&mix, size, seed); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "capture.pcap")
	if err := os.WriteFile(path, mix.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, mix.Bytes()
}

// The mapped reader asks for the lines up to hintAhead past each record it
// reads, never past the mapping's end (a capture shorter than hintAhead
// too), and after a seek back from there, not from where it had got to.
func TestMappedReaderHintsAhead(t *testing.T) {
	for _, size := range []int64{hintAhead / 2, 4 * hintAhead, 2 * dropBehind} {
		path, _ := writeMix(t, size, 5)
		s, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m := s.mm
		if m == nil {
			t.Fatal("not read from a mapping")
		}
		var offs []int64
		var fr Frame
		for s.Next(&fr) == nil {
			offs = append(offs, fr.Offset)
			if want := min(m.off+hintAhead, len(m.b)); m.hinted != want {
				t.Fatalf("size %d: at %d, lines asked for up to %d, want %d", size, m.off, m.hinted, want)
			}
		}
		if m.off != len(m.b) || m.hinted != len(m.b) {
			t.Fatalf("size %d: read to %d, lines asked for up to %d, of %d", size, m.off, m.hinted, len(m.b))
		}
		back := offs[len(offs)/2]
		if err := s.SeekRecord(back); err != nil {
			t.Fatal(err)
		}
		if err := s.Next(&fr); err != nil {
			t.Fatal(err)
		}
		if want := min(m.off+hintAhead, len(m.b)); m.hinted != want {
			t.Errorf("size %d: after a seek back to %d, lines asked for up to %d, want %d", size, back, m.hinted, want)
		}
		s.Close()
	}
}

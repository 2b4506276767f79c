package source

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

func countFrames(t *testing.T, path string) (int, error) {
	t.Helper()
	s, err := OpenFile(path)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	var fr Frame
	n := 0
	for {
		if err := s.Next(&fr); err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
		n++
	}
}

// writeCut writes a generated capture and cuts it to keep bytes.
func writeCut(t *testing.T, c pcapgen.Capture, keep func(size int) int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), c.Name)
	if err := pcapgen.Write(path, c); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, b[:keep(len(b))], 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func catalogue(t *testing.T, name string) pcapgen.Capture {
	for _, c := range pcapgen.Catalogue() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no generated capture %s", name)
	return pcapgen.Capture{}
}

func TestReadsWholeAndCutCaptures(t *testing.T) {
	for _, name := range []string{"http-ethernet.pcap", "multi-interface.pcapng", "http-ethernet.pcap.gz"} {
		c := catalogue(t, name)
		want := len(c.Frames)
		if c.Second != nil {
			want += len(c.Second.Frames)
		}
		n, err := countFrames(t, writeCut(t, c, func(n int) int { return n }))
		if err != nil || n != want {
			t.Errorf("%s: %d frames, err %v; want %d and a clean end", name, n, err, want)
		}
		if c.Gzip {
			continue // a cut gzip stream is gzip's error, checked below
		}
		n, err = countFrames(t, writeCut(t, c, func(n int) int { return n - 7 }))
		if err == nil || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), "offset") || n != want-1 {
			t.Errorf("%s cut: %d frames, err %v; want %d and a truncation naming the offset", name, n, err, want-1)
		}
	}
	if _, err := countFrames(t, writeCut(t, catalogue(t, "http-ethernet.pcap.gz"), func(n int) int { return n - 20 })); err == nil {
		t.Error("a cut gzip capture read cleanly")
	}
}

func TestNotACapture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(path, []byte("hello, world"), 0o644)
	if _, err := OpenFile(path); !errors.Is(err, ErrNotCapture) || !strings.Contains(err.Error(), path) {
		t.Errorf("err %v", err)
	}
}

// A pcapng may end with statistics blocks after its last packet (dumpcap
// writes them): that is a clean end, not a truncation.
func TestPcapngTrailingStatisticsBlock(t *testing.T) {
	const path = "../../../shared/pcaps/mixed-browsing.pcapng"
	if _, err := os.Stat(path); err != nil {
		t.Skip("../shared/pcaps is not beside the repository")
	}
	n, err := countFrames(t, path)
	if err != nil || n != 209 {
		t.Errorf("%d frames, err %v; want 209 and a clean end", n, err)
	}
}

// A record whose captured length exceeds its original length is read (the
// original length raised to the captured one) and counted, and reading goes
// on to every later record, as tcpdump and tshark do; in pcap and pcapng,
// little- and big-endian.
func TestCapturedLongerThanOriginalReadsOn(t *testing.T) {
	for _, name := range []string{"http-ethernet.pcap", "multi-interface.pcapng", "http-ethernet.pcap (big-endian)"} {
		c := catalogue(t, strings.TrimSuffix(name, " (big-endian)"))
		b, err := pcapgen.CapOverOrig(c, 1, 4)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "(big-endian)") {
			b = pcapToBigEndian(b)
		}
		path := filepath.Join(t.TempDir(), "capture")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		want, err := countFrames(t, writeCut(t, c, func(n int) int { return n }))
		if err != nil {
			t.Fatal(err)
		}
		s, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var fr Frame
		n := 0
		for ; ; n++ {
			if err := s.Next(&fr); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Errorf("%s: frame %d: %v", name, n, err)
				}
				break
			}
			if fr.WireLen != len(fr.Data) {
				t.Errorf("%s: frame %d: wire length %d, captured %d", name, n, fr.WireLen, len(fr.Data))
			}
			if fr.Timestamp.Before(pcapgen.Epoch) || fr.Timestamp.After(pcapgen.Epoch.Add(time.Minute)) {
				t.Errorf("%s: frame %d: timestamp %v", name, n, fr.Timestamp)
			}
		}
		s.Close()
		if n != want || s.Clamped() != 2 {
			t.Errorf("%s: %d frames, %d clamped; want %d and 2", name, n, s.Clamped(), want)
		}
		if tn, ok := tsharkFrames(t, path); ok && tn != n {
			t.Errorf("%s: tshark reads %d frames, we read %d", name, tn, n)
		}
	}
}

// tsharkFrames counts the frames tshark reads in path, when it is installed.
func tsharkFrames(t *testing.T, path string) (int, bool) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		return 0, false
	}
	out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "frame.number").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	return strings.Count(string(out), "\n"), true
}

// pcapToBigEndian rewrites a little-endian pcap in big-endian byte order.
func pcapToBigEndian(b []byte) []byte {
	out := append([]byte(nil), b...)
	swap32 := func(at int) { binary.BigEndian.PutUint32(out[at:], binary.LittleEndian.Uint32(b[at:])) }
	swap16 := func(at int) { binary.BigEndian.PutUint16(out[at:], binary.LittleEndian.Uint16(b[at:])) }
	swap32(0)
	swap16(4)
	swap16(6)
	for at := 8; at < 24; at += 4 {
		swap32(at)
	}
	for at := 24; at+16 <= len(b); at += 16 + int(binary.LittleEndian.Uint32(b[at+8:])) {
		for i := 0; i < 16; i += 4 {
			swap32(at + i)
		}
	}
	return out
}

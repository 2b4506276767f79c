package source

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// ngFrame is what a pcapng reader says of one frame.
type ngFrame struct {
	data  []byte
	ts    time.Time
	wire  int
	iface int
	link  layers.LinkType
	bin   bool // pcapgo: the interface's time resolution is binary (2^-n s)
}

func (f ngFrame) String() string {
	return fmt.Sprintf("%d bytes (wire %d) at %s, interface %d, link %d", len(f.data), f.wire, f.ts.Format(time.RFC3339Nano), f.iface, f.link)
}

// equal compares f with pcapgo's frame g. pcapgo rounds the dates of
// binary resolutions (1e9/2^n ns taken as an integer: up to about a
// second off); they are exact here (TestPcapngSectionsAndInterfaces).
func (f ngFrame) equal(g ngFrame) bool {
	sameTime := f.ts.Equal(g.ts) || g.bin && f.ts.Sub(g.ts).Abs() < 2*time.Second
	return bytes.Equal(f.data, g.data) && sameTime && f.wire == g.wire && f.iface == g.iface && f.link == g.link
}

// pcapgoNg reads b with pcapgo's NgReader: copies of the frames (the wire
// length raised to the captured length, as Next does) and the error that
// ended them (nil at a clean end).
func pcapgoNg(b []byte) ([]ngFrame, error) {
	r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		return nil, err
	}
	var out []ngFrame
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		in, _ := r.Interface(ci.InterfaceIndex)
		out = append(out, ngFrame{bytes.Clone(data), ci.Timestamp, max(ci.Length, len(data)), ci.InterfaceIndex, ci.AncillaryData[0].(layers.LinkType), in.TimestampResolution.Binary()})
	}
}

// ngRead reads the file at path with open (OpenFile or OpenFileForSeek).
func ngRead(path string, open func(string) (*File, error)) ([]ngFrame, error) {
	s, err := open(path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return collect(s, func(fr *Frame) ngFrame {
		return ngFrame{bytes.Clone(fr.Data), fr.Timestamp, fr.WireLen, fr.Interface, fr.LinkType, false}
	})
}

// ngWays reads b mapped, through the read buffer (gzip) and through the
// small buffer of a file opened for seeking; each must give the same.
func ngWays(t *testing.T, b []byte) map[string]func() ([]ngFrame, error) {
	plain := filepath.Join(t.TempDir(), "capture.pcapng")
	if err := os.WriteFile(plain, b, 0o644); err != nil {
		t.Fatal(err)
	}
	gz := gzipped(t, b)
	return map[string]func() ([]ngFrame, error){
		"mapped":   func() ([]ngFrame, error) { return ngRead(plain, OpenFile) },
		"gzip":     func() ([]ngFrame, error) { return ngRead(gz, OpenFile) },
		"for seek": func() ([]ngFrame, error) { return ngRead(plain, OpenFileForSeek) },
	}
}

// sameFrames fails unless got and want are the same frames.
func sameFrames(t *testing.T, what string, got, want []ngFrame) {
	t.Helper()
	for i := range min(len(got), len(want)) {
		if !got[i].equal(want[i]) {
			t.Fatalf("%s: frame %d is %v, pcapgo's %v", what, i, got[i], want[i])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d frames, pcapgo %d", what, len(got), len(want))
	}
}

// Every pcapng capture shared with the tests and in testdata is read, in
// place, to the same frames (bytes, dates, lengths, interfaces, link types)
// as pcapgo's NgReader gives, mapped, gzip-compressed and for seeking.
func TestPcapngAsPcapgo(t *testing.T) {
	var paths []string
	for _, dir := range []string{"../../../shared/pcaps", "../../testdata"} {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".pcapng") {
				paths = append(paths, p)
			}
			return nil
		})
	}
	if len(paths) == 0 {
		t.Skip("no pcapng captures: ../shared/pcaps is absent")
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want, wantErr := pcapgoNg(b)
		for way, read := range ngWays(t, b) {
			got, err := read()
			if errText(err) != "" || wantErr != nil {
				t.Fatalf("%s %s: ends with %v, pcapgo with %v", p, way, err, wantErr)
			}
			sameFrames(t, p+" "+way, got, want)
		}
	}
	t.Logf("%d captures", len(paths))
}

// tsResol and tsOffset are interface options.
func tsResol(v byte) pcapgen.NgOption { return pcapgen.NgOption{Code: 9, Value: []byte{v}} }

func tsOffset(o pcapgen.NgOrder, sec uint64) pcapgen.NgOption {
	return pcapgen.NgOption{Code: 14, Value: o.AppendUint64(nil, sec)}
}

// edgeSections is a big-endian section with two interfaces of other link
// types and time resolutions (nanoseconds with an offset, 2^-20 s), packets
// of both interfaces between unknown, custom, statistics and name blocks,
// then a little-endian section whose only interface is new.
func edgeSections() *pcapgen.NgBlocks {
	w := &pcapgen.NgBlocks{}
	w.Section(binary.BigEndian)
	w.Interface(uint16(layers.LinkTypeEthernet), 0, tsResol(9), tsOffset(binary.BigEndian, 1000))
	w.Block(0x00000bad, []byte("custom block, copied"))
	w.Interface(uint16(layers.LinkTypeRaw), 96, tsResol(0x80|20), pcapgen.NgOption{Code: 2, Value: []byte("eth1")})
	w.Enhanced(0, 1_700_000_000_123_456_789, bytes.Repeat([]byte{0xe0}, 60), 60)
	w.Enhanced(1, 1_700_000_000<<20|1<<19, bytes.Repeat([]byte{0x45}, 41), 1500) // 41 bytes: padded
	w.Block(5, make([]byte, 12))                                                 // interface statistics
	w.Block(4, []byte{0, 0, 0, 0})                                               // name resolution, empty
	w.Simple(bytes.Repeat([]byte{0x5a}, 42), 42)
	w.Block(0x40000bad, []byte("custom block, not copied"))
	w.Block(0x12345678, nil) // unknown
	w.Section(binary.LittleEndian)
	w.Interface(uint16(layers.LinkTypeLinuxSLL), 0)
	w.Enhanced(0, 1_700_000_001_000_002, bytes.Repeat([]byte{0x11}, 30), 30)
	w.Enhanced(0, 1_700_000_001_000_003, bytes.Repeat([]byte{0x12}, 31), 20) // captured > original
	return w
}

// The generated edge cases read as pcapgo reads them, and a second
// section's interfaces replace the first's.
func TestPcapngSectionsAndInterfaces(t *testing.T) {
	b := edgeSections().Bytes()
	want, err := pcapgoNg(b)
	if err != nil || len(want) != 5 {
		t.Fatalf("pcapgo: %d frames, %v", len(want), err)
	}
	for way, read := range ngWays(t, b) {
		got, err := read()
		if err != nil {
			t.Fatalf("%s: %v", way, err)
		}
		sameFrames(t, way, got, want)
		if !got[1].ts.Equal(time.Unix(1_700_000_000, 500_000_000)) {
			t.Errorf("%s: half a second at 2^-20 s read as %v", way, got[1].ts)
		}
	}
	// what pcapgo is trusted for here, said independently
	checks := []struct {
		ts   time.Time
		link layers.LinkType
		n    int
	}{
		{time.Unix(1_700_001_000, 123_456_789), layers.LinkTypeEthernet, 60},
		{time.Unix(1_700_000_000, 499_646_464), layers.LinkTypeRaw, 41}, // pcapgo's rounding
		{time.Time{}, layers.LinkTypeEthernet, 42},
		{time.Unix(1_700_000_001, 2_000), layers.LinkTypeLinuxSLL, 30},
	}
	for i, c := range checks {
		if !want[i].ts.Equal(c.ts) || want[i].link != c.link || len(want[i].data) != c.n {
			t.Errorf("frame %d: %v", i, want[i])
		}
	}
}

// readWays reads b every way and fails unless each gives n frames and an
// error containing msg.
func readWays(t *testing.T, name string, b []byte, n int, msg string) {
	t.Helper()
	for way, read := range ngWays(t, b) {
		got, err := read()
		if len(got) != n || err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), "offset") {
			t.Errorf("%s, %s: %d frames, err %v; want %d and %q", name, way, len(got), err, n, msg)
		}
	}
}

// A capture cut anywhere in its last block ends with a truncated record
// after the frames before it; a block whose length is not a multiple of 4,
// shorter than a block (zero too: no endless loop on it) or whose packet
// overruns it is damaged; every way of reading says so at its offset.
func TestPcapngDamagedBlocks(t *testing.T) {
	w := edgeSections()
	whole := w.Bytes()
	last := len(whole) - (12 + 20 + 32) // the last enhanced packet block
	for cut := last + 1; cut < len(whole); cut += 7 {
		readWays(t, fmt.Sprintf("cut at %d", cut), whole[:cut], 4, "truncated record")
	}
	for _, l := range []uint32{14, 0, 4, 8} {
		bad := &pcapgen.NgBlocks{Order: binary.LittleEndian}
		bad.BlockLen(0x12345678, l, make([]byte, 16), l)
		readWays(t, fmt.Sprintf("block length %d", l), append(bytes.Clone(whole), bad.Bytes()...), 5, "malformed pcapng block")
	}
	over := &pcapgen.NgBlocks{Order: binary.LittleEndian}
	over.Enhanced(0, 1, make([]byte, 8), 8)
	ob := over.Bytes()
	binary.LittleEndian.PutUint32(ob[8+12:], 9) // 9 bytes claimed, 8 in the block
	readWays(t, "captured length past the block", append(bytes.Clone(whole), ob...), 5, "past the block's end")
}

// A block claiming more than the file holds is a truncated record (a
// packet block over 16 MiB is malformed whatever follows), and reading it
// costs memory for the bytes that are there, not for the claim (through
// the buffer: gzip; the small buffer of a file opened for seeking).
func TestPcapngBlockClaimingMoreThanItHas(t *testing.T) {
	for _, c := range []struct {
		typ, claim uint32
		msg        string
	}{{6, 15 << 20, "truncated record"}, {0x12345678, 0xfffffffc, "truncated record"}, {6, 0xfffffffc, "malformed pcapng block"}} {
		w := edgeSections()
		w.BlockLen(c.typ, c.claim, make([]byte, 100), c.claim)
		name := fmt.Sprintf("block %#x claiming %d bytes", c.typ, c.claim)
		for way, read := range ngWays(t, w.Bytes()) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got, err := read()
			runtime.ReadMemStats(&after)
			if len(got) != 5 || !strings.Contains(errText(err), c.msg) {
				t.Errorf("%s, %s: %d frames, err %v; want 5 and %q", name, way, len(got), err, c.msg)
			}
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 12<<20 {
				t.Errorf("%s, %s: allocated %d MiB", name, way, grown>>20)
			}
		}
	}
}

// BenchmarkPcapngRead reads a pcapng of generated traffic mapped and
// through gzip, against pcapgo's NgReader on the same bytes.
func BenchmarkPcapngRead(b *testing.B) {
	var mix bytes.Buffer
	if _, err := pcapgen.WriteMix(&mix, 32<<20, 1); err != nil {
		b.Fatal(err)
	}
	r, err := pcapgo.NewReader(&mix)
	if err != nil {
		b.Fatal(err)
	}
	var ng bytes.Buffer
	nw, err := pcapgo.NewNgWriter(&ng, r.LinkType())
	if err != nil {
		b.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		ci.InterfaceIndex = 0
		nw.WritePacket(ci, data)
	}
	nw.Flush()
	path := filepath.Join(b.TempDir(), "mix.pcapng")
	if err := os.WriteFile(path, ng.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("mapped", func(b *testing.B) { benchRead(b, path, ng.Len()) })
	b.Run("pcapgo", func(b *testing.B) {
		b.SetBytes(int64(ng.Len()))
		b.ReportAllocs()
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			r, err := pcapgo.NewNgReader(f, pcapgo.NgReaderOptions{WantMixedLinkType: true})
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, _, err := r.ZeroCopyReadPacketData(); err != nil {
					break
				}
			}
			f.Close()
		}
	})
}

// A mapped pcapng cut by another process while it is read faults, and
// FaultIsError makes that an error naming the file, not a crash.
func TestMappedPcapngCutIsError(t *testing.T) {
	w := edgeSections()
	for range 2000 {
		w.Enhanced(0, 1, make([]byte, 1000), 1000)
	}
	path := filepath.Join(t.TempDir(), "cut.pcapng")
	if err := os.WriteFile(path, w.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := OpenFile(path)
	if err != nil || s.mm == nil {
		t.Fatalf("not mapped: %v", err)
	}
	defer s.Close()
	var fr Frame
	if err := s.Next(&fr); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	n, err := func() (n int, err error) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer FaultIsError(path, &err)
		for ; ; n++ {
			if err := s.Next(&fr); err != nil {
				return n, err
			}
			_ = fr.Data[len(fr.Data)-1]
		}
	}()
	if err == nil || !strings.Contains(err.Error(), "changed while it was read") || !strings.Contains(err.Error(), path) {
		t.Fatalf("after %d frames: %v", n, err)
	}
}

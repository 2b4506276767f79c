package source

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// residentBytes is how much of the mapping b is resident in this process
// (its Rss in /proc/self/smaps): the pages the reader has mapped and not
// given back, whatever the page cache holds.
func residentBytes(t *testing.T, b []byte) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	start := fmt.Sprintf("%x-", uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	in := false // past the mapping's first line: its first Rss line is next
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		in = in || strings.HasPrefix(line, start)
		var kb int64
		if in && strings.HasPrefix(line, "Rss:") {
			if _, err := fmt.Sscanf(line, "Rss: %d kB", &kb); err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no mapping at %s in /proc/self/smaps", start)
	return 0
}

// Resident memory follows the reader, not the file: reading a capture of
// many times dropBehind leaves at most dropBehind and a little of its
// mapping resident; a held file keeps what it did not release, and gives
// it back when released.
func TestMappedResidentMemoryFollowsReader(t *testing.T) {
	path, mix := writeMix(t, 6*dropBehind, 11)
	const slack = 1 << 20 // the last frame's pages and the kernel's fault-around
	for _, hold := range []bool{false, true} {
		s, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if hold && !s.Hold() {
			t.Fatal("a mapped file cannot hold")
		}
		var fr Frame
		frames := 0
		for s.Next(&fr) == nil {
			frames++
		}
		rss := residentBytes(t, s.mm.b)
		t.Logf("hold %v: %d frames, %d MB file, %d KB resident at the end", hold, frames, len(mix)>>20, rss>>10)
		switch {
		case !hold && rss > dropBehind+slack:
			t.Errorf("%d bytes of a %d-byte file resident after reading it", rss, len(mix))
		case hold && rss < int64(len(mix))-dropBehind:
			t.Errorf("held and not released: only %d bytes of %d resident", rss, len(mix))
		}
		if hold {
			s.Release(fr.Offset)
			if rss := residentBytes(t, s.mm.b); rss > dropBehind+slack {
				t.Errorf("%d bytes resident after releasing all", rss)
			}
		}
		s.Close()
	}
}

// BenchmarkMappedCapture reads $PS_BENCH_PCAP (bench-large) from its
// mapping as the feeder does (held, released behind every 256 frames),
// reading the first 64 bytes of each frame (the headers a decoder reads),
// and reports the CPU time of a read (user and system: page faults and
// the release behind the reader) and its page faults. The 32 MB file of
// BenchmarkBufferedRead stays in the processor's caches; this one comes
// from memory, as a replay's does.
func BenchmarkMappedCapture(b *testing.B) {
	path := os.Getenv("PS_BENCH_PCAP")
	if path == "" {
		b.Skip("PS_BENCH_PCAP is not set")
	}
	var cpu time.Duration
	var faults int64
	var sum byte
	for b.Loop() {
		before := usage(b)
		s, err := OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if !s.Hold() {
			b.Fatal("not read from a mapping")
		}
		var fr Frame
		for n := 1; s.Next(&fr) == nil; n++ {
			for i := 0; i < min(len(fr.Data), 64); i += 8 {
				sum += fr.Data[i]
			}
			if n%256 == 0 {
				s.Release(fr.Offset)
			}
		}
		s.Close()
		after := usage(b)
		cpu += time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
		faults += after.Minflt + after.Majflt - before.Minflt - before.Majflt
	}
	b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(faults)/float64(b.N), "faults/op")
	headerSum = sum
}

// headerSum keeps the bytes BenchmarkMappedCapture reads from being
// optimised away.
var headerSum byte

func usage(b *testing.B) syscall.Rusage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru
}

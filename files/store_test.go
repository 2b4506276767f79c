package files

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// storeFile writes data as one file through a tracker on s and keeps it
// if rules meet the store's when; it returns the result's SHA-256 and
// whether the file was kept.
func storeFile(t *testing.T, s *Store, data []byte, end parsers.FileEnd, rules []string) (string, bool) {
	t.Helper()
	tr := NewTracker(Config{Hashes: []Hash{MD5}, Store: s}, nil)
	var sum string
	var kept bool
	f := tr.Open(&parsers.FileInfo{Name: "x.bin", Size: -1}, ReportFunc(func(r *Result) {
		sum = r.SHA256
		var err error
		if kept, err = r.Keep(&Sidecar{Name: "x.bin"}, rules); err != nil {
			t.Fatal(err)
		}
	}))
	for p := data; len(p) > 0; p = p[min(len(p), 1000):] {
		f.Write(p[:min(len(p), 1000)])
	}
	f.Close(end, t0)
	return sum, kept
}

func leftovers(t *testing.T, dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, tmpDir, "*"))
	return m
}

func TestStoreKeepsDedupsAndEvicts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := OpenStore(StoreConfig{Dir: dir, When: WhenAll, MaxBytes: 25000, MaxFileBytes: 20000})
	if err != nil {
		t.Fatal(err)
	}
	pe := append(peFile(), bytes.Repeat([]byte("x"), 9000)...)
	sum, kept := storeFile(t, s, pe, parsers.FileComplete, nil)
	want := sha256.Sum256(pe)
	if !kept || sum != hex.EncodeToString(want[:]) {
		t.Fatalf("kept %v sum %s", kept, sum)
	}
	got, err := os.ReadFile(s.Path(sum))
	if err != nil || !bytes.Equal(got, pe) {
		t.Fatalf("stored copy differs: %v", err)
	}
	for _, p := range []string{s.Path(sum), s.Path(sum) + ".json", dir} {
		fi, _ := os.Stat(p)
		if mode := fi.Mode().Perm(); mode&0o077 != 0 || mode&0o111 != 0 && !fi.IsDir() {
			t.Errorf("%s: mode %v", p, mode)
		}
	}
	var sc Sidecar
	b, _ := os.ReadFile(s.Path(sum) + ".json")
	if err := json.Unmarshal(b, &sc); err != nil || sc.SHA256 != sum || sc.Name != "x.bin" {
		t.Fatalf("sidecar %s: %v", b, err)
	}

	// The same file again: one copy.
	if _, kept := storeFile(t, s, pe, parsers.FileComplete, nil); !kept {
		t.Fatal("duplicate not reported as kept")
	}
	if st := s.Stats(); st.Stored != 1 || st.Deduplicated != 1 {
		t.Fatalf("stats %+v", st)
	}

	// Incomplete, too large: not kept.
	if _, kept := storeFile(t, s, []byte("partial"), parsers.FileTruncated, nil); kept {
		t.Fatal("kept a truncated file")
	}
	if _, kept := storeFile(t, s, bytes.Repeat([]byte("L"), 20001), parsers.FileComplete, nil); kept {
		t.Fatal("kept a file over max_file_bytes")
	}

	// Two more files: the total passes 25000, the oldest goes.
	a, _ := storeFile(t, s, bytes.Repeat([]byte("a"), 9000), parsers.FileComplete, nil)
	b2, _ := storeFile(t, s, bytes.Repeat([]byte("b"), 9000), parsers.FileComplete, nil)
	if _, err := os.Stat(s.Path(sum)); !os.IsNotExist(err) {
		t.Fatalf("oldest not evicted: %v", err)
	}
	if l := s.List(); len(l) != 2 || l[0].SHA256 != b2 || l[1].SHA256 != a {
		t.Fatalf("list %+v", l)
	}
	if left := leftovers(t, dir); len(left) != 0 {
		t.Fatalf("partial files left: %v", left)
	}

	// Reopened, the store knows its files.
	s2, err := OpenStore(StoreConfig{Dir: dir, When: WhenAll})
	if err != nil || s2.Stats().Bytes != 18000 || len(s2.List()) != 2 {
		t.Fatalf("reopened: %v %+v", err, s2.Stats())
	}
}

func TestStoreWhenAndTypes(t *testing.T) {
	dir := t.TempDir()
	alerts, _ := OpenStore(StoreConfig{Dir: filepath.Join(dir, "a"), When: WhenAlerts})
	if _, kept := storeFile(t, alerts, []byte("quiet"), parsers.FileComplete, nil); kept {
		t.Fatal("when alerts kept a file without alert")
	}
	if _, kept := storeFile(t, alerts, []byte("loud"), parsers.FileComplete, []string{"PS-FILE-001"}); !kept {
		t.Fatal("when alerts dropped a file with an alert")
	}
	byRule, _ := OpenStore(StoreConfig{Dir: filepath.Join(dir, "r"), Rules: []string{"PS-FILE-005"}})
	if _, kept := storeFile(t, byRule, []byte("one"), parsers.FileComplete, []string{"PS-FILE-001"}); kept {
		t.Fatal("kept for a rule not listed")
	}
	if _, kept := storeFile(t, byRule, []byte("two"), parsers.FileComplete, []string{"PS-FILE-001", "PS-FILE-005"}); !kept {
		t.Fatal("dropped for a listed rule")
	}
	exe, _ := OpenStore(StoreConfig{Dir: filepath.Join(dir, "t"), When: WhenAll, Types: []string{"executable", "application/zip", "image/"}})
	for _, c := range []struct {
		data []byte
		want bool
	}{
		{peFile(), true}, {[]byte("#!/bin/sh\nid\n"), true}, {zipFile(t, "a.docx", "x"), true},
		{[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), true}, {[]byte("plain text"), false}, {[]byte("%PDF-1.4\n"), false},
	} {
		if _, kept := storeFile(t, exe, c.data, parsers.FileComplete, nil); kept != c.want {
			t.Errorf("%q: kept %v, want %v", c.data[:min(8, len(c.data))], kept, c.want)
		}
	}
	for _, d := range []string{"a", "r", "t"} {
		if left := leftovers(t, filepath.Join(dir, d)); len(left) != 0 {
			t.Errorf("%s: partial files left: %v", d, left)
		}
	}
}

// A copy that cannot be kept is dropped as soon as that is known (its type
// past the sniff window, a gap), not held open on disk to the file's end.
func TestStoreDropsEarly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := OpenStore(StoreConfig{Dir: dir, When: WhenAll, Types: []string{"executable"}})
	if err != nil {
		t.Fatal(err)
	}
	tr := NewTracker(Config{Store: s}, nil)
	text := tr.Open(&parsers.FileInfo{Size: -1}, nil)
	text.Write(bytes.Repeat([]byte("plain text "), 200))
	if n := len(leftovers(t, dir)); n != 1 {
		t.Fatalf("%d copies in the sniff window, want 1", n)
	}
	text.Write(bytes.Repeat([]byte("plain text "), 400))
	if n := len(leftovers(t, dir)); n != 0 {
		t.Errorf("%d copies of a text file past the sniff window", n)
	}
	gap := tr.Open(&parsers.FileInfo{Size: -1}, nil)
	gap.Write(peFile())
	gap.Gap(10)
	if n := len(leftovers(t, dir)); n != 0 {
		t.Errorf("%d copies after a gap", n)
	}
	text.Close(parsers.FileComplete, t0)
	gap.Close(parsers.FileComplete, t0)
	if st := s.Stats(); st.Discarded != 2 || st.Stored != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A kept file's key in the store is its own 64 bytes: a result's SHA-256
// hex lives in its File, and a key pointing there would keep every stored
// File alive, with what it references (here an 8 KiB request URI), for as
// long as the store holds the file.
func TestStoreKeepsOnlyTheKeyOfAFile(t *testing.T) {
	s, err := OpenStore(StoreConfig{Dir: filepath.Join(t.TempDir(), "store"), When: WhenAll, MaxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	tr := NewTracker(Config{Store: s}, nil)
	const n = 2000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		uri := fmt.Sprintf("/%d/", i) + strings.Repeat("a", 8<<10)
		f := tr.Open(&parsers.FileInfo{URI: uri, Size: -1}, ReportFunc(func(r *Result) {
			if _, err := r.Keep(&Sidecar{}, nil); err != nil {
				t.Fatal(err)
			}
		}))
		f.Write([]byte(fmt.Sprint(i)))
		f.Close(parsers.FileComplete, t0)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	if len(s.order) != n {
		t.Fatalf("%d files kept, want %d", len(s.order), n)
	}
	if per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n; per > 1024 {
		t.Errorf("the store holds %d bytes of heap per kept file, not its key", per)
	}
}

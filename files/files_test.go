package files

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// feed writes data to a new file of tr in random pieces and returns its
// result after Close(end).
func feed(t *testing.T, tr *Tracker, info parsers.FileInfo, data []byte, end parsers.FileEnd) Result {
	t.Helper()
	var got *Result
	f := tr.Open(&info, ReportFunc(func(r *Result) { c := *r; got = &c }))
	rng := rand.New(rand.NewPCG(1, uint64(len(data))))
	for len(data) > 0 {
		n := min(len(data), 1+rng.IntN(3000))
		f.Write(data[:n])
		data = data[n:]
	}
	f.Close(end, t0)
	f.Close(end, t0) // a second Close is ignored
	if got == nil {
		t.Fatal("done not called")
	}
	return *got
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func TestHashesAndTypeAsBytesArrive(t *testing.T) {
	tr := NewTracker(Config{Hashes: []Hash{MD5, SHA1, SHA256}}, nil)
	data := append(peFile(), make([]byte, 100_000)...)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 600; i < len(data); i++ {
		data[i] = byte(rng.Uint32())
	}
	info := parsers.FileInfo{Dir: parsers.ToClient, Name: "x.exe", MimeType: "application/octet-stream", Size: -1, Range: &parsers.FileRange{Start: 5, Total: 10}}
	r := feed(t, tr, info, data, parsers.FileComplete)
	m, s1, s2 := md5.Sum(data), sha1.Sum(data), sha256.Sum256(data)
	if r.MD5 != hexOf(m[:]) || r.SHA1 != hexOf(s1[:]) || r.SHA256 != hexOf(s2[:]) {
		t.Fatalf("hashes %s %s %s differ from the data's", r.MD5, r.SHA1, r.SHA256)
	}
	if r.Size != int64(len(data)) || r.End != parsers.FileComplete || r.MimeType != "application/vnd.microsoft.portable-executable" || r.Magic.Executable != "pe" {
		t.Fatalf("result %+v", r)
	}
	if r.Info.Name != "x.exe" || r.Info.Range == info.Range || *r.Info.Range != *info.Range {
		t.Fatalf("declared info not copied: %+v", r.Info)
	}
	if s := tr.Stats(); s.Files != 1 || s.Hashed != 1 || s.Bytes != uint64(len(data)) {
		t.Fatalf("stats %+v", s)
	}
}

func TestSomeHashesOrNone(t *testing.T) {
	data := []byte("#!/bin/sh\necho hi\n")
	if r := feed(t, NewTracker(Config{}, nil), parsers.FileInfo{}, data, parsers.FileComplete); r.SHA256 == "" || r.MD5 != "" || r.SHA1 != "" {
		t.Fatalf("default hashes: got %q %q %q, want SHA-256 only", r.MD5, r.SHA1, r.SHA256)
	}
	r := feed(t, NewTracker(Config{Hashes: []Hash{SHA256}}, nil), parsers.FileInfo{}, data, parsers.FileComplete)
	if r.MD5 != "" || r.SHA1 != "" || r.SHA256 == "" {
		t.Fatalf("sha256 only: got %q %q %q", r.MD5, r.SHA1, r.SHA256)
	}
	r = feed(t, NewTracker(Config{NoHashes: true}, nil), parsers.FileInfo{}, data, parsers.FileComplete)
	if r.MD5+r.SHA1+r.SHA256 != "" || r.Magic.Executable != "script" {
		t.Fatalf("no hashes: got %+v", r)
	}
	for _, s := range []string{"md5", "SHA1", "sha256"} {
		if _, err := ParseHash(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParseHash("crc32"); err == nil {
		t.Error("crc32 accepted")
	}
}

func TestIncompleteFilesHaveNoHashes(t *testing.T) {
	tr := NewTracker(Config{}, nil)
	var got Result
	f := tr.Open(&parsers.FileInfo{}, ReportFunc(func(r *Result) { got = *r }))
	f.Write(peFile())
	f.Gap(100)
	f.Write([]byte("more"))
	f.Close(parsers.FileComplete, t0)
	if got.End != parsers.FileGap || got.Missing != 100 || got.SHA256 != "" || got.Size != 516 || got.Magic.Executable != "pe" {
		t.Fatalf("gap: %+v", got)
	}
	got = feed(t, tr, parsers.FileInfo{}, []byte("abc"), parsers.FileTruncated)
	if got.End != parsers.FileTruncated || got.SHA256 != "" || got.MimeType != "text/plain" {
		t.Fatalf("truncated: %+v", got)
	}
}

func TestMaxFileBytes(t *testing.T) {
	tr := NewTracker(Config{MaxFileBytes: 10}, nil)
	f := tr.Open(&parsers.FileInfo{}, nil)
	if !f.Write([]byte("0123456789")) {
		t.Fatal("refused bytes within the limit")
	}
	if f.Write([]byte("x")) {
		t.Fatal("took bytes past the limit")
	}
	var got Result
	f.done = ReportFunc(func(r *Result) { got = *r })
	f.Close(parsers.FileComplete, t0)
	if !got.OverLimit || got.SHA256 != "" || got.Size != 11 || tr.Stats().OverLimit != 1 {
		t.Fatalf("over limit: %+v", got)
	}
}

func TestBudgetAndMaxOpen(t *testing.T) {
	acct := budget.New(0).NewAccount()
	tr := NewTracker(Config{MaxOpen: 2}, acct)
	a, b := tr.Open(&parsers.FileInfo{}, nil), tr.Open(&parsers.FileInfo{}, nil)
	if acct.Used(budget.Files) != 2*Footprint {
		t.Fatalf("reserved %d, want %d", acct.Used(budget.Files), 2*Footprint)
	}
	var got Result
	c := tr.Open(&parsers.FileInfo{}, ReportFunc(func(r *Result) { got = *r }))
	c.Write([]byte("hello"))
	c.Close(parsers.FileComplete, t0)
	if !got.Unhashed || got.Size != 5 || got.SHA256 != "" || got.MimeType != "" {
		t.Fatalf("third file over MaxOpen: %+v", got)
	}
	a.Close(parsers.FileComplete, t0)
	b.Close(parsers.FileTruncated, t0)
	if acct.Used(budget.Files) != 0 {
		t.Fatalf("%d bytes still reserved", acct.Used(budget.Files))
	}

	// A budget with no room: counted, not hashed.
	full := budget.New(1).NewAccount()
	tr = NewTracker(Config{}, full)
	got = feed(t, tr, parsers.FileInfo{}, []byte("data"), parsers.FileComplete)
	if !got.Unhashed || tr.Stats().Unhashed != 1 {
		t.Fatalf("refused budget: %+v %+v", got, tr.Stats())
	}
}

// A tracker reusing closed files' sniff windows and hash states gives each
// file the result a fresh tracker gives it, whatever the file before it
// left behind (cut short, over the limit, with a gap, open alongside).
func TestSparesAsFresh(t *testing.T) {
	cfg := Config{Hashes: []Hash{MD5, SHA256}, MaxFileBytes: 20_000}
	rng := rand.New(rand.NewPCG(3, 3))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	files := []struct {
		data []byte
		end  parsers.FileEnd
		gap  bool
	}{
		{append(peFile(), random(9000)...), parsers.FileComplete, false},
		{[]byte("<html><body>hello</body></html>"), parsers.FileComplete, false},
		{random(30_000), parsers.FileComplete, false}, // over MaxFileBytes
		{[]byte("#!/bin/sh\necho hi\n"), parsers.FileComplete, false},
		{random(5000), parsers.FileComplete, true},
		{[]byte("{\"a\": 1}"), parsers.FileTruncated, false},
		{[]byte("plain text, shorter than the last head"), parsers.FileComplete, false},
	}
	reused := NewTracker(cfg, nil)
	for round := range 2 {
		for i, c := range files {
			want := feedMaybeGap(t, NewTracker(cfg, nil), c.data, c.end, c.gap)
			got := feedMaybeGap(t, reused, c.data, c.end, c.gap)
			if got.SHA256 != want.SHA256 || got.MD5 != want.MD5 || got.MimeType != want.MimeType ||
				got.Magic.Executable != want.Magic.Executable || got.Size != want.Size || got.End != want.End || got.OverLimit != want.OverLimit {
				t.Fatalf("round %d file %d: reused tracker %+v, fresh %+v", round, i, got, want)
			}
		}
	}
	if reused.spares.Len() != 1 {
		t.Errorf("%d spares after files closed one at a time, want 1", reused.spares.Len())
	}
	allocs := testing.AllocsPerRun(50, func() {
		f := reused.Open(&parsers.FileInfo{}, nil)
		f.Write(files[1].data)
		f.Close(parsers.FileComplete, t0)
	})
	if allocs > 6 {
		t.Errorf("%.0f allocations per small file, want at most 6 (7 when SHA-256's hex had its own, 10 when each hash's hex took three, 13 when each file took a new window and hash states)", allocs)
	}
}

// A result's SHA-256 string lives in its File: it stays the file's own
// however many files the tracker opens and closes after it.
func TestSHA256StringOutlivesTheFile(t *testing.T) {
	tr := NewTracker(Config{Hashes: []Hash{SHA256}}, nil)
	var kept []string
	var want []string
	for i := range 50 {
		data := []byte(fmt.Sprintf("file number %d", i))
		sum := sha256.Sum256(data)
		want = append(want, hex.EncodeToString(sum[:]))
		f := tr.Open(&parsers.FileInfo{}, ReportFunc(func(r *Result) { kept = append(kept, r.SHA256) }))
		f.Write(data)
		f.Close(parsers.FileComplete, t0)
	}
	if !slices.Equal(kept, want) {
		t.Fatalf("kept SHA-256 strings changed:\n got %q\nwant %q", kept[:3], want[:3])
	}
}

func feedMaybeGap(t *testing.T, tr *Tracker, data []byte, end parsers.FileEnd, gap bool) Result {
	t.Helper()
	if !gap {
		return feed(t, tr, parsers.FileInfo{}, data, end)
	}
	var got Result
	f := tr.Open(&parsers.FileInfo{}, ReportFunc(func(r *Result) { got = *r }))
	f.Write(data[:100])
	f.Gap(10)
	f.Write(data[100:])
	f.Close(end, t0)
	return got
}

// Without hashes or a store copy, a file wants no more bytes once its sniff
// window is full (or a gap ends the typing): Write says so, and Unsized
// marks a file whose writer stopped there. With a hash it wants them all.
func TestTypedOnlyWantsNoMore(t *testing.T) {
	data := append(peFile(), make([]byte, 2*SniffBytes)...)
	tr := NewTracker(Config{NoHashes: true}, nil)
	var got Result
	f := tr.Open(&parsers.FileInfo{}, ReportFunc(func(r *Result) { got = *r }))
	if !f.Write(data[:SniffBytes-1]) {
		t.Fatal("refused bytes before the type was read")
	}
	if f.Write(data[SniffBytes-1 : SniffBytes+10]) {
		t.Fatal("wants more bytes once typed, with nothing to hash")
	}
	f.Unsized()
	f.Close(parsers.FileComplete, t0)
	if !got.Unsized || got.Magic.Executable != "pe" || got.Size != SniffBytes+10 || got.End != parsers.FileComplete {
		t.Fatalf("typed only: %+v", got)
	}

	gap := tr.Open(&parsers.FileInfo{}, nil)
	gap.Write([]byte("MZ"))
	gap.Gap(10)
	if gap.Write([]byte("more")) {
		t.Fatal("wants more bytes after a gap, with nothing to hash")
	}
	gap.Close(parsers.FileComplete, t0)

	hashed := NewTracker(Config{}, nil).Open(&parsers.FileInfo{}, ReportFunc(func(r *Result) { got = *r }))
	for i := 0; i < len(data); i += 1000 {
		if !hashed.Write(data[i:min(i+1000, len(data))]) {
			t.Fatalf("a hashed file refused bytes at %d", i)
		}
	}
	hashed.Close(parsers.FileComplete, t0)
	if got.Unsized || got.SHA256 == "" || got.Size != int64(len(data)) {
		t.Fatalf("hashed: %+v", got)
	}
}

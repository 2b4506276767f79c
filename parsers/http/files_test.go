package http

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// recFile records what a parser hands to one file.
type recFile struct {
	info   parsers.FileInfo
	data   bytes.Buffer
	gaps   int64
	end    parsers.FileEnd
	closed int
	limit  int // Write returns false past it (0: never)
}

func (f *recFile) Write(p []byte) bool {
	f.data.Write(p)
	return f.limit == 0 || f.data.Len() < f.limit
}
func (f *recFile) Gap(n int64)                            { f.gaps += n }
func (f *recFile) Close(end parsers.FileEnd, _ time.Time) { f.end = end; f.closed++ }

// recOpener keeps every file opened, in order.
type recOpener struct{ files []*recFile }

func (o *recOpener) OpenFile(info *parsers.FileInfo) parsers.FileSink {
	f := &recFile{info: *info}
	o.files = append(o.files, f)
	return f
}

// feedSplit feeds s in pieces of random sizes (1 to max bytes).
func feedSplit(t *testing.T, c *Conn, d parsers.Dir, s string, rng *rand.Rand, max int) {
	t.Helper()
	for len(s) > 0 {
		n := min(len(s), 1+rng.IntN(max))
		if err := c.Data(d, []byte(s[:n]), t0); err != nil {
			t.Fatalf("Data: %v", err)
		}
		s = s[n:]
	}
}

func filesOf(t *testing.T, cfg Config, req, resp string, seed uint64, max int) ([]*recFile, []Transaction) {
	t.Helper()
	o := &recOpener{}
	cfg.Files = o
	var out []Transaction
	c := collect(cfg, &out)
	rng := rand.New(rand.NewPCG(seed, 9))
	feedSplit(t, c, parsers.ToServer, req, rng, max)
	feedSplit(t, c, parsers.ToClient, resp, rng, max)
	c.End(t0)
	for i, f := range o.files {
		if f.closed != 1 {
			t.Fatalf("file %d closed %d times", i, f.closed)
		}
	}
	return o.files, out
}

func TestBodiesAsFiles(t *testing.T) {
	exe := strings.Repeat("MZ\x90\x00binary\r\n--x\r\n", 300)
	page := strings.Repeat("<p>hello</p>\n", 2000)
	gz := string(gzipped(t, "gzip", []byte(page)))
	req := "GET /dl/setup%20v2.exe?x=1 HTTP/1.1\r\nHost: a.example\r\n\r\n" +
		"GET /page HTTP/1.1\r\nHost: a.example\r\nAccept-Encoding: gzip\r\n\r\n" +
		"GET /video HTTP/1.1\r\nHost: a.example\r\nRange: bytes=100-\r\n\r\n" +
		"GET /nobody HTTP/1.1\r\nHost: a.example\r\n\r\n"
	resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n%s", len(exe), exe) +
		"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nTransfer-Encoding: chunked\r\n\r\n" +
		chunked(gz, 1000) +
		"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-104/5000\r\nContent-Length: 5\r\n\r\nvideo" +
		"HTTP/1.1 204 No Content\r\n\r\n"
	for seed := range uint64(20) {
		files, txs := filesOf(t, Config{}, req, resp, seed, 1+int(seed)*97)
		if len(files) != 3 || len(txs) != 4 {
			t.Fatalf("seed %d: %d files, %d transactions, want 3 and 4", seed, len(files), len(txs))
		}
		a, b, c := files[0], files[1], files[2]
		if a.data.String() != exe || a.end != parsers.FileComplete || a.info.Name != "setup v2.exe" || a.info.Size != int64(len(exe)) ||
			a.info.Dir != parsers.ToClient || a.info.Tx != 1 || a.info.MimeType != "application/octet-stream" || a.info.Part != "response" ||
			a.info.Host != "a.example" || a.info.URI != "/dl/setup%20v2.exe?x=1" {
			t.Fatalf("seed %d: plain body: %+v (%d bytes)", seed, a.info, a.data.Len())
		}
		if b.data.String() != page || b.end != parsers.FileComplete || b.info.Name != "report.pdf" || b.info.Size != -1 || b.info.Tx != 2 {
			t.Fatalf("seed %d: gzip+chunked body: %+v %v (%d bytes)", seed, b.info, b.end, b.data.Len())
		}
		if c.data.String() != "video" || c.info.Range == nil || *c.info.Range != (parsers.FileRange{Start: 100, Total: 5000}) || c.info.Tx != 3 {
			t.Fatalf("seed %d: 206: %+v", seed, c.info)
		}
		if txs[1].Seq != 2 || txs[3].Seq != 4 {
			t.Fatalf("seq %d %d", txs[1].Seq, txs[3].Seq)
		}
		if hasNote(txs[1], NoteDecodeSkipped) || txs[1].Response.BodyDecodedBytes != int64(len(page)) {
			t.Fatalf("files need the decoded body: notes %v, decoded %d", txs[1].Notes, txs[1].Response.BodyDecodedBytes)
		}
	}
}

func chunked(s string, size int) string {
	var b strings.Builder
	for len(s) > 0 {
		n := min(size, len(s))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, s[:n])
		s = s[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

func TestMultipartParts(t *testing.T) {
	const bnd = "----WebKitFormBoundaryx7"
	part1 := strings.Repeat("PK\x03\x04zipdata\r\n-", 500) // CR LF and dashes that are not the delimiter
	part2 := "#!/bin/sh\necho hi\n"
	body := "preamble\r\n--" + bnd + "\r\n" +
		"Content-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n--" + bnd + "  \r\n" +
		"Content-Disposition: form-data; name=\"f1\"; filename=\"docs.zip\"\r\nContent-Type: application/zip\r\n\r\n" + part1 + "\r\n--" + bnd + "\r\n" +
		"Content-Disposition: form-data; name=\"f2\"; filename*=UTF-8''r%C3%A9sum%C3%A9.sh\r\n\r\n" + part2 + "\r\n--" + bnd + "--\r\nepilogue"
	req := fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: a.example\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n%s", bnd, len(body), body)
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	for seed := range uint64(40) {
		files, _ := filesOf(t, Config{}, req, resp, seed, 1+int(seed%8)*int(seed))
		if len(files) != 2 {
			t.Fatalf("seed %d: %d files, want the 2 file parts", seed, len(files))
		}
		if f := files[0]; f.data.String() != part1 || f.info.Name != "docs.zip" || f.info.MimeType != "application/zip" || f.end != parsers.FileComplete ||
			f.info.Part != "multipart" || f.info.Dir != parsers.ToServer || f.info.Tx != 1 {
			t.Fatalf("seed %d: part 1 %+v %v, %d bytes", seed, f.info, f.end, f.data.Len())
		}
		if f := files[1]; f.data.String() != part2 || f.info.Name != "résumé.sh" || f.end != parsers.FileComplete {
			t.Fatalf("seed %d: part 2 %+v %q", seed, f.info, f.data.String())
		}
	}
	// Cut short: the open part is truncated.
	files, _ := filesOf(t, Config{}, req[:len(req)-len(part2)-40], "", 1, 50)
	if len(files) != 2 || files[1].end != parsers.FileTruncated || files[0].end != parsers.FileComplete {
		t.Fatalf("cut multipart: %d files", len(files))
	}
}

func TestFileEnds(t *testing.T) {
	// A gap in the body: the file hears of it.
	o := &recOpener{}
	var out []Transaction
	c := collect(Config{Files: o}, &out)
	mustData(t, c, parsers.ToServer, "GET /f HTTP/1.1\r\nHost: h\r\n\r\n")
	mustData(t, c, parsers.ToClient, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
	c.Gap(parsers.ToClient, 20, t0)
	mustData(t, c, parsers.ToClient, strings.Repeat("x", 70))
	c.End(t0)
	if f := o.files[0]; f.gaps != 20 || f.data.Len() != 80 || f.end != parsers.FileComplete || f.closed != 1 {
		t.Fatalf("gap: %d missing, %d bytes, end %v", f.gaps, f.data.Len(), f.end)
	}

	// The connection ends in the body: truncated.
	files, _ := filesOf(t, Config{}, "GET /f HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", 1, 10)
	if files[0].end != parsers.FileTruncated || files[0].data.String() != "short" {
		t.Fatalf("cut body: %v %q", files[0].end, files[0].data.String())
	}

	// A decompression bomb stops at MaxDecoded: size limit.
	bomb := gzipped(t, "gzip", make([]byte, 1<<20))
	files, _ = filesOf(t, Config{MaxDecoded: 64 << 10}, "GET /b HTTP/1.1\r\n\r\n",
		fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(bomb), bomb), 1, 4000)
	if f := files[0]; f.end != parsers.FileSizeLimit || f.data.Len() != 64<<10 {
		t.Fatalf("bomb: %v after %d bytes", f.end, f.data.Len())
	}

	// A corrupt gzip body: truncated.
	files, _ = filesOf(t, Config{}, "GET /b HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\n\x1f\x8b\x08\x00garbage!", 1, 4)
	if files[0].end != parsers.FileTruncated {
		t.Fatalf("corrupt gzip: %v", files[0].end)
	}
}

func TestContentRangeAndURLName(t *testing.T) {
	for v, want := range map[string]*parsers.FileRange{
		"bytes 0-499/1234": {Start: 0, Total: 1234}, "bytes 500-999/*": {Start: 500, Total: -1}, "BYTES 1-2/3": {Start: 1, Total: 3},
		"bytes */1234": nil, "items 0-1/2": nil, "bytes -5-1/2": nil, "": nil,
	} {
		got := contentRange(v)
		if (got == nil) != (want == nil) || got != nil && *got != *want {
			t.Errorf("contentRange(%q) = %v, want %v", v, got, want)
		}
	}
	for uri, want := range map[string]string{
		"/a/b/c.exe?x=1": "c.exe", "/": "", "/dir/": "dir", "//": "", "http://h.example/x/y.zip#f": "y.zip",
		"http://h.example": "", "/%2e%2e%2fevil.sh": "../evil.sh", "*": "*",
	} {
		if got := urlName(uri); got != want {
			t.Errorf("urlName(%q) = %q, want %q", uri, got, want)
		}
	}
}

// A Content-Disposition that mime rejects is cut at its filename= in the
// value itself: bytes that are not UTF-8 (lowered, each became the three
// bytes of U+FFFD) once moved the cut elsewhere, or out of the value.
func TestDispositionNameNotUTF8(t *testing.T) {
	for v, want := range map[string]string{
		"filename=x\xf6.exe":            "x\xf6.exe",
		"filenAme=\xf6\xf6\xf6\xf6\xf6": "\xf6\xf6\xf6\xf6\xf6",
		"\xf6 FILENAME=a b.exe; x=y":    "a b.exe",
	} {
		if got := dispositionName(v); got != want {
			t.Errorf("dispositionName(%q) = %q, want %q", v, got, want)
		}
	}
	resp := "HTTP/1.1 200 OK\r\nContent-Disposition: filenAme=\xf6\xf6\xf6\xf6\xf6\r\nContent-Length: 5\r\n\r\nhello"
	files, _ := filesOf(t, Config{}, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", resp, 1, 1000)
	if len(files) != 1 || files[0].info.Name != "\xf6\xf6\xf6\xf6\xf6" || files[0].data.String() != "hello" {
		t.Fatalf("files %+v", files)
	}
}

package files

import (
	"fmt"
	"testing"

	"github.com/gabriel-vasile/mimetype"
)

func TestSniff(t *testing.T) {
	cases := []struct {
		name, mime, exe string
		head            []byte
	}{
		{"pe", "application/vnd.microsoft.portable-executable", "pe", peFile()},
		{"elf", "application/x-executable", "elf", elfFile()},
		{"macho", "application/x-mach-binary", "macho", machoFile()},
		{"shebang", "text/x-shellscript", "script", []byte("#!/bin/sh\ncurl http://x/y | sh\n")},
		{"env python", "text/x-python", "script", []byte("#!/usr/bin/env python3\nprint(1)\n")},
		{"zip", "application/zip", "", zipFile(t, "a.txt", "hello")},
		{"jar", "application/java-archive", "", zipFile(t, "META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")},
		{"gzip", "application/gzip", "", gzipFile(t, "hello")},
		{"pdf", "application/pdf", "", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")},
		{"ole2", "application/x-ole-storage", "", oleFile()},
		{"png", "image/png", "", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")},
		{"html", "text/html", "", []byte("<!DOCTYPE html><html><body>hi</body></html>")},
		{"text", "text/plain", "", []byte("just some words\n")},
		{"a hash sign is no shebang", "text/plain", "", []byte("#!not a path\n")},
		{"empty", "", "", nil},
	}
	for pass := range 2 { // the second pass answers from the per-type cache
		for _, c := range cases {
			g := Sniff(c.head)
			if g.MimeType != c.mime || g.Executable != c.exe {
				t.Errorf("pass %d, %s: got %q/%q, want %q/%q", pass, c.name, g.MimeType, g.Executable, c.mime, c.exe)
			}
		}
	}
}

// The per-type cache is keyed by the type without parameters: charsets
// named by the content (attacker's data) add no entry.
func TestSniffCacheIgnoresParameters(t *testing.T) {
	Sniff([]byte("<html><head><meta charset=\"utf-8\"></head></html>"))
	count := func() (n int) {
		kinds.Range(func(any, any) bool { n++; return true })
		return n
	}
	before := count()
	for i := range 200 {
		g := Sniff(fmt.Appendf(nil, "<html><head><meta charset=\"x-cs-%d\"></head></html>", i))
		if g.MimeType != "text/html" {
			t.Fatalf("type %q", g.MimeType)
		}
	}
	if after := count(); after != before {
		t.Errorf("cache grew from %d to %d entries", before, after)
	}
}

// An HTML head is typed without the charset and the copies of the type
// that mimetype makes to carry it, and its type is the tree's text/html,
// with text/plain above it (an .htm or .txt name does not contradict it).
func TestSniffHTMLAllocatesNothing(t *testing.T) {
	if htmlLeaf == nil || htmlLeaf.Parent() == nil || !htmlLeaf.Parent().Is("text/html") {
		t.Fatalf("htmlLeaf %v is not a child of text/html", htmlLeaf)
	}
	head := []byte("<!DOCTYPE html><html><head><meta charset=\"iso-8859-1\"></head><body>hi</body></html>")
	g := Sniff(head)
	if g.MimeType != "text/html" || g.mime.String() != "text/html" || !under(g.mime, "text/plain") {
		t.Fatalf("Sniff: %q, mime %v", g.MimeType, g.mime)
	}
	for _, name := range []string{"a.htm", "a.txt", "a.html"} {
		if g.ContradictsExtension(name) {
			t.Errorf("%s contradicts an HTML head", name)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Sniff(head) }); n != 0 {
		t.Errorf("Sniff of an HTML head: %v allocations", n)
	}
}

// related answers as the tree says, whether worked out or remembered, and
// a remembered pair costs no parsing of its types (no allocation).
func TestRelatedRemembered(t *testing.T) {
	heads := [][]byte{peFile(), zipFile(t, "word/document.xml", "<w/>"), []byte("%PDF-1.4\n"), []byte("<html></html>"), []byte("plain words\n")}
	types := []string{"application/zip", "application/pdf", "text/plain", "text/html", "application/vnd.microsoft.portable-executable", "image/png"}
	for round := range 2 {
		for _, h := range heads {
			a := Sniff(h).mime
			for _, ty := range types {
				b := mimetypeLookup(t, ty)
				want := a.Is(b.String()) || under(a, b.String()) || under(b, a.String())
				if got := related(a, b); got != want {
					t.Errorf("round %d: related(%s, %s) = %v", round, a, b, got)
				}
			}
		}
	}
	a, b := Sniff([]byte("<html></html>")).mime, mimetypeLookup(t, "text/plain")
	if n := testing.AllocsPerRun(100, func() { related(a, b) }); n != 0 {
		t.Errorf("a remembered pair: %v allocations", n)
	}
}

func TestContradictions(t *testing.T) {
	pe, zipb, pdf := Sniff(peFile()), Sniff(zipFile(t, "word/document.xml", "<w/>")), Sniff([]byte("%PDF-1.4\n"))
	html := Sniff([]byte("<html><body>x</body></html>"))
	types := []struct {
		g        Magic
		declared string
		want     bool
	}{
		{pe, "image/jpeg", true},
		{pe, "application/pdf", true},
		{pe, "application/octet-stream", false},
		{pe, "application/x-msdownload", false},
		{pe, "application/vnd.microsoft.portable-executable", false},
		{pe, "", false},
		{zipb, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", false},
		{zipb, "application/x-zip-compressed", false}, // an alias
		{zipb, "text/plain", true},
		{pdf, "application/pdf", false},
		{pdf, "text/html", true},
		{html, "image/png", false}, // web noise, not worth a claim
		{pe, "application/x-made-up", false},
		{pe, "text/x.packetsleuth-html", false}, // Sniff's own leaf is unknown to a sender
	}
	for _, c := range types {
		if got := c.g.ContradictsType(c.declared); got != c.want {
			t.Errorf("%s declared %q: contradicts %v, want %v", c.g.MimeType, c.declared, got, c.want)
		}
	}
	names := []struct {
		g    Magic
		name string
		want bool
	}{
		{pe, "invoice.pdf", true},
		{pe, "photo.JPG", true},
		{pe, "setup.exe", false},
		{pe, "readme", false},
		{pe, "archive.unknownext", false},
		{zipb, "report.docx", false},
		{zipb, "report.pdf", true},
		{pdf, "/files/report.pdf", false},
		{pdf, "report.doc", true},
		{html, "index.jpg", false},
	}
	for _, c := range names {
		if got := c.g.ContradictsExtension(c.name); got != c.want {
			t.Errorf("%s named %q: contradicts %v, want %v", c.g.MimeType, c.name, got, c.want)
		}
	}
}

func TestExtension(t *testing.T) {
	for name, want := range map[string]string{
		"a.EXE": "exe", "dir/x.tar.gz": "gz", `C:\Users\x\evil.pdf.scr`: "scr", ".bashrc": "",
		"noext": "", "a.": "", "a.way-too-long-ext": "", "a.b c": "", "/path.d/file": "", "x.7z": "7z",
	} {
		if got := Extension(name); got != want {
			t.Errorf("Extension(%q) = %q, want %q", name, got, want)
		}
	}
}

func mimetypeLookup(t *testing.T, ty string) *mimetype.MIME {
	m := mimetype.Lookup(ty)
	if m == nil {
		t.Fatalf("no type %s", ty)
	}
	return m
}

package http

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// With no hashes (files.hashes: []) a compressed body is decoded only as far
// as its file's type needs: the type is the one a whole decoding finds, the
// wire and body counts are unchanged, the decoded size is not claimed (the
// transaction's is -1 with a note, the file's result is Unsized). With a
// hash, or with http.decode_bodies on, the whole body is decoded as before.
func TestNoHashesDecodesOnlyTheType(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var doc strings.Builder
	doc.WriteString("%PDF-1.7\n")
	for doc.Len() < 200<<10 {
		fmt.Fprintf(&doc, "%d 0 obj << /Length %d >> stream\n", rng.IntN(1000), rng.IntN(1<<20))
	}
	pdf := doc.String()
	for _, coding := range []string{"gzip", "deflate", "gzip, gzip"} {
		body := []byte(pdf)
		for _, c := range strings.Split(coding, ", ") {
			body = gzipped(t, map[string]string{"gzip": "gzip", "deflate": "zlib"}[c], body)
		}
		req := "GET /r HTTP/1.1\r\nHost: a.example\r\n\r\n"
		resp := "HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Encoding: " + coding + "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(string(body), 1400)
		type run struct {
			tx  Transaction
			res files.Result
		}
		read := func(fc files.Config, decode Toggle) run {
			o := &files.Collector{Tracker: files.NewTracker(fc, nil)}
			var txs []Transaction
			c := collect(Config{Files: o, DecodeBodies: decode}, &txs)
			r := rand.New(rand.NewPCG(3, 4))
			feedSplit(t, c, parsers.ToServer, req, r, 1500)
			feedSplit(t, c, parsers.ToClient, resp, r, 1500)
			c.End(t0)
			if len(txs) != 1 || len(o.Results) != 1 {
				t.Fatalf("%s: %d transactions, %d files", coding, len(txs), len(o.Results))
			}
			return run{txs[0], o.Results[0]}
		}
		whole := read(files.Config{Hashes: []files.Hash{files.SHA256}}, Default)
		typed := read(files.Config{NoHashes: true}, Default)
		decoded := read(files.Config{NoHashes: true}, On)
		w, g := whole.tx.Response, typed.tx.Response
		if whole.res.MimeType != "application/pdf" || whole.res.Size != int64(len(pdf)) || whole.res.Unsized ||
			w.BodyDecodedBytes != int64(len(pdf)) || hasNote(whole.tx, NoteDecodeTyped) {
			t.Fatalf("%s with a hash: %q size %d unsized %v, decoded %d, notes %v", coding, whole.res.MimeType, whole.res.Size, whole.res.Unsized, w.BodyDecodedBytes, whole.tx.Notes)
		}
		if typed.res.MimeType != whole.res.MimeType || typed.res.Magic != whole.res.Magic || typed.res.End != parsers.FileComplete {
			t.Errorf("%s without hashes: type %q %+v %v; whole %q", coding, typed.res.MimeType, typed.res.Magic, typed.res.End, whole.res.MimeType)
		}
		if !typed.res.Unsized || typed.res.Size >= int64(len(pdf))/4 || g.BodyDecodedBytes != -1 || !hasNote(typed.tx, NoteDecodeTyped) {
			t.Errorf("%s without hashes: unsized %v after %d of %d bytes, decoded %d, notes %v", coding, typed.res.Unsized, typed.res.Size, len(pdf), g.BodyDecodedBytes, typed.tx.Notes)
		}
		if g.BodyBytes != w.BodyBytes || g.BodyWireBytes != w.BodyWireBytes || g.BodyBytes != int64(len(body)) {
			t.Errorf("%s without hashes: body %d, wire %d; whole %d, %d", coding, g.BodyBytes, g.BodyWireBytes, w.BodyBytes, w.BodyWireBytes)
		}
		if d := decoded.tx.Response; decoded.res.Unsized || decoded.res.Size != int64(len(pdf)) || d.BodyDecodedBytes != int64(len(pdf)) || hasNote(decoded.tx, NoteDecodeTyped) {
			t.Errorf("%s with decode_bodies: unsized %v, size %d, decoded %d", coding, decoded.res.Unsized, decoded.res.Size, d.BodyDecodedBytes)
		}
	}
}

package http

// Bodies as files (Config.Files): a body is opened as a file when it
// starts, written as it is read (or as its decoder produces it), and
// closed when it ends, before its transaction is emitted.

import (
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// openFile opens the file of the body h starts to read; length is its
// declared size after decoding (-1 if unknown).
func (c *Conn) openFile(h *half, length int64) {
	h.file, h.fileEnd = nil, parsers.FileComplete
	if c.cfg.files == nil || h.cur == nil {
		return
	}
	tx := &h.cur.tx
	info := &c.fileInfo
	defer func() { *info = parsers.FileInfo{} }() // keeps no strings of the message
	*info = parsers.FileInfo{Tx: tx.Seq, Size: -1, Time: h.msgStart, Host: tx.Request.Host, URI: tx.Request.URI}
	if length > 0 {
		info.Size = length
	}
	if h.request {
		r := &tx.Request
		info.Dir, info.Part, info.MimeType = parsers.ToServer, "request", r.MimeType
		if b := boundaryOf(r.ContentType); b != "" {
			h.file = newMultipart(b, info, c.cfg.maxHeader, c.cfg.files.OpenFile)
			return
		}
		// A body sent whole (PUT /reports/q3.pdf, a POST) is named by the
		// resource it goes to, as tshark names it.
		info.Name = urlName(r.URI)
	} else {
		r := &tx.Response
		info.Dir, info.Part, info.MimeType = parsers.ToClient, "response", r.MimeType
		info.Name = dispositionName(r.ContentDisposition)
		if info.Name == "" && !tx.RequestMissing {
			info.Name = urlName(tx.Request.URI)
		}
		if r.StatusCode == 206 {
			info.Range = contentRange(r.ContentRange)
		}
	}
	h.file = c.cfg.files.OpenFile(info)
}

// fileGap reports n body bytes lost to the file of h.
func (c *Conn) fileGap(h *half, n int64) {
	if h.file != nil {
		h.file.Gap(n)
	}
}

// closeFile ends the file of the body h finished reading.
func (c *Conn) closeFile(h *half, complete bool, ts time.Time) {
	if h.file == nil {
		return
	}
	end := h.fileEnd
	if !complete && end == parsers.FileComplete {
		end = parsers.FileTruncated
	}
	h.file.Close(end, ts)
	h.file, h.fileRaw, h.fileEnd = nil, false, parsers.FileComplete
}

// urlName is the last non-empty segment of a request-target's path,
// unescaped: the name a browser saves a download under without
// Content-Disposition.
func urlName(uri string) string {
	p := uri
	if i := strings.Index(p, "://"); i >= 0 {
		p = p[i+3:]
		if j := strings.IndexByte(p, '/'); j >= 0 {
			p = p[j:]
		} else {
			return ""
		}
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	// A directory's page is named after it, as tshark and wget name it.
	if p = strings.TrimRight(p, "/"); p == "" {
		return ""
	}
	name := path.Base(p)
	if u, err := url.PathUnescape(name); err == nil {
		name = u
	}
	return name
}

// contentRange parses "bytes START-END/TOTAL" (TOTAL may be "*"); nil if
// the value is not that.
func contentRange(v string) *parsers.FileRange {
	unit, spec, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(unit, "bytes") {
		return nil
	}
	span, total, ok := strings.Cut(spec, "/")
	first, _, ok2 := strings.Cut(span, "-")
	if !ok || !ok2 {
		return nil
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return nil
	}
	r := &parsers.FileRange{Start: start, Total: -1}
	if total != "*" {
		if r.Total, err = strconv.ParseInt(total, 10, 64); err != nil || r.Total < 0 {
			return nil
		}
	}
	return r
}

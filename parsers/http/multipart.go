package http

// Multipart bodies (RFC 2046 §5.1, RFC 7578 form-data): each part that
// carries a file name or its own Content-Type becomes a file of its own.
// The splitter is streaming: it holds at most a partial delimiter (under
// 80 bytes) and one part's header block (bounded like a message's).

import (
	"bytes"
	"mime"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// maxBoundary is RFC 2046's bound on a boundary's length.
const maxBoundary = 70

type mpState uint8

const (
	mpBody     mpState = iota // in a part's body (or the preamble), looking for the delimiter
	mpLine                    // after a delimiter: "--" or transport padding up to the line end
	mpHeaders                 // a part's header block
	mpEpilogue                // after the close delimiter: ignored
	mpBroken                  // malformed: the rest is ignored
)

// multipart splits a multipart body into part files; it is itself the
// body's FileSink.
type multipart struct {
	open      func(info *parsers.FileInfo) parsers.FileSink
	info      parsers.FileInfo // the body's: each part's starts from it
	delim     []byte           // CRLF "--" boundary
	st        mpState
	pend      []byte // bytes that may begin a delimiter, not yet given to the part
	join      []byte // scratch: pend and the start of the next bytes
	hdr       []byte // the current line (mpLine) or header block (mpHeaders)
	maxHeader int
	part      parsers.FileSink
	parts     uint64
	malformed bool
}

// boundaryOf returns the boundary of a multipart Content-Type, "" if the
// type is not multipart or its boundary is missing or invalid.
func boundaryOf(contentType string) string {
	if !mayBeMultipart(contentType) {
		return ""
	}
	return parseBoundary(contentType)
}

// parseBoundary is boundaryOf without its quick refusal.
func parseBoundary(contentType string) string {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return ""
	}
	b := params["boundary"]
	if b == "" || len(b) > maxBoundary {
		return ""
	}
	return b
}

func newMultipart(boundary string, info *parsers.FileInfo, maxHeader int, open func(*parsers.FileInfo) parsers.FileSink) *multipart {
	m := &multipart{open: open, info: *info, maxHeader: maxHeader}
	m.delim = append([]byte("\r\n--"), boundary...)
	// The first delimiter may open the body without a CRLF before it.
	m.pend = append(make([]byte, 0, len(m.delim)), "\r\n"...)
	return m
}

// Write consumes body bytes.
func (m *multipart) Write(p []byte) bool {
	for len(p) > 0 {
		switch m.st {
		case mpBody:
			p = m.body(p)
		case mpLine:
			p = m.line(p)
		case mpHeaders:
			p = m.headers(p)
		default:
			return false
		}
	}
	return m.st < mpEpilogue
}

// body passes part bytes on until a delimiter and returns what follows it.
func (m *multipart) body(p []byte) []byte {
	if len(m.pend) > 0 {
		// Could a delimiter begin in the held bytes? join holds enough of p
		// to see one whole.
		join := append(append(m.join[:0], m.pend...), p[:min(len(p), len(m.delim))]...)
		m.join = join
		if i := bytes.Index(join, m.delim); i >= 0 && i < len(m.pend) {
			m.emit(m.pend[:i])
			rest := p[i+len(m.delim)-len(m.pend):]
			m.pend = m.pend[:0]
			m.delimiter()
			return rest
		}
		if len(p) < len(m.delim) {
			// All of p is in join and no delimiter: hold its tail.
			k := partialSuffix(join, m.delim)
			m.emit(join[:len(join)-k])
			m.pend = append(m.pend[:0], join[len(join)-k:]...)
			return nil
		}
		m.emit(m.pend)
		m.pend = m.pend[:0]
	}
	if i := bytes.Index(p, m.delim); i >= 0 {
		m.emit(p[:i])
		m.delimiter()
		return p[i+len(m.delim):]
	}
	k := partialSuffix(p, m.delim)
	m.emit(p[:len(p)-k])
	m.pend = append(m.pend[:0], p[len(p)-k:]...)
	return nil
}

// partialSuffix is the length of the longest suffix of b that is a proper
// prefix of delim.
func partialSuffix(b, delim []byte) int {
	for k := min(len(b), len(delim)-1); k > 0; k-- {
		if bytes.Equal(b[len(b)-k:], delim[:k]) {
			return k
		}
	}
	return 0
}

func (m *multipart) emit(b []byte) {
	if m.part != nil && len(b) > 0 {
		m.part.Write(b)
	}
}

// delimiter ends the current part: it was complete.
func (m *multipart) delimiter() {
	m.closePart(parsers.FileComplete, m.info.Time)
	m.st, m.hdr = mpLine, m.hdr[:0]
}

func (m *multipart) closePart(end parsers.FileEnd, ts time.Time) {
	if m.part != nil {
		m.part.Close(end, ts)
		m.part = nil
	}
}

// line reads the rest of the delimiter line: "--" ends the body, else
// only transport padding may precede the line end.
func (m *multipart) line(p []byte) []byte {
	i := bytes.IndexByte(p, '\n')
	chunk := p
	if i >= 0 {
		chunk = p[:i]
	}
	if len(m.hdr)+len(chunk) > maxBoundary {
		m.broken()
		return nil
	}
	m.hdr = append(m.hdr, chunk...)
	if bytes.HasPrefix(m.hdr, []byte("--")) {
		m.st = mpEpilogue
		return nil
	}
	if i < 0 {
		return nil
	}
	if len(bytes.TrimRight(m.hdr, " \t\r")) > 0 {
		m.broken()
		return nil
	}
	m.st, m.hdr = mpHeaders, m.hdr[:0]
	return p[i+1:]
}

// headers collects a part's header block, then opens the part.
func (m *multipart) headers(p []byte) []byte {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i+1]
		}
		if len(m.hdr)+len(chunk) > m.maxHeader {
			m.broken()
			return nil
		}
		start := len(m.hdr)
		m.hdr = append(m.hdr, chunk...)
		p = p[len(chunk):]
		if i < 0 {
			return nil
		}
		// Only whole lines reach here: an empty one ends the block.
		if ls := lineStart(m.hdr[:len(m.hdr)-1], start); len(bytes.TrimRight(m.hdr[ls:], "\r\n")) == 0 {
			m.openPart(m.hdr[:ls])
			m.st, m.hdr = mpBody, m.hdr[:0]
			return p
		}
	}
	return nil
}

// lineStart finds where the line ending at the end of b begins, knowing
// it starts at or before from.
func lineStart(b []byte, from int) int {
	return bytes.LastIndexByte(b[:from], '\n') + 1
}

// openPart opens the file of a part whose header block is blk.
func (m *multipart) openPart(blk []byte) {
	info := m.info
	info.Part, info.Name, info.MimeType, info.Size = "multipart", "", "", -1
	for line := range strings.SplitSeq(string(blk), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch {
		case strings.EqualFold(strings.TrimSpace(name), "Content-Disposition"):
			info.Name = dispositionName(value)
		case strings.EqualFold(strings.TrimSpace(name), "Content-Type"):
			info.MimeType = mimeType(value)
		}
	}
	m.parts++
	if info.Name == "" && info.MimeType == "" {
		return // a plain form field
	}
	m.part = m.open(&info)
}

func (m *multipart) broken() {
	m.malformed = true
	m.closePart(parsers.FileTruncated, m.info.Time)
	m.st, m.pend, m.hdr = mpBroken, nil, nil
}

// Gap: the part loses bytes; a header block cut by the gap is dropped and
// the splitter looks for the next delimiter.
func (m *multipart) Gap(n int64) {
	switch m.st {
	case mpBody:
		if m.part != nil {
			m.part.Write(m.pend)
			m.part.Gap(n)
		}
		m.pend = m.pend[:0]
	case mpLine, mpHeaders:
		m.st, m.hdr, m.pend = mpBody, m.hdr[:0], m.pend[:0]
	}
}

// Close ends the body: a part still open lacked its delimiter.
func (m *multipart) Close(end parsers.FileEnd, ts time.Time) {
	if end == parsers.FileComplete {
		end = parsers.FileTruncated
	}
	if m.part != nil {
		m.part.Write(m.pend)
	}
	m.closePart(end, ts)
	m.st = mpBroken
}

// dispositionName is the filename of a Content-Disposition value
// (filename* of RFC 2231 included), "" if none.
func dispositionName(v string) string {
	if indexFold(v, "filename") < 0 {
		return "" // neither mime's parameters nor the raw cut below have one
	}
	return parseDispositionName(v)
}

// parseDispositionName is dispositionName without its quick refusal.
func parseDispositionName(v string) string {
	if _, params, err := mime.ParseMediaType(v); err == nil {
		return params["filename"]
	}
	// A value mime rejects (an unquoted name with spaces, …): take the
	// raw filename= value. The cut is found in v itself: v lowered is not
	// as long as v when it holds bytes that are not UTF-8 (each becomes
	// U+FFFD) or some other letters, and its offsets are not v's.
	i := indexFold(v, "filename=")
	if i < 0 {
		return ""
	}
	raw := v[i+len("filename="):]
	if i := strings.IndexByte(raw, ';'); i >= 0 {
		raw = raw[:i]
	}
	return strings.Trim(strings.TrimSpace(raw), `"`)
}

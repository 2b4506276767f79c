package http

// Message bodies: Content-Length, chunked and close-delimited framing,
// counting, the optional capture and the content decoder.

import (
	"bytes"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// chunkLine reads a chunk-size line (stChunkSize) or a trailer line.
func (c *Conn) chunkLine(h *half, b []byte, ts time.Time) (int, error) {
	i := bytes.IndexByte(b, '\n')
	chunk := b
	if i >= 0 {
		chunk = b[:i+1]
	}
	if h.buf == nil {
		h.buf = c.cfg.pool.buf()
	}
	lineRoom := c.cfg.maxLine - len(h.buf)
	room := lineRoom
	if h.st == stTrailer {
		room = min(room, c.cfg.maxHeader-h.trailer)
	}
	over := len(chunk) > room
	if over {
		chunk = chunk[:room]
	}
	c.wire(h, len(chunk))
	h.buf = append(h.buf, chunk...)
	if h.st == stTrailer {
		h.trailer += len(chunk)
	}
	if over {
		if lineRoom == room {
			return 0, c.fail(h, ts, NoteLineTooLong, ErrTooLarge)
		}
		return 0, c.fail(h, ts, NoteHeaderTooLarge, ErrTooLarge)
	}
	if i < 0 {
		return len(b), nil
	}
	line := h.buf
	h.buf = h.buf[:0]
	if h.st == stTrailer {
		if len(line) == 1 || (len(line) == 2 && line[0] == '\r') {
			c.messageDone(h, ts, true)
			return i + 1, nil
		}
		h.lines++
		if h.lines > c.cfg.maxHeaders {
			return 0, c.fail(h, ts, NoteTooManyHeaders, ErrTooLarge)
		}
		return i + 1, nil
	}
	size, ok := chunkSize(line)
	if !ok {
		return 0, c.fail(h, ts, NoteInvalidChunk, ErrFraming)
	}
	if size == 0 {
		h.st, h.lines, h.trailer = stTrailer, 0, 0
	} else {
		h.st, h.remain = stChunkData, size
	}
	return i + 1, nil
}

// chunkSize parses "HEX [BWS] [; ext]" CRLF.
func chunkSize(line []byte) (int64, bool) {
	if j := bytes.IndexByte(line, ';'); j >= 0 {
		line = line[:j]
	}
	line = bytes.Trim(line, " \t\r\n")
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	var n int64
	for _, ch := range line {
		var v byte
		switch {
		case ch >= '0' && ch <= '9':
			v = ch - '0'
		case ch >= 'a' && ch <= 'f':
			v = ch - 'a' + 10
		case ch >= 'A' && ch <= 'F':
			v = ch - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(v)
	}
	return n, true
}

// startBody sets up body reading for the message of h.
func (c *Conn) startBody(h *half, st state, length int64, ce string, decoded *int64) {
	h.st, h.remain = st, length
	h.buf = h.buf[:0]
	layers, n, ok := codings(ce)
	h.encoded = n > 0 || !ok
	if st == stBody && h.encoded {
		length = -1 // the declared length is the encoded one
	}
	c.openFile(h, length)
	h.fileRaw = h.file != nil
	if !h.encoded {
		return
	}
	*decoded = -1
	tx := &h.cur.tx
	switch {
	case !ok:
		tx.addNote(NoteDecodeUnsupported)
	case !c.cfg.decode && h.file == nil:
		tx.addNote(NoteDecodeSkipped)
	default:
		if h.dec = newDecoder(layers[:n], c.cfg.maxDecoded, c.cfg.budget, c.cfg.maxDecoders, c.cfg.pool); h.dec == nil {
			tx.addNote(NoteDecoderLimit)
			tx.DecoderLimited = true
		} else {
			h.dec.feed(h.file, !c.cfg.decode)
			h.fileRaw = false
		}
	}
}

func (c *Conn) msg(h *half) (wire, body, decoded *int64, capture *[]byte) {
	if h.request {
		r := &h.cur.tx.Request
		return &r.BodyWireBytes, &r.BodyBytes, &r.BodyDecodedBytes, &r.Body
	}
	r := &h.cur.tx.Response
	return &r.BodyWireBytes, &r.BodyBytes, &r.BodyDecodedBytes, &r.Body
}

func (c *Conn) wire(h *half, n int) {
	w, _, _, _ := c.msg(h)
	*w += int64(n)
}

// bodyData counts body payload p (wire bytes on the wire) and feeds the
// capture and the decoder.
func (c *Conn) bodyData(h *half, p []byte, wire int) {
	w, n, _, capture := c.msg(h)
	*w += int64(wire)
	*n += int64(len(p))
	if room := c.cfg.capture - len(*capture); room > 0 {
		*capture = append(*capture, p[:min(room, len(p))]...)
	}
	if h.fileRaw {
		h.file.Write(p)
	}
	if h.dec != nil {
		h.dec.push(p)
		if h.dec.finished {
			c.stopDecoder(h)
		}
	}
}

// stopDecoder ends content decoding early (gap, limit, error), keeping the
// count so far.
func (c *Conn) stopDecoder(h *half) {
	if h.dec == nil {
		return
	}
	c.endDecoder(h, false)
}

// endDecoder finishes h's decoder (eof: at the end of the body) and notes
// its result.
func (c *Conn) endDecoder(h *half, eof bool) {
	r := h.dec.finish(eof, c.cfg.pool)
	h.dec = nil
	if h.cur == nil {
		return
	}
	_, _, d, _ := c.msg(h)
	*d = r.out
	if r.sated {
		// The file had its type: the rest is counted on the wire only.
		*d = -1
		h.cur.tx.addNote(NoteDecodeTyped)
		if t, ok := h.file.(parsers.TypedSink); ok {
			t.Unsized()
		}
	}
	if r.limited {
		h.cur.tx.addNote(NoteDecodeLimit)
		h.fileEnd = parsers.FileSizeLimit
	}
	if r.failed {
		h.cur.tx.addNote(NoteDecodeError)
		h.fileEnd = parsers.FileTruncated
	}
}

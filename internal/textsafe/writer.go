package textsafe

import (
	"io"
	"unicode/utf8"
)

// Writer escapes what it passes on (as Escape does, but newlines and TABs
// pass), for output that goes to a terminal. A rune split across two writes is held until the next write
// or Flush.
type Writer struct {
	w    io.Writer
	tail []byte // an incomplete UTF-8 sequence at the end of the last write
	buf  []byte
}

// NewWriter returns a Writer over w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write escapes p and writes it; it reports len(p) on success.
func (t *Writer) Write(p []byte) (int, error) {
	data := append(t.tail, p...)
	t.tail = nil
	// Hold back an incomplete sequence at the end (at most 3 bytes).
	for k := 1; k <= 3 && k <= len(data); k++ {
		i := len(data) - k
		if utf8.RuneStart(data[i]) {
			if !utf8.FullRune(data[i:]) {
				t.tail = append([]byte(nil), data[i:]...)
				data = data[:i]
			}
			break
		}
	}
	t.buf = appendEscaped(t.buf[:0], string(data), '\n', '\t')
	if _, err := t.w.Write(t.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes a held incomplete sequence, escaped.
func (t *Writer) Flush() error {
	if len(t.tail) == 0 {
		return nil
	}
	t.buf = appendEscaped(t.buf[:0], string(t.tail))
	t.tail = nil
	_, err := t.w.Write(t.buf)
	return err
}

// ForTerminal returns w behind a Writer when w is a terminal (no escape
// sequence from a packet may drive the analyst's terminal), else w as it
// is; flush writes what the Writer holds back.
func ForTerminal(w io.Writer) (out io.Writer, flush func() error) {
	if !IsTerminal(w) {
		return w, func() error { return nil }
	}
	t := NewWriter(w)
	return t, t.Flush
}

// Package lineproto holds what the line-based protocols that greet with a
// reply code (SMTP, FTP) share: cutting a stream into bounded lines whose
// held bytes draw on the memory budget, reading "ddd text" / "ddd-text"
// replies, and telling from the first bytes of both directions which of
// those protocols a dialog speaks.
package lineproto

import (
	"bytes"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// Splitter cuts one direction of a stream into lines. It holds at most
// max bytes of an unfinished line; a longer line is handed on in pieces,
// so that a line without end costs no more than max.
type Splitter struct {
	buf  []byte
	long bool // pieces of the current line were handed on already
	// Limited: the memory budget refused to hold a partial line, which
	// was handed on in pieces instead.
	Limited bool
	paid    int64
}

// Piece is a line, or a piece of a line longer than the splitter holds.
// First and Last say whether it starts and ends the line; Line is valid
// until the next call to Next.
type Piece struct {
	Line        []byte
	First, Last bool
}

// Whole says whether the piece is a whole line.
func (p Piece) Whole() bool { return p.First && p.Last }

// Text is the line without its CR LF (or LF).
func (p Piece) Text() []byte {
	b := p.Line
	if p.Last {
		b = bytes.TrimSuffix(b, []byte{'\n'})
		b = bytes.TrimSuffix(b, []byte{'\r'})
	}
	return b
}

// Next takes the next line, or piece of a line, from b and returns it with
// the bytes after it. ok is false when b was all held, waiting for the rest
// of its line.
func (s *Splitter) Next(b []byte, max int, acct *budget.Account) (p Piece, rest []byte, ok bool) {
	first := !s.long
	i := bytes.IndexByte(b, '\n')
	if i >= 0 {
		line, rest := b[:i+1], b[i+1:]
		if len(s.buf) == 0 {
			s.long = false
			return Piece{line, first, true}, rest, true
		}
		if len(s.buf)+len(line) <= max && s.room(len(s.buf)+len(line), acct) {
			s.buf = append(s.buf, line...)
			line, s.buf, s.long = s.buf, s.buf[:0], false
			return Piece{line, first, true}, rest, true
		}
		// The held bytes go first, as the head of a long line.
		held := s.buf
		s.buf, s.long = s.buf[:0], true
		return Piece{held, first, false}, b, true
	}
	if !s.long && len(s.buf)+len(b) <= max && s.room(len(s.buf)+len(b), acct) {
		s.buf = append(s.buf, b...)
		return Piece{}, nil, false
	}
	s.long = true
	if len(s.buf) > 0 {
		held := s.buf
		s.buf = s.buf[:0]
		return Piece{held, first, false}, b, true
	}
	return Piece{b, first, false}, nil, true
}

// room makes buf able to hold n bytes, the growth paid on acct.
func (s *Splitter) room(n int, acct *budget.Account) bool {
	if n <= cap(s.buf) {
		return true
	}
	c := max(n, 2*cap(s.buf), 128)
	if !acct.Reserve(budget.Parsers, int64(c-cap(s.buf))) {
		s.Limited = true
		return false
	}
	s.paid += int64(c - cap(s.buf))
	s.buf = append(make([]byte, 0, c), s.buf...)
	return true
}

// Held is the bytes of an unfinished line held.
func (s *Splitter) Held() []byte { return s.buf }

// Free gives back what the splitter holds, and its budget.
func (s *Splitter) Free(acct *budget.Account) {
	acct.Release(budget.Parsers, s.paid)
	s.buf, s.paid, s.long = nil, 0, false
}

// Reply is one line of a server reply: "ddd text" ends a reply,
// "ddd-text" continues it (RFC 5321 §4.2, RFC 959 §4.2).
type Reply struct {
	Code  int
	Final bool // the last line of the reply
	Text  []byte
}

// ParseReply reads a reply line (without its line end). ok is false when
// the line does not start with three digits and a space, a dash or its end.
func ParseReply(line []byte) (r Reply, ok bool) {
	if len(line) < 3 || !digits(line[:3]) {
		return r, false
	}
	r.Code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	switch {
	case len(line) == 3:
		r.Final = true
	case line[3] == ' ':
		r.Final, r.Text = true, line[4:]
	case line[3] == '-':
		r.Text = line[4:]
	default:
		return r, false
	}
	return r, true
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// maxSniffLine bounds the first line of each side that a dialog sniffer
// waits for.
const maxSniffLine = 512

// Greeting judges b, the first bytes the server sent: a 220 reply line.
// It answers More while b is a prefix of one (its line unfinished), and
// returns the line's text on Yes.
func Greeting(b []byte) (text []byte, v parsers.Verdict) {
	const code = "220"
	n := min(len(b), len(code))
	if string(b[:n]) != code[:n] {
		return nil, parsers.No
	}
	if len(b) < 4 {
		return nil, parsers.More
	}
	if b[3] != ' ' && b[3] != '-' && b[3] != '\r' && b[3] != '\n' {
		return nil, parsers.No
	}
	line, ok := firstLine(b)
	if !ok {
		return nil, parsers.More
	}
	if line == nil {
		return nil, parsers.No
	}
	return bytes.TrimSpace(line[3:]), parsers.Yes
}

// commonVerbs are the verbs whose strings Command returns without an
// allocation: the first words of most streams the sniffers see.
var commonVerbs = [...]string{
	"GET", "POST", "HEAD", "PUT", "EHLO", "HELO", "USER", "AUTH", "MAIL", "RCPT",
	"DATA", "QUIT", "NOOP", "RSET", "FEAT", "SYST", "PASS",
}

// upperVerb returns the upper case of b (at most 4 ASCII letters).
func upperVerb(b []byte) string {
	var u [4]byte
	n := copy(u[:], b)
	for i := range n {
		u[i] &^= 0x20
	}
	for _, v := range commonVerbs {
		if string(u[:n]) == v {
			return v
		}
	}
	return string(u[:n])
}

// Command judges b, the first bytes the client sent: a command line, a
// verb of 3 or 4 letters and its arguments. It answers More while the line
// is unfinished, and returns the verb (upper case) on Yes.
func Command(b []byte) (verb string, args []byte, v parsers.Verdict) {
	for i := 0; i < len(b) && i <= 4; i++ {
		c := b[i]
		switch {
		case c|0x20 >= 'a' && c|0x20 <= 'z':
			continue
		case (c == ' ' || c == '\r' || c == '\n') && i >= 3:
		default:
			return "", nil, parsers.No
		}
		line, ok := firstLine(b)
		if !ok {
			return "", nil, parsers.More
		}
		if line == nil {
			return "", nil, parsers.No
		}
		return upperVerb(b[:i]), bytes.TrimSpace(line[i:]), parsers.Yes
	}
	if len(b) > 4 {
		return "", nil, parsers.No
	}
	return "", nil, parsers.More
}

// firstLine returns the first line of b without its end; ok false while
// it is unfinished, a nil line when it is longer than maxSniffLine or holds
// control bytes (not a text protocol).
func firstLine(b []byte) (line []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if len(b) > maxSniffLine {
			return nil, true
		}
		return nil, false
	}
	line = bytes.TrimSuffix(b[:i], []byte{'\r'})
	if len(line) > maxSniffLine {
		return nil, true
	}
	for _, c := range line {
		if c < ' ' && c != '\t' || c == 0x7f {
			return nil, true
		}
	}
	return line, true
}

// Dialog judges the first bytes of a server-first dialog: server holds what
// the server sent, client what the client sent. It answers Yes when the
// server's first line is a 220 greeting and the client's first line is a
// command that accept (given the verb and the greeting's text) takes; No
// when either cannot be; More while a line is unfinished.
func Dialog(server, client []byte, accept func(verb string, greeting []byte) bool) parsers.Verdict {
	g, gv := Greeting(server)
	if gv == parsers.No {
		return parsers.No
	}
	verb, _, cv := Command(client)
	switch {
	case cv == parsers.No:
		return parsers.No
	case gv == parsers.More || cv == parsers.More:
		return parsers.More
	case accept(verb, g):
		return parsers.Yes
	}
	return parsers.No
}

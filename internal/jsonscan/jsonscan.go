// Package jsonscan reads chosen fields of a JSON document in one pass,
// without reflection, for the collector's hot paths (decoding every event
// with encoding/json was most of its CPU). It takes the usual shape of
// events only: each method says false on anything it does not read exactly
// as encoding/json would (an escape or invalid UTF-8 in a read string or in
// a key of a read object, a key that differs from a read one only by case,
// a fraction or an exponent in an integer, a value of another JSON type,
// nesting deeper than MaxDepth, invalid JSON), and the caller then decodes
// the document with encoding/json, so the result is the same either way.
package jsonscan

import (
	"bytes"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxDepth bounds the nesting a Scanner follows (encoding/json allows
// 10000; events nest a few levels).
const MaxDepth = 64

// Scanner reads one JSON document. Each method reads the value at the
// scanner and says false when it cannot take what is there (see the
// package comment); after a false the scanner is spent.
type Scanner struct {
	b     []byte
	i     int
	depth int
}

// New returns a Scanner at the start of doc (blanks skipped).
func New(doc []byte) *Scanner {
	s := &Scanner{b: doc}
	s.ws()
	return s
}

// End says the document ends after blanks.
func (s *Scanner) End() bool {
	s.ws()
	return s.i == len(s.b)
}

func (s *Scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// Object reads a read object (or null: nothing), calling member with each
// key with the scanner at the value; member reads the value (Other skips
// it). A key with an escape or a byte that is not ASCII is not decided
// here.
func (s *Scanner) Object(member func(key []byte) bool) bool {
	return s.members(true, member)
}

func (s *Scanner) members(kept bool, member func(key []byte) bool) bool {
	if s.null() {
		return true
	}
	return s.container('{', '}', func() bool {
		key, plain, ok := s.rawString()
		if !ok {
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		return (plain || !kept) && member(key)
	})
}

// container reads an object or an array (open, close: its brackets),
// calling item at each member.
func (s *Scanner) container(open, close byte, item func() bool) bool {
	if s.i >= len(s.b) || s.b[s.i] != open || s.depth >= MaxDepth {
		return false
	}
	s.depth++
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == close {
		s.i++
		s.depth--
		return true
	}
	for {
		if !item() {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
		case close:
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// Other skips the value of a key that is not kept. A key encoding/json
// would match to a kept one regardless of case is not decided here.
func (s *Scanner) Other(key []byte, kept ...string) bool {
	for _, k := range kept {
		if strings.EqualFold(string(key), k) {
			return false
		}
	}
	return s.skip()
}

// null reads a null.
func (s *Scanner) null() bool {
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// rawString reads a string and returns its bytes between the quotes;
// plain is false when it has an escape or a byte that is not ASCII.
func (s *Scanner) rawString() (raw []byte, plain, ok bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, false
	}
	s.i++
	start := s.i
	plain = true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, plain, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			plain = false
			s.i++
			if s.i >= len(s.b) {
				return nil, false, false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(s.b)-s.i < 5 {
					return nil, false, false
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return nil, false, false
					}
				}
				s.i += 5
			default:
				return nil, false, false
			}
		default:
			if c >= utf8.RuneSelf {
				plain = false
			}
			s.i++
		}
	}
	return nil, false, false
}

// Str reads a string (null: nothing): plain, or non-ASCII but valid
// UTF-8 (which encoding/json copies unchanged).
func (s *Scanner) Str(dst *string) bool {
	if s.null() {
		return true
	}
	raw, plain, ok := s.rawString()
	if !ok || !plain && (bytes.IndexByte(raw, '\\') >= 0 || !utf8.Valid(raw)) {
		return false
	}
	*dst = string(raw)
	return true
}

// Time reads an RFC 3339 string the way time.Time's UnmarshalJSON does.
func (s *Scanner) Time(dst *time.Time) bool {
	if s.null() {
		return true
	}
	start := s.i
	_, plain, ok := s.rawString()
	if !ok || !plain {
		return false
	}
	var t time.Time
	if t.UnmarshalJSON(s.b[start:s.i]) != nil {
		return false
	}
	*dst = t
	return true
}

// Int64 reads an integer (no fraction, no exponent) that fits.
func (s *Scanner) Int64(dst *int64) bool {
	if s.null() {
		return true
	}
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == digits || s.b[digits] == '0' && s.i-digits > 1 {
		return false
	}
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case '.', 'e', 'E':
			return false
		}
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	if err != nil {
		return false
	}
	*dst = n
	return true
}

// Int is Int64 into an int.
func (s *Scanner) Int(dst *int) bool {
	var n int64
	if s.null() {
		return true
	}
	if !s.Int64(&n) {
		return false
	}
	*dst = int(n)
	return true
}

// skip reads any value and checks that it is valid JSON.
func (s *Scanner) skip() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.members(false, func([]byte) bool { return s.skip() })
	case c == '[':
		return s.container('[', ']', s.skip)
	case c == '"':
		_, _, ok := s.rawString()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.null()
	default:
		return s.number()
	}
}

func (s *Scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *Scanner) number() bool {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	start := s.i
	if n := digits(); n == 0 || n > 1 && s.b[start] == '0' {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

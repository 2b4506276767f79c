package store

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// fastDecode fills r (zeroed) from doc in one pass without reflection: the
// JSON decoding of every event was most of a collector's CPU. It handles
// the usual shape of events only and says false on anything it does not
// decode exactly as encoding/json does (escapes or invalid UTF-8 in a kept
// string or in a key of a kept object, a key that differs from a kept one
// only by case, numbers with a fraction or an exponent in an integer
// field, a kept field of another JSON type, the traffic and stats objects,
// nesting deeper than maxFastDepth, invalid JSON): the caller then decodes
// with encoding/json, so the row is the same either way (FuzzFastDecode).
func (r *row) fastDecode(doc []byte) bool {
	s := scanner{b: doc}
	s.ws()
	if !s.object(func(key []byte) bool {
		switch string(key) {
		case "@timestamp":
			return s.time(&r.Timestamp)
		case "observer":
			return s.object(func(k []byte) bool {
				switch string(k) {
				case "name":
					return s.str(&r.Observer.Name)
				case "hostname":
					return s.str(&r.Observer.Hostname)
				case "version":
					return s.str(&r.Observer.Version)
				case "geo":
					return s.object(func(k []byte) bool {
						if string(k) == "name" {
							return s.str(&r.Observer.Geo.Name)
						}
						return s.other(k, "name")
					})
				}
				return s.other(k, "name", "hostname", "version", "geo")
			})
		case "agent":
			return s.object(func(k []byte) bool {
				switch string(k) {
				case "id":
					return s.str(&r.Agent.ID)
				case "version":
					return s.str(&r.Agent.Version)
				}
				return s.other(k, "id", "version")
			})
		case "event":
			return s.object(func(k []byte) bool {
				e := &r.Event
				switch string(k) {
				case "id":
					return s.str(&e.ID)
				case "kind":
					return s.str(&e.Kind)
				case "dataset":
					return s.str(&e.Dataset)
				case "start":
					return s.time(&e.Start)
				case "severity":
					return s.int(&e.Severity)
				}
				return s.other(k, "id", "kind", "dataset", "start", "severity")
			})
		case "network":
			return s.object(func(k []byte) bool {
				n := &r.Network
				switch string(k) {
				case "transport":
					return s.str(&n.Transport)
				case "protocol":
					return s.str(&n.Protocol)
				case "bytes":
					return s.int64(&n.Bytes)
				case "packets":
					return s.int64(&n.Packets)
				case "community_id":
					return s.str(&n.CommunityID)
				}
				return s.other(k, "transport", "protocol", "bytes", "packets", "community_id")
			})
		case "source":
			return s.endpoint(&r.Source)
		case "destination":
			return s.endpoint(&r.Destination)
		case "rule":
			return s.object(func(k []byte) bool {
				switch string(k) {
				case "id":
					return s.str(&r.Rule.ID)
				case "name":
					return s.str(&r.Rule.Name)
				}
				return s.other(k, "id", "name")
			})
		case "packetsleuth":
			return s.object(func(k []byte) bool {
				switch string(k) {
				case "flow":
					return s.object(func(k []byte) bool {
						if string(k) == "state" {
							return s.str(&r.PS.Flow.State)
						}
						return s.other(k, "state")
					})
				case "traffic", "stats":
					return false // rare (a few a second), many fields: encoding/json
				}
				return s.other(k, "flow", "traffic", "stats")
			})
		}
		return s.other(key, "@timestamp", "observer", "agent", "event", "network", "source", "destination", "rule", "packetsleuth")
	}) {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

func (s *scanner) endpoint(e *endpoint) bool {
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "ip":
			return s.str(&e.IP)
		case "port":
			return s.int(&e.Port)
		case "bytes":
			return s.int64(&e.Bytes)
		case "packets":
			return s.int64(&e.Packets)
		case "geo":
			return s.object(func(k []byte) bool {
				if string(k) == "country_iso_code" {
					return s.str(&e.Geo.Country)
				}
				return s.other(k, "country_iso_code")
			})
		case "as":
			return s.object(func(k []byte) bool {
				if string(k) == "number" {
					return s.int64(&e.AS.Number)
				}
				return s.other(k, "number")
			})
		}
		return s.other(k, "ip", "port", "bytes", "packets", "geo", "as")
	})
}

// maxFastDepth bounds the nesting fastDecode follows (encoding/json allows
// 10000; events nest a few levels).
const maxFastDepth = 64

// scanner reads JSON from b at i. Each method says false when it cannot
// take what is there (see fastDecode).
type scanner struct {
	b     []byte
	i     int
	depth int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object reads a kept object (or null: nothing), calling member with each
// key with the scanner at the value; a key with an escape or a byte that
// is not ASCII is not decided here.
func (s *scanner) object(member func(key []byte) bool) bool {
	return s.members(true, member)
}

func (s *scanner) members(kept bool, member func(key []byte) bool) bool {
	if s.null() {
		return true
	}
	if s.i >= len(s.b) || s.b[s.i] != '{' || s.depth >= maxFastDepth {
		return false
	}
	s.depth++
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
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
		if kept && !plain || !member(key) {
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
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// other skips the value of a key that is not kept. A key encoding/json
// would match to a kept one regardless of case is not decided here.
func (s *scanner) other(key []byte, kept ...string) bool {
	for _, k := range kept {
		if strings.EqualFold(string(key), k) {
			return false
		}
	}
	return s.skip()
}

// null reads a null.
func (s *scanner) null() bool {
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// rawString reads a string and returns its bytes between the quotes;
// plain is false when it has an escape or a byte that is not ASCII.
func (s *scanner) rawString() (raw []byte, plain, ok bool) {
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

// str reads a kept string (null: nothing): plain, or non-ASCII but valid
// UTF-8 (which encoding/json copies unchanged).
func (s *scanner) str(dst *string) bool {
	if s.null() {
		return true
	}
	raw, plain, ok := s.rawString()
	if !ok || !plain && (indexByte(raw, '\\') >= 0 || !utf8.Valid(raw)) {
		return false
	}
	*dst = string(raw)
	return true
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// time reads an RFC 3339 string the way time.Time's UnmarshalJSON does.
func (s *scanner) time(dst *time.Time) bool {
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

// int64 reads an integer (no fraction, no exponent) that fits.
func (s *scanner) int64(dst *int64) bool {
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

func (s *scanner) int(dst *int) bool {
	var n int64
	if s.null() {
		return true
	}
	if !s.int64(&n) {
		return false
	}
	*dst = int(n)
	return true
}

// skip reads any value and checks that it is valid JSON.
func (s *scanner) skip() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.members(false, func([]byte) bool { return s.skip() })
	case c == '[':
		if s.depth >= maxFastDepth {
			return false
		}
		s.depth++
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			s.depth--
			return true
		}
		for {
			if !s.skip() {
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
			case ']':
				s.i++
				s.depth--
				return true
			default:
				return false
			}
		}
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

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
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

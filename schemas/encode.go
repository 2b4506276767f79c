package schemas

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// This file holds the helpers of the JSON encoder behind Encode; the
// appendX of each struct type are generated from the structs into
// encode_gen.go (`go generate ./schemas`). Its output is
// byte-identical to encoding/json.Marshal(ev) (the tests hold it to that on
// random events), without reflection and without allocating once the
// caller's buffer is large enough.
//
// The rules it follows, field by field, are those of encoding/json:
//   - fields in declaration order, under their json tag names;
//   - omitempty drops "", 0, false and empty slices and maps;
//   - omitzero drops a time.Time whose IsZero is true, and a struct that
//     equals its zero value as reflect.Value.IsZero sees it: every field
//     zero, where a slice or map is zero only when nil (an empty, non-nil
//     slice keeps its group, which then encodes as {}), a float is zero
//     when == 0 (so -0 too), and a time.Time only when it is time.Time{}
//     (a zero instant with a location set is not);
//   - a nil slice without omitempty encodes as null;
//   - strings are escaped HTML-safe (<, >, & as \u003c…), with U+2028 and
//     U+2029 escaped and invalid UTF-8 replaced by U+FFFD;
//   - float64 uses the shortest 'f' form, or 'e' below 1e-6 and from 1e21;
//     NaN and ±Inf are errors;
//   - time.Time is time.Time.MarshalJSON (RFC 3339 with nanoseconds), an
//     error for a year outside [0,9999] or a zone offset of 24h or more;
//   - time.Duration is its integer count of nanoseconds;
//   - map keys are sorted by their raw bytes.
//
// Adding a field to a struct of this package means running go generate:
// TestEncoderCoversEveryField and the generator's staleness test fail
// until then.

// Groups is a set of the groups of an event (GroupNetwork …) and of its
// packetsleuth object (GroupSensorFlow …), one bit each.
type Groups uint64

// encoder appends one event to b. The first error is kept in err; encoding
// carries on (cheaply) and Encode throws the output away.
type encoder struct {
	b   []byte
	err error
	// skip holds the groups known to be zero: left out without a look
	skip Groups
	// obsFrom and obsTo delimit the observer and agent in b: their keys
	// with the comma before each, and their objects (both 0 without them)
	obsFrom, obsTo int
	// eventAt is where the event object's key starts in b (its comma)
	eventAt int
	// the last UTC second timestamp formatted (an EncodeCache's, from
	// the event before: an event's times, and events one after another,
	// mostly share their second)
	utc utcSecond
	// of an EncodeCache, if any: the observer and agent last written
	observers *groupCache[Observer]
	agents    *groupCache[Agent]
	lists     *listMemo
	runs      *runMemos
}

// utcSecond is a UTC second and its "2006-01-02T15:04:05", and the last
// instant of that second written (n > 0), quoted: a flow event's
// @timestamp and end are one instant, and a flow of one packet's start too.
type utcSecond struct {
	sec  int64
	date [len("2006-01-02T15:04:05")]byte
	set  bool
	n    uint8 // len(last) written; 0: none of this second
	ns   int32
	last [len(`"2006-01-02T15:04:05.999999999Z"`)]byte
}

// An EncodeCache keeps the encoding of the last observer and agent its
// encodes wrote: a sensor stamps the same ones on every event, so they are
// compared (a few strings, mostly the same pointers) and copied instead of
// encoded. Not safe for concurrent use: one per worker.
type EncodeCache struct {
	observer groupCache[Observer]
	agent    groupCache[Agent]
	utc      utcSecond
	lists    listMemo
	runs     runMemos
}

// groupCache is the encoding of one value of a root group, with its key.
type groupCache[T comparable] struct {
	v    T
	json []byte // nil: none yet
}

// hit writes the cached encoding if v is the value it was made of; a nil
// c (no EncodeCache) has none.
func (c *groupCache[T]) hit(e *encoder, v *T) bool {
	if c == nil || c.json == nil || c.v != *v {
		return false
	}
	e.b = append(e.b, c.json...)
	return true
}

// keep caches v, written from from on; a nil c keeps nothing.
func (c *groupCache[T]) keep(e *encoder, v *T, from int) {
	if c != nil && e.err == nil {
		c.v, c.json = *v, append(c.json[:0], e.b[from:]...)
	}
}

// listMemo holds the encodings of the last lists memoStrings wrote, each
// replaced in turn.
type listMemo struct {
	lists [8]memoList
	next  int
}

// memoList is one list of a field and its encoding (key included).
type memoList struct {
	key  string
	v    []string
	json []byte // nil: none yet
}

// memoListBytes bounds an encoding the memo keeps: a longer list (a
// hostile ClientHello may offer thousands of suites) is written each
// time, so the memo's encodings stay under 8 × 4 KiB; with its copies
// of the lists (at most ~455 names each, 16-byte headers and the names'
// bytes) it holds at most about 120 KiB.
const memoListBytes = 4 << 10

// EncodeError is returned by Encode for a value JSON cannot carry: a NaN
// or infinite float, or a time that RFC 3339 cannot express.
type EncodeError struct {
	Field string // the json key of the field holding the value (last path element)
	Err   error
}

func (e *EncodeError) Error() string {
	return "schemas: encoding field " + strconv.Quote(e.Field) + ": " + e.Err.Error()
}

func (e *EncodeError) Unwrap() error { return e.Err }

var (
	errTimeYear = errors.New("Time.MarshalJSON: year outside of range [0,9999]")
	errTimeZone = errors.New("Time.MarshalJSON: timezone hour outside of range [0,23]")
	errNaN      = errors.New("unsupported value: NaN")
	errPosInf   = errors.New("unsupported value: +Inf")
	errNegInf   = errors.New("unsupported value: -Inf")
)

func (e *encoder) fail(key string, err error) {
	if e.err == nil {
		e.err = &EncodeError{Field: keyName(key), Err: err}
	}
}

// ---- structure helpers ----

// field writes key, which the generated code gives as written after a
// previous field: `,"name":`. The first field of an object writes its
// comma too, which end turns into the object's opening brace: no field has
// to look at what came before it. Keys are the literal ASCII tag names of
// this package, so they need no escaping; one append of a constant writes
// them.
func (e *encoder) field(key string) {
	e.b = append(e.b, key...)
}

// keyName is the name in a key as field takes it.
func keyName(key string) string { return key[len(`,"`) : len(key)-len(`":`)] }

// begin opens a JSON object at the end of b: it returns where, for end.
func (e *encoder) begin() int { return len(e.b) }

// end closes the object opened at open: the comma of its first field
// becomes the brace; an object without fields is {}.
func (e *encoder) end(open int) {
	if len(e.b) == open {
		e.b = append(e.b, '{', '}')
		return
	}
	e.b[open] = '{'
	e.b = append(e.b, '}')
}

// allZero reports whether the n bytes at p are all zero: then the value
// there is its type's zero value, and an omitzero group is left out
// without comparing it field by field (the generated code does that only
// when allZero is false). One memory compare, vectorised by the runtime;
// a group that is set mostly starts with a string's pointer, so its first
// word, when aligned, is looked at before the call.
func allZero(p unsafe.Pointer, n uintptr) bool {
	if n >= 8 && uintptr(p)%8 == 0 && *(*uint64)(p) != 0 {
		return false
	}
	return n <= uintptr(len(zeroBlock)) && unsafe.String((*byte)(p), n) == unsafe.String(&zeroBlock[0], n)
}

// zeroBlock is larger than any group of an Event (TestAllZeroCoversGroups).
var zeroBlock [8192]byte

// ---- scalar fields ----

func (e *encoder) stringField(key, s string) {
	e.field(key)
	e.quoted(s)
}

// optString writes a string field tagged omitempty.
func (e *encoder) optString(key, s string) {
	if s != "" {
		e.stringField(key, s)
	}
}

func (e *encoder) intField(key string, v int64) {
	e.field(key)
	e.decimal(v)
}

// optInt writes an integer field tagged omitempty.
func (e *encoder) optInt(key string, v int64) {
	if v != 0 {
		e.intField(key, v)
	}
}

func (e *encoder) boolField(key string, v bool) {
	e.field(key)
	if v {
		e.b = append(e.b, "true"...)
	} else {
		e.b = append(e.b, "false"...)
	}
}

func (e *encoder) floatField(key string, f float64) {
	e.field(key)
	e.b = e.appendFloat(e.b, key, f)
}

// optFloat writes a float field tagged omitempty (-0 == 0 is omitted too).
func (e *encoder) optFloat(key string, f float64) {
	if f != 0 {
		e.floatField(key, f)
	}
}

func (e *encoder) timeField(key string, t time.Time) {
	e.field(key)
	e.timestamp(key, t)
}

// optTime writes a time.Time field tagged omitzero (time.Time.IsZero).
func (e *encoder) optTime(key string, t time.Time) {
	if !t.IsZero() {
		e.timeField(key, t)
	}
}

// ---- slices and maps ----

// stringsField writes a []string; nil is null.
func (e *encoder) stringsField(key string, v []string) {
	e.field(key)
	if v == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.b = append(e.b, '[')
	for i, s := range v {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.quoted(s)
	}
	e.b = append(e.b, ']')
}

// optStrings writes a []string tagged omitempty.
func (e *encoder) optStrings(key string, v []string) {
	if len(v) > 0 {
		e.stringsField(key, v)
	}
}

// optInts writes a []int tagged omitempty.
func (e *encoder) optInts(key string, v []int) {
	if len(v) == 0 {
		return
	}
	e.field(key)
	e.b = append(e.b, '[')
	for i, n := range v {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.decimal(int64(n))
	}
	e.b = append(e.b, ']')
}

// optInt64Map writes a map[string]int64 tagged omitempty, keys sorted.
func (e *encoder) optInt64Map(key string, m map[string]int64) {
	if len(m) == 0 {
		return
	}
	e.field(key)
	// Small maps sort on the stack; bigger ones pay one allocation.
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.b = append(e.b, '{')
	for i, k := range keys {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.quoted(k)
		e.b = append(e.b, ':')
		e.decimal(m[k])
	}
	e.b = append(e.b, '}')
}

// ---- value encoders ----

// appendFloat formats f as encoding/json formats a float64: like
// strconv 'g' but switching to 'e' below 1e-6 and from 1e21, with a
// one-digit negative exponent unpadded (1e-7, not 1e-07).
func (e *encoder) appendFloat(b []byte, key string, f float64) []byte {
	switch {
	case math.IsNaN(f):
		e.fail(key, errNaN)
		return b
	case math.IsInf(f, 1):
		e.fail(key, errPosInf)
		return b
	case math.IsInf(f, -1):
		e.fail(key, errNegInf)
		return b
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// timestamp writes t quoted as time.Time.MarshalJSON does: RFC 3339 with the
// fraction of a second trimmed of trailing zeros, and an error for what
// RFC 3339 cannot express (a year not of four digits, a zone of 24h or
// more).
func (e *encoder) timestamp(key string, t time.Time) {
	if t.Location() == time.UTC { // packet times are
		if sec := t.Unix(); e.utc.set && sec == e.utc.sec || e.utcDate(t, sec) {
			u := &e.utc
			if ns := int32(t.Nanosecond()); u.n == 0 || ns != u.ns {
				u.n, u.ns = uint8(len(formatUTC(&u.last, &u.date, int(ns)))), ns
			}
			e.inPlace(u.last[:u.n])
			return
		}
	}
	e.b = append(e.b, '"')
	start := len(e.b)
	e.b = t.AppendFormat(e.b, time.RFC3339Nano)
	b := e.b
	if b[start+len("2006")] != '-' {
		e.fail(key, errTimeYear)
	} else if b[len(b)-1] != 'Z' {
		// The zone is ±hh:mm; more than two hour digits or hh >= 24 is out.
		zone := b[len(b)-len("+07:00"):]
		if isDigit(zone[0]) || (zone[1]-'0')*10+(zone[2]-'0') >= 24 {
			e.fail(key, errTimeZone)
		}
	}
	e.b = append(e.b, '"')
}

// utcDate formats the date and clock of t, a UTC time of second sec
// (t.Unix(), which timestamp has), into e.utc; false for a year RFC
// 3339 cannot hold (timestamp's general path fails it).
func (e *encoder) utcDate(t time.Time, sec int64) bool {
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return false
	}
	h, mi, s := t.Clock()
	p := &e.utc.date
	put2 := func(i, v int) { p[i], p[i+1] = byte('0'+v/10), byte('0'+v%10) }
	put2(0, y/100)
	put2(2, y%100)
	p[4] = '-'
	put2(5, int(mo))
	p[7] = '-'
	put2(8, d)
	p[10] = 'T'
	put2(11, h)
	p[13] = ':'
	put2(14, mi)
	p[16] = ':'
	put2(17, s)
	e.utc.sec, e.utc.set, e.utc.n = sec, true, 0
	return true
}

// formatUTC writes a UTC time as RFC 3339 quoted into t and returns it:
// date, the nanoseconds with their trailing zeros trimmed (none when 0),
// Z. It is put together in the array (the date a copy of known size, the
// nine digits two at a time), which the caller appends once.
func formatUTC(t *[len(`"2006-01-02T15:04:05.999999999Z"`)]byte, date *[19]byte, ns int) []byte {
	t[0] = '"'
	copy(t[1:], date[:])
	n := 1 + len(date)
	if ns != 0 {
		t[n] = '.'
		for i := n + 9; i > n+2; i -= 2 { // the last eight digits
			d := ns % 100 * 2
			ns /= 100
			t[i-1], t[i] = digitPairs[d], digitPairs[d+1]
		}
		t[n+1] = byte('0' + ns)
		n += 1 + 9
		for t[n-1] == '0' {
			n--
		}
	}
	t[n], t[n+1] = 'Z', '"'
	return t[:n+2]
}

// digitPairs holds "00" to "99" one after another.
const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// pairs[v] holds the two digits of v, "00" to "99".
var pairs = func() (t [100][2]byte) {
	for v := range t {
		t[v] = [2]byte{digitPairs[2*v], digitPairs[2*v+1]}
	}
	return t
}()

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// htmlSafe[c] is true for the ASCII bytes encoding/json copies into a string
// as they are: everything printable but ", \, <, > and &.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// copySafe copies s to dst (of len(s) bytes) and reports whether no byte
// of it needs escaping (dst then holds s as quoted writes it; on
// false its contents are undefined). It reads and writes eight bytes at a
// time, the last word overlapping the one before, a string of 4–7 bytes
// as its first and last four, and checks each word as it goes: the check
// and the copy are one pass, and no call to memmove (most strings of an
// event are short: "tcp", "S0", an address).
func copySafe(dst []byte, s string) bool {
	n := len(s)
	p := unsafe.Slice(unsafe.StringData(s), n)
	dst = dst[:n]
	switch {
	case n >= 8:
		// The words before the last through pointers: i+8 < n, so no
		// bounds to check, nor a slice's end to mask (a sixth fewer
		// instructions a string than binary.LittleEndian on p[i:]).
		src, to := unsafe.Pointer(&p[0]), unsafe.Pointer(&dst[0])
		for i := 0; i < n-8; i += 8 {
			w := *(*uint64)(unsafe.Add(src, i))
			if needsEscape(w) {
				return false
			}
			*(*uint64)(unsafe.Add(to, i)) = w
		}
		w := binary.LittleEndian.Uint64(p[n-8:])
		binary.LittleEndian.PutUint64(dst[n-8:], w)
		return !needsEscape(w)
	case n >= 4:
		lo, hi := binary.LittleEndian.Uint32(p), binary.LittleEndian.Uint32(p[n-4:])
		binary.LittleEndian.PutUint32(dst, lo)
		binary.LittleEndian.PutUint32(dst[n-4:], hi)
		return !needsEscape(uint64(lo) | uint64(hi)<<32)
	case n > 0: // the first, middle and last byte are all of it; spaces are safe
		const spaces = 0x2020202020 << 24
		a, m, z := p[0], p[n/2], p[n-1]
		dst[0], dst[n/2], dst[n-1] = a, m, z
		return !needsEscape(uint64(a) | uint64(m)<<8 | uint64(z)<<16 | spaces)
	}
	return true
}

// needsEscape says whether any byte of w is one htmlSafe refuses: a
// control character, ", \, <, >, & or a byte of a multi-byte rune.
func needsEscape(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// " (0x22) and & (0x26) are the bytes b with b|4 == &; < (0x3c) and >
	// (0x3e) those with b|2 == >: three compares for five bytes. x-ones
	// sets a byte's high bit where that byte of x is zero, where it was set
	// in x (but for 0x80), or where a lower byte borrowed, which only a zero
	// byte does; w-0x20*ones likewise for the bytes below a space. So a high
	// bit is set only where some byte needs escaping (exact as a whole, all
	// the answer is), and a byte of 0x80 or more sets it in a-ones (a keeps
	// w's high bit; a is 0x80 only for 0xa2 and 0xa6, which w-0x20 catches):
	// no &^x is needed, and no term for w itself.
	a, g, l := (w|4*ones)^'&'*ones, (w|2*ones)^'>'*ones, w^'\\'*ones
	return ((w-0x20*ones)|(a-ones)|(g-ones)|(l-ones))&highs != 0
}

// quoted appends s quoted and escaped as encoding/json does with HTML
// escaping on (its default). Where e.b has room, only its length is
// stored back (a reslice of e.b; an append stores the pointer too, which
// takes the garbage collector's write barrier while it marks), and the
// quotes and the copy are written in place, in one call (copySafe), for
// most strings: those without a byte to escape.
func (e *encoder) quoted(s string) {
	at, n := len(e.b), len(e.b)+len(s)+2
	if n > cap(e.b) {
		e.b = slices.Grow(e.b, len(s)+2)
	}
	b := e.b[:n]
	b[at], b[n-1] = '"', '"'
	if !copySafe(b[at+1:n-1], s) {
		e.b = appendEscaped(e.b, s)
		return
	}
	e.b = e.b[:n]
}

// decimal writes v in decimal: one below 100,000 (ports, most counts)
// digit pair by digit pair into e.b where it has room, any other through
// strconv.
func (e *encoder) decimal(v int64) {
	if n := len(e.b); uint64(v) < 100_000 && cap(e.b)-n >= 5 {
		k := 1
		switch {
		case v >= 10_000:
			k = 5
		case v >= 1000:
			k = 4
		case v >= 100:
			k = 3
		case v >= 10:
			k = 2
		}
		b, u := e.b[n:n+k], uint64(v)
		for i := k - 2; i >= 0; i -= 2 { // the last digits two at a time
			*(*[2]byte)(b[i:]) = pairs[u%100]
			u /= 100
		}
		if k%2 == 1 {
			b[0] = byte('0' + u)
		}
		e.b = e.b[:n+k]
		return
	}
	var buf [len("-9223372036854775808")]byte
	e.inPlace(strconv.AppendInt(buf[:0], v, 10))
}

// inPlace appends p to e.b as quoted does: where e.b has room, only its
// length is stored back.
func (e *encoder) inPlace(p []byte) {
	n := len(e.b)
	if len(p) > cap(e.b)-n {
		e.b = append(e.b, p...)
		return
	}
	e.b = e.b[:n+len(p)]
	copy(e.b[n:], p)
}

// appendEscaped is quoted for a string with a byte to escape.
func appendEscaped(b []byte, s string) []byte {
	b = append(b, '"')
	i := 0
	done := 0 // s[:done] is already in b
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[done:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default: // other control characters, <, >, &
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			done = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1: // invalid UTF-8
			b = append(b, s[done:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029': // JSONP-unsafe separators
			b = append(b, s[done:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		done = i
	}
	b = append(b, s[done:]...)
	return append(b, '"')
}

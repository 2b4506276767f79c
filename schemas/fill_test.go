package schemas

import (
	"math"
	"math/rand/v2"
	"reflect"
	"time"
)

// source hands out the random choices that fill an Event: from a seeded
// generator in the property test, from the fuzzer's bytes in FuzzEncode.
// Out of bytes, every choice is 0, and choice 0 is always the zero value,
// so a short input makes a sparse event.
type source struct {
	rnd  *rand.Rand
	data []byte
	// encodable keeps out what no JSON encoder may write (NaN, ±Inf, years
	// outside 0..9999), so that with many float and time fields an event
	// still encodes often enough for the comparison to mean something.
	encodable bool
}

func (s *source) byte() byte {
	if s.rnd != nil {
		return byte(s.rnd.Uint32())
	}
	if len(s.data) == 0 {
		return 0
	}
	b := s.data[0]
	s.data = s.data[1:]
	return b
}

// intn returns a choice in [0,n), n <= 256.
func (s *source) intn(n int) int { return int(s.byte()) % n }

func (s *source) uint64() uint64 {
	var v uint64
	for range 8 {
		v = v<<8 | uint64(s.byte())
	}
	return v
}

var timeType = reflect.TypeFor[time.Time]()

// event fills every field of a new Event at random. The top-level groups are
// always filled (each may still come out zero); below them, a struct is left
// zero one time in four, to exercise omitzero.
func (s *source) event() *Event {
	ev := new(Event)
	v := reflect.ValueOf(ev).Elem()
	for i := range v.NumField() {
		s.fill(v.Field(i), true)
	}
	return ev
}

// fill sets v to a random value of its type. A kind it does not know is a
// panic: a new field type in schemas needs a case here (and in encode.go).
func (s *source) fill(v reflect.Value, top bool) {
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(s.time()))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s.string())
	case reflect.Bool:
		v.SetBool(s.byte()&1 == 1)
	case reflect.Int, reflect.Int64:
		v.SetInt(s.int())
	case reflect.Float64:
		v.SetFloat(s.float())
	case reflect.Slice:
		switch s.intn(4) {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, s.intn(3))) // empty, not nil
		default:
			n := 1 + s.intn(4)
			v.Set(reflect.MakeSlice(v.Type(), n, n))
			for i := range n {
				s.fill(v.Index(i), false)
			}
		}
	case reflect.Map:
		switch s.intn(4) {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeMap(v.Type())) // empty, not nil
		default:
			n := 1 + s.intn(6)
			if s.intn(4) == 0 {
				n += 16 // more keys than Encode sorts on its stack
			}
			m := reflect.MakeMap(v.Type())
			for range n {
				k := reflect.New(v.Type().Key()).Elem()
				s.fill(k, false)
				e := reflect.New(v.Type().Elem()).Elem()
				s.fill(e, false)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Struct:
		if !top && s.intn(4) == 0 {
			return // zero group
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				s.fill(v.Field(i), false)
			}
		}
	default:
		panic("fill: no random values for kind " + v.Kind().String() + " (" + v.Type().String() + "); teach fill_test.go and encode.go about it")
	}
}

// trickyStrings are what a JSON string encoder gets wrong.
var trickyStrings = []string{
	`"`, `\`, `"quoted" \back\slash/`, "\x00", "\x01\x1f", "\x7f", "\b\f\n\r\t",
	"<script>alert('x&y')</script>", "a\u2028b\u2029c", "\u2027\u202a",
	"\xff", "ok\xc3", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x80",
	"\ufffd", "héllo wörld", "日本語", "\U0001F600 emoji", "tab\there", "", " ",
	"www.example.com", "1:e0H8FXGKa3iNVFPGza+GE3x1Op8=", "GET", "Mozilla/5.0 (X11; Linux x86_64)",
}

// trickyRunes build strings rune by rune.
var trickyRunes = []rune{'a', 'Z', '0', ' ', '"', '\\', '/', '<', '>', '&', '\'', 0, 1, 0x1f, 0x7f, 0x80,
	'\b', '\f', '\n', '\r', '\t', 'é', '\u2028', '\u2029', '\ufffd', '\ufeff', 0x10ffff, 'ß', '€'}

func (s *source) string() string {
	switch s.intn(8) {
	case 0:
		return ""
	case 1, 2:
		return trickyStrings[s.intn(len(trickyStrings))]
	case 3: // arbitrary bytes, valid UTF-8 or not
		b := make([]byte, s.intn(16))
		for i := range b {
			b[i] = s.byte()
		}
		return string(b)
	case 4:
		r := make([]rune, s.intn(12))
		for i := range r {
			r[i] = trickyRunes[s.intn(len(trickyRunes))]
		}
		return string(r)
	case 5: // a valid sequence cut short
		str := trickyStrings[s.intn(len(trickyStrings))] + "é日\U0001F600"
		return str[:s.intn(len(str)+1)]
	default:
		b := make([]byte, 1+s.intn(20))
		for i := range b {
			b[i] = 'a' + s.byte()%26
		}
		return string(b)
	}
}

func (s *source) int() int64 {
	switch s.intn(8) {
	case 0:
		return 0
	case 1:
		return -1 - int64(s.byte())
	case 2:
		return math.MaxInt64
	case 3:
		return math.MinInt64
	case 4:
		return int64(s.uint64())
	default:
		return int64(s.uint64() >> (s.byte() % 64))
	}
}

func (s *source) float() float64 {
	switch s.intn(64) {
	case 0:
		return 0
	case 1:
		return math.Copysign(0, -1)
	case 2:
		if s.encodable {
			return 0.5
		}
		return math.NaN()
	case 3:
		if s.encodable {
			return -2.5
		}
		return math.Inf(1 - 2*s.intn(2))
	case 4:
		return 1e-6 // 'f'
	case 5:
		return math.Nextafter(1e-6, 0) // 'e'
	case 6:
		return 1e21 // 'e'
	case 7:
		return math.Nextafter(1e21, 0) // 'f'
	case 8:
		return -1e-7 // "-1e-7" after the exponent clean-up
	case 9:
		return 1.5e-10
	case 10:
		return math.SmallestNonzeroFloat64
	case 11:
		return -math.MaxFloat64
	case 12, 13:
		// Random bits: any float, NaN and Inf one time in 2048.
		return math.Float64frombits(s.uint64())
	case 14, 15:
		return float64(int64(s.uint64())) // big integers
	default:
		return float64(int64(s.uint64()>>20)-(1<<43)) / float64(1+s.intn(1000))
	}
}

// zones include a zone of offset 0 that is not UTC, offsets with seconds,
// and the widest offsets RFC 3339 carries; badZones those it cannot carry
// (24h and more).
var (
	zones = []*time.Location{
		time.UTC,
		time.Local,
		time.FixedZone("", 0),
		time.FixedZone("IST", 5*3600+30*60),
		time.FixedZone("W", -(9*3600 + 59)),
		time.FixedZone("MAX", 23*3600+59*60+59),
		time.FixedZone("MIN", -(23*3600 + 59*60 + 59)),
	}
	badZones = []*time.Location{
		time.FixedZone("DAY", 24*3600),
		time.FixedZone("NEG", -25*3600),
		time.FixedZone("HUGE", 100*3600+60),
	}
)

func (s *source) zone() *time.Location {
	// Rare enough that an event of a dozen time fields still encodes more
	// often than not (TestEncodeMatchesStdlibOnRandomEvents wants both).
	if s.intn(128) == 1 {
		return badZones[s.intn(len(badZones))]
	}
	return zones[s.intn(len(zones))]
}

func (s *source) time() time.Time {
	nanos := []int64{0, 1, 120_000_000, 999_999_999, 500, int64(s.uint64() % 1e9)}
	nsec := nanos[s.intn(len(nanos))]
	switch s.intn(64) {
	case 0:
		return time.Time{}
	case 1:
		return time.Time{}.In(s.zone()) // IsZero, yet not time.Time{}
	case 2:
		return time.Unix(0, 0).UTC()
	case 3: // years RFC 3339 cannot carry
		if s.encodable {
			return time.Unix(0, nsec).UTC()
		}
		years := []int{-1, -10000, 10000, 12345, 1 << 20}
		return time.Date(years[s.intn(len(years))], 1, 1, 0, 0, 0, int(nsec), s.zone())
	case 4: // the edges of [0,9999]
		years := []int{0, 1, 9999}
		return time.Date(years[s.intn(len(years))], time.Month(1+s.intn(12)), 1+s.intn(31), s.intn(24), s.intn(60), s.intn(60), int(nsec), s.zone())
	case 5: // any instant at all
		return time.Unix(int64(s.uint64()), nsec).In(s.zone())
	default: // 1970..2100
		return time.Unix(int64(s.uint64()%(130*365*86400)), nsec).In(s.zone())
	}
}

// fillFull sets every field reachable from v to a non-zero value, every
// slice to one element and every map to one key, so that every field
// encoding/json would write is written.
func fillFull(v reflect.Value) {
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(time.Date(2026, 11, 26, 10, 0, 0, 5, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("s")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fillFull(v.Index(0))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fillFull(k)
		e := reflect.New(v.Type().Elem()).Elem()
		fillFull(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillFull(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillFull(v.Field(i))
			}
		}
	default:
		panic("fillFull: kind " + v.Kind().String() + " (" + v.Type().String() + ") unknown; teach fill_test.go and encode.go about it")
	}
}

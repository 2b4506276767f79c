// Package profstage splits a CPU profile of the sensor into its pipeline
// stages (read, decode, flow, reassembly, parse, rules, encode, output), so
// that `make bench` can say where one replay spends its time without a
// person reading pprof output.
//
// A sample goes to the stage of the innermost frame that belongs to a
// stage package: a malloc or a SHA-256 block counts for the code that asked
// for it (the encoder, a parser), not for the runtime. Samples with no
// stage frame are garbage collection when the runtime's background GC runs
// them, "other" otherwise.
package profstage

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Stages in pipeline order, then the rest.
var Stages = []string{"read", "decode", "flow", "reassembly", "parse", "rules", "encode", "output", "pipeline", "gc", "other"}

// stagePrefixes maps import paths (a path or its subtree) to stages. The
// module's own packages first; libraries that only one stage calls are
// listed so their own time is not "other" when the profile misses the frame
// of our caller (a truncated stack).
var stagePrefixes = []struct{ prefix, stage string }{
	{mod + "/sensor/source", "read"},
	{mod + "/sensor/pcapindex", "read"},
	{mod + "/sensor/decode", "decode"},
	{"github.com/gopacket/gopacket", "decode"},
	{mod + "/sensor/flow", "flow"},
	{mod + "/sensor/reassembly", "reassembly"},
	{mod + "/sensor/app", "parse"},
	{mod + "/sensor/identity", "parse"},
	{mod + "/parsers", "parse"},
	{mod + "/files", "parse"},
	{mod + "/enrich", "parse"},
	{mod + "/rules", "rules"},
	{mod + "/internal/ahocorasick", "rules"},
	{"github.com/expr-lang/expr", "rules"},
	{mod + "/schemas", "encode"},
	{mod + "/outputs", "output"},
	{mod + "/sensor/pipeline", "pipeline"},
	{mod + "/sensor/anomaly", "pipeline"},
}

const mod = "github.com/packetsleuth/packetsleuth"

// StageOf is the stage of a function (as pprof names it, e.g.
// "github.com/x/y/pkg.(*T).M"), or "" when its package is in none.
func StageOf(function string) string {
	pkg := packageOf(function)
	for _, p := range stagePrefixes {
		if pkg == p.prefix || strings.HasPrefix(pkg, p.prefix+"/") {
			return p.stage
		}
	}
	return ""
}

// packageOf cuts a function name to its import path: up to the first dot
// after the last slash.
func packageOf(function string) string {
	slash := strings.LastIndexByte(function, '/')
	if dot := strings.IndexByte(function[slash+1:], '.'); dot >= 0 {
		return function[:slash+1+dot]
	}
	return function
}

// Classify gives the stage of one sample from its stack, innermost frame
// first.
func Classify(stack []string) string {
	for _, fn := range stack {
		if s := StageOf(fn); s != "" {
			return s
		}
	}
	for _, fn := range stack {
		if strings.HasPrefix(fn, "runtime.gcBgMarkWorker") || strings.HasPrefix(fn, "runtime.bgsweep") ||
			strings.HasPrefix(fn, "runtime.bgscavenge") || strings.HasPrefix(fn, "runtime.gcMark") {
			return "gc"
		}
	}
	return "other"
}

// Breakdown is the CPU time of a profile per stage.
type Breakdown struct {
	Total time.Duration
	Stage map[string]time.Duration
}

// Read parses a CPU profile as runtime/pprof writes it (gzipped
// profile.proto) and sums its samples per stage.
func Read(r io.Reader) (Breakdown, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Breakdown{}, fmt.Errorf("profile: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return Breakdown{}, fmt.Errorf("profile: %w", err)
	}
	p, err := parse(raw)
	if err != nil {
		return Breakdown{}, fmt.Errorf("profile: %w", err)
	}
	return p.breakdown()
}

// String formats a breakdown as a table in stage order, with shares.
func (b Breakdown) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-11s %9s %6s\n", "stage", "cpu", "share")
	for _, s := range Stages {
		d := b.Stage[s]
		share := 0.0
		if b.Total > 0 {
			share = 100 * float64(d) / float64(b.Total)
		}
		fmt.Fprintf(&sb, "%-11s %8.2fs %5.1f%%\n", s, d.Seconds(), share)
	}
	fmt.Fprintf(&sb, "%-11s %8.2fs\n", "total", b.Total.Seconds())
	return sb.String()
}

// profile is what a breakdown needs of profile.proto.
type profile struct {
	strings   []string
	types     [][2]int64 // sample_type: (type, unit) string indexes
	samples   []sample
	locations map[uint64][]uint64 // location id -> function ids, innermost first
	functions map[uint64]int64    // function id -> name string index
}

type sample struct {
	locs   []uint64
	values []int64
}

// Field numbers of profile.proto.
const (
	profSampleType = 1
	profSample     = 2
	profLocation   = 4
	profFunction   = 5
	profStrings    = 6

	sampleLocation = 1
	sampleValue    = 2

	locID   = 1
	locLine = 4

	lineFunction = 1

	fnID   = 1
	fnName = 2

	vtType = 1
	vtUnit = 2
)

func parse(b []byte) (*profile, error) {
	p := &profile{locations: map[uint64][]uint64{}, functions: map[uint64]int64{}}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case profSampleType:
			var t [2]int64
			err := fields(v, func(num protowire.Number, _ protowire.Type, _ []byte, n uint64) error {
				if num == vtType {
					t[0] = int64(n)
				} else if num == vtUnit {
					t[1] = int64(n)
				}
				return nil
			})
			p.types = append(p.types, t)
			return err
		case profSample:
			var s sample
			err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
				switch num {
				case sampleLocation:
					return appendVarints(&s.locs, typ, v, n)
				case sampleValue:
					var vals []uint64
					err := appendVarints(&vals, typ, v, n)
					for _, x := range vals {
						s.values = append(s.values, int64(x))
					}
					return err
				}
				return nil
			})
			p.samples = append(p.samples, s)
			return err
		case profLocation:
			var id uint64
			var fns []uint64
			err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
				switch num {
				case locID:
					id = n
				case locLine:
					return fields(v, func(num protowire.Number, _ protowire.Type, _ []byte, n uint64) error {
						if num == lineFunction {
							fns = append(fns, n)
						}
						return nil
					})
				}
				return nil
			})
			p.locations[id] = fns
			return err
		case profFunction:
			var id uint64
			var name int64
			err := fields(v, func(num protowire.Number, _ protowire.Type, _ []byte, n uint64) error {
				switch num {
				case fnID:
					id = n
				case fnName:
					name = int64(n)
				}
				return nil
			})
			p.functions[id] = name
			return err
		case profStrings:
			p.strings = append(p.strings, string(v))
		}
		return nil
	})
	return p, err
}

// fields calls f for each field of a message: v for length-delimited
// fields, n for varints.
func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		var v []byte
		var n uint64
		switch typ {
		case protowire.VarintType:
			n, l = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, l = protowire.ConsumeBytes(b)
		default:
			l = protowire.ConsumeFieldValue(num, typ, b)
		}
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		if err := f(num, typ, v, n); err != nil {
			return err
		}
	}
	return nil
}

// appendVarints reads a repeated integer field, packed or not.
func appendVarints(dst *[]uint64, typ protowire.Type, v []byte, n uint64) error {
	if typ == protowire.VarintType {
		*dst = append(*dst, n)
		return nil
	}
	for len(v) > 0 {
		x, l := protowire.ConsumeVarint(v)
		if l < 0 {
			return protowire.ParseError(l)
		}
		*dst = append(*dst, x)
		v = v[l:]
	}
	return nil
}

func (p *profile) str(i int64) string {
	if i < 0 || i >= int64(len(p.strings)) {
		return ""
	}
	return p.strings[i]
}

// breakdown sums the CPU nanoseconds of the samples per stage.
func (p *profile) breakdown() (Breakdown, error) {
	vi := -1
	for i, t := range p.types {
		if p.str(t[0]) == "cpu" && p.str(t[1]) == "nanoseconds" {
			vi = i
		}
	}
	if vi < 0 {
		return Breakdown{}, errors.New("not a CPU profile (no cpu/nanoseconds sample type)")
	}
	b := Breakdown{Stage: map[string]time.Duration{}}
	var stack []string
	for _, s := range p.samples {
		if vi >= len(s.values) {
			continue
		}
		stack = stack[:0]
		for _, l := range s.locs {
			for _, fn := range p.locations[l] {
				stack = append(stack, p.str(p.functions[fn]))
			}
		}
		d := time.Duration(s.values[vi])
		b.Stage[Classify(stack)] += d
		b.Total += d
	}
	return b, nil
}

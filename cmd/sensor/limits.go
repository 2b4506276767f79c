package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/dustin/go-humanize"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/gcpace"
	"github.com/packetsleuth/packetsleuth/outputs"
)

// LimitsConfig bounds what traffic can make the sensor hold (limits:).
type LimitsConfig struct {
	// Memory is the process's one memory budget, shared by every worker's
	// flow table, reassembly, defragmenter, decoders, parsers and rule
	// state, and by the outputs' queues (default: budget.DefaultLimit, a
	// quarter of RAM).
	Memory outputs.ByteSize `yaml:"memory"`
}

// minMemory is the smallest budget accepted: below it a sensor would
// evict nearly everything it sees.
const minMemory = 16 << 20

func (l LimitsConfig) limit() int64 {
	if l.Memory > 0 {
		return int64(l.Memory)
	}
	return budget.DefaultLimit()
}

// newBudget makes the process's budget and, unless GOMEMLIMIT is set,
// makes the Go runtime's soft memory limit follow it (runtimeLimit), so
// the garbage collector works harder as the budget fills instead of
// letting the heap double past it. Unless GOGC is set, the collector's
// target follows gcPace until stopPacing.
func newBudget(l LimitsConfig) (b *budget.Budget, stopPacing func()) {
	b = budget.New(l.limit())
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(runtimeLimit(b.Limit()))
	}
	if os.Getenv("GOGC") != "" {
		return b, func() {}
	}
	return b, gcpace.Start(gcPace)
}

// gcPace lets a heap grow by 128 MiB between collections, within 150 % and
// 300 % of what the last one left live. A 2-worker replay of bench-large
// collected 7 times with Go's 100 %, 5 with a fixed 150 % (three of them
// while the rules loaded) and twice with this: 0.09 s less CPU for 12 MB
// more peak RSS (docs/performance.md, session 13). A heap of more than
// ~85 MiB live (a flood's flows) keeps 150 %, so its peak grows with what
// it holds as before. The memory limit above still bounds the heap when
// the budget fills.
var gcPace = gcpace.Pace{Min: 150, Max: 300, Headroom: 128 << 20}

// runtimeLimit is the Go soft memory limit for a budget: the budget plus
// headroom for what it does not count (the runtime itself, event encoding,
// enrichment data): half the budget, at least 256 MiB.
func runtimeLimit(budget int64) int64 { return budget + max(budget/2, 256<<20) }

// sizeFlag is a byte size on the command line: 2147483648, 2GiB or 512MB.
type sizeFlag struct{ v *outputs.ByteSize }

func (f sizeFlag) String() string {
	if f.v == nil || *f.v == 0 {
		return ""
	}
	return humanize.IBytes(uint64(*f.v))
}

func (f sizeFlag) Set(s string) error {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil && v >= 0 {
		*f.v = outputs.ByteSize(v)
		return nil
	}
	v, err := humanize.ParseBytes(s)
	if err != nil || v > 1<<62 {
		return fmt.Errorf("%q is not a size (e.g. 2GiB)", s)
	}
	*f.v = outputs.ByteSize(v)
	return nil
}

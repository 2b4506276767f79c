package flow

import (
	"fmt"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
)

// BenchmarkNewFlows is the flow table's own new-flow rate on a SYN flood
// (no events made: see sensor/pipeline's BenchmarkSYNFlood for the whole
// path): without a budget, and with one that makes every new flow evict;
// ahead=4 hints each flow's slot four packets before its Update, as the
// pipeline does in a batch (Table.Prefetch). flows/cpu-s counts the
// process's CPU time (garbage collection included), steadier than wall
// time on a shared machine.
func BenchmarkNewFlows(b *testing.B) {
	for _, c := range []struct{ limit, ahead int }{{0, 0}, {0, 4}, {8 << 20, 0}} {
		b.Run(fmt.Sprintf("budget=%dMiB/ahead=%d", c.limit>>20, c.ahead), func(b *testing.B) {
			tab := NewTable(Config{}, func(*Flow) {})
			tab.UseBudget(budget.New(int64(c.limit)).NewAccount())
			p := decoded(b)[0]
			q := p
			src := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
			b.ReportAllocs()
			cpu0 := cpuTime()
			i := 0
			for b.Loop() {
				i++
				if c.ahead > 0 {
					q.Src, q.SrcPort = src(i+c.ahead), uint16(1024+(i+c.ahead)>>24)
					tab.Prefetch(&q)
				}
				p.Src, p.SrcPort = src(i), uint16(1024+i>>24)
				p.Timestamp = p.Timestamp.Add(time.Microsecond)
				tab.Update(&p)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "flows/s")
			b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "flows/cpu-s")
		})
	}
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFlush ends a SYN flood's table at the end of input (no events
// made: the table's own share of it), per flow: most flows of a large table
// are out of the cache when it ends them.
func BenchmarkFlush(b *testing.B) {
	const n = 500_000
	p := decoded(b)[0]
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		tab := NewTable(Config{}, func(*Flow) {})
		for i := range n {
			p.Src = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
			p.Timestamp = p.Timestamp.Add(time.Microsecond)
			tab.Update(&p)
		}
		b.StartTimer()
		cpu0 := cpuTime()
		tab.Flush()
		cpu += cpuTime() - cpu0
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/flow")
}

// BenchmarkCollectWithFlows times one collection (runtime.GC, the
// collector on every P) while a table holds a SYN flood's 500k flows, in
// CPU time: what each collection of a flood's heap costs. The index holds
// no pointers to scan (see index): the flows are marked through their
// lists.
func BenchmarkCollectWithFlows(b *testing.B) {
	tab := NewTable(Config{}, func(*Flow) {})
	p := decoded(b)[0]
	for i := range 500_000 {
		p.Src = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		p.Timestamp = p.Timestamp.Add(time.Microsecond)
		tab.Update(&p)
	}
	runtime.GC()
	cpu0, n := cpuTime(), 0
	for b.Loop() {
		runtime.GC()
		n++
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(n), "cpu-ms/op")
	runtime.KeepAlive(tab)
}

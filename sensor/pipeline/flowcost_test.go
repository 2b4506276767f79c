package pipeline

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// maxFlowCost is what a flow that never carried payload may cost, all in:
// flow table entry, its index and any application state (issue 12).
const maxFlowCost = 300

// synPacket returns the decoded SYN of the i-th source of a flood.
func synPacket(i int, rng *rand.Rand) decode.Packet {
	src := pcapgen.FloodSource(i, rng)
	return decode.Packet{
		Timestamp: pcapgen.Epoch.Add(pcapgen.FloodInterval * time.Duration(i)), WireLen: 54, Proto: decode.ProtoTCP, IPVersion: 4,
		Src: src.Addr(), SrcPort: src.Port(), Dst: dstAddrs[i%len(dstAddrs)], DstPort: 80,
		TCPFlags: decode.SYN, Seq: rng.Uint32(), Window: 64240,
	}
}

// A SYN-only flow costs at most maxFlowCost bytes of heap, and the budget
// counts at most that, with full DPI as with flows only: the application
// layer keeps nothing for it.
func TestPayloadlessFlowCost(t *testing.T) {
	const n = 200_000
	for _, flowsOnly := range []bool{true, false} {
		b := budget.New(0) // counts without limiting
		w := newWorker(&Config{FlowsOnly: flowsOnly, Budget: b})
		rng := rand.New(rand.NewPCG(1, 2))
		p := synPacket(0, rng)
		w.packet(&p) // the worker's own first allocations are not the flows'
		before := heapInUse()
		for i := 1; i <= n; i++ {
			p = synPacket(i, rng)
			w.packet(&p)
		}
		after := heapInUse()
		if got := w.table.Stats().Active; got != n+1 {
			t.Fatalf("%d flows active, want %d", got, n+1)
		}
		perFlow := float64(after-before) / n
		t.Logf("flows-only=%v: %.0f bytes of heap per SYN-only flow", flowsOnly, perFlow)
		if perFlow > maxFlowCost {
			t.Errorf("flows-only=%v: a SYN-only flow costs %.0f bytes of heap, want <= %d", flowsOnly, perFlow, maxFlowCost)
		}
		pools := b.Stats().Pools
		per := pools[budget.Flows].Used / (n + 1)
		t.Logf("flows-only=%v: the budget counts %d bytes per SYN-only flow", flowsOnly, per)
		if per > maxFlowCost || pools[budget.Parsers].Used != 0 {
			t.Errorf("flows-only=%v: the budget counts %d bytes per flow, and %d bytes of parser state", flowsOnly, per, pools[budget.Parsers].Used)
		}
		runtime.KeepAlive(w)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

var dstAddrs = []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.11")}

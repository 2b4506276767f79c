package pipeline

import (
	"net/netip"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// Emitting an event through the shipped rules, once its rule state exists,
// allocates nothing in the worker: encoding goes to the worker's arena,
// and the alert callback is made once, not per event.
func TestEmitThroughRulesAllocatesNothing(t *testing.T) {
	cfg := Config{Workers: 1, FlowsOnly: true, NewDetector: detectors(shippedSet(t), 1)}
	w := newWorker(&cfg)
	tab := flow.NewTable(flow.Config{}, func(*flow.Flow) {})
	p := decode.Packet{
		Timestamp: time.Unix(1700000000, 0), Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("192.0.2.1"),
		SrcPort: 40000, DstPort: 443, Proto: decode.ProtoTCP, IPVersion: 4, TCPFlags: decode.SYN,
	}
	f, _ := tab.Update(&p)
	var ev schemas.Event
	f.FillEvent(&ev, nil)
	for range 10 { // rule state for this event's groups
		w.emit(&ev)
	}
	if n := testing.AllocsPerRun(1000, func() { w.emit(&ev) }); n != 0 {
		t.Errorf("emit: %v allocations per event", n)
	}
}

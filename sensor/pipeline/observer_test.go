package pipeline

import (
	"net/netip"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// A worker's flow events keep the observer in the event they are made in,
// instead of clearing it and copying it in again for each, while it is
// the worker's; in live capture, where the observer names the ingress
// interface, each flow's event names its own flow's.
func TestFlowEventsKeepTheObserver(t *testing.T) {
	obs := schemas.Observer{Name: "edge-1", Hostname: "sensor-1", Type: "sensor", Vendor: "PacketSleuth"}
	tab := flow.NewTable(flow.Config{}, func(*flow.Flow) {})
	flowOn := func(port uint16, iface int) *flow.Flow {
		p := decode.Packet{
			Timestamp: time.Unix(1700000000, 0), Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("192.0.2.1"),
			SrcPort: port, DstPort: 443, Proto: decode.ProtoTCP, IPVersion: 4, TCPFlags: decode.SYN, Interface: iface,
		}
		f, _ := tab.Update(&p)
		return f
	}
	cfg := Config{Workers: 1, FlowsOnly: true, Observer: obs, Output: discard{}}
	w := newWorker(&cfg)
	w.flowEnded(flowOn(40000, 0))
	w.ev.Observer.Name = strings.Clone(obs.Name) // the same name in other bytes
	w.flowEnded(flowOn(40001, 0))
	if w.ev.Observer != obs {
		t.Fatalf("flow event's observer %+v, want %+v", w.ev.Observer, obs)
	}
	if unsafe.StringData(w.ev.Observer.Name) == unsafe.StringData(w.obs.Name) {
		t.Error("the observer was copied into the flow event again")
	}

	live := Config{Workers: 1, FlowsOnly: true, Observer: obs, Output: discard{}, Live: true, Interfaces: []string{"eth0", "eth1"}}
	w = newWorker(&live)
	for i, iface := range []int{0, 1, 1, 0} {
		w.flowEnded(flowOn(uint16(41000+i), iface))
		if got := w.ev.Observer.Ingress.Interface.Name; got != live.Interfaces[iface] {
			t.Errorf("flow %d on %s: observer.ingress.interface.name %q", i, live.Interfaces[iface], got)
		}
		if w.ev.Observer.Name != obs.Name {
			t.Errorf("flow %d: observer.name %q, want %q", i, w.ev.Observer.Name, obs.Name)
		}
	}
}

package pipeline

import (
	"testing"

	"github.com/packetsleuth/packetsleuth/enrich"
)

// The enricher, told the addresses a flow event's source.ip and
// destination.ip were printed from (AddrReader), takes each for its own
// side: every flow of a SYN flood to the home network is inbound, with
// and without the application layer.
func TestFlowEventAddrsToldTheEnricher(t *testing.T) {
	shared, err := enrich.Open(enrich.Config{HomeNet: []string{"192.0.2.0/24"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	if _, ok := shared.NewWorker().(AddrReader); !ok {
		t.Fatal("the enrich worker is no AddrReader")
	}
	capture := writeFlood(t, 500)
	for _, flowsOnly := range []bool{true, false} {
		out, _ := replay(t, Config{FlowsOnly: flowsOnly, NewEnricher: func() Enricher { return shared.NewWorker() }}, capture)
		flows := out.dataset("packetsleuth.flow")
		if len(flows) != 500 {
			t.Fatalf("flows only %v: %d flow events, want 500", flowsOnly, len(flows))
		}
		for _, ev := range flows {
			if d := str(ev, "network.direction"); d != "inbound" {
				t.Fatalf("flows only %v: %s -> %s is %q, want inbound", flowsOnly, str(ev, "source.ip"), str(ev, "destination.ip"), d)
			}
		}
	}
}

package rules

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// floodFlow is the flow event of one SYN of a flood as the sensor makes
// it (pcapgen.WriteSYNFlood): an unanswered SYN from a new source of
// 10.0.0.0/8 to port 80 of one of four servers, its own flow.
type floodFlow struct {
	src, dst         netip.Addr
	srcText, dstText string
	port             int
}

func floodFlows(n int) []floodFlow {
	rng := rand.New(rand.NewPCG(1, 1^0x9e3779b97f4a7c15))
	fs := make([]floodFlow, n)
	for i := range fs {
		src := pcapgen.FloodSource(i, rng)
		dst := netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i%4)})
		fs[i] = floodFlow{src: src.Addr(), dst: dst, srcText: src.Addr().String(), dstText: dst.String(), port: int(src.Port())}
	}
	return fs
}

// fill makes e the flow event of f at t (one event reused, as a worker's).
func (f *floodFlow) fill(e *schemas.Event, t time.Time) {
	*e = schemas.Event{}
	e.Timestamp = t
	e.Event.Kind, e.Event.Dataset = "event", schemas.DatasetFlow
	e.Event.Category, e.Event.Type = floodCategory, floodType
	e.Network.Transport, e.Network.Type, e.Network.Direction = "tcp", "ipv4", "outbound"
	e.Source.IP, e.Source.Port = f.srcText, f.port
	e.Destination.IP, e.Destination.Port = f.dstText, 80
	e.Source.Bytes, e.Source.Packets = 54, 1
	e.Sensor.Flow.State, e.Sensor.Flow.History = "S0", "S"
}

var floodCategory, floodType = []string{"network"}, []string{"connection", "end"}

// BenchmarkEvalFlood runs the shipped rules, as the sensor loads them,
// over the flow events of a SYN flood from random sources: the three
// source-keyed threshold rules make a new group per event.
func BenchmarkEvalFlood(b *testing.B) {
	set, errs := LoadFiles(Options{Defaults: true})
	if errs != nil {
		b.Fatal(errs)
	}
	flows := floodFlows(200_000)
	ev := NewEvaluator(set, EvalOptions{})
	var e schemas.Event
	alerts := 0
	emit := func(*schemas.Event) { alerts++ }
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(flows) { // a new evaluator: each event's groups are new again
			ev, i = NewEvaluator(set, EvalOptions{}), 0
		}
		f := &flows[i]
		f.fill(&e, t0.Add(time.Duration(i)*time.Microsecond))
		ev.AddrsPrinted(f.src, f.dst, f.srcText, f.dstText)
		ev.Eval(&e, emit)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

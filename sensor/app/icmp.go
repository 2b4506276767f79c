package app

import (
	"math"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers/icmp"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// icmpState is what an ICMP flow's messages showed: its echo payloads
// (sizes, randomness) and the first packet its error messages quote.
type icmpState struct {
	echo, quoted int
	payloadMax   int
	payloadBytes int64
	randomness   float64
	first        icmp.Quoted
}

const icmpStateBytes = int64(unsafe.Sizeof(icmpState{}))

// minRandomPayload is the smallest echo payload whose randomness is
// measured: below it the entropy cannot tell data from a pattern.
const minRandomPayload = 16

// icmpPacket reads one ICMP or ICMPv6 message of flow f.
func (a *Analyzer) icmpPacket(f *flow.Flow, p *decode.Packet) {
	is, _ := f.App.(*icmpState)
	if is == nil {
		if f.App != nil {
			return // uninspected
		}
		if !a.acct.Reserve(budget.Parsers, icmpStateBytes) {
			a.anom.Report(anomaly.MemoryLimit, f, p.Timestamp, "memory budget spent: ICMP messages not inspected")
			f.App = uninspected
			return
		}
		is = &icmpState{}
		f.App = is
	}
	v6 := p.Proto == decode.ProtoICMPv6
	switch {
	case icmp.IsEcho(v6, p.ICMPType):
		pl := icmp.EchoPayload(p.Payload)
		is.echo++
		is.payloadBytes += int64(len(pl))
		is.payloadMax = max(is.payloadMax, len(pl))
		if len(pl) >= minRandomPayload {
			is.randomness = max(is.randomness, icmp.Randomness(pl))
		}
	case icmp.IsError(v6, p.ICMPType):
		if q, ok := icmp.ParseQuoted(v6, p.Payload); ok {
			if is.quoted == 0 {
				is.first = q
			}
			is.quoted++
		}
	}
}

// icmpEnded writes what the ICMP flow's messages showed into its event.
func (a *Analyzer) icmpEnded(f *flow.Flow, is *icmpState, ev *schemas.Event) {
	a.acct.Release(budget.Parsers, icmpStateBytes)
	x := &ev.Sensor.Flow.ICMP
	x.EchoMessages, x.EchoPayloadMax, x.EchoPayloadBytes = is.echo, is.payloadMax, is.payloadBytes
	x.EchoPayloadEntropy = math.Round(is.randomness*100) / 100
	x.Quoted = is.quoted
	if q := is.first; is.quoted > 0 {
		x.OriginalCommunityID = f.QuotedCommunityID(q.Src, q.Dst, q.Proto, q.SrcPort, q.DstPort)
		x.OriginalTransport = flow.TransportName(q.Proto)
		x.OriginalSourceIP, x.OriginalDestinationIP = q.Src.String(), q.Dst.String()
		x.OriginalSourcePort, x.OriginalDestinationPort = int(q.SrcPort), int(q.DstPort)
	}
}

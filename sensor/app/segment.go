package app

import (
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// segment hands a TCP segment to the flow's stream and reports what the
// reassembler met on it: bytes sent twice differently (an evasion signal:
// the first copy is the one inspected) and holes skipped for lack of room.
func (st *state) segment(d flow.Dir, p *decode.Packet) {
	s := st.stream
	conflicts, limits := s.Conflicts(), s.LimitHits()
	st.a.asm.PayloadsLast(p.Lasting)
	s.Segment(dirOf(d), p.Seq, p.TCPFlags, p.Payload, p.Timestamp)
	if s.Conflicts() > conflicts {
		st.a.anom.Report(anomaly.OverlapConflict, st.f, p.Timestamp, "TCP bytes sent again with different content; the first copy is inspected")
	}
	if s.LimitHits() > limits {
		st.a.anom.Report(anomaly.ReassemblyLimit, st.f, p.Timestamp, "out-of-order bytes exceeded the reassembly caps or memory budget; a hole was skipped")
	}
}

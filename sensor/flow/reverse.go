package flow

// Reverse makes the responder the originator: the flow table guesses who
// opened a flow picked up mid-stream from its first packet, and the
// application layer may learn better from the content (an HTTP request or a
// TLS ClientHello sent by the "responder"). Endpoints, per-direction
// counters, flags, MACs, sequence state and history change sides, and the
// history gets (or loses) Zeek's '^'; packets after the call are counted in
// the new directions. The Community ID is symmetric and does not change.
// For TCP and UDP flows (an ICMP flow's direction is its message type's).
func (f *Flow) Reverse() {
	f.bits ^= origIsA
	f.bits = f.bits&^(hasOrigMAC|hasRespMAC) | f.bits&hasOrigMAC<<1 | f.bits&hasRespMAC>>1
	f.origPort, f.respPort = f.respPort, f.origPort
	f.mac[0], f.mac[1] = f.mac[1], f.mac[0]
	f.Packets[0], f.Packets[1] = f.Packets[1], f.Packets[0]
	f.Bytes[0], f.Bytes[1] = f.Bytes[1], f.Bytes[0]
	f.Payload[0], f.Payload[1] = f.Payload[1], f.Payload[0]
	f.TCPFlags[0], f.TCPFlags[1] = f.TCPFlags[1], f.TCPFlags[0]
	f.tcp.reverse()
}

func (s *tcpState) reverse() {
	for i := range s.nhistory {
		s.history ^= 8 << (4 * i) // the responder's letters are the originator's +8
	}
	s.nextSeq[0], s.nextSeq[1] = s.nextSeq[1], s.nextSeq[0]
	s.isn[0], s.isn[1] = s.isn[1], s.isn[0]
	s.seen[0], s.seen[1] = s.seen[1], s.seen[0]
	const byDir = seqValid | synSeen | scaleOffered // the FromOrig bit of each pair
	s.bits = s.bits&^(byDir|byDir<<1) | s.bits&byDir<<1 | s.bits>>1&byDir
	s.bits ^= flipped
	s.wexp = s.wexp<<4 | s.wexp>>4
	s.wscale = s.wscale<<4 | s.wscale>>4
}

package flow

import (
	"sync/atomic"

	"github.com/packetsleuth/packetsleuth/internal/splitmix"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// tcpState follows a TCP connection closely enough for Zeek's conn_state
// and history, and for retransmission marks.
type tcpState struct {
	history  uint64    // up to 16 letters, 4 bits each: letter index, +8 for the responder
	nextSeq  [2]uint32 // highest sequence number + payload seen, by Dir
	isn      [2]uint32 // sequence number of the first SYN, by Dir (see ISN)
	seen     [2]uint16 // history letters recorded, by Dir (bit per letter)
	nhistory uint8
	bits     uint8 // seqValid<<Dir, synSeen<<Dir, flipped, scaleOffered<<Dir, signed
	wexp     uint8 // last window sent, as a power of two: a nibble by Dir (rst.go)
	wscale   uint8 // window scale of the SYN: a nibble by Dir
}

const (
	seqValid = 1 << 0 // << Dir: nextSeq is set
	synSeen  = 1 << 2 // << Dir: isn is set
	flipped  = 1 << 4 // the first packet was the responder's SYN-ACK

	scaleOffered = 1 << 5 // << Dir: the SYN had a window scale option
	signed       = 1 << 7 // a segment carried a TCP MD5 signature
)

const maxHistory = 16

// History letters in Zeek's order of meaning; upper case is the originator.
const (
	hSYN = iota
	hSYNACK
	hACK
	hData
	hFIN
	hRST
	hRetrans
	hZeroWin
	numHist
)

var histLetters = [numHist]byte{'S', 'H', 'A', 'D', 'F', 'R', 'T', 'W'}

func (s *tcpState) mark(d Dir, letter int) {
	bit := uint16(1) << letter
	if s.seen[d]&bit != 0 {
		return
	}
	s.seen[d] |= bit
	if s.nhistory < maxHistory {
		s.history |= uint64(letter+8*int(d)) << (4 * s.nhistory)
		s.nhistory++
	}
}

func (s *tcpState) has(d Dir, letter int) bool { return s.seen[d]&(1<<letter) != 0 }

// update records one TCP segment sent in direction d.
func (s *tcpState) update(d Dir, flags uint8, seq uint32, window uint16, payload int) {
	switch {
	case flags&decode.RST != 0:
		s.mark(d, hRST)
	case flags&(decode.SYN|decode.ACK) == decode.SYN|decode.ACK:
		s.mark(d, hSYNACK)
	case flags&decode.SYN != 0:
		s.mark(d, hSYN)
	}
	if flags&decode.FIN != 0 {
		s.mark(d, hFIN)
	}
	if flags&decode.SYN != 0 && s.bits&(synSeen<<d) == 0 {
		s.isn[d] = seq
		s.bits |= synSeen << d
	}
	valid := s.bits&(seqValid<<d) != 0
	if payload > 0 {
		end := seq + uint32(payload)
		if valid && seqLEQ(end, s.nextSeq[d]) {
			s.mark(d, hRetrans)
		} else {
			s.mark(d, hData)
		}
		if !valid || seqLess(s.nextSeq[d], end) {
			s.nextSeq[d] = end
			s.bits |= seqValid << d
		}
	} else if flags&(decode.SYN|decode.FIN|decode.RST) == 0 && flags&decode.ACK != 0 {
		s.mark(d, hACK)
	}
	if window == 0 && flags&(decode.SYN|decode.RST) == 0 {
		s.mark(d, hZeroWin)
	}
	if flags&decode.SYN != 0 {
		s.nextSeq[d] = seq + 1
		s.bits |= seqValid << d
	}
}

// ISN returns the sequence number of the first SYN (or SYN-ACK) sent in
// direction d, if one was seen: the application layer creates its stream
// only when payload arrives, and starts each direction there.
func (f *Flow) ISN(d Dir) (uint32, bool) {
	return f.tcp.isn[d], f.tcp.bits&(synSeen<<d) != 0
}

func seqLess(a, b uint32) bool { return int32(a-b) < 0 }
func seqLEQ(a, b uint32) bool  { return int32(a-b) <= 0 }

// established: the originator's SYN and the responder's SYN-ACK were seen.
func (s *tcpState) established() bool { return s.has(FromOrig, hSYN) && s.has(FromResp, hSYNACK) }

// closed: both sides sent FIN, or either sent RST.
func (s *tcpState) closed() bool {
	return (s.has(FromOrig, hFIN) && s.has(FromResp, hFIN)) || s.has(FromOrig, hRST) || s.has(FromResp, hRST)
}

// ConnState returns Zeek's conn_state for the flow.
func (f *Flow) ConnState() string {
	if f.Proto != decode.ProtoTCP {
		if f.Packets[FromResp] == 0 {
			return "S0"
		}
		return "SF"
	}
	s := &f.tcp
	oSyn, rSynAck := s.has(FromOrig, hSYN), s.has(FromResp, hSYNACK)
	oFin, rFin := s.has(FromOrig, hFIN), s.has(FromResp, hFIN)
	oRst, rRst := s.has(FromOrig, hRST), s.has(FromResp, hRST)
	switch {
	case !oSyn && rSynAck && rRst:
		return "RSTRH"
	case !oSyn && rSynAck && rFin:
		return "SHR"
	case !oSyn:
		return "OTH"
	case !rSynAck && oRst:
		return "RSTOS0"
	case !rSynAck && rRst:
		return "REJ"
	case !rSynAck && oFin:
		return "SH"
	case !rSynAck:
		return "S0"
	case oRst:
		return "RSTO"
	case rRst:
		return "RSTR"
	case oFin && rFin:
		return "SF"
	case oFin:
		return "S2"
	case rFin:
		return "S3"
	}
	return "S1"
}

// History returns Zeek's history string ("^" first when the originator was
// decided against the first packet's direction). Most flows share a few
// histories: the strings of recent ones are kept, so a flow event seldom
// allocates one.
func (f *Flow) History() string {
	key := historyKey{f.tcp.history, f.tcp.nhistory, f.tcp.bits&flipped != 0}
	slot := &historyCache[splitmix.Mix(key.letters^uint64(key.n)<<56)%uint64(len(historyCache))]
	if e := slot.Load(); e != nil && e.key == key {
		return e.s
	}
	var b [1 + maxHistory]byte
	n := 0
	if key.flipped {
		b[0], n = '^', 1
	}
	for i := range key.n {
		l := key.letters >> (4 * i) & 0xf
		c := histLetters[l&7]
		if l >= 8 {
			c += 'a' - 'A'
		}
		b[n] = c
		n++
	}
	e := &historyString{key: key, s: string(b[:n])}
	slot.Store(e)
	return e.s
}

// historyKey is what a history string is made of.
type historyKey struct {
	letters uint64
	n       uint8
	flipped bool
}

// historyCache maps a history to its string (as macCache: shared by the
// workers, entries immutable, replaced whole on a miss).
var historyCache [512]atomic.Pointer[historyString]

type historyString struct {
	key historyKey
	s   string
}

package flow

import (
	"math/bits"
	"strconv"

	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// A RST that its receiver would drop is a classic way to make a monitor stop
// listening while the connection goes on. The table judges each RST as the
// receiver would (as Suricata's stream engine does) from what tcpState keeps
// in two bytes: the last window each side sent, rounded up to a power of
// two, and the window scales of the SYNs.

// follow records what the RST check needs from an accepted segment sent in
// direction d.
func (s *tcpState) follow(d Dir, p *decode.Packet) {
	if p.TCPOptions&decode.OptMD5 != 0 {
		s.bits |= signed
	}
	if p.TCPFlags&decode.SYN != 0 && p.TCPOptions&decode.OptWindowScale != 0 {
		s.bits |= scaleOffered << d
		s.wscale = setNibble(s.wscale, d, p.WindowScale)
	}
	s.wexp = setNibble(s.wexp, d, uint8(max(bits.Len16(p.Window), 1)-1))
}

func setNibble(b uint8, d Dir, v uint8) uint8 {
	sh := 4 * d
	return b&^(0xf<<sh) | (v&0xf)<<sh
}

func nibble(b uint8, d Dir) uint8 { return b >> (4 * d) & 0xf }

// rejectsRST tells whether the receiver of the RST p, sent in direction d,
// would drop it: it carries a TCP MD5 signature on a connection that signs
// nothing (RFC 2385), or its sequence number is outside the receiver's
// window (RFC 793 §3.4) around the next byte the sender was to send. A
// receiver that has sent nothing yet has no window to judge by; the scale
// of a connection picked up mid-stream is taken as the largest. The
// verdict says why, for the anomaly event.
func (s *tcpState) rejectsRST(d Dir, p *decode.Packet, receiverSeen bool) (rstVerdict, bool) {
	if p.TCPOptions&decode.OptMD5 != 0 && s.bits&signed == 0 {
		return rstVerdict{md5: true}, true
	}
	if !receiverSeen || s.bits&(seqValid<<d) == 0 {
		return rstVerdict{}, false
	}
	r := 1 - d
	shift := uint8(14)
	if s.bits&(synSeen<<FromOrig) != 0 && s.bits&(synSeen<<FromResp) != 0 {
		shift = 0
		if s.bits&(scaleOffered<<FromOrig) != 0 && s.bits&(scaleOffered<<FromResp) != 0 {
			shift = nibble(s.wscale, r)
		}
	}
	win := int64(2) << nibble(s.wexp, r) << shift
	// The receiver's next expected byte is at most the sender's next one and
	// at most a window behind it.
	off := int64(int32(p.Seq - s.nextSeq[d]))
	return rstVerdict{seq: p.Seq, next: s.nextSeq[d], off: off, win: win}, off > win || off < -win
}

// rstVerdict is why a RST was judged ignored: a signature, or how far its
// sequence number is from the sender's next one against the window.
type rstVerdict struct {
	md5       bool
	seq, next uint32
	off, win  int64
}

func (v rstVerdict) String() string {
	if v.md5 {
		return "RST carries a TCP MD5 signature on a connection that signs nothing: the receiver drops it (RFC 2385)"
	}
	where, n := "past", v.off
	if n < 0 {
		where, n = "before", -n
	}
	return "RST sequence number " + strconv.FormatUint(uint64(v.seq), 10) + " is " + strconv.FormatInt(n, 10) + " bytes " + where +
		" the sender's next (" + strconv.FormatUint(uint64(v.next), 10) + "), outside the receiver's window of at most " +
		strconv.FormatInt(v.win, 10) + " bytes: the receiver drops it (RFC 793)"
}

// IgnoredRST says why the RST of the packet last given to Update was judged
// one its receiver drops (the packet has anomaly.RSTIgnored); it is
// formatted only when asked for.
func (t *Table) IgnoredRST() string { return t.lastRST.String() }

// WasReset reports whether a RST its receiver accepts ended the connection
// (data after it reaches no application).
func (f *Flow) WasReset() bool { return f.tcp.has(FromOrig, hRST) || f.tcp.has(FromResp, hRST) }

package flow

import (
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

func TestRSTJudgedAsTheReceiverWould(t *testing.T) {
	seg := func(flags uint8, seq uint32, win uint16, opts, scale uint8) *decode.Packet {
		return &decode.Packet{TCPFlags: flags, Seq: seq, Window: win, TCPOptions: opts, WindowScale: scale}
	}
	var s tcpState
	follow := func(d Dir, p *decode.Packet, payload int) {
		s.update(d, p.TCPFlags, p.Seq, p.Window, payload)
		s.follow(d, p)
	}
	// Handshake with window scaling (client 7, server 2); the server then
	// advertises 1000 << 2 bytes, rounded up to 4096.
	follow(FromOrig, seg(decode.SYN, 999, 64240, decode.OptWindowScale, 7), 0)
	follow(FromResp, seg(decode.SYN|decode.ACK, 4999, 65535, decode.OptWindowScale, 2), 0)
	follow(FromResp, seg(decode.ACK, 5000, 1000, 0, 0), 0)
	rst := func(seq uint32, opts uint8) bool {
		_, drop := s.rejectsRST(FromOrig, seg(decode.RST|decode.ACK, seq, 0, opts, 0), true)
		return drop
	}
	for seq, rejected := range map[uint32]bool{1000: false, 1000 + 4096: false, 1000 + 8192: true, 1<<32 - 7192: true, 1000 + 1<<20: true, 1000 + 1<<31: true} {
		if got := rst(seq, 0); got != rejected {
			t.Errorf("RST at %d rejected=%v, want %v", seq, got, rejected)
		}
	}
	if !rst(1000, decode.OptMD5) {
		t.Error("a signed RST on an unsigned connection was accepted")
	}
	if _, drop := s.rejectsRST(FromOrig, seg(decode.RST, 1000+1<<20, 0, 0, 0), false); drop {
		t.Error("a receiver that sent nothing has no window to judge by")
	}
	// A connection that signs its segments: a signed RST is accepted.
	follow(FromOrig, seg(decode.ACK, 1000, 500, decode.OptMD5, 0), 0)
	if rst(1000, decode.OptMD5) {
		t.Error("a signed RST on a signed connection was rejected")
	}

	// Mid-stream: the scale is unknown, so the window may be up to 2^30.
	var m tcpState
	m.update(FromOrig, decode.ACK, 1000, 10, 100)
	m.update(FromResp, decode.ACK, 5000, 10, 0)
	m.follow(FromResp, seg(decode.ACK, 5000, 10, 0, 0))
	if _, drop := m.rejectsRST(FromOrig, seg(decode.RST, 1100+100000, 0, 0, 0), true); drop {
		t.Error("mid-stream: a RST inside the largest possible window was rejected")
	}
	if _, drop := m.rejectsRST(FromOrig, seg(decode.RST, 1100+1<<31, 0, 0, 0), true); !drop {
		t.Error("mid-stream: a RST half the sequence space away was accepted")
	}
}

// The RST check lives in the two bytes tcpState had spare.
func TestTCPStateStaysSmall(t *testing.T) {
	if n := unsafe.Sizeof(tcpState{}); n > 32 {
		t.Errorf("tcpState is %d bytes, want <= 32", n)
	}
}

// An ignored RST costs the table no allocation: its reason is kept as
// numbers and written only when the anomaly event asks for it.
func TestIgnoredRSTIsJudgedWithoutAllocating(t *testing.T) {
	pkts := decoded(t)
	tab := NewTable(Config{}, func(*Flow) {})
	for i := range 4 { // handshake and the request
		tab.Update(&pkts[i])
	}
	rst := pkts[3]
	rst.TCPFlags, rst.Payload = decode.RST|decode.ACK, nil
	rst.Seq += 1 << 20
	allocs := testing.AllocsPerRun(100, func() {
		rst.Anomalies = 0
		tab.Update(&rst)
	})
	if allocs != 0 || !rst.Anomalies.Has(anomaly.RSTIgnored) {
		t.Errorf("%.1f allocations per ignored RST, anomalies %v", allocs, rst.Anomalies)
	}
	// 1 MiB past the request's first byte: past its end by 1 MiB less the request.
	n := len(pkts[3].Payload)
	want := "is " + strconv.Itoa(1<<20-n) + " bytes past the sender's next (" + strconv.Itoa(int(pkts[3].Seq)+n) + ")"
	if why := tab.IgnoredRST(); !strings.Contains(why, want) {
		t.Errorf("reason %q, want it to say %q", why, want)
	}
}

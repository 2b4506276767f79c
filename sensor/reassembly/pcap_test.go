package reassembly

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

const sharedPcaps = "../../../shared/pcaps"

// capSeg is one TCP segment of a capture.
type capSeg struct {
	src     uint16
	seq     uint32
	flags   uint8
	payload []byte
	wireLen int // payload length by the IP header (captures may cut it)
	ts      time.Time
}

// readSegments reads the TCP segments of a one-connection capture.
func readSegments(t *testing.T, name string) []capSeg {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedPcaps, name))
	if err != nil {
		t.Skipf("shared capture %s is not beside the repository: %v", name, err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var segs []capSeg
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pkt := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if tcp == nil || ip == nil {
			continue
		}
		var fl uint8
		for _, b := range []struct {
			on  bool
			bit uint8
		}{{tcp.FIN, decode.FIN}, {tcp.SYN, decode.SYN}, {tcp.RST, decode.RST}, {tcp.PSH, decode.PSH}, {tcp.ACK, decode.ACK}} {
			if b.on {
				fl |= b.bit
			}
		}
		segs = append(segs, capSeg{
			src: uint16(tcp.SrcPort), seq: tcp.Seq, flags: fl, payload: tcp.Payload,
			wireLen: int(ip.Length) - int(ip.IHL)*4 - int(tcp.DataOffset)*4, ts: ci.Timestamp,
		})
	}
	return segs
}

// clientPort is the port of the side that sent the SYN without ACK.
func clientPort(t *testing.T, segs []capSeg) uint16 {
	for _, s := range segs {
		if s.flags&(decode.SYN|decode.ACK) == decode.SYN {
			return s.src
		}
	}
	t.Fatal("no SYN in the capture")
	return 0
}

// feed runs the capture's segments through a fresh Assembler.
func feed(t *testing.T, segs []capSeg) (*Assembler, *Stream, *recorder) {
	a := NewAssembler(Config{})
	r := &recorder{}
	s := a.NewStream(r)
	client := clientPort(t, segs)
	for _, g := range segs {
		d := parsers.ToClient
		if g.src == client {
			d = parsers.ToServer
		}
		s.Segment(d, g.seq, g.flags, g.payload, g.ts)
	}
	s.Close(segs[len(segs)-1].ts)
	return a, s, r
}

// unique counts the distinct sequence numbers covered by the payloads of one
// direction, relative to its first byte (ISN+1), and the highest one reached.
func unique(segs []capSeg, src uint16, payloadLen func(capSeg) int) (n, span int) {
	var isn uint32
	for _, g := range segs {
		if g.src == src && g.flags&decode.SYN != 0 {
			isn = g.seq + 1
		}
	}
	seen := map[uint32]bool{}
	for _, g := range segs {
		if g.src != src {
			continue
		}
		for i := range payloadLen(g) {
			off := g.seq + uint32(i) - isn
			seen[off] = true
			span = max(span, int(off)+1)
		}
	}
	return len(seen), span
}

func TestCaptureHTTPGet(t *testing.T) {
	var streams [][2][]byte
	for _, name := range []string{"http-get.pcap", "tcp-handshake-reorder.pcap"} {
		segs := readSegments(t, name)
		a, s, r := feed(t, segs)
		client := clientPort(t, segs)
		const server = 80
		req, resp := r.data[parsers.ToServer], r.data[parsers.ToClient]
		if !bytes.HasPrefix(req, []byte("GET /download/CHANGES.bro-aux.txt HTTP/1.1\r\n")) {
			t.Fatalf("%s: request %.60q", name, req)
		}
		if !bytes.HasPrefix(resp, []byte("HTTP/1.1 200 OK\r\n")) {
			t.Fatalf("%s: response %.60q", name, resp)
		}
		plen := func(g capSeg) int { return len(g.payload) }
		if n, _ := unique(segs, client, plen); n != len(req) {
			t.Fatalf("%s: request %d bytes, capture has %d", name, len(req), n)
		}
		if n, _ := unique(segs, server, plen); n != len(resp) {
			t.Fatalf("%s: response %d bytes, capture has %d", name, len(resp), n)
		}
		// The body is exactly Content-Length long.
		head, body, ok := bytes.Cut(resp, []byte("\r\n\r\n"))
		if !ok {
			t.Fatalf("%s: no end of header", name)
		}
		i := bytes.Index(head, []byte("Content-Length: "))
		if i < 0 {
			t.Fatalf("%s: no Content-Length", name)
		}
		cl, _, _ := bytes.Cut(head[i+16:], []byte("\r\n"))
		if n, err := strconv.Atoi(string(cl)); err != nil || n != len(body) {
			t.Fatalf("%s: Content-Length %s, body %d bytes", name, cl, len(body))
		}
		if !s.Stats(parsers.ToServer).FIN || !s.Stats(parsers.ToClient).FIN {
			t.Fatalf("%s: FIN not reached", name)
		}
		st := a.Stats()
		if st.Gaps != 0 || st.Conflicts != 0 || st.MidStream != 0 || r.ends != 1 {
			t.Fatalf("%s: stats %+v", name, st)
		}
		checkEmpty(t, a)
		streams = append(streams, r.data)
	}
	if !bytes.Equal(streams[0][0], streams[1][0]) || !bytes.Equal(streams[0][1], streams[1][1]) {
		t.Fatal("the reordered handshake gives different streams")
	}
}

// TestCaptureOverlap: Suricata's crafted overlap sends "GOOD" then "EVIL" at
// the same sequence number; its default policy keeps GOOD (the stream alert
// matches GOOD), and so does first-wins. The conflict must be seen.
func TestCaptureOverlap(t *testing.T) {
	segs := readSegments(t, "tcp-overlap.pcap")
	a, s, r := feed(t, segs)
	if got := string(r.data[parsers.ToServer]); got != "GOOD" {
		t.Fatalf("kept %q", got)
	}
	if len(r.data[parsers.ToClient]) != 0 {
		t.Fatalf("server sent %q", r.data[parsers.ToClient])
	}
	if s.Conflicts() != 1 || a.Stats().Conflicts != 1 || s.Stats(parsers.ToServer).RetransBytes != 4 {
		t.Fatalf("stream %+v, assembler %+v", s.Stats(parsers.ToServer), a.Stats())
	}
}

// TestCaptureRetransmit: the capture kept only the headers, so each segment's
// payload is rebuilt from the IP length with bytes derived from their sequence
// number; retransmissions thus repeat the same bytes. The sensor saw every
// segment before its retransmissions (the loss was downstream), so the repeats
// are all dropped as retransmitted and the streams have no hole.
func TestCaptureRetransmit(t *testing.T) {
	segs := readSegments(t, "tcp-retransmit-fast.pcap")
	pattern := func(seq uint32) byte { return byte(seq*131 + seq>>9) }
	for i := range segs {
		g := &segs[i]
		if len(g.payload) != 0 || g.wireLen < 0 {
			t.Fatalf("segment %d: expected a header-only capture", i)
		}
		g.payload = make([]byte, g.wireLen)
		for j := range g.payload {
			g.payload[j] = pattern(g.seq + uint32(j))
		}
	}
	a, s, r := feed(t, segs)
	client := clientPort(t, segs)
	wl := func(g capSeg) int { return g.wireLen }
	for d, src := range map[parsers.Dir]uint16{parsers.ToServer: client, parsers.ToClient: 80} {
		n, span := unique(segs, src, wl)
		got := r.data[d]
		st := s.Stats(d)
		if len(got) != n || int(st.GapBytes) != span-n {
			t.Fatalf("%v: delivered %d gaps %d, capture covers %d of %d", d, len(got), st.GapBytes, n, span)
		}
		if n == 0 {
			t.Fatalf("%v: nothing in the capture", d)
		}
	}
	// Content: no hole, so byte i of each stream is at ISN+1+i.
	for d, start := range map[parsers.Dir]uint32{parsers.ToServer: 414291386 + 1, parsers.ToClient: 4249385775 + 1} {
		for i, b := range r.data[d] {
			if b != pattern(start+uint32(i)) {
				t.Fatalf("%v: byte %d differs", d, i)
			}
		}
	}
	st := a.Stats()
	if st.RetransBytes == 0 || st.Gaps != 0 || st.Conflicts != 0 || st.Resets != 1 {
		t.Fatalf("stats %+v", st)
	}
	var fed uint64
	for _, g := range segs {
		fed += uint64(len(g.payload))
	}
	if st.Delivered+st.RetransBytes+st.OverlapBytes+st.DroppedBytes != fed {
		t.Fatalf("fed %d bytes, accounted %+v", fed, st)
	}
	checkEmpty(t, a)
}

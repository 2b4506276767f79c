package tls

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/packetsleuth/packetsleuth/parsers"
)

const pcapDir = "../../../shared/pcaps"

// endpoint is one side of a TCP connection, "ip:port".
type endpoint string

type tcpKey struct{ src, dst endpoint }

// halfStream is one direction of a connection in the naive test reassembler.
type halfStream struct {
	init    bool
	next    uint32
	pending map[uint32][]byte
}

type testConn struct {
	client, server endpoint
	parser         parsers.StreamParser
	dead           bool
	half           [2]halfStream
}

// result is a Handshake with the connection it came from.
type result struct {
	client, server endpoint
	h              *Handshake
}

// readPackets calls fn for every packet of a pcap or pcapng file, stopping
// quietly at the first read error (the corrupt captures end that way).
func readPackets(t testing.TB, path string, fn func(data []byte, lt layers.LinkType, ts time.Time)) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("shared capture not available (%v); skipping", err)
	}
	type src interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var s src
	var lt layers.LinkType
	if bytes.HasPrefix(raw, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		s, lt = r, r.LinkType()
	} else {
		r, err := pcapgo.NewReader(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		s, lt = r, r.LinkType()
	}
	for {
		data, ci, err := s.ReadPacketData()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Logf("%s: stop reading: %v", filepath.Base(path), err)
			}
			return
		}
		fn(data, lt, ci.Timestamp)
	}
}

// runCapture feeds every TCP connection of a capture to a Conn and returns the
// emitted Handshakes. The reassembler is naive: per direction by sequence
// number, dropping retransmitted bytes, SYN-less streams start at the first
// segment seen, holes are reported as Gaps at the end.
func runCapture(t testing.TB, path string, cfg Config) []result {
	var out []result
	walkTCP(t, path, func(client, server endpoint) parsers.StreamParser {
		return NewConn(cfg, func(h *Handshake) {
			out = append(out, result{client: client, server: server, h: h})
		})
	})
	return out
}

// walkTCP reassembles every TCP connection of a capture and feeds it to the
// StreamParser newParser returns for it.
func walkTCP(t testing.TB, path string, newParser func(client, server endpoint) parsers.StreamParser) {
	conns := map[tcpKey]*testConn{}
	var order []*testConn
	readPackets(t, path, func(data []byte, lt layers.LinkType, ts time.Time) {
		pkt := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		var srcIP, dstIP string
		if ip4, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			srcIP, dstIP = ip4.SrcIP.String(), ip4.DstIP.String()
		} else if ip6, ok := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
			srcIP, dstIP = ip6.SrcIP.String(), ip6.DstIP.String()
		} else {
			return
		}
		tcp, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok {
			return
		}
		src := endpoint(srcIP + ":" + itoa(int(tcp.SrcPort)))
		dst := endpoint(dstIP + ":" + itoa(int(tcp.DstPort)))
		c := conns[tcpKey{src, dst}]
		if c == nil {
			c = conns[tcpKey{dst, src}]
		}
		if c == nil {
			if len(tcp.Payload) == 0 && !tcp.SYN {
				return
			}
			client, server := src, dst
			if tcp.SYN && tcp.ACK {
				client, server = dst, src
			}
			c = &testConn{client: client, server: server}
			c.parser = newParser(client, server)
			conns[tcpKey{client, server}] = c
			order = append(order, c)
		}
		d := parsers.ToServer
		if src == c.server {
			d = parsers.ToClient
		}
		hs := &c.half[d]
		if tcp.SYN {
			hs.init, hs.next = true, tcp.Seq+1
			return
		}
		if len(tcp.Payload) == 0 {
			return
		}
		if !hs.init {
			hs.init, hs.next = true, tcp.Seq
		}
		if hs.pending == nil {
			hs.pending = map[uint32][]byte{}
		}
		if old, ok := hs.pending[tcp.Seq]; !ok || len(old) < len(tcp.Payload) {
			hs.pending[tcp.Seq] = append([]byte(nil), tcp.Payload...)
		}
		c.deliver(d, ts, false)
	})
	for _, c := range order {
		for d := range c.half {
			c.deliver(parsers.Dir(d), time.Time{}, true)
		}
		c.parser.End(time.Time{})
	}
}

// chunk is one Data call of a recorded connection.
type chunk struct {
	dir  parsers.Dir
	data []byte
}

// recorder is a StreamParser that keeps the calls it gets.
type recorder struct {
	client, server endpoint
	chunks         []chunk
	gaps           int
}

func (r *recorder) Data(d parsers.Dir, b []byte, _ time.Time) error {
	r.chunks = append(r.chunks, chunk{d, append([]byte(nil), b...)})
	return nil
}
func (r *recorder) Gap(parsers.Dir, int, time.Time) { r.gaps++ }
func (r *recorder) End(time.Time)                   {}

// transcripts returns the reassembled data of every TCP connection of a capture.
func transcripts(t testing.TB, path string) []*recorder {
	var rs []*recorder
	walkTCP(t, path, func(client, server endpoint) parsers.StreamParser {
		r := &recorder{client: client, server: server}
		rs = append(rs, r)
		return r
	})
	return rs
}

// deliver hands in-order bytes to the parser; with flush set it skips holes.
func (c *testConn) deliver(d parsers.Dir, ts time.Time, flush bool) {
	hs := &c.half[d]
	for len(hs.pending) > 0 {
		progressed := false
		for seq, p := range hs.pending {
			off := int32(hs.next - seq)
			if off < 0 {
				continue
			}
			delete(hs.pending, seq)
			progressed = true
			if int(off) >= len(p) {
				continue // retransmitted duplicate
			}
			p = p[off:]
			hs.next += uint32(len(p))
			if !c.dead {
				if err := c.parser.Data(d, p, ts); err != nil {
					c.dead = true
				}
			}
		}
		if progressed {
			continue
		}
		if !flush {
			return
		}
		// Skip to the lowest pending sequence number: a hole.
		var best uint32
		first := true
		for seq := range hs.pending {
			if first || int32(seq-best) < 0 {
				best, first = seq, false
			}
		}
		c.parser.Gap(d, int(best-hs.next), ts)
		hs.next = best
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// truthRows reads a tshark truth table as maps keyed by header name.
func truthRows(t testing.TB, capture string) []map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(pcapDir, "truth", capture+".tsv"))
	if err != nil {
		t.Skipf("truth table not available (%v); skipping", err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	header := strings.Split(lines[0], "\t")
	var rows []map[string]string
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		m := map[string]string{}
		for i, h := range header {
			if i < len(f) {
				m[h] = f[i]
			}
		}
		rows = append(rows, m)
	}
	return rows
}

type ja4Entry struct {
	Src     string `json:"src"`
	Dst     string `json:"dst"`
	SrcPort string `json:"srcport"`
	DstPort string `json:"dstport"`
	JA4     string `json:"JA4.1"`
	JA4R    string `json:"JA4_r.1"`
	JA42    string `json:"JA4.2"`
	JA4R2   string `json:"JA4_r.2"`
}

func ja4Baseline(t testing.TB, capture string) []ja4Entry {
	raw, err := os.ReadFile(filepath.Join(pcapDir, "baselines", "ja4", capture+".ja4.json"))
	if err != nil {
		return nil
	}
	var es []ja4Entry
	if err := json.Unmarshal(raw, &es); err != nil {
		t.Fatalf("%s ja4 baseline: %v", capture, err)
	}
	return es
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func hexVersions(vs []uint16) string {
	var parts []string
	for _, v := range vs {
		parts = append(parts, "0x"+string(appendHex4(nil, v)))
	}
	return strings.Join(parts, ",")
}

// tlsCaptures are the shared captures with TLS over TCP.
var tlsCaptures = []string{
	"tls-clienthello-only.pcap",
	"tls12-handshake-cert.pcap",
	"tls13-wolfssl.pcap",
	"tls13-hello-retry-request.pcap",
	"tls-sni.pcapng",
	"tls-handshakes-many.pcapng",
	"tls-browsers-x509.pcapng",
	"tls-ecdsa-cert.pcap",
	"tls13-cid-ipv4.pcap",
	"corrupt-tls-der-incomplete-content.pcap",
	"mixed-browsing.pcapng",
}

func TestCapturesAgainstTshark(t *testing.T) {
	for _, capture := range tlsCaptures {
		t.Run(capture, func(t *testing.T) {
			rows := truthRows(t, capture)
			res := runCapture(t, filepath.Join(pcapDir, capture), Config{})
			byConn := map[tcpKey][]*Handshake{}
			for _, r := range res {
				k := tcpKey{r.client, r.server}
				byConn[k] = append(byConn[k], r.h)
			}
			checked := 0
			for _, row := range rows {
				if row["tcp.srcport"] == "" || row["tls.handshake.type"] == "" {
					continue
				}
				src := endpoint(row["ip.src"] + row["ipv6.src"] + ":" + row["tcp.srcport"])
				dst := endpoint(row["ip.dst"] + row["ipv6.dst"] + ":" + row["tcp.dstport"])
				types := splitList(row["tls.handshake.type"])
				frame := row["frame.number"]
				if contains(types, "1") {
					hs := byConn[tcpKey{src, dst}]
					if len(hs) != 1 {
						t.Errorf("frame %s: %d handshakes for %s -> %s, want 1", frame, len(hs), src, dst)
						continue
					}
					h := hs[0]
					if !h.HasClientHello {
						t.Errorf("frame %s: no ClientHello (notes %q)", frame, h.Notes)
						continue
					}
					ch := &h.ClientHello
					if got, want := ch.ServerName, row["tls.handshake.extensions_server_name"]; got != want {
						t.Errorf("frame %s: SNI %q, want %q", frame, got, want)
					}
					if got, want := strings.Join(ch.ALPN, ","), row["tls.handshake.extensions_alpn_str"]; got != want {
						t.Errorf("frame %s: ALPN %q, want %q", frame, got, want)
					}
					if want := row["tls.handshake.ja3"]; want != h.JA3 && want != h.RetryJA3 {
						t.Errorf("frame %s: JA3 %s (retry %s), want %s; string %s", frame, h.JA3, h.RetryJA3, want, h.JA3String)
					}
					if want, ok := row["tls.handshake.extensions.supported_version"]; ok {
						if got := hexVersions(ch.SupportedVersions); got != want {
							t.Errorf("frame %s: client supported_versions %s, want %s", frame, got, want)
						}
					}
					checked++
				}
				if contains(types, "2") {
					hs := byConn[tcpKey{dst, src}]
					if len(hs) != 1 {
						t.Errorf("frame %s: %d handshakes for %s -> %s, want 1", frame, len(hs), dst, src)
						continue
					}
					h := hs[0]
					if !h.HasServerHello {
						t.Errorf("frame %s: no ServerHello (notes %q)", frame, h.Notes)
						continue
					}
					if want := row["tls.handshake.ja3s"]; want != h.JA3S && want != h.RetryJA3S {
						t.Errorf("frame %s: JA3S %s (HRR %s), want %s", frame, h.JA3S, h.RetryJA3S, want)
					}
					if want := row["tls.handshake.extensions.supported_version"]; want != "" {
						got := "0x" + string(appendHex4(nil, h.ServerHello.SupportedVersion))
						if got != want {
							t.Errorf("frame %s: selected version %s, want %s", frame, got, want)
						}
						if want == "0x0304" && h.Version != "1.3" {
							t.Errorf("frame %s: tls.version %q, want 1.3", frame, h.Version)
						}
					}
					checked++
				}
				if serials := splitList(row["x509af.serialNumber"]); len(serials) > 0 {
					hs := byConn[tcpKey{dst, src}]
					if len(hs) != 1 {
						t.Errorf("frame %s: %d handshakes for %s -> %s, want 1", frame, len(hs), dst, src)
						continue
					}
					h := hs[0]
					have := map[string]bool{}
					names := map[string]bool{}
					if o := h.OCSP; o != nil {
						have[strings.TrimLeft(strings.ToLower(o.SerialNumber), "0")] = true
						if o.Responder != nil {
							have[strings.TrimLeft(strings.ToLower(o.Responder.SerialNumber), "0")] = true
						}
					}
					for _, c := range h.Certificates {
						have[strings.TrimLeft(strings.ToLower(c.SerialNumber), "0")] = true
						for _, n := range c.DNSNames {
							names[n] = true
						}
					}
					for _, s := range serials {
						if !have[strings.TrimLeft(s, "0")] {
							t.Errorf("frame %s: serial %s not among the %d certificates", frame, s, len(h.Certificates))
						}
					}
					for _, n := range splitList(row["x509ce.dNSName"]) {
						if !names[n] {
							t.Errorf("frame %s: SAN %s missing", frame, n)
						}
					}
					if len(h.Certificates) > 0 && h.Certificates[0].SHA256 == "" {
						t.Errorf("frame %s: leaf without hash", frame)
					}
					checked++
				}
			}
			if checked == 0 {
				t.Fatalf("no TLS rows checked")
			}
			// JA4 baseline, TCP entries.
			nja4 := 0
			for _, e := range ja4Baseline(t, capture) {
				if !strings.HasPrefix(e.JA4, "t") {
					continue
				}
				k := tcpKey{endpoint(e.Src + ":" + e.SrcPort), endpoint(e.Dst + ":" + e.DstPort)}
				hs := byConn[k]
				if len(hs) != 1 {
					t.Errorf("ja4 %v: %d handshakes", k, len(hs))
					continue
				}
				h := hs[0]
				if h.JA4 != e.JA4 || h.JA4R != e.JA4R {
					t.Errorf("ja4 %v:\n got %s\n     %s\nwant %s\n     %s", k, h.JA4, h.JA4R, e.JA4, e.JA4R)
				}
				if h.RetryJA4 != e.JA42 || h.RetryJA4R != e.JA4R2 {
					t.Errorf("ja4 %v second ClientHello: got %q %q, want %q %q", k, h.RetryJA4, h.RetryJA4R, e.JA42, e.JA4R2)
				}
				nja4++
			}
			t.Logf("%d truth rows, %d JA4 entries checked, %d handshakes", checked, nja4, len(res))
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

package dns

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/ip6defrag"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

const pcapDir = "../../../shared/pcaps"

// truthCaptures lists the captures checked against tshark: every dns-*
// capture plus two with DNS among other traffic.
func truthCaptures(t testing.TB) []string {
	t.Helper()
	if _, err := os.Stat(pcapDir); err != nil {
		t.Skipf("shared captures not found at %s: %v", pcapDir, err)
	}
	files, err := filepath.Glob(filepath.Join(pcapDir, "dns-*.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"pcapng-multi-interface.pcapng", "mixed-browsing.pcapng"} {
		files = append(files, filepath.Join(pcapDir, f))
	}
	return files
}

// dnsPayload is one DNS message found in a capture.
type dnsPayload struct {
	frame int // 1-based frame number where the message became complete
	ts    time.Time
	tcp   bool
	flow  string // "src:port>dst:port"
	data  []byte
}

type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// tcpDir stitches one direction of a TCP connection: in-order bytes go to
// the StreamDecoder, retransmitted bytes are dropped, a hole resets it.
type tcpDir struct {
	dec     StreamDecoder
	next    uint32
	started bool
}

// capturePayloads reads every UDP and TCP port-53 payload of a capture,
// reassembling IPv4 and IPv6 fragments (with gopacket's defragmenters, as
// tshark does) and framing TCP through StreamDecoder.
func capturePayloads(t testing.TB, path string) []dnsPayload {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("capture missing: %v", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, err := br.Peek(4)
	if err != nil {
		t.Fatal(err)
	}
	var src packetSource
	var linkOf func(ci gopacket.CaptureInfo) layers.LinkType
	if string(magic) == "\x0a\x0d\x0d\x0a" {
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		src = r
		linkOf = func(ci gopacket.CaptureInfo) layers.LinkType {
			if intf, err := r.Interface(ci.InterfaceIndex); err == nil {
				return intf.LinkType
			}
			return r.LinkType()
		}
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		src = r
		linkOf = func(gopacket.CaptureInfo) layers.LinkType { return r.LinkType() }
	}

	d4 := ip4defrag.NewIPv4Defragmenter()
	d6 := ip6defrag.NewIPv6Defragmenter()
	streams := map[string]*tcpDir{}
	var out []dnsPayload
	for frame := 1; ; frame++ {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s frame %d: %v", path, frame, err)
		}
		var first gopacket.Decoder = linkOf(ci)
		switch linkOf(ci) {
		case layers.LinkTypeIPv4: // LINKTYPE_IPV4 (228): gopacket has no decoder registered
			first = layers.LayerTypeIPv4
		case layers.LinkTypeIPv6:
			first = layers.LayerTypeIPv6
		}
		pkt := gopacket.NewPacket(data, first, gopacket.Default)
		var (
			proto    layers.IPProtocol
			payload  []byte
			srcA, dA string
		)
		if ip4, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			whole, err := d4.DefragIPv4WithTimestamp(ip4, ci.Timestamp)
			if err != nil {
				t.Fatalf("frame %d: defrag: %v", frame, err)
			}
			if whole == nil {
				continue // a fragment held until the packet is complete
			}
			proto, payload, srcA, dA = whole.Protocol, whole.Payload, whole.SrcIP.String(), whole.DstIP.String()
		} else if ip6, ok := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
			proto, payload, srcA, dA = ip6.NextHeader, ip6.Payload, ip6.SrcIP.String(), ip6.DstIP.String()
			if fg, ok := pkt.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment); ok {
				whole := d6.DefragIPv6(ip6, fg)
				if whole == nil {
					continue
				}
				proto, payload = whole.NextHeader, whole.Payload
			}
		} else {
			continue
		}
		switch proto {
		case layers.IPProtocolUDP:
			var u layers.UDP
			if err := u.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
				continue
			}
			if u.SrcPort != 53 && u.DstPort != 53 {
				continue
			}
			out = append(out, dnsPayload{frame: frame, ts: ci.Timestamp,
				flow: fmt.Sprintf("%s:%d>%s:%d", srcA, u.SrcPort, dA, u.DstPort),
				data: append([]byte(nil), u.Payload...)})
		case layers.IPProtocolTCP:
			var tc layers.TCP
			if err := tc.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
				continue
			}
			if tc.SrcPort != 53 && tc.DstPort != 53 {
				continue
			}
			key := fmt.Sprintf("%s:%d>%s:%d", srcA, tc.SrcPort, dA, tc.DstPort)
			s := streams[key]
			if s == nil {
				s = &tcpDir{}
				streams[key] = s
			}
			seq := tc.Seq
			if tc.SYN {
				s.next, s.started = seq+1, true
				continue
			}
			body := tc.Payload
			if len(body) == 0 {
				continue
			}
			if !s.started {
				s.next, s.started = seq, true
			}
			if diff := int32(seq - s.next); diff < 0 { // retransmitted bytes
				if -int(diff) >= len(body) {
					continue
				}
				body = body[-diff:]
			} else if diff > 0 { // a hole: resynchronise at this segment
				s.dec.Reset()
			}
			s.next = seq + uint32(len(tc.Payload))
			_ = s.dec.Feed(body, func(msg []byte) error {
				out = append(out, dnsPayload{frame: frame, ts: ci.Timestamp, tcp: true, flow: key,
					data: append([]byte(nil), msg...)})
				return nil
			})
		}
	}
	return out
}

// truthTable reads truth/<capture>.tsv into rows keyed by header name.
func truthTable(t testing.TB, capture string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pcapDir, "truth", filepath.Base(capture)+".tsv"))
	if err != nil {
		t.Skipf("truth table missing: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	head := strings.Split(lines[0], "\t")
	var rows []map[string]string
	for _, l := range lines[1:] {
		cells := strings.Split(l, "\t")
		row := map[string]string{}
		for i, h := range head {
			if i < len(cells) {
				row[h] = cells[i]
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// tsharkFields renders parsed messages as tshark prints the truth columns:
// one value per message for header fields, every matching record of every
// section for the data fields, values joined by commas.
func tsharkFields(msgs []*Message) map[string]string {
	vals := map[string][]string{}
	add := func(k, v string) { vals[k] = append(vals[k], v) }
	for _, m := range msgs {
		add("dns.id", fmt.Sprintf("0x%04x", m.ID))
		add("dns.flags.response", b01(m.Response))
		if m.Response { // tshark shows the header rcode on responses only
			add("dns.flags.rcode", strconv.Itoa(int(m.RCode&0xF)))
		}
		add("dns.flags.truncated", b01(m.Truncated))
		for _, q := range m.Questions {
			name := q.Name
			if name == "." {
				name = "<Root>"
			}
			add("dns.qry.name", name)
			add("dns.qry.type", strconv.Itoa(int(q.Type)))
		}
		add("dns.count.answers", strconv.Itoa(int(m.ANCount)))
		for _, sec := range [][]RR{m.Answers, m.Authorities, m.Additionals} {
			for i := range sec {
				rr := &sec[i]
				switch rr.Type {
				case TypeA:
					add("dns.a", rr.Data)
				case TypeAAAA:
					add("dns.aaaa", rr.Data)
				case TypeCNAME:
					add("dns.cname", rr.Target)
				case TypeMX:
					add("dns.mx.mail_exchange", rr.Target)
				case TypeTXT:
					for _, s := range m.TXT(rr) {
						add("dns.txt", s)
					}
				case TypePTR:
					add("dns.ptr.domain_name", rr.Target)
				case TypeSOA:
					add("dns.soa.mname", rr.Target)
				}
			}
		}
	}
	out := map[string]string{}
	for k, v := range vals {
		out[k] = strings.Join(v, ",")
	}
	return out
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

var truthColumns = []string{
	"dns.id", "dns.flags.response", "dns.flags.rcode", "dns.flags.truncated",
	"dns.qry.name", "dns.qry.type", "dns.count.answers", "dns.a", "dns.aaaa",
	"dns.cname", "dns.mx.mail_exchange", "dns.txt", "dns.ptr.domain_name", "dns.soa.mname",
}

// TestCapturesAgainstTshark parses every port-53 DNS message of the shared
// captures and compares it, column by column, with tshark's truth table.
// Every truth row carrying a DNS ID must be matched by a message we decoded
// in the same frame, and every message we decoded must have a truth row.
func TestCapturesAgainstTshark(t *testing.T) {
	for _, capture := range truthCaptures(t) {
		t.Run(filepath.Base(capture), func(t *testing.T) {
			rows := truthTable(t, capture)
			byFrame := map[int][]*Message{}
			for _, p := range capturePayloads(t, capture) {
				m := new(Message)
				if err := Parse(p.data, m); err != nil {
					t.Errorf("frame %d (%s): %v", p.frame, p.flow, err)
					continue
				}
				byFrame[p.frame] = append(byFrame[p.frame], m)
			}
			checked := 0
			seen := map[int]bool{}
			for _, row := range rows {
				if row["dns.id"] == "" {
					continue // not a DNS row (HTTP, TLS, ICMP ...)
				}
				frame, _ := strconv.Atoi(row["frame.number"])
				seen[frame] = true
				msgs := byFrame[frame]
				if len(msgs) == 0 {
					t.Errorf("frame %d: tshark has DNS id %s, we decoded nothing", frame, row["dns.id"])
					continue
				}
				got := tsharkFields(msgs)
				for _, col := range truthColumns {
					want, ok := row[col]
					if !ok {
						if got[col] != "" {
							// A column dropped from the file is empty in every row.
							t.Errorf("frame %d %s: got %q, tshark column is empty", frame, col, got[col])
						}
						continue
					}
					if got[col] != want {
						t.Errorf("frame %d %s:\n got  %q\n want %q", frame, col, got[col], want)
					}
				}
				checked++
			}
			for frame := range byFrame {
				if !seen[frame] {
					t.Errorf("frame %d: we decoded DNS that tshark has no row for", frame)
				}
			}
			if checked == 0 {
				t.Fatal("no DNS rows checked")
			}
			t.Logf("%d DNS frames match tshark", checked)
		})
	}
}

func statDir() (os.FileInfo, error) { return os.Stat(pcapDir) }

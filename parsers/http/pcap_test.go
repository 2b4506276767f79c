package http

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/packetsleuth/packetsleuth/parsers"
)

const pcapDir = "../../../shared/pcaps"

// rec is a copy of what a test needs from an emitted transaction.
type rec struct {
	client, server netip.AddrPort
	tx             Transaction // strings are safe to keep; slices are copied
}

func keep(tx *Transaction) Transaction {
	c := *tx
	c.Notes = clone(tx.Notes)
	c.Request.Headers = clone(tx.Request.Headers)
	c.Response.Headers = clone(tx.Response.Headers)
	c.Request.Body = clone(tx.Request.Body)
	c.Response.Body = clone(tx.Response.Body)
	return c
}

// clone copies s; empty gives nil, so reused buffers compare equal.
func clone[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// ---- a deliberately naive TCP reassembler for tests ----

type dirState struct {
	started bool
	next    uint32
	ooo     map[uint32][]byte // out-of-order segments by sequence number
}

type tconn struct {
	client, server netip.AddrPort
	known          bool // client/server decided
	dirs           [2]dirState
	p              *Conn
	err            error
	last           time.Time
	first          netip.AddrPort // sender of the first packet seen (fallback)
}

type reassembler struct {
	conns map[[2]netip.AddrPort]*tconn
	order []*tconn
	out   []rec
	cfg   Config
	skips int // packets whose connection direction could not be decided
	// tap, if set, sees every in-order chunk (for fuzz seeds).
	tap func(c *tconn, d parsers.Dir, b []byte)
	// release: each Conn goes back to the Pool after End.
	release bool
}

func newReassembler(_ testing.TB, cfg Config) *reassembler {
	return &reassembler{conns: map[[2]netip.AddrPort]*tconn{}, cfg: cfg}
}

func flowKey(a, b netip.AddrPort) [2]netip.AddrPort {
	if a.Addr().Less(b.Addr()) || (a.Addr() == b.Addr() && a.Port() < b.Port()) {
		return [2]netip.AddrPort{a, b}
	}
	return [2]netip.AddrPort{b, a}
}

// packet takes one TCP segment; wireLen is its payload length on the wire,
// larger than len(tcp.Payload) when the capture's snap length cut it.
func (r *reassembler) packet(src, dst netip.AddrPort, tcp *layers.TCP, wireLen int, ts time.Time) {
	k := flowKey(src, dst)
	c := r.conns[k]
	if c == nil {
		c = &tconn{first: src}
		r.conns[k] = c
		r.order = append(r.order, c)
	}
	c.last = ts
	payload := tcp.Payload
	if !c.known {
		switch {
		case tcp.SYN && !tcp.ACK:
			c.client, c.server, c.known = src, dst, true
		case tcp.SYN && tcp.ACK:
			c.client, c.server, c.known = dst, src, true
		case len(payload) > 0:
			isReq, v := Sniff(payload)
			if v != parsers.Yes {
				r.skips++
				return
			}
			if isReq {
				c.client, c.server = src, dst
			} else {
				c.client, c.server = dst, src
			}
			c.known = true
		default:
			return
		}
		client, server := c.client, c.server
		c.p = NewConn(r.cfg, func(tx *Transaction) {
			r.out = append(r.out, rec{client: client, server: server, tx: keep(tx)})
		})
	}
	d := parsers.ToServer
	if src != c.client {
		d = parsers.ToClient
	}
	ds := &c.dirs[d]
	seq := tcp.Seq
	if tcp.SYN {
		ds.started, ds.next = true, seq+1
		return
	}
	if wireLen < len(payload) {
		wireLen = len(payload)
	}
	if wireLen == 0 {
		return
	}
	if !ds.started {
		ds.started, ds.next = true, seq
	}
	diff := int32(seq - ds.next)
	if diff > 0 {
		if ds.ooo == nil {
			ds.ooo = map[uint32][]byte{}
		}
		if old, ok := ds.ooo[seq]; !ok || len(old) < len(payload) {
			ds.ooo[seq] = bytes.Clone(payload)
		}
		return
	}
	if -diff >= int32(wireLen) {
		return // retransmission of data already delivered
	}
	if -diff < int32(len(payload)) {
		r.deliver(c, d, payload[-diff:], ts)
	}
	if cut := seq + uint32(wireLen) - ds.next; int32(cut) > 0 {
		// bytes on the wire that the capture did not keep
		ds.next += cut
		if c.err == nil {
			c.p.Gap(d, int(cut), ts)
		}
	}
	r.drain(c, d, ts)
}

func (r *reassembler) deliver(c *tconn, d parsers.Dir, b []byte, ts time.Time) {
	ds := &c.dirs[d]
	ds.next += uint32(len(b))
	if r.tap != nil {
		r.tap(c, d, b)
	}
	if c.err == nil {
		c.err = c.p.Data(d, b, ts)
	}
}

// drain delivers buffered segments that became in order.
func (r *reassembler) drain(c *tconn, d parsers.Dir, ts time.Time) {
	ds := &c.dirs[d]
	for progress := true; progress; {
		progress = false
		for seq, b := range ds.ooo {
			diff := int32(seq - ds.next)
			if diff > 0 {
				continue
			}
			delete(ds.ooo, seq)
			if -diff < int32(len(b)) {
				r.deliver(c, d, b[-diff:], ts)
			}
			progress = true
			break
		}
	}
}

// finish reports what is still missing as gaps and ends every connection.
func (r *reassembler) finish() {
	for _, c := range r.order {
		if c.p == nil {
			continue
		}
		for d := range c.dirs {
			ds := &c.dirs[d]
			for len(ds.ooo) > 0 && c.err == nil {
				seqs := make([]uint32, 0, len(ds.ooo))
				for s := range ds.ooo {
					seqs = append(seqs, s)
				}
				slices.SortFunc(seqs, func(a, b uint32) int { return int(int32(a - b)) })
				gap := int(int32(seqs[0] - ds.next))
				c.p.Gap(parsers.Dir(d), gap, c.last)
				ds.next += uint32(gap)
				r.drain(c, parsers.Dir(d), c.last)
			}
		}
		c.p.End(c.last)
		if r.release {
			c.p.Release()
		}
	}
}

// readPcap feeds every TCP packet of a capture (pcap or pcapng) to r. It
// decodes with gopacket and keys flows on the innermost IP header.
func readPcap(t testing.TB, path string, r *reassembler) {
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("shared capture missing (%v); run with the shared test data", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, _ := br.Peek(4)
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var src source
	var lt layers.LinkType
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		src, lt = ng, ng.LinkType()
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		src, lt = pr, pr.LinkType()
	}
	for {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		pkt := gopacket.NewPacket(data, lt, gopacket.NoCopy)
		var srcIP, dstIP netip.Addr
		var tcp *layers.TCP
		ipPayload := -1 // IP payload length from the IP header
		for _, l := range pkt.Layers() {
			switch l := l.(type) {
			case *layers.IPv4:
				srcIP, _ = netip.AddrFromSlice(l.SrcIP)
				dstIP, _ = netip.AddrFromSlice(l.DstIP)
				ipPayload = int(l.Length) - int(l.IHL)*4
			case *layers.IPv6:
				srcIP, _ = netip.AddrFromSlice(l.SrcIP)
				dstIP, _ = netip.AddrFromSlice(l.DstIP)
				ipPayload = int(l.Length) // no extension headers in these captures
			case *layers.TCP:
				tcp = l
			}
		}
		if tcp == nil || !srcIP.IsValid() {
			continue
		}
		wireLen := len(tcp.Payload)
		if ci.CaptureLength < ci.Length && ipPayload > 0 {
			wireLen = ipPayload - int(tcp.DataOffset)*4
		}
		r.packet(netip.AddrPortFrom(srcIP.Unmap(), uint16(tcp.SrcPort)),
			netip.AddrPortFrom(dstIP.Unmap(), uint16(tcp.DstPort)), tcp, wireLen, ci.Timestamp)
	}
	r.finish()
}

// ---- truth tables ----

type truthRow map[string]string

func readTruth(t *testing.T, name string) []truthRow {
	b, err := os.ReadFile(filepath.Join(pcapDir, "truth", name+".tsv"))
	if err != nil {
		t.Skipf("truth table missing (%v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	head := strings.Split(lines[0], "\t")
	var rows []truthRow
	for _, l := range lines[1:] {
		row := truthRow{}
		for i, v := range strings.Split(l, "\t") {
			if i < len(head) {
				row[head[i]] = v
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// lastOf returns the innermost value of a multi-valued tshark field.
func lastOf(v string) string {
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		return v[i+1:]
	}
	return v
}

func TestPcapTruth(t *testing.T) {
	captures := []string{
		"http-get.pcap", "http-post-urlencoded.pcap", "http-100-continue-post.pcap",
		"http-chunked-keepalive-loopback.pcap", "http-pipelined-keepalive.pcap",
		"http-ipv6.pcap", "http-vlan.pcap", "http-sll.pcap", "http-sll2.pcap",
		"http1-browsing.pcap", "http1-loopback-cookies.pcapng",
		"http-te-chunked-evasion.pcap", "gre-erspan-vxlan.pcap",
		"tcp-handshake-reorder.pcap", "cid-tcp.pcap",
	}
	for _, name := range captures {
		t.Run(name, func(t *testing.T) {
			r := newReassembler(t, Config{})
			readPcap(t, filepath.Join(pcapDir, name), r)
			rows := readTruth(t, name)
			checkTruth(t, rows, r.out)
		})
	}
}

func checkTruth(t *testing.T, rows []truthRow, out []rec) {
	t.Helper()
	usedReq := make([]bool, len(out))
	usedResp := make([]bool, len(out))
	nReq, nResp := 0, 0
	for _, row := range rows {
		sport, _ := strconv.Atoi(row["tcp.srcport"])
		dport, _ := strconv.Atoi(row["tcp.dstport"])
		if m := row["http.request.method"]; m != "" {
			nReq++
			// tshark splits the request line at the first space; compare
			// the whole "URI SP HTTP/version" instead.
			wantLine := row["http.request.uri"] + " " + row["http.request.version"]
			found := false
			for i, o := range out {
				q := &o.tx.Request
				if usedReq[i] || o.tx.RequestMissing || int(o.client.Port()) != sport || int(o.server.Port()) != dport {
					continue
				}
				line := q.URI + " HTTP/" + q.Version
				if o.tx.RequestTruncated && q.Version == "" {
					// a request line cut short: tshark shows what was there
					line = q.URI + " " + row["http.request.version"]
				}
				if q.Method == m && q.Host == row["http.host"] && line == wantLine &&
					q.UserAgent == row["http.user_agent"] &&
					(row["http.content_length_header"] == "" || strconv.FormatInt(q.ContentLength, 10) == row["http.content_length_header"]) {
					usedReq[i], found = true, true
					break
				}
			}
			if !found {
				t.Errorf("frame %s: no transaction for request %s %s host=%q ua=%q", row["frame.number"], m, wantLine, row["http.host"], row["http.user_agent"])
			}
			continue
		}
		code := lastOf(row["http.response.code"])
		if code == "" {
			continue
		}
		c, _ := strconv.Atoi(code)
		found := false
		if c >= 100 && c < 200 && c != 101 {
			for _, o := range out {
				if o.tx.Continue100 && int(o.server.Port()) == sport && int(o.client.Port()) == dport {
					found = true
				}
			}
			if !found {
				t.Errorf("frame %s: interim %d not recorded", row["frame.number"], c)
			}
			continue
		}
		nResp++
		for i, o := range out {
			s := &o.tx.Response
			if usedResp[i] || o.tx.ResponseMissing || int(o.server.Port()) != sport || int(o.client.Port()) != dport {
				continue
			}
			wantCL := row["http.content_length_header"]
			gotCL := ""
			if s.ContentLength >= 0 {
				gotCL = strconv.FormatInt(s.ContentLength, 10)
			}
			if s.StatusCode == c && s.ContentType == row["http.content_type"] && gotCL == wantCL {
				usedResp[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("frame %s: no transaction for response %d %q cl=%q", row["frame.number"], c, row["http.content_type"], row["http.content_length_header"])
		}
	}
	gotReq, gotResp := 0, 0
	for _, o := range out {
		if !o.tx.RequestMissing {
			gotReq++
		}
		if !o.tx.ResponseMissing {
			gotResp++
		}
	}
	if gotReq != nReq || gotResp != nResp {
		t.Errorf("requests: got %d want %d; responses: got %d want %d", gotReq, nReq, gotResp, nResp)
		for _, o := range out {
			t.Logf("  %v->%v %s %s %d notes=%v", o.client, o.server, o.tx.Request.Method, o.tx.Request.URI, o.tx.Response.StatusCode, o.tx.Notes)
		}
	}
}

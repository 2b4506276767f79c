package pcapgen

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/netip"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	ptls "github.com/packetsleuth/packetsleuth/parsers/tls"
)

func payloads(t *testing.T, pkts []Packet) [][]byte {
	var out [][]byte
	for _, p := range pkts {
		pk := gopacket.NewPacket(p.Bytes(), layers.LayerTypeIPv4, gopacket.Default)
		if tcp, ok := pk.TransportLayer().(*layers.TCP); ok && len(tcp.Payload) > 0 {
			out = append(out, tcp.Payload)
		}
	}
	return out
}

func TestClientHelloParses(t *testing.T) {
	rec := ClientHello("secure.example.com")
	if rec[0] != 22 || int(rec[3])<<8|int(rec[4]) != len(rec)-5 || rec[5] != 1 {
		t.Fatalf("not one handshake record: % x", rec[:6])
	}
	var h ptls.ClientHello
	if err := ptls.ParseClientHello(rec[9:], &h); err != nil {
		t.Fatal(err)
	}
	if h.ServerName != "secure.example.com" || len(h.CipherSuites) != 4 || !slices.Contains(h.ALPN, "h2") {
		t.Errorf("%+v", h)
	}
	if !bytes.Equal(rec, ClientHello("secure.example.com")) {
		t.Error("bytes differ between calls")
	}
}

// Awkward: the CONNECT and the first tunnelled bytes share a segment, and
// so do the 200 and the server's first bytes.
func TestConnectTunnelSplits(t *testing.T) {
	cl, px := netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:3128")
	inner, resp := []byte("INNER"), []byte("REPLY")
	for _, awkward := range []bool{false, true} {
		segs := payloads(t, ConnectTunnel(cl, px, Epoch, "h:443", inner, resp, awkward))
		want := 4
		if awkward {
			want = 2
		}
		if len(segs) != want || !bytes.HasPrefix(segs[0], []byte("CONNECT h:443 HTTP/1.1\r\n")) {
			t.Fatalf("awkward=%v: %q", awkward, segs)
		}
		last := segs[len(segs)-1]
		if awkward != bytes.HasSuffix(segs[0], inner) || !bytes.HasSuffix(last, resp) ||
			awkward != bytes.HasPrefix(last, []byte("HTTP/1.1 200 ")) {
			t.Errorf("awkward=%v: %q", awkward, segs)
		}
	}
}

// Every body is open when the second halves start, and the halves make a
// valid gzip body.
func TestConcurrentGzip(t *testing.T) {
	body := GzipBody(10000)
	segs := payloads(t, ConcurrentGzip(50, netip.MustParseAddrPort("10.0.0.2:80"), Epoch, body))
	if len(segs) != 150 {
		t.Fatalf("%d payload segments, want 150", len(segs))
	}
	for i := range 50 {
		head := segs[2*i+1]
		k := bytes.Index(head, []byte("\r\n\r\n")) + 4
		full := append(append([]byte(nil), head[k:]...), segs[100+i]...)
		zr, err := gzip.NewReader(bytes.NewReader(full))
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, zr)
		if err != nil || n != 10000 {
			t.Fatalf("connection %d: %d bytes, %v", i, n, err)
		}
	}
}

package pipeline

import (
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// writePackets writes generated packets to a capture file.
func writePackets(t *testing.T, pkts []pcapgen.Packet) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gen.pcap")
	c := pcapgen.Capture{Link: layers.LinkTypeEthernet, Frames: pcapgen.Frames(pkts, pcapgen.Ethernet)}
	if err := pcapgen.Write(path, c); err != nil {
		t.Fatal(err)
	}
	return path
}

// replayPackets writes generated packets to a capture and replays it.
func replayPackets(t *testing.T, cfg Config, pkts []pcapgen.Packet) *collector {
	t.Helper()
	out, _ := replay(t, cfg, writePackets(t, pkts))
	return out
}

var (
	tunClient = netip.MustParseAddrPort("10.3.0.10:51000")
	tunProxy  = netip.MustParseAddrPort("10.3.0.1:3128")
)

// A ClientHello inside a CONNECT tunnel gives the TLS event a direct
// connection gives, plus the tunnel's target, however the CONNECT exchange
// and the first tunnelled bytes share segments.
func TestConnectTunnelCarriesTLS(t *testing.T) {
	hello := pcapgen.ClientHello("secure.example.com")
	direct := replayPackets(t, Config{}, pcapgen.NewTCPConn(tunClient, netip.MustParseAddrPort("192.0.2.7:443"), pcapgen.Epoch).
		Handshake().Data(true, hello, 1460).Close().Packets).dataset("packetsleuth.tls")
	if len(direct) != 1 || str(direct[0], "tls.client.server_name") != "secure.example.com" {
		t.Fatalf("direct handshake: %v", direct)
	}
	for _, k := range []struct {
		awkward bool
		inner   []byte
	}{{false, hello}, {true, hello}, {true, append([]byte("\r\n"), hello...)}} { // a stray line end after the CONNECT
		awkward := k.awkward
		out := replayPackets(t, Config{}, pcapgen.ConnectTunnel(tunClient, tunProxy, pcapgen.Epoch, "secure.example.com:443", k.inner, nil, awkward))
		tls := out.dataset("packetsleuth.tls")
		if len(tls) != 1 {
			t.Fatalf("awkward=%v: %d TLS events", awkward, len(tls))
		}
		ev := tls[0]
		for _, f := range []string{"tls.client.server_name", "tls.client.ja3", "packetsleuth.tls.ja4"} {
			if str(ev, f) == "" || str(ev, f) != str(direct[0], f) {
				t.Errorf("awkward=%v: %s %q, direct %q", awkward, f, str(ev, f), str(direct[0], f))
			}
		}
		if got := str(ev, "packetsleuth.http.tunnel_target"); got != "secure.example.com:443" {
			t.Errorf("awkward=%v: tunnel_target %q", awkward, got)
		}
		if str(direct[0], "packetsleuth.http.tunnel_target") != "" {
			t.Error("a direct handshake names a tunnel")
		}
		connect := out.dataset("packetsleuth.http")
		if len(connect) != 1 || str(connect[0], "http.request.method") != "CONNECT" || field(connect[0], "packetsleuth.http.tunnel") != true {
			t.Errorf("awkward=%v: CONNECT event %v", awkward, connect)
		}
	}
}

// Plain HTTP through a tunnel is parsed as HTTP, its URL on the target's
// port.
func TestConnectTunnelCarriesHTTP(t *testing.T) {
	for _, awkward := range []bool{false, true} {
		out := replayPackets(t, Config{}, pcapgen.ConnectTunnel(tunClient, tunProxy, pcapgen.Epoch, "www.example.com:8080",
			pcapgen.HTTPRequest, pcapgen.HTTPResponse, awkward))
		var inner []map[string]any
		for _, ev := range out.dataset("packetsleuth.http") {
			if str(ev, "http.request.method") == "GET" {
				inner = append(inner, ev)
			}
		}
		if len(inner) != 1 {
			t.Fatalf("awkward=%v: %d tunnelled GETs in %v", awkward, len(inner), out.dataset("packetsleuth.http"))
		}
		ev := inner[0]
		if str(ev, "packetsleuth.http.tunnel_target") != "www.example.com:8080" || num(ev, "http.response.status_code") != 200 ||
			str(ev, "url.domain") != "www.example.com" || num(ev, "url.port") != 8080 || str(ev, "url.path") != "/index.html" {
			t.Errorf("awkward=%v: %v %v %v", awkward, field(ev, "url"), field(ev, "http"), field(ev, "packetsleuth"))
		}
	}
}

// A 101 to websocket or h2c is noted as not inspected; a 101 to TLS
// (RFC 2817) goes on as TLS.
func TestUpgradeInspectedOrNoted(t *testing.T) {
	hello := pcapgen.ClientHello("upgraded.example.com")
	for _, k := range []struct {
		proto string
		tls   bool
	}{{"websocket", false}, {"h2c", false}, {"TLS/1.2, HTTP/1.1", true}} {
		req := []byte("GET /chat HTTP/1.1\r\nHost: ws.example.com\r\nConnection: Upgrade\r\nUpgrade: " + k.proto + "\r\n\r\n")
		resp := []byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + k.proto + "\r\n\r\n")
		c := pcapgen.NewTCPConn(tunClient, netip.MustParseAddrPort("192.0.2.8:80"), pcapgen.Epoch).Handshake().
			Data(true, req, 1460).Data(false, resp, 1460)
		if k.tls {
			c.Data(true, hello, 1460)
		} else {
			c.Data(true, []byte{0x81, 0x85, 1, 2, 3, 4, 'h', 'e', 'l', 'l', 'o'}, 1460)
		}
		out := replayPackets(t, Config{}, c.Close().Packets)
		http := out.dataset("packetsleuth.http")
		if len(http) != 1 {
			t.Fatalf("%s: %d HTTP events", k.proto, len(http))
		}
		notes, _ := field(http[0], "packetsleuth.notes").([]any)
		noted := slices.Contains(notes, any("upgraded protocol not inspected"))
		tls := out.dataset("packetsleuth.tls")
		if noted == k.tls || (len(tls) == 1) != k.tls {
			t.Errorf("%s: notes %v, %d TLS events", k.proto, notes, len(tls))
		}
		if k.tls && str(tls[0], "tls.client.server_name") != "upgraded.example.com" {
			t.Errorf("%s: %v", k.proto, field(tls[0], "tls"))
		}
	}
}

// The shared captures of proxy tunnels: the handshake inside each tunnel
// carries its target.
func TestSharedConnectCapturesNameTheirTarget(t *testing.T) {
	needShared(t)
	out, _ := replay(t, Config{}, filepath.Join(sharedPcaps, "http-connect-tls-ipv6.pcap"))
	tls := out.dataset("packetsleuth.tls")
	if len(tls) != 1 || str(tls[0], "tls.client.server_name") != "secure.newegg.com" ||
		str(tls[0], "packetsleuth.http.tunnel_target") != "secure.newegg.com:443" || str(tls[0], "tls.server.ja3s") == "" {
		t.Errorf("http-connect-tls-ipv6.pcap: %v", tls)
	}
}

// Tunnels nest (CONNECT through a tunnel) up to a bound: the CONNECT past
// it is noted and what it carries is not inspected.
func TestNestedTunnelsBounded(t *testing.T) {
	for _, depth := range []int{4, 5} {
		c := pcapgen.NewTCPConn(tunClient, tunProxy, pcapgen.Epoch).Handshake()
		for i := range depth {
			c.Data(true, []byte("CONNECT hop"+strconv.Itoa(i)+".example:443 HTTP/1.1\r\n\r\n"), 1460).
				Data(false, []byte("HTTP/1.1 200 OK\r\n\r\n"), 1460)
		}
		out := replayPackets(t, Config{}, c.Data(true, pcapgen.ClientHello("inner.example"), 1460).Close().Packets)
		http, tls := out.dataset("packetsleuth.http"), out.dataset("packetsleuth.tls")
		if len(http) != depth {
			t.Fatalf("depth %d: %d CONNECT events", depth, len(http))
		}
		last := http[depth-1]
		notes, _ := field(last, "packetsleuth.notes").([]any)
		tooDeep := slices.Contains(notes, any("tunnel nested too deep: not inspected"))
		if tooDeep != (depth > 4) || (len(tls) == 1) == tooDeep {
			t.Errorf("depth %d: last CONNECT notes %v, %d TLS events", depth, notes, len(tls))
		}
		if len(tls) == 1 && str(tls[0], "packetsleuth.http.tunnel_target") != "hop3.example:443" {
			t.Errorf("depth %d: innermost target %q", depth, str(tls[0], "packetsleuth.http.tunnel_target"))
		}
		if str(last, "packetsleuth.http.tunnel_target") != "hop"+strconv.Itoa(depth-2)+".example:443" {
			t.Errorf("depth %d: the last CONNECT travels in %q", depth, str(last, "packetsleuth.http.tunnel_target"))
		}
	}
}

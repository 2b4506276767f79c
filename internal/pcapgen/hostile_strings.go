package pcapgen

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// HostileStrings are the payloads HostileStringsCapture carries in the
// fields a sensor shows to people: markup and script (for the web UI and
// the HTML report), spreadsheet formulas (CSV exports), and terminal
// escape sequences, CR/LF and NUL (terminal output, syslog). Each marks
// itself with "PSX" and a number, so a test can find where it lands. A
// payload that ran in a browser would set window.__psxPwned.
var HostileStrings = []string{
	`<script>window.__psxPwned=1</script>PSX1`,
	`"><img src=x onerror="window.__psxPwned=2">PSX2`,
	`<svg/onload=window.__psxPwned=3>PSX3`,
	`=HYPERLINK("http://x","PSX4")`,
	`+cmd|' /C calc'!A0 PSX5`,
	"\x1b]0;PSX6\x07\x1b[2J",
	"PSX7\u202etxt.exe\u2028\u2029",
	`javascript:window.__psxPwned=8//PSX8`,
}

// hostileName makes a DNS name (or SNI) from s: its bytes as they are, cut
// into labels of at most 63.
func hostileName(s string) []byte {
	var b []byte
	for s != "" {
		n := min(len(s), 63)
		b = append(b, byte(n))
		b = append(b, s[:n]...)
		s = s[n:]
	}
	return append(b, 0)
}

// HostileStringsCapture is one HTTP request, one DNS query and one TLS
// ClientHello per payload: in the request target, Host and User-Agent
// (CR and LF stay out: they would end the header), in the query name and
// in the server name, each on its own flow.
func HostileStringsCapture() Capture {
	var pkts []Packet
	t := Epoch
	for i, p := range HostileStrings {
		header := strings.NewReplacer("\r", "", "\n", "").Replace(p)
		target := "/" + strings.NewReplacer(" ", "%20", "\x1b", "%1b", "\x07", "%07").Replace(header)
		req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n\r\n", target, header, header)
		cliAddr := netip.AddrPortFrom(netip.MustParseAddr("10.66.0.10"), uint16(41000+i))
		pkts = append(pkts, NewTCPConn(cliAddr, netip.MustParseAddrPort("192.0.2.66:80"), t).Handshake().
			Data(true, []byte(req), 1460).Data(false, HTTPResponse, 1460).Close().Packets...)

		q := append([]byte{0x70, byte(i), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}, hostileName(p)...)
		q = append(q, 0, 1, 0, 1)
		resp := append([]byte{0x70, byte(i), 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0}, q[12:]...) // NXDOMAIN
		pkts = append(pkts, UDPExchange(netip.AddrPortFrom(netip.MustParseAddr("10.66.0.10"), uint16(52000+i)),
			netip.MustParseAddrPort("10.66.0.53:53"), t.Add(10*time.Millisecond), q, resp)...)

		pkts = append(pkts, NewTCPConn(netip.AddrPortFrom(netip.MustParseAddr("10.66.0.10"), uint16(43000+i)),
			netip.MustParseAddrPort("192.0.2.67:443"), t.Add(20*time.Millisecond)).Handshake().
			Data(true, ClientHello(header), 1460).Close().Packets...)
		t = t.Add(time.Second)
	}
	return Capture{Name: "hostile-strings.pcap", Link: layers.LinkTypeEthernet, Frames: Frames(pkts, Ethernet),
		Describe: "markup, formulas, escape sequences and NUL-free control bytes in HTTP, DNS and TLS fields"}
}

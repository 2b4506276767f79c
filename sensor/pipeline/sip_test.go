package pipeline

import (
	"net/netip"
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// Every SIP column tshark fills on the shared captures (UDP and TCP)
// agrees with the sensor's packetsleuth.sip event of that message (one
// event per message; rows and events are paired in time order, as each
// frame holds one message): method, status code, From and To addresses,
// Call-ID and User-Agent.
func TestSIPAgreesWithTshark(t *testing.T) {
	total, _ := messageRows(t, "sip", "packetsleuth.sip", nil, func(capture string, row map[string]string, ev map[string]any) (int, int) {
		status := ""
		if n := num(ev, "packetsleuth.sip.status_code"); n != 0 {
			status = strconv.FormatInt(n, 10)
		}
		return cells(t, capture, row, map[string]string{
			"sip.Method":      str(ev, "packetsleuth.sip.method"),
			"sip.Status-Code": status,
			"sip.from.addr":   str(ev, "packetsleuth.sip.from"),
			"sip.to.addr":     str(ev, "packetsleuth.sip.to"),
			"sip.Call-ID":     str(ev, "packetsleuth.sip.call_id"),
			"sip.User-Agent":  str(ev, "user_agent.original"),
		})
	})
	if total < 300 {
		t.Errorf("only %d cells compared", total)
	}
}

// SIP on a port that is not 5060, over UDP and over TCP cut in every
// hostile way, gives its messages by content; compact header forms are
// read.
func TestGeneratedSIPAnyPort(t *testing.T) {
	req := []byte("OPTIONS sip:100@10.4.0.5 SIP/2.0\r\nv: SIP/2.0/UDP 203.0.113.5:5070;branch=z9hG4bK-1\r\nf: \"sipvicious\"<sip:100@1.1.1.1>;tag=6331\r\n" +
		"t: <sip:100@10.4.0.5>\r\ni: 1234@203.0.113.5\r\nCSeq: 1 OPTIONS\r\nUser-Agent: friendly-scanner\r\nl: 0\r\n\r\n")
	resp := []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 203.0.113.5:5070;branch=z9hG4bK-1\r\nFrom: <sip:100@1.1.1.1>;tag=6331\r\n" +
		"To: <sip:100@10.4.0.5>;tag=99\r\nCall-ID: 1234@203.0.113.5\r\nCSeq: 1 OPTIONS\r\nServer: Asterisk PBX 18\r\nContent-Length: 0\r\n\r\n")
	client, server := netip.MustParseAddrPort("203.0.113.5:5070"), netip.MustParseAddrPort("10.4.0.5:15060")
	udp := pcapgen.UDPExchange(client, server, pcapgen.Epoch, req, resp)
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, "sip-udp.pcap", layers.LinkTypeEthernet, pcapgen.Frames(udp, pcapgen.Ethernet)))
	evs := out.dataset("packetsleuth.sip")
	if len(evs) != 2 {
		t.Fatalf("%d SIP events over UDP", len(evs))
	}
	for name, want := range map[string]string{
		"packetsleuth.sip.method": "OPTIONS", "packetsleuth.sip.from": "sip:100@1.1.1.1", "user_agent.original": "friendly-scanner",
		"packetsleuth.sip.call_id": "1234@203.0.113.5", "url.original": "sip:100@10.4.0.5", "packetsleuth.sip.cseq_method": "OPTIONS",
	} {
		if got := str(evs[0], name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if s := str(evs[1], "packetsleuth.sip.server"); s != "Asterisk PBX 18" || num(evs[1], "packetsleuth.sip.status_code") != 200 {
		t.Errorf("response: %v", evs[1]["packetsleuth"])
	}
	tcp := pcapgen.NewTCPConn(client, server, pcapgen.Epoch).Handshake().Data(true, append(req, "\r\n"...), 1460).Data(false, resp, 1460).Close().Packets
	checkResegmented(t, "sip-tcp.pcap", layers.LinkTypeEthernet, pcapgen.Frames(tcp, pcapgen.Ethernet), "packetsleuth.sip")
}

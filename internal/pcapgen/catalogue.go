package pcapgen

import (
	"compress/gzip"
	"io"
	"net/netip"
	"os"
	"sort"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Capture is one generated capture file.
type Capture struct {
	Name     string // file name, e.g. "http-ethernet.pcap"
	Link     layers.LinkType
	Frames   []Frame
	Second   *Capture // pcapng only: a second interface's frames, interleaved by time
	Gzip     bool
	PcapNG   bool
	Describe string
}

var (
	cli  = netip.MustParseAddrPort("10.1.0.10:49152")
	srv  = netip.MustParseAddrPort("192.0.2.80:80")
	cli6 = netip.MustParseAddrPort("[2001:db8::10]:49153")
	srv6 = netip.MustParseAddrPort("[2001:db8::80]:8080")
	dnsC = netip.MustParseAddrPort("10.1.0.10:53000")
	dnsS = netip.MustParseAddrPort("10.1.0.53:53")
)

// DNSQuery and DNSResponse are a real A query/answer for www.example.com.
var (
	DNSQuery = []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}
	DNSResponse = append(append([]byte{0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0},
		DNSQuery[12:]...), 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34)
)

// Catalogue lists the captures under testdata/pcaps: each decoder path and
// each connection state once.
func Catalogue() []Capture {
	http := HTTPSession(cli, srv, Epoch)
	var states []Packet
	t := Epoch
	states = append(states, NewTCPConn(netip.MustParseAddrPort("10.1.0.11:40001"), srv, t).Send(true, fSYN, nil).Packets...) // S0
	states = append(states, NewTCPConn(netip.MustParseAddrPort("10.1.0.11:40002"), netip.MustParseAddrPort("192.0.2.80:81"), t.Add(10*time.Millisecond)).
		Send(true, fSYN, nil).Send(false, fRST|fACK, nil).Packets...) // REJ
	states = append(states, NewTCPConn(netip.MustParseAddrPort("10.1.0.11:40003"), srv, t.Add(20*time.Millisecond)).
		Handshake().Data(true, HTTPRequest, 1460).Send(true, fRST, nil).Packets...) // RSTO
	states = append(states, NewTCPConn(netip.MustParseAddrPort("10.1.0.11:40004"), srv, t.Add(40*time.Millisecond)).
		Data(true, []byte("midstream bytes"), 1460).Packets...) // OTH
	states = append(states, NewTCPConn(netip.MustParseAddrPort("10.1.0.11:40005"), srv, t.Add(50*time.Millisecond)).
		Handshake().Data(true, HTTPRequest, 1460).Packets...) // S1
	states = append(states, UDPExchange(netip.MustParseAddrPort("10.1.0.11:40006"), netip.MustParseAddrPort("10.1.0.99:5000"), t.Add(60*time.Millisecond), []byte("one way"), nil)[:1]...)
	sortByTime(states)

	var icmp []Packet
	icmp = append(icmp, ICMPEcho(netip.MustParseAddr("10.1.0.10"), netip.MustParseAddr("10.1.0.1"), Epoch, 1)...)
	icmp = append(icmp, ICMPEcho(netip.MustParseAddr("10.1.0.10"), netip.MustParseAddr("10.1.0.1"), Epoch.Add(time.Second), 2)...)
	icmp = append(icmp, ICMPUnreachable(netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.1.0.10"), Epoch.Add(2*time.Second)))
	icmp = append(icmp, ICMPv6Echo(netip.MustParseAddr("2001:db8::10"), netip.MustParseAddr("2001:db8::1"), Epoch.Add(3*time.Second))...)

	payload := make([]byte, 3000)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	var frags []Packet
	frags = append(frags, IPv4Fragments(netip.MustParseAddrPort("10.1.0.10:7000"), netip.MustParseAddrPort("10.1.0.20:7001"), Epoch, payload, 1200, []int{2, 0, 1})...)
	frags = append(frags, IPv6Fragments(netip.MustParseAddrPort("[2001:db8::10]:7002"), netip.MustParseAddrPort("[2001:db8::20]:7003"), Epoch.Add(time.Second), payload, 1232, []int{1, 2, 0})...)
	frags = append(frags, IPv4Fragments(netip.MustParseAddrPort("10.1.0.10:7004"), netip.MustParseAddrPort("10.1.0.20:7005"), Epoch.Add(2*time.Second), payload, 1200, []int{0, 1})...) // never completed

	dns := UDPExchange(dnsC, dnsS, Epoch, DNSQuery, DNSResponse)

	caps := []Capture{
		{Name: "http-ethernet.pcap", Link: layers.LinkTypeEthernet, Frames: Frames(http, Ethernet), Describe: "HTTP GET on TCP, handshake to FIN, Ethernet"},
		{Name: "http-ethernet.pcap.gz", Link: layers.LinkTypeEthernet, Frames: Frames(http, Ethernet), Gzip: true, Describe: "the same, gzip-compressed"},
		{Name: "http-qinq.pcap", Link: layers.LinkTypeEthernet, Frames: Frames(http, VLAN(100, 200)), Describe: "the same inside 802.1Q QinQ tags 100/200"},
		{Name: "http-sll.pcap", Link: layers.LinkTypeLinuxSLL, Frames: Frames(http, SLL), Describe: "the same, Linux cooked v1"},
		{Name: "http-sll2.pcap", Link: layers.LinkTypeLinuxSLL2, Frames: Frames(http, SLL2), Describe: "the same, Linux cooked v2"},
		{Name: "http-null.pcap", Link: layers.LinkTypeNull, Frames: Frames(http, Null), Describe: "the same, BSD loopback"},
		{Name: "http-rawip.pcap", Link: layers.LinkTypeRaw, Frames: Frames(http, Raw), Describe: "the same, raw IP"},
		{Name: "http-ipv6.pcap", Link: layers.LinkTypeEthernet, Frames: Frames(HTTPSession(cli6, srv6, Epoch), Ethernet), Describe: "HTTP over IPv6"},
		{Name: "tunnel-gre.pcap", Link: layers.LinkTypeEthernet, Frames: Frames(dns, GRE), Describe: "DNS inside GRE"},
		{Name: "tunnel-vxlan.pcap", Link: layers.LinkTypeEthernet, Frames: Frames(dns, VXLAN(4242)), Describe: "DNS inside VXLAN, VNI 4242"},
		{Name: "tunnel-erspan.pcap", Link: layers.LinkTypeEthernet, Frames: Frames(dns, ERSPAN), Describe: "DNS inside ERSPAN II over GRE"},
		{Name: "tcp-states.pcap", Link: layers.LinkTypeEthernet, Frames: Frames(states, Ethernet), Describe: "TCP S0, REJ, RSTO, OTH, S1 and a one-way UDP flow"},
		{Name: "icmp.pcap", Link: layers.LinkTypeEthernet, Frames: Frames(icmp, Ethernet), Describe: "ICMP echo twice, port unreachable, ICMPv6 echo"},
		{Name: "fragments.pcap", Link: layers.LinkTypeEthernet, Frames: Frames(frags, Ethernet), Describe: "IPv4 and IPv6 fragments out of order, and an incomplete datagram"},
		{Name: "multi-interface.pcapng", Link: layers.LinkTypeEthernet, Frames: Frames(http, Ethernet), PcapNG: true,
			Second:   &Capture{Link: layers.LinkTypeRaw, Frames: Frames(dns, Raw)},
			Describe: "pcapng: HTTP on an Ethernet interface and DNS on a raw-IP interface"},
	}
	return caps
}

func sortByTime(p []Packet) {
	sort.SliceStable(p, func(i, j int) bool { return p[i].Time.Before(p[j].Time) })
}

// Write writes c to path.
func Write(path string, c Capture) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var w io.Writer = f
	var gz *gzip.Writer
	if c.Gzip {
		gz, _ = gzip.NewWriterLevel(f, gzip.BestCompression)
		gz.ModTime = Epoch // deterministic bytes
		w = gz
	}
	if c.PcapNG {
		err = writeNG(w, c)
	} else {
		err = writePcap(w, c.Link, c.Frames)
	}
	if gz != nil {
		if cerr := gz.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func writePcap(w io.Writer, link layers.LinkType, frames []Frame) error {
	pw := pcapgo.NewWriterNanos(w)
	if err := pw.WriteFileHeader(65535, link); err != nil {
		return err
	}
	for _, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: fr.Time, CaptureLength: len(fr.Data), Length: len(fr.Data)}
		if err := pw.WritePacket(ci, fr.Data); err != nil {
			return err
		}
	}
	return nil
}

func writeNG(w io.Writer, c Capture) error {
	intf := pcapgo.DefaultNgInterface
	intf.LinkType, intf.Name = c.Link, "eth0"
	nw, err := pcapgo.NewNgWriterInterface(w, intf, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "pcapgen"}})
	if err != nil {
		return err
	}
	type tagged struct {
		Frame
		iface int
	}
	var all []tagged
	for _, fr := range c.Frames {
		all = append(all, tagged{fr, 0})
	}
	if c.Second != nil {
		intf2 := pcapgo.DefaultNgInterface
		intf2.LinkType, intf2.Name = c.Second.Link, "tun0"
		id, err := nw.AddInterface(intf2)
		if err != nil {
			return err
		}
		for _, fr := range c.Second.Frames {
			all = append(all, tagged{fr, id})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	for _, fr := range all {
		ci := gopacket.CaptureInfo{Timestamp: fr.Time, CaptureLength: len(fr.Data), Length: len(fr.Data), InterfaceIndex: fr.iface}
		if err := nw.WritePacket(ci, fr.Data); err != nil {
			return err
		}
	}
	return nw.Flush()
}

package decode

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

func httpFrames(t testing.TB) []pcapgen.Frame {
	t.Helper()
	return pcapgen.Frames(pcapgen.HTTPSession(netip.MustParseAddrPort("10.0.0.1:1234"), netip.MustParseAddrPort("10.0.0.2:80"), pcapgen.Epoch), pcapgen.Ethernet)
}

func TestDecodeTCP(t *testing.T) {
	d := NewDecoder(DefragConfig{}, nil)
	var p Packet
	fr := httpFrames(t)[3] // the request
	if st := d.Decode(fr.Data, fr.Time, len(fr.Data), layers.LinkTypeEthernet, &p); st != OK {
		t.Fatalf("status %v", st)
	}
	if p.Src.String() != "10.0.0.1" || p.DstPort != 80 || p.Proto != ProtoTCP || p.TCPFlags != ACK|PSH || string(p.Payload) != string(pcapgen.HTTPRequest) {
		t.Errorf("decoded %+v", p)
	}
}

// The options the stream checks need: an MD5 signature, a window scale.
func TestDecodeTCPOptions(t *testing.T) {
	d := NewDecoder(DefragConfig{}, nil)
	var p Packet
	pkts := pcapgen.ResetSession(netip.MustParseAddrPort("10.0.0.1:1234"), netip.MustParseAddrPort("10.0.0.2:80"), pcapgen.Epoch, pcapgen.ResetBadMD5)
	frames := pcapgen.Frames(pkts, pcapgen.Ethernet)
	if d.Decode(frames[3].Data, frames[3].Time, len(frames[3].Data), layers.LinkTypeEthernet, &p); p.TCPFlags&RST == 0 || p.TCPOptions != OptMD5 {
		t.Errorf("the RST's options: %b (flags %x)", p.TCPOptions, p.TCPFlags)
	}
	if d.Decode(frames[0].Data, frames[0].Time, len(frames[0].Data), layers.LinkTypeEthernet, &p); p.TCPOptions != 0 {
		t.Errorf("the SYN without options: %b", p.TCPOptions)
	}
	syn := &layers.TCP{SrcPort: 1234, DstPort: 80, SYN: true, Window: 64240,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{20}}}}
	fr := pcapgen.Frames([]pcapgen.Packet{{Time: pcapgen.Epoch, Layers: tcpLayers(syn)}}, pcapgen.Ethernet)[0]
	if d.Decode(fr.Data, fr.Time, len(fr.Data), layers.LinkTypeEthernet, &p); p.TCPOptions != OptWindowScale || p.WindowScale != 14 {
		t.Errorf("window scale 20: options %b, scale %d (RFC 7323 caps it at 14)", p.TCPOptions, p.WindowScale)
	}
}

func tcpLayers(tcp *layers.TCP) []gopacket.SerializableLayer {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	return []gopacket.SerializableLayer{ip, tcp}
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	d := NewDecoder(DefragConfig{}, nil)
	var p Packet
	frames := httpFrames(t)
	allocs := testing.AllocsPerRun(100, func() {
		for _, fr := range frames {
			d.Decode(fr.Data, fr.Time, len(fr.Data), layers.LinkTypeEthernet, &p)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per session decode, want 0", allocs)
	}
}

func TestMalformedIsCountedNotFatal(t *testing.T) {
	d := NewDecoder(DefragConfig{}, nil)
	var p Packet
	fr := httpFrames(t)[3]
	for n := 0; n < 60; n++ { // every truncation of the headers
		d.Decode(fr.Data[:n], fr.Time, n, layers.LinkTypeEthernet, &p)
	}
	if d.Stats.Errors[ErrLink]+d.Stats.Errors[ErrIPv4]+d.Stats.Errors[ErrTCP] == 0 {
		t.Errorf("no errors counted: %+v", d.Stats)
	}
	if st := d.Decode([]byte{1, 2, 3}, time.Time{}, 3, layers.LinkType(147), &p); st != UnknownLink || d.Stats.UnknownLinks[147] != 1 {
		t.Errorf("unknown link: %v %v", st, d.Stats.UnknownLinks)
	}
}

func TestDefragOverlapFirstWinsAndBounds(t *testing.T) {
	f := NewDefragmenter(DefragConfig{Timeout: time.Second, MaxDatagrams: 2}, nil)
	k := fragKey{proto: 17}
	now := pcapgen.Epoch
	if _, st, _ := f.add(k, 8, false, []byte("BBBBBBBB"), now); st != Held {
		t.Fatal("last fragment alone completed")
	}
	if _, st, _ := f.add(k, 4, true, []byte("XXXX"), now); st != Held { // overlaps nothing yet: 4..8
		t.Fatal("completed early")
	}
	whole, st, an := f.add(k, 0, true, []byte("AAAAAAAAAAAA"), now) // 0..12 overlaps 4..12, differently
	if st != OK || string(whole) != "AAAAXXXXBBBBBBBB" || f.Overlaps != 1 || f.Conflicts != 1 || !an.Has(anomaly.FragmentOverlap) {
		t.Errorf("got %q %v overlaps=%d conflicts=%d anomalies=%b", whole, st, f.Overlaps, f.Conflicts, an)
	}
	// Bound: a third incomplete datagram pushes out the oldest.
	for i := uint32(1); i <= 3; i++ {
		_, _, an = f.add(fragKey{id: i}, 0, true, []byte("12345678"), now)
	}
	if f.Pending() != 2 || f.Limited != 1 || !an.Has(anomaly.FragmentLimit) {
		t.Errorf("pending=%d limited=%d anomalies=%b", f.Pending(), f.Limited, an)
	}
	f.add(fragKey{id: 9}, 0, true, []byte("12345678"), now.Add(2*time.Second))
	if f.Pending() != 1 || f.Timeouts != 2 {
		t.Errorf("after timeout: pending=%d timeouts=%d", f.Pending(), f.Timeouts)
	}
	if _, st, _ := f.add(fragKey{id: 10}, 65528, true, make([]byte, 16), now.Add(2*time.Second)); st != Malformed {
		t.Error("a fragment past 65535 bytes was accepted")
	}
}

func FuzzDecode(f *testing.F) {
	for _, fr := range httpFrames(f) {
		f.Add(fr.Data, uint16(layers.LinkTypeEthernet))
	}
	for _, c := range pcapgen.Catalogue() {
		for _, fr := range c.Frames {
			f.Add(fr.Data, uint16(c.Link))
		}
	}
	for _, c := range pcapgen.MalformedFrames(pcapgen.Epoch) {
		f.Add(c.Frame.Data, uint16(layers.LinkTypeEthernet))
	}
	d := NewDecoder(DefragConfig{MaxDatagrams: 16}, nil)
	f.Fuzz(func(t *testing.T, data []byte, link uint16) {
		var p Packet
		st := d.Decode(data, pcapgen.Epoch, len(data), layers.LinkType(link), &p)
		if st == OK && p.IPVersion != 4 && p.IPVersion != 6 {
			t.Fatalf("OK without an IP header: %+v", p)
		}
		if (st == Malformed) != (p.Fault != NoFault) || st == Malformed && p.Payload != nil {
			t.Fatalf("status %v with fault %d, payload %x", st, p.Fault, p.Payload)
		}
	})
}

func FuzzDefrag(f *testing.F) {
	f.Add([]byte{0, 10, 1, 8, 0, 0, 10, 5})
	f.Add([]byte{1, 200, 255, 0, 1, 0, 255, 1, 1, 64, 128, 1})
	f.Fuzz(func(t *testing.T, script []byte) {
		const maxBytes = 8 << 10
		b := budget.New(0)
		acct := b.NewAccount()
		d := NewDefragmenter(DefragConfig{Timeout: time.Second, MaxDatagrams: 4, MaxBytes: maxBytes, MaxFragments: 8}, acct)
		data := make([]byte, 2048)
		for i := 0; i+3 < len(script); i += 4 {
			k := fragKey{id: uint32(script[i] & 3)}
			off := int(script[i+1]) * 8
			n := int(script[i+2])*4 + 1
			more := script[i+3]&1 == 1
			whole, st, _ := d.add(k, off, more, data[:n], pcapgen.Epoch.Add(time.Duration(script[i+3])*10*time.Millisecond))
			if st == OK && len(whole) < off+n {
				t.Fatalf("datagram of %d bytes from a fragment ending at %d", len(whole), off+n)
			}
			if d.Bytes() > maxBytes || d.Bytes() != acct.Used(budget.Fragments) {
				t.Fatalf("%d bytes held (bound %d), %d reserved", d.Bytes(), maxBytes, acct.Used(budget.Fragments))
			}
		}
		if d.Pending() > 4 {
			t.Fatalf("%d datagrams held, bound is 4", d.Pending())
		}
		d.expire(pcapgen.Epoch.Add(time.Hour))
		if d.Pending() != 0 || d.Bytes() != 0 || acct.Used(budget.Fragments) != 0 {
			t.Fatalf("after expiry: %d datagrams, %d bytes, %d reserved", d.Pending(), d.Bytes(), acct.Used(budget.Fragments))
		}
	})
}

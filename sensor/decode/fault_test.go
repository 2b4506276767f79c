package decode

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// Each malformation is told apart, counted under its layer, and what was
// read before it (the addresses, the ports) is kept for the report.
func TestMalformedFramesSayWhy(t *testing.T) {
	for _, c := range pcapgen.MalformedFrames(pcapgen.Epoch) {
		d := NewDecoder(DefragConfig{}, nil)
		var p Packet
		fr := c.Frame
		if st := d.Decode(fr.Data, fr.Time, len(fr.Data), layers.LinkTypeEthernet, &p); st != Malformed {
			t.Errorf("%s: status %v, want Malformed", c.Name, st)
			continue
		}
		if got := p.Fault.Kind().String(); got != c.Kind {
			t.Errorf("%s: fault %q, want %q", c.Name, got, c.Kind)
		}
		if n := d.Stats.Errors[faults[p.Fault].layer]; n != 1 {
			t.Errorf("%s: %d errors of layer %v, want 1", c.Name, n, faults[p.Fault].layer)
		}
		if p.Src.IsValid() != c.Hosts || p.Dst.IsValid() != c.Hosts {
			t.Errorf("%s: addresses %v > %v, want them read: %v", c.Name, p.Src, p.Dst, c.Hosts)
		}
		if ports := p.SrcPort == pcapgen.MalformedSender.Port(); ports != c.Ports {
			t.Errorf("%s: ports %d > %d, want them read: %v", c.Name, p.SrcPort, p.DstPort, c.Ports)
		}
		if p.Payload != nil || p.Fault.Detail() == "" {
			t.Errorf("%s: payload %x, detail %q", c.Name, p.Payload, p.Fault.Detail())
		}
	}
}

// An IPv6 header whose version field is not 6 is an IPv6 error, as an
// IPv4 header's not 4 is an IPv4 one.
func TestBadVersionCountedUnderItsLayer(t *testing.T) {
	for _, c := range pcapgen.LyingLengths(pcapgen.Epoch)[:2] { // IPv4, IPv6
		data := c.Frame.Data
		data[14] = 0x75 // version 7
		d := NewDecoder(DefragConfig{}, nil)
		var p Packet
		layer := ErrIPv4
		if c.Kind == "decode.ipv6_bad_length" {
			layer = ErrIPv6
		}
		if st := d.Decode(data, c.Frame.Time, len(data), layers.LinkTypeEthernet, &p); st != Malformed || p.Fault != IPBadVersion || d.Stats.Errors[layer] != 1 {
			t.Errorf("%s with version 7: status %v, fault %v, errors %v; want layer %v", c.Name, st, p.Fault, d.Stats.Errors, layer)
		}
	}
}

// Every fault is an anomaly kind of its own, with a description.
func TestEveryFaultNamed(t *testing.T) {
	seen := map[string]bool{}
	for f := NoFault + 1; f < numFaults; f++ {
		name := f.Kind().String()
		if f.Detail() == "" || seen[name] || name[:7] != "decode." {
			t.Errorf("fault %d: kind %q, detail %q", f, name, f.Detail())
		}
		seen[name] = true
	}
}

// A length field claiming more than a frame captured whole holds is noted
// on the packet, which is still decoded; a frame the capture cut short
// (its wire length is longer) is no lie.
func TestLyingLengthsNoted(t *testing.T) {
	kinds := map[string]anomaly.Kind{"decode.ipv4_bad_length": anomaly.IPv4BadLength, "decode.ipv6_bad_length": anomaly.IPv6BadLength, "decode.udp_bad_length": anomaly.UDPBadLength}
	d := NewDecoder(DefragConfig{}, nil)
	var p Packet
	for _, c := range pcapgen.LyingLengths(pcapgen.Epoch) {
		fr := c.Frame
		if st := d.Decode(fr.Data, fr.Time, len(fr.Data), layers.LinkTypeEthernet, &p); st != OK || p.Anomalies != 0|1<<kinds[c.Kind] {
			t.Errorf("%s: status %v, anomalies %b, want OK and %s", c.Name, st, p.Anomalies, c.Kind)
		}
	}
	for _, fr := range httpFrames(t) {
		for _, cut := range []int{1, 10, 30} {
			if cut >= len(fr.Data)-14 {
				continue
			}
			if st := d.Decode(fr.Data[:len(fr.Data)-cut], fr.Time, len(fr.Data), layers.LinkTypeEthernet, &p); st == OK && p.Anomalies != 0 {
				t.Errorf("frame cut by %d of %d bytes by the capture: anomalies %b", cut, len(fr.Data), p.Anomalies)
			}
		}
	}
	udp := pcapgen.LyingLengths(pcapgen.Epoch)[2].Frame.Data
	binary.BigEndian.PutUint16(udp[14+24:], binary.BigEndian.Uint16(udp[14+24:])-100) // the UDP length true again
	binary.BigEndian.PutUint16(udp[14+2:], binary.BigEndian.Uint16(udp[14+2:])+200)   // the IP length past the frame
	if st := d.Decode(udp[:len(udp)-5], pcapgen.Epoch, len(udp)+195, layers.LinkTypeEthernet, &p); st != OK || p.Anomalies != 0 {
		t.Errorf("UDP in a datagram the capture cut: status %v, anomalies %b", st, p.Anomalies)
	}
}

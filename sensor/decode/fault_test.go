package decode

import (
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
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

package pipeline

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// A pcapng simple packet block carries no date (pcapng-custom-blocks-le.pcapng
// has two). Its frame takes the time of the frame read before it, so a flow
// it opens starts then, not before 1900.
func TestUndatedFrameTakesThePreviousTime(t *testing.T) {
	a := pcapgen.Frames([]pcapgen.Packet{
		pcapgen.UDPDatagram(netip.MustParseAddrPort("10.0.0.1:1111"), netip.MustParseAddrPort("10.0.0.2:2222"), pcapgen.Epoch, []byte("dated")),
		pcapgen.UDPDatagram(netip.MustParseAddrPort("10.0.0.1:3333"), netip.MustParseAddrPort("10.0.0.2:4444"), pcapgen.Epoch, []byte("undated")),
	}, pcapgen.Ethernet)
	w := &pcapgen.NgBlocks{}
	w.Section(binary.LittleEndian)
	w.Interface(uint16(layers.LinkTypeEthernet), 0)
	w.Enhanced(0, uint64(pcapgen.Epoch.UnixMicro()), a[0].Data, uint32(len(a[0].Data)))
	w.Simple(a[1].Data, uint32(len(a[1].Data)))
	path := filepath.Join(t.TempDir(), "undated.pcapng")
	if err := os.WriteFile(path, w.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := replay(t, Config{}, path)
	flows := out.dataset("packetsleuth.flow")
	if len(flows) != 2 {
		t.Fatalf("%d flow events, want 2", len(flows))
	}
	want := pcapgen.Epoch.UTC().Format("2006-01-02T15:04:05Z07:00")
	for _, f := range flows {
		if s, e := str(f, "event.start"), str(f, "event.end"); s != want || e != want {
			t.Errorf("flow %d: start %s end %s, want %s", num(f, "source.port"), s, e, want)
		}
	}
}

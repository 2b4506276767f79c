package reassembly

import (
	"fmt"
	"os"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func TestDump(t *testing.T) {
	for _, n := range []string{"tcp-overlap.pcap", "tcp-retransmit-fast.pcap", "http-get.pcap", "tcp-handshake-reorder.pcap"} {
		f, _ := os.Open("../../../shared/pcaps/" + n)
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("==", n)
		for {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				break
			}
			p := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
			tl, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if tl == nil {
				fmt.Println("non-tcp")
				continue
			}
			fl := ""
			if tl.SYN { fl += "S" }
			if tl.ACK { fl += "A" }
			if tl.FIN { fl += "F" }
			if tl.RST { fl += "R" }
			if tl.PSH { fl += "P" }
			pl := tl.Payload
			s := ""
			if len(pl) > 0 { s = fmt.Sprintf("%q", pl[:min(len(pl), 20)]) }
			fmt.Println(ci.Timestamp.Format("05.000000"), tl.SrcPort, "->", tl.DstPort, fl, tl.Seq, tl.Ack, len(pl), s)
		}
		f.Close()
	}
}

package reassembly

import (
	"fmt"
	"os"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

func TestDump2(t *testing.T) {
	f, _ := os.Open("../../../shared/pcaps/tcp-retransmit-fast.pcap")
	r, _ := pcapgo.NewReader(f)
	fmt.Println("snaplen", r.Snaplen())
	for i := 0; i < 12; i++ {
		data, ci, err := r.ReadPacketData()
		if err != nil { break }
		fmt.Println(ci.CaptureLength, ci.Length, len(data), data[16:18])
	}
}

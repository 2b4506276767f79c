package web

import (
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/pcapring"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// The pcap download finds flows in sensor run's packet ring while it runs:
// the current file is closed with its index first (PcapSource.Sync), and
// the answer equals sensor carve on the captures the ring was fed.
func TestFlowPcapFromRing(t *testing.T) {
	paths := []string{"../testdata/pcaps/http-ethernet.pcap", "../testdata/pcaps/fragments.pcap"}
	_, cids, _ := indexedReplay(t, paths)
	ring, err := pcapring.New(pcapring.Config{Dir: filepath.Join(t.TempDir(), "ring"), MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Close()
	tap := ring.Tap(0)
	dec := decode.NewDecoder(decode.DefragConfig{}, nil)
	for _, p := range paths {
		src, err := source.OpenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var fr source.Frame
		var pkt decode.Packet
		for {
			if err := src.Next(&fr); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			tap.Frame(&fr, dec.Decode(fr.Data, fr.Timestamp, fr.WireLen, fr.LinkType, &pkt), &pkt)
		}
		src.Close()
	}
	tap.Flush()
	_, hs := testServer(t, Config{Store: openStore(t), Auth: Auth{Token: outputs.Secret(testToken)}, Pcap: PcapSource{IndexDirs: []string{ring.Dir()}, Sync: ring.Sync}})
	for _, cid := range cids {
		downloadEqualsCarve(t, hs, paths, cid)
	}
	if st := ring.Stats(); st.Files == 0 {
		t.Errorf("the download did not close the ring's file: %+v", st)
	}
}

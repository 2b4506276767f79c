// Command pcapgen writes PacketSleuth's synthetic captures: the test set in
// testdata/pcaps (-testdata DIR), a large benchmark mix (-mix FILE), a
// hostile SYN flood (-syn-flood FILE -syns N), the fragment attacks
// (-hostile DIR -count N), many concurrent compressed HTTP responses
// (-gzip FILE -responses N), or an evader's re-cut of a capture's TCP data
// (-resegment MODE -in FILE -out FILE).
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/dustin/go-humanize"
	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

func main() {
	testdata := flag.String("testdata", "", "write the test captures into this directory")
	mix := flag.String("mix", "", "write a benchmark mix to this file")
	size := flag.String("size", "1GB", "size of the benchmark mix")
	flood := flag.String("syn-flood", "", "write a SYN flood from random sources to this file")
	syns := flag.Int("syns", 2_000_000, "number of SYNs of the flood")
	hostile := flag.String("hostile", "", "write the hostile captures (fragment attacks, malformed-looking DNS, hostile strings for the UI and exports, a flood of flows solved to share a hash slot) into this directory")
	count := flag.Int("count", 100000, "datagrams (or fragments) per fragment flood capture")
	gz := flag.String("gzip", "", "write concurrent gzip-compressed HTTP responses (20,000 bytes each, decompressed) to this file")
	responses := flag.Int("responses", 20000, "number of concurrent compressed responses")
	reseg := flag.String("resegment", "", "re-cut the TCP data of -in into -out: one-byte, reordered, overlapping or conflicting")
	in := flag.String("in", "", "capture to re-cut (pcap or pcapng)")
	out := flag.String("out", "", "where to write the re-cut capture (pcap)")
	dhcpFlood := flag.String("dhcp-flood", "", "write a DHCP-looking flood mixed with ordinary UDP (pcapgen.DHCPFlood; -dhcp-rate steps a second for 10 s) to this file")
	dhcpRate := flag.Int("dhcp-rate", 20000, "steps a second of the DHCP flood (each 6 datagrams, 2 of which can teach the host table)")
	filesOut := flag.String("files", "", "write HTTP file transfers (a PE named invoice.pdf.exe, EICAR in a multipart upload, a 206 range, a body with a gap) to this file")
	flag.Parse()
	if *reseg != "" {
		if err := resegment(*reseg, *in, *out); err != nil {
			fail(err)
		}
		return
	}
	if *testdata == "" && *mix == "" && *flood == "" && *hostile == "" && *gz == "" && *filesOut == "" && *dhcpFlood == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *testdata != "" {
		if err := writeAll(*testdata, pcapgen.Catalogue()); err != nil {
			fail(err)
		}
	}
	if *hostile != "" {
		if err := writeAll(*hostile, append(pcapgen.HostileFragCaptures(*count), pcapgen.HostileDNS(), pcapgen.HostileStringsCapture(), pcapgen.HashFloodCapture(50000))); err != nil {
			fail(err)
		}
	}
	if *mix != "" {
		n, err := humanize.ParseBytes(*size)
		if err != nil {
			fail(err)
		}
		f, err := os.Create(*mix)
		if err != nil {
			fail(err)
		}
		st, err := pcapgen.WriteMix(f, int64(n), 1)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fail(err)
		}
		fmt.Printf("%s: %d packets, %s, %d flows\n", *mix, st.Packets, humanize.Bytes(uint64(st.Bytes)), st.Flows)
	}
	if *gz != "" {
		pkts := pcapgen.ConcurrentGzip(*responses, netip.MustParseAddrPort("192.0.2.80:80"), pcapgen.Epoch, pcapgen.GzipBody(20000))
		if err := pcapgen.Write(*gz, pcapgen.Capture{Link: layers.LinkTypeEthernet, Frames: pcapgen.Frames(pkts, pcapgen.Ethernet)}); err != nil {
			fail(err)
		}
		fmt.Printf("%s: %d concurrent compressed responses\n", *gz, *responses)
	}
	if *filesOut != "" {
		pkts := pcapgen.HTTPFileTransfers(netip.MustParseAddrPort("10.1.0.10:51000"), netip.MustParseAddrPort("203.0.113.80:80"), pcapgen.Epoch)
		if err := pcapgen.Write(*filesOut, pcapgen.Capture{Link: layers.LinkTypeEthernet, Frames: pcapgen.Frames(pkts, pcapgen.Ethernet)}); err != nil {
			fail(err)
		}
		fmt.Printf("%s: 4 HTTP connections carrying files\n", *filesOut)
	}
	if *dhcpFlood != "" {
		pkts := pcapgen.DHCPFlood(997, *dhcpRate, 10)
		if err := pcapgen.Write(*dhcpFlood, pcapgen.Capture{Link: layers.LinkTypeEthernet, Frames: pcapgen.Frames(pkts, pcapgen.Ethernet)}); err != nil {
			fail(err)
		}
		fmt.Printf("%s: %d datagrams, %d of them DHCP that can teach a host table\n", *dhcpFlood, len(pkts), len(pkts)/3)
	}
	if *flood != "" {
		if err := pcapgen.WriteSYNFloodFile(*flood, *syns, 1); err != nil {
			fail(err)
		}
		fmt.Printf("%s: %d SYNs\n", *flood, *syns)
	}
}

// writeAll writes each capture into dir, naming it with its description.
func writeAll(dir string, cs []pcapgen.Capture) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, c := range cs {
		if err := pcapgen.Write(filepath.Join(dir, c.Name), c); err != nil {
			return err
		}
		fmt.Printf("%-28s %s\n", c.Name, c.Describe)
	}
	return nil
}

func resegment(mode, in, out string) error {
	var s pcapgen.Segmentation
	for _, c := range append(pcapgen.Segmentations, pcapgen.Conflicting) {
		if c.String() == mode {
			s = c
			break
		} else if c == pcapgen.Conflicting {
			return fmt.Errorf("unknown -resegment mode %q", mode)
		}
	}
	if in == "" || out == "" {
		return errors.New("-resegment needs -in and -out")
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	link, frames, err := pcapgen.ReadFrames(f)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	frames, err = pcapgen.Resegment(frames, link, s, 1)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := pcapgen.Write(out, pcapgen.Capture{Link: link, Frames: frames}); err != nil {
		return err
	}
	fmt.Printf("%s: %d frames, TCP data re-cut %s\n", out, len(frames), s)
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pcapgen:", err)
	os.Exit(1)
}

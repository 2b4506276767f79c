// Command pcapgen writes PacketSleuth's synthetic captures: the test set in
// testdata/pcaps (-testdata DIR) or a large benchmark mix (-mix FILE).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dustin/go-humanize"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

func main() {
	testdata := flag.String("testdata", "", "write the test captures into this directory")
	mix := flag.String("mix", "", "write a benchmark mix to this file")
	size := flag.String("size", "1GB", "size of the benchmark mix")
	flag.Parse()
	if *testdata == "" && *mix == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *testdata != "" {
		if err := os.MkdirAll(*testdata, 0o755); err != nil {
			fail(err)
		}
		for _, c := range pcapgen.Catalogue() {
			if err := pcapgen.Write(filepath.Join(*testdata, c.Name), c); err != nil {
				fail(err)
			}
			fmt.Printf("%-24s %s\n", c.Name, c.Describe)
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
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pcapgen:", err)
	os.Exit(1)
}

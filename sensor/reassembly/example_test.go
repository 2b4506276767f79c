package reassembly_test

import (
	"fmt"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/reassembly"
)

// printer is a StreamParser that prints what it is given.
type printer struct{}

func (printer) Data(d parsers.Dir, b []byte, ts time.Time) error {
	fmt.Printf("%s %q\n", d, b)
	return nil
}
func (printer) Gap(d parsers.Dir, n int, ts time.Time) { fmt.Printf("%s gap of %d bytes\n", d, n) }
func (printer) End(ts time.Time)                       { fmt.Println("end") }

func Example() {
	a := reassembly.NewAssembler(reassembly.Config{}) // one per worker
	s := a.NewStream(printer{})                       // one per TCP connection
	ts := time.Unix(1700000000, 0)

	s.Segment(parsers.ToServer, 100, decode.SYN, nil, ts)
	s.Segment(parsers.ToClient, 900, decode.SYN|decode.ACK, nil, ts)
	s.Segment(parsers.ToServer, 106, decode.ACK, []byte("world\n"), ts) // ahead of a hole: held
	s.Segment(parsers.ToServer, 101, decode.ACK, []byte("hello"), ts)   // fills it
	s.Segment(parsers.ToClient, 906, decode.ACK, []byte("later"), ts)   // 5 bytes never seen
	s.Close(ts)
	fmt.Println("gaps:", a.Stats().GapBytes)
	// Output:
	// to_server "hello"
	// to_server "world\n"
	// to_client gap of 5 bytes
	// to_client "later"
	// end
	// gaps: 5
}

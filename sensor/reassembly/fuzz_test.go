package reassembly

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// fuzzByte is the byte at stream offset off of direction d: the same offset
// always carries the same byte unless the fuzzer flips it.
func fuzzByte(d parsers.Dir, off uint32) byte { return byte(off*7+off>>8) ^ byte(d)<<7 }

// posRecorder checks each delivered byte against its position in the stream.
type posRecorder struct {
	t    *testing.T
	base [2]uint32 // offset from the ISN of the first byte (mid-stream pickup)
	pos  [2]uint64
	gap  [2]uint64
	bad  bool // a delivered byte differs from fuzzByte at its position
	ends int
	late int
}

func (r *posRecorder) Data(d parsers.Dir, b []byte, ts time.Time) error {
	if r.ends > 0 {
		r.late++
	}
	if len(b) == 0 {
		r.t.Fatal("empty Data call")
	}
	for i, c := range b {
		if c != fuzzByte(d, r.base[d]+uint32(r.pos[d])+uint32(i)) {
			r.bad = true
		}
	}
	r.pos[d] += uint64(len(b))
	return nil
}

func (r *posRecorder) Gap(d parsers.Dir, n int, ts time.Time) {
	if r.ends > 0 {
		r.late++
	}
	if n <= 0 {
		r.t.Fatalf("Gap of %d bytes", n)
	}
	r.pos[d] += uint64(n)
	r.gap[d] += uint64(n)
}

func (r *posRecorder) End(ts time.Time) {
	if r.ends > 0 {
		r.late++
	}
	r.ends++
}

// FuzzStream reads a program from the input: a header (ISNs, page size, caps,
// whether SYNs are sent) and then 5-byte segments (direction and flags,
// 16-bit offset from the ISN, length); with lasting, payloads stay in
// place (PayloadsLast) and a flush also unholds them. Invariants: no
// panic; the bytes
// delivered are the bytes sent, and no conflict is counted, unless the
// fuzzer sent conflicting copies;
// per direction delivered + gap bytes reach exactly the highest offset sent;
// End is called once; all memory is back after Close.
func FuzzStream(f *testing.F) {
	seed := func(hdr []byte, segs ...[5]byte) []byte {
		b := append([]byte(nil), hdr...)
		for _, s := range segs {
			b = append(b, s[:]...)
		}
		return b
	}
	hdr := []byte{0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 100, 3, 4, 1}
	f.Add(seed(hdr, [5]byte{0, 0, 0, 20}, [5]byte{0, 0, 20, 20}, [5]byte{1, 0, 0, 50}))
	f.Add(seed(hdr, [5]byte{0, 0, 40, 20}, [5]byte{0, 0, 20, 30}, [5]byte{0, 0, 0, 25}, [5]byte{0x10, 0, 10, 10}))
	f.Add(seed(hdr, [5]byte{0, 0, 100, 200}, [5]byte{0, 1, 0, 200}, [5]byte{0x20, 0, 0, 0}))
	f.Add(seed([]byte{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}, [5]byte{0, 0, 5, 5}, [5]byte{0x08, 0, 0, 3}, [5]byte{0, 0, 3, 9}))
	f.Add(seed([]byte{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0x11}, [5]byte{0, 0, 0, 20}, [5]byte{0, 0, 5, 10}, [5]byte{0x20, 0, 0, 0}, [5]byte{0, 0, 2, 10}))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 11 {
			return
		}
		isn := [2]uint32{binary.BigEndian.Uint32(in), binary.BigEndian.Uint32(in[4:])}
		cfg := Config{
			PageSize:           1 + int(in[8]%64),
			MaxBufferedPerConn: 64 * (1 + int(in[9]%32)),
			MaxSegmentsPerDir:  1 + int(in[9]>>3),
			MaxBufferedTotal:   64 * (1 + int(in[8]>>2)),
			RetransmitHistory:  64 << (in[10] >> 1 & 7),
		}
		syn, lasting := in[10]&1 != 0, in[10]&0x10 != 0
		a := NewAssembler(cfg)
		a.PayloadsLast(lasting)
		r := &posRecorder{t: t}
		s := a.NewStream(r)
		other := a.NewStream(&discard{}) // competes for the total cap
		ts := time.Unix(0, 0)
		if syn {
			s.Segment(parsers.ToServer, isn[0]-1, decode.SYN, nil, ts)
			s.Segment(parsers.ToClient, isn[1]-1, decode.SYN|decode.ACK, nil, ts)
		}
		var buf [768]byte
		var hi [2]int64
		var base [2]int64 // offset of a mid-stream pickup
		var started [2]bool
		started[0], started[1] = syn, syn
		conflicting, finOrRst := false, false
		for p := in[11:]; len(p) >= 5; p = p[5:] {
			d := parsers.Dir(p[0] & 1)
			op := p[0] >> 1
			off := int64(binary.BigEndian.Uint16(p[1:]))
			n := int(p[3]) + int(p[4]&1)<<8 + int(p[4]&2)<<7
			ts = ts.Add(time.Duration(p[4]>>2) * time.Millisecond)
			var flags uint8
			switch op & 0x0f {
			case 4:
				flags = decode.FIN
				finOrRst = true
			case 8:
				flags = decode.RST
				finOrRst = true
			}
			payload := buf[:n]
			for i := range payload {
				payload[i] = fuzzByte(d, uint32(off)+uint32(i))
			}
			if op&0x20 != 0 && n > 0 {
				payload[0] ^= 0x55 // a conflicting copy
				conflicting = true
			}
			if lasting {
				payload = bytes.Clone(payload)
			}
			switch {
			case op&0x40 != 0:
				other.Segment(d, uint32(off), decode.ACK, payload, ts)
				continue
			case op&0x10 != 0:
				a.FlushOlderThan(ts)
				if lasting {
					a.Unhold()
					a.PayloadsLast(true)
				}
				continue
			}
			if flags&decode.RST == 0 && (n > 0 || flags&decode.FIN != 0) {
				if !started[d] {
					started[d], base[d] = true, off
					r.base[d] = uint32(off)
				}
				hi[d] = max(hi[d], off+int64(n)-base[d])
			}
			s.Segment(d, isn[d]+uint32(off), flags, payload, ts)
		}
		s.Close(ts)
		other.Close(ts)
		if r.ends != 1 || r.late != 0 {
			t.Fatalf("End %d times, %d calls after it", r.ends, r.late)
		}
		if r.bad && !conflicting {
			t.Fatal("delivered bytes differ from the bytes sent")
		}
		if c := s.Conflicts() + other.Conflicts(); c != 0 && !conflicting {
			t.Fatalf("%d conflicts counted for identical copies", c)
		}
		for d := range 2 {
			if r.pos[d] != s.h[d].hi {
				t.Fatalf("dir %d: delivered+gaps %d, highest offset %d", d, r.pos[d], s.h[d].hi)
			}
			if st := s.Stats(parsers.Dir(d)); st.Delivered+st.GapBytes != r.pos[d] || st.GapBytes != r.gap[d] {
				t.Fatalf("dir %d: stats %+v, consumer saw %d (%d in gaps)", d, st, r.pos[d], r.gap[d])
			}
			if !finOrRst && r.pos[d] != uint64(hi[d]) {
				t.Fatalf("dir %d: delivered+gaps %d, highest offset sent %d", d, r.pos[d], hi[d])
			}
		}
		st := a.Stats()
		if st.Pages != 0 || st.Buffered != 0 || a.pages.head != nil || a.held.head != nil {
			t.Fatalf("memory held after Close: %+v", st)
		}
		if st.PagesPeak > a.totPages {
			t.Fatalf("%d pages in use, cap %d", st.PagesPeak, a.totPages)
		}
	})
}

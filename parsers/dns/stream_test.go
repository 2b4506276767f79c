package dns

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func frame(msg []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)
}

// collect feeds chunks and returns copies of the messages delivered.
func collect(t *testing.T, d *StreamDecoder, chunks ...[]byte) [][]byte {
	t.Helper()
	var out [][]byte
	for _, c := range chunks {
		if err := d.Feed(c, func(m []byte) error {
			out = append(out, append([]byte(nil), m...))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestStreamDecoderSplits(t *testing.T) {
	msgs := [][]byte{vecCompression, vecTXT, {}, vecHTTPS}
	var stream []byte
	for _, m := range msgs {
		stream = append(stream, frame(m)...)
	}
	// Every single split point and every pair of split points.
	for i := 0; i <= len(stream); i++ {
		for j := i; j <= len(stream); j += 7 {
			var d StreamDecoder
			got := collect(t, &d, stream[:i], stream[i:j], stream[j:])
			if len(got) != len(msgs) {
				t.Fatalf("split %d/%d: %d messages", i, j, len(got))
			}
			for k := range msgs {
				if !bytes.Equal(got[k], msgs[k]) {
					t.Fatalf("split %d/%d: message %d differs", i, j, k)
				}
			}
			if d.Buffered() != 0 || d.Frames != len(msgs) {
				t.Fatalf("split %d/%d: buffered %d frames %d", i, j, d.Buffered(), d.Frames)
			}
		}
	}
	// Byte by byte.
	var d StreamDecoder
	var chunks [][]byte
	for i := range stream {
		chunks = append(chunks, stream[i:i+1])
	}
	if got := collect(t, &d, chunks...); len(got) != len(msgs) || !bytes.Equal(got[3], vecHTTPS) {
		t.Fatalf("byte by byte: %d messages", len(got))
	}
}

func TestStreamDecoderLargestFrameAndReset(t *testing.T) {
	big := bytes.Repeat([]byte{0xab}, 65535)
	var d StreamDecoder
	f := frame(big)
	got := collect(t, &d, f[:40000])
	if len(got) != 0 || d.Buffered() != 40000 {
		t.Fatalf("partial: %d msgs, buffered %d", len(got), d.Buffered())
	}
	got = collect(t, &d, f[40000:], frame(vecTXT)[:5])
	if len(got) != 1 || len(got[0]) != 65535 {
		t.Fatalf("big frame: %d msgs", len(got))
	}
	if d.Buffered() != 5 || cap(d.buf) > 2*MaxTCPMessage {
		t.Fatalf("buffered %d cap %d", d.Buffered(), cap(d.buf))
	}
	// A gap: the partial frame is dropped and the next bytes start afresh.
	d.Reset()
	if d.Buffered() != 0 || d.Dropped != 5 {
		t.Fatalf("after reset: buffered %d dropped %d", d.Buffered(), d.Dropped)
	}
	got = collect(t, &d, frame(vecSOA))
	if len(got) != 1 || !bytes.Equal(got[0], vecSOA) {
		t.Fatal("message after reset")
	}
}

func TestStreamDecoderCallbackError(t *testing.T) {
	stop := errors.New("stop")
	var d StreamDecoder
	n := 0
	stream := append(frame(vecTXT), frame(vecSOA)...)
	err := d.Feed(stream, func([]byte) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("err %v after %d calls", err, n)
	}
}

func TestStreamDecoderAliasing(t *testing.T) {
	// A frame delivered from the internal buffer must not be overwritten by
	// the same call's later frames before the callback returns.
	var d StreamDecoder
	stream := append(frame(vecTXT), frame(vecSOA)...)
	var seen [][]byte
	check := func(m []byte) error {
		var pm Message
		if err := Parse(m, &pm); err != nil {
			return err
		}
		seen = append(seen, append([]byte(nil), m...))
		return nil
	}
	if err := d.Feed(stream[:3], check); err != nil {
		t.Fatal(err)
	}
	if err := d.Feed(stream[3:], check); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || !bytes.Equal(seen[0], vecTXT) || !bytes.Equal(seen[1], vecSOA) {
		t.Fatal("frames differ")
	}
}

func TestStreamDecoderAllocs(t *testing.T) {
	stream := append(frame(vecTXT), frame(vecSOA)...)
	var d StreamDecoder
	fn := func([]byte) error { return nil }
	_ = d.Feed(stream[:7], fn) // grow the buffer once
	_ = d.Feed(stream[7:], fn)
	allocs := testing.AllocsPerRun(100, func() {
		_ = d.Feed(stream[:7], fn)
		_ = d.Feed(stream[7:], fn)
	})
	if allocs != 0 {
		t.Errorf("%v allocs per run", allocs)
	}
}

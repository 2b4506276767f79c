// Package source reads captured frames: pcap and pcapng files (also gzip
// compressed, several interfaces and link types per file), and directories
// of them. Live interfaces implement the same Source interface.
package source

import (
	"errors"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Frame is one captured frame. Data is owned by the Source and valid only
// until the next call to Next (zero-copy).
type Frame struct {
	Data      []byte
	Timestamp time.Time
	WireLen   int // length on the wire; len(Data) may be shorter (snaplen)
	// Clamped: the record claimed fewer bytes on the wire than it holds;
	// WireLen was raised to len(Data).
	Clamped   bool
	LinkType  layers.LinkType
	Interface int // interface index within the source
	// Offset is where the frame's record starts in the (uncompressed)
	// capture file, or a pcapng block before it that is not a packet;
	// File.SeekRecord goes back there. 0 for live sources.
	Offset int64
}

// Source yields frames in capture order.
type Source interface {
	// Next fills f with the next frame. It returns io.EOF at the clean end
	// of input, and an error naming the file and offset when the input is
	// damaged (every frame before it was delivered).
	Next(f *Frame) error
	// Name identifies the source in messages (a path or interface name).
	Name() string
	Close() error
}

// Lasting is implemented by sources whose frames can outlive the next
// call to Next, so that a consumer may hold them without copying.
type Lasting interface {
	// Hold asks that every Frame.Data returned from now on stay valid and
	// unchanged until Close, and reports whether it will (a slice of a
	// file's memory mapping; its bytes may fault if another process cuts
	// the file meanwhile).
	Hold() bool
	// Release tells a held source that the frames before offset off
	// (Frame.Offset) are no longer used: it may give their memory back.
	// They can still be read, rarely, until Close: a released page of a
	// mapping reads the file's bytes again (the retransmission check
	// compares with delivered bytes where they are).
	Release(off int64)
}

// ErrTimeout is returned by a live source's Next when no frame arrived
// within its read timeout; the caller may call Next again.
var ErrTimeout = errors.New("read timeout")

// ErrNotCapture is returned for a file that is neither pcap nor pcapng.
var ErrNotCapture = errors.New("not a pcap or pcapng file")

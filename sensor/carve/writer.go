package carve

import (
	"bufio"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// Writer writes carved frames as pcap (nanosecond timestamps, one link
// type) or pcapng (one interface per link type met).
type Writer struct {
	bw     *bufio.Writer
	ng     bool
	pw     *pcapgo.Writer
	nw     *pcapgo.NgWriter
	link   layers.LinkType
	ifaces map[layers.LinkType]int
	// Frames counts the frames written.
	Frames uint64
}

// NewWriter returns a Writer onto w; pcapng chooses the format.
func NewWriter(w io.Writer, pcapng bool) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10), ng: pcapng}
}

// start writes the file header for the first frame's link type.
func (w *Writer) start(lt layers.LinkType) error {
	w.link = lt
	if !w.ng {
		w.pw = pcapgo.NewWriterNanos(w.bw)
		return w.pw.WriteFileHeader(262144, lt)
	}
	nw, err := pcapgo.NewNgWriterInterface(w.bw, ngInterface(lt), pcapgo.DefaultNgWriterOptions)
	if err != nil {
		return err
	}
	w.nw, w.ifaces = nw, map[layers.LinkType]int{lt: 0}
	return nil
}

func ngInterface(lt layers.LinkType) pcapgo.NgInterface {
	return pcapgo.NgInterface{LinkType: lt, SnapLength: 262144, TimestampResolution: 9}
}

// Write appends one frame.
func (w *Writer) Write(fr *source.Frame) error {
	if w.pw == nil && w.nw == nil {
		if err := w.start(fr.LinkType); err != nil {
			return err
		}
	}
	ci := gopacket.CaptureInfo{Timestamp: fr.Timestamp, CaptureLength: len(fr.Data), Length: max(fr.WireLen, len(fr.Data))}
	w.Frames++
	if !w.ng {
		if fr.LinkType != w.link {
			return fmt.Errorf("frames of link types %d and %d cannot share a pcap file: write pcapng (a .pcapng name)", w.link, fr.LinkType)
		}
		return w.pw.WritePacket(ci, fr.Data)
	}
	id, ok := w.ifaces[fr.LinkType]
	if !ok {
		var err error
		if id, err = w.nw.AddInterface(ngInterface(fr.LinkType)); err != nil {
			return err
		}
		w.ifaces[fr.LinkType] = id
	}
	ci.InterfaceIndex = id
	return w.nw.WritePacket(ci, fr.Data)
}

// Close finishes the file (a file without frames still gets its header,
// Ethernet's) and flushes it; it does not close the underlying writer.
func (w *Writer) Close() error {
	if w.pw == nil && w.nw == nil {
		if err := w.start(layers.LinkTypeEthernet); err != nil {
			return err
		}
	}
	if w.nw != nil {
		if err := w.nw.Flush(); err != nil {
			return err
		}
	}
	return w.bw.Flush()
}

package pcapgen

import "encoding/binary"

// NgBlocks writes pcapng blocks one by one, in either byte order and with
// any field value, well-formed or not: for the edge cases of pcapng readers
// (sections of both byte orders, interfaces with their own link types and
// time resolutions, unknown blocks, cut or misaligned blocks).
type NgBlocks struct {
	Order NgOrder // of the current section
	b     []byte
}

// NgOrder is a byte order: binary.LittleEndian or binary.BigEndian.
type NgOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// Bytes returns what was written.
func (w *NgBlocks) Bytes() []byte { return w.b }

// Block writes a block of type typ around body, padded to 4 bytes.
func (w *NgBlocks) Block(typ uint32, body []byte) {
	n := 12 + (len(body)+3)&^3
	w.BlockLen(typ, uint32(n), body, uint32(n))
}

// BlockLen writes a block with the given lengths in its header and
// trailer, whatever the body's size (padded to 4 bytes).
func (w *NgBlocks) BlockLen(typ, head uint32, body []byte, trail uint32) {
	w.b = w.Order.AppendUint32(w.b, typ)
	w.b = w.Order.AppendUint32(w.b, head)
	w.b = append(w.b, body...)
	w.b = append(w.b, make([]byte, (4-len(body)%4)%4)...)
	w.b = w.Order.AppendUint32(w.b, trail)
}

// Section starts a section of version 1.0 in byte order o.
func (w *NgBlocks) Section(o NgOrder) {
	w.Order = o
	body := o.AppendUint32(nil, 0x1a2b3c4d)
	body = o.AppendUint16(body, 1)
	body = o.AppendUint16(body, 0)
	body = o.AppendUint64(body, ^uint64(0)) // section length unknown
	w.Block(0x0a0d0d0a, body)
}

// NgOption is an option of a block: code and value.
type NgOption struct {
	Code  uint16
	Value []byte
}

// Interface describes an interface; options such as if_tsresol (9) and
// if_tsoffset (14) follow, then the end of options.
func (w *NgBlocks) Interface(link uint16, snaplen uint32, opts ...NgOption) {
	body := w.Order.AppendUint16(nil, link)
	body = append(body, 0, 0)
	body = w.Order.AppendUint32(body, snaplen)
	for _, o := range opts {
		body = w.Order.AppendUint16(body, o.Code)
		body = w.Order.AppendUint16(body, uint16(len(o.Value)))
		body = append(body, o.Value...)
		body = append(body, make([]byte, (4-len(o.Value)%4)%4)...)
	}
	body = append(body, 0, 0, 0, 0)
	w.Block(1, body)
}

// Enhanced writes an enhanced packet block of interface iface with the raw
// timestamp ts (in the interface's resolution).
func (w *NgBlocks) Enhanced(iface uint32, ts uint64, data []byte, orig uint32) {
	body := w.Order.AppendUint32(nil, iface)
	body = w.Order.AppendUint32(body, uint32(ts>>32))
	body = w.Order.AppendUint32(body, uint32(ts))
	body = w.Order.AppendUint32(body, uint32(len(data)))
	body = w.Order.AppendUint32(body, orig)
	w.Block(6, append(body, data...))
}

// Simple writes a simple packet block.
func (w *NgBlocks) Simple(data []byte, orig uint32) {
	w.Block(3, append(w.Order.AppendUint32(nil, orig), data...))
}

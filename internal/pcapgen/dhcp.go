package pcapgen

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// DHCPOption is one option of a generated DHCP message.
type DHCPOption struct {
	Code  uint8
	Value []byte
}

// DHCPMessage builds a DHCPv4 message: op 1 (client) or 2 (server), the
// transaction id, the client's MAC, the offered address yiaddr and the
// options in order (an End is added). Options that do not fit the
// 312-byte options field are not moved: callers test overload explicitly
// with DHCPOverloaded.
func DHCPMessage(op uint8, xid uint32, mac [6]byte, yiaddr netip.Addr, opts ...DHCPOption) []byte {
	b := dhcpHeader(op, xid, mac, yiaddr)
	for _, o := range opts {
		b = append(b, o.Code, byte(len(o.Value)))
		b = append(b, o.Value...)
	}
	return append(b, 255)
}

func dhcpHeader(op uint8, xid uint32, mac [6]byte, yiaddr netip.Addr) []byte {
	b := make([]byte, 240, 576)
	b[0], b[1], b[2] = op, 1, 6
	binary.BigEndian.PutUint32(b[4:], xid)
	if yiaddr.Is4() {
		a := yiaddr.As4()
		copy(b[16:], a[:])
	}
	copy(b[28:], mac[:])
	binary.BigEndian.PutUint32(b[236:], 0x63825363)
	return b
}

// DHCPOverloaded builds a message whose options field holds main and an
// option 52 (overload, 3 = both), the file field fileOpts and the sname
// field snameOpts (each ended by End; they must fit 128 and 64 bytes).
func DHCPOverloaded(op uint8, xid uint32, mac [6]byte, yiaddr netip.Addr, main, fileOpts, snameOpts []DHCPOption) []byte {
	b := dhcpHeader(op, xid, mac, yiaddr)
	put := func(dst []byte, opts []DHCPOption) {
		i := 0
		for _, o := range opts {
			dst[i], dst[i+1] = o.Code, byte(len(o.Value))
			i += 2 + copy(dst[i+2:], o.Value)
		}
		dst[i] = 255
	}
	put(b[108:236], fileOpts)
	put(b[44:108], snameOpts)
	main = append([]DHCPOption{{52, []byte{3}}}, main...)
	for _, o := range main {
		b = append(b, o.Code, byte(len(o.Value)))
		b = append(b, o.Value...)
	}
	return append(b, 255)
}

// UDPDatagram is one UDP datagram from src to dst carrying payload.
func UDPDatagram(src, dst netip.AddrPort, t time.Time, payload []byte) Packet {
	return UDPExchange(src, dst, t, payload, nil)[0]
}

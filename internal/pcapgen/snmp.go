package pcapgen

import "bytes"

// ber encodes one BER element (short or two-byte long length form).
func ber(tag byte, parts ...[]byte) []byte {
	v := bytes.Join(parts, nil)
	if n := len(v); n >= 128 {
		return append([]byte{tag, 0x82, byte(n >> 8), byte(n)}, v...)
	}
	return append([]byte{tag, byte(len(v))}, v...)
}

// SNMPv2cGet is a v2c get-request with community and the BER-encoded
// OIDs given (each bound to NULL).
func SNMPv2cGet(community string, oids ...[]byte) []byte {
	var binds [][]byte
	for _, o := range oids {
		binds = append(binds, ber(0x30, ber(0x06, o), []byte{0x05, 0}))
	}
	pdu := ber(0xa0, ber(0x02, []byte{0x12, 0x34}), ber(0x02, []byte{0}), ber(0x02, []byte{0}), ber(0x30, binds...))
	return ber(0x30, ber(0x02, []byte{1}), ber(0x04, []byte(community)), pdu)
}

package snmp

import (
	"bytes"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// ber encodes one BER element.
func ber(tag byte, parts ...[]byte) []byte {
	v := bytes.Join(parts, nil)
	return append([]byte{tag, byte(len(v))}, v...)
}

var sysName = []byte{0x2b, 6, 1, 2, 1, 1, 5, 0} // 1.3.6.1.2.1.1.5.0

func TestParseV2c(t *testing.T) {
	var m Message
	if err := Parse(pcapgen.SNMPv2cGet("public", sysName), &m); err != nil {
		t.Fatal(err)
	}
	if m.Version != 1 || string(m.Community) != "public" || PDUName(m.PDU) != "get_request" || m.RequestID != 0x1234 || m.NumOIDs != 1 {
		t.Fatalf("%+v", m)
	}
	if got := string(AppendOID(nil, m.OIDs[0])); got != "1.3.6.1.2.1.1.5.0" {
		t.Errorf("oid %s", got)
	}
	if !DefaultCommunity(m.Community) || DefaultCommunity([]byte("[R0_C@cti!]")) {
		t.Error("default community")
	}
	// Many bindings: MaxOIDs kept, the rest counted (long-form lengths).
	var many [][]byte
	for range 40 {
		many = append(many, sysName)
	}
	if err := Parse(pcapgen.SNMPv2cGet("x", many...), &m); err != nil || m.NumOIDs != MaxOIDs || m.MoreOIDs != 40-MaxOIDs {
		t.Errorf("%v %d+%d", err, m.NumOIDs, m.MoreOIDs)
	}
	// Multi-byte sub-identifiers and the 2.x arc.
	if got := string(AppendOID(nil, []byte{0x88, 0x37, 0x01})); got != "2.999.1" {
		t.Errorf("oid %s", got)
	}
}

func TestParseV3(t *testing.T) {
	usm := ber(0x30, ber(0x04, []byte("engine")), ber(0x02, []byte{1}), ber(0x02, []byte{2}), ber(0x04, []byte("monitor")),
		ber(0x04, nil), ber(0x04, nil))
	global := ber(0x30, ber(0x02, []byte{7}), ber(0x02, []byte{0x05, 0xdc}), ber(0x04, []byte{0x01}), ber(0x02, []byte{3}))
	pdu := ber(0xa1, ber(0x02, []byte{1}), ber(0x02, []byte{0}), ber(0x02, []byte{0}), ber(0x30, ber(0x30, ber(0x06, sysName), []byte{5, 0})))
	scoped := ber(0x30, ber(0x04, []byte("engine")), ber(0x04, nil), pdu)
	msg := ber(0x30, ber(0x02, []byte{3}), global, ber(0x04, usm), scoped)
	var m Message
	if err := Parse(msg, &m); err != nil || m.Version != 3 || string(m.UserName) != "monitor" || PDUName(m.PDU) != "get_next_request" || m.NumOIDs != 1 {
		t.Fatalf("%v %+v", err, m)
	}
	priv := bytes.Replace(msg, []byte{0x04, 0x01, 0x01}, []byte{0x04, 0x01, 0x03}, 1) // flags auth+priv
	if err := Parse(priv, &m); err != nil || !m.Encrypted || m.NumOIDs != 0 {
		t.Errorf("%v %+v", err, m)
	}
}

func TestHostile(t *testing.T) {
	good := pcapgen.SNMPv2cGet("public", sysName)
	for name, b := range map[string][]byte{
		"cut":          good[:len(good)-1],
		"trailing":     append(bytes.Clone(good), 0),
		"version 2":    bytes.Replace(good, []byte{0x02, 0x01, 0x01}, []byte{0x02, 0x01, 0x02}, 1),
		"length 4 oct": {0x30, 0x84, 0, 0, 0, 1, 0},
		"pdu tag a9":   bytes.Replace(good, []byte{0xa0}, []byte{0xa9}, 1),
		"not ber":      []byte("GET / HTTP/1.1\r\n\r\n"),
	} {
		if Sniff(b) {
			t.Errorf("%s: sniffed as SNMP", name)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	msg := pcapgen.SNMPv2cGet("public", sysName, sysName, sysName)
	var m Message
	oid := make([]byte, 0, 64)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Parse(msg, &m); err != nil {
			b.Fatal(err)
		}
		for _, o := range m.OIDs[:m.NumOIDs] {
			oid = AppendOID(oid[:0], o)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(pcapgen.SNMPv2cGet("public", sysName))
	f.Add(pcapgen.SNMPv2cGet("x", sysName, sysName))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		if Parse(b, &m) == nil && (m.NumOIDs > MaxOIDs || m.PDU < 0 || m.PDU > 8) {
			t.Fatalf("%+v", m)
		}
		for _, o := range m.OIDs[:m.NumOIDs] {
			_ = AppendOID(nil, o)
		}
	})
}

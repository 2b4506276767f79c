package ntp

import (
	"testing"
)

func client() []byte {
	b := make([]byte, 48)
	b[0], b[1], b[2], b[3] = 0x23, 0, 6, 0xe9 // v4 client, poll 6, precision -23
	return b
}

func TestParseAndSniff(t *testing.T) {
	var m Message
	srv := client()
	srv[0], srv[1] = 0x24, 1
	copy(srv[12:], "GPS\x00")
	if err := Parse(srv, &m); err != nil || m.Version != 4 || m.Mode != ModeServer || m.Stratum != 1 || string(m.RefID[:3]) != "GPS" {
		t.Fatalf("%v %+v", err, m)
	}
	for name, c := range map[string]struct {
		b    []byte
		want bool
	}{
		"client":         {client(), true},
		"with mac":       {append(client(), make([]byte, 20)...), true},
		"odd trailer":    {append(client(), 1), false},
		"short":          {client()[:47], false},
		"mode 0":         {append([]byte{0x20}, client()[1:]...), false},
		"version 5":      {append([]byte{0x2b}, client()[1:]...), false},
		"stratum 200":    {append([]byte{0x23, 200}, client()[2:]...), false},
		"monlist":        {[]byte{0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0}, true},
		"mode 7 impl 9":  {[]byte{0x17, 0x00, 0x09, 0x2a, 0, 0, 0, 0}, false},
		"readvar":        {[]byte{0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, true},
		"readvar cut":    {[]byte{0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 8}, false},
		"control op 0":   {[]byte{0x16, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, false},
		"dns-like query": {[]byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01"), false},
	} {
		if got := Sniff(c.b); got != c.want {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
	if err := Parse([]byte{0x17, 0x80, 3, 42, 0, 1, 0, 0}, &m); err != nil || m.Opcode != ReqMonGetList1 || OpcodeName(m.Mode, m.Opcode) != "mon_getlist_1" || m.Count != 1 || m.Response {
		t.Errorf("%v %+v", err, m)
	}
	if ModeName(6) != "control" || OpcodeName(ModeControl, 2) != "readvar" {
		t.Error(ModeName(6), OpcodeName(ModeControl, 2))
	}
}

func BenchmarkParse(b *testing.B) {
	msg := client()
	var m Message
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if !Sniff(msg) || Parse(msg, &m) != nil {
			b.Fatal("not ntp")
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(client())
	f.Add([]byte{0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0})
	f.Add([]byte{0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		err := Parse(b, &m)
		if Sniff(b) && err != nil {
			t.Fatalf("sniffed, then %v", err)
		}
		if err == nil && (m.Mode == 0 || m.Version > 4) {
			t.Fatalf("%+v", m)
		}
		_ = OpcodeName(m.Mode, m.Opcode)
	})
}

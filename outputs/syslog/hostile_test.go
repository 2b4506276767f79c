package syslog

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// hostileRecord carries NUL, CR/LF and the Unicode line and paragraph
// separators in fields that come from the wire.
func hostileRecord() schemas.Record {
	ev := schemas.Event{Timestamp: t0}
	ev.Event.Kind, ev.Event.Dataset = "event", schemas.DatasetDNS
	ev.DNS.Question.Name = "a\x00hidden.example"
	ev.URL.Original = "/x\u2028y\u2029z\r\nw"
	ev.Rule.Name = "r\x00n\u2028"
	ev.Source.IP = "192.0.2.1"
	rec, err := schemas.NewRecord(&ev)
	if err != nil {
		panic(err)
	}
	return rec
}

// A NUL cuts a message short in C receivers, hiding the fields after it;
// U+2028/U+2029 break lines in JSON-unaware viewers. Neither may reach the
// wire raw, in CEF or JSON messages, RFC 5424 or 3164.
func TestNoNULOrLineSeparators(t *testing.T) {
	for _, o := range []Options{{Message: "json"}, {Message: "cef"}, {Message: "cef", Format: "rfc3164"}, {Message: "json", Format: "rfc3164"}} {
		s := mustNew(t, o)
		rec := hostileRecord()
		msg := s.format(&rec)
		for _, bad := range []string{"\x00", "\u2028", "\u2029", "\n", "\r"} {
			if bytes.Contains(msg, []byte(bad)) {
				t.Errorf("%+v: %q in %q", o, bad, msg)
			}
		}
		if !bytes.Contains(msg, []byte("hidden.example")) {
			t.Errorf("%+v: the field after the NUL is lost: %q", o, msg)
		}
	}
}

// A record whose JSON holds raw NUL or separators (not from the sensor's
// encoder) is escaped on the way out, and stays the same JSON.
func TestJSONPayloadRawControls(t *testing.T) {
	s := mustNew(t, Options{Message: "json"})
	rec := hostileRecord()
	rec.JSON = []byte("{\"dns\":{\"question\":{\"name\":\"a\x00b\u2028c\u2029d\x1be\"}}}")
	msg := s.format(&rec)
	_, payload, _ := bytes.Cut(msg, []byte("] "))
	if want := `{"dns":{"question":{"name":"a\u0000b\u2028c\u2029d\u001be"}}}`; string(payload) != want {
		t.Errorf("payload %q, want %q", payload, want)
	}
	var v map[string]any
	if err := json.Unmarshal(payload, &v); err != nil {
		t.Errorf("escaped payload is not JSON: %v", err)
	}
}

func BenchmarkFormatJSON(b *testing.B) {
	s, err := New(Options{Address: "127.0.0.1:514", Hostname: "h", Message: "json"})
	if err != nil {
		b.Fatal(err)
	}
	rec := alertRecord(50)
	b.ReportAllocs()
	b.SetBytes(int64(len(rec.JSON)))
	for b.Loop() {
		s.format(&rec)
	}
}

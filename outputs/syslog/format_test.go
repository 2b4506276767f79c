package syslog

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 123456789, time.UTC)

func alertRecord(sev int) schemas.Record {
	ev := schemas.Event{Timestamp: t0}
	ev.Event.ID = `a"b]c\d`
	ev.Event.Kind = "alert"
	ev.Event.Dataset = schemas.DatasetAlert
	ev.Event.Severity = sev
	ev.Event.Category = []string{"network", "intrusion_detection"}
	ev.Rule.ID = "PS-0001"
	ev.Rule.Name = "Port scan | horizontal"
	ev.Rule.Description = "many ports\nfrom one host = scan"
	ev.Source.IP, ev.Source.Port = "192.0.2.1", 40000
	ev.Destination.IP, ev.Destination.Port = "198.51.100.2", 22
	ev.Network.Transport, ev.Network.CommunityID = "tcp", "1:abc="
	rec, err := schemas.NewRecord(&ev)
	if err != nil {
		panic(err)
	}
	return rec
}

func mustNew(t *testing.T, o Options) *Sink {
	t.Helper()
	if o.Address == "" {
		o.Address = "127.0.0.1:514"
	}
	if o.Hostname == "" {
		o.Hostname = "sensor-1"
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	s.procID = "42"
	return s
}

func TestRFC5424Message(t *testing.T) {
	s := mustNew(t, Options{Facility: "local4"})
	rec := alertRecord(80)
	got := string(s.format(&rec))
	want := `<163>1 2026-11-24T10:00:00.123456Z sensor-1 packetsleuth 42 alert [packetsleuth@32473 dataset="packetsleuth.alert" kind="alert" id="a\"b\]c\\d" community_id="1:abc="] ` + string(rec.JSON)
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Structured data carries no control byte: under LF framing a line feed in
// a record's id or kind would end the message and start a forged one.
func TestSDParamControlBytes(t *testing.T) {
	s := mustNew(t, Options{Framing: "lf"})
	ev := schemas.Event{Timestamp: t0}
	ev.Event.ID = "x\n<13>1 forged\r\x00\x7f"
	ev.Event.Kind, ev.Event.Dataset = "alert", schemas.DatasetAlert
	rec, err := schemas.NewRecord(&ev)
	if err != nil {
		t.Fatal(err)
	}
	got := string(s.format(&rec))
	header, _, _ := strings.Cut(got, "] {") // MSG is JSON: a line feed there is escaped
	if strings.ContainsAny(header, "\n\r\x00\x7f") || strings.Contains(got, "\n") {
		t.Errorf("control bytes in %q", got)
	}
	if !strings.Contains(got, `id="x_<13>1 forged___"`) {
		t.Errorf("id not kept with its control bytes replaced: %q", got)
	}
}

func TestRFC3164Message(t *testing.T) {
	s := mustNew(t, Options{Format: "rfc3164", Facility: "1", Severity: "notice", AppName: "ps sensor"})
	s.loc = time.UTC
	rec := schemas.Record{Dataset: schemas.DatasetDNS, Kind: "event", Time: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), JSON: []byte(`{"event":{"kind":"event"}}`)}
	got := string(s.format(&rec))
	want := `<13>Mar  4 05:06:07 sensor-1 ps_sensor[42]: {"event":{"kind":"event"}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestSeverityMapping(t *testing.T) {
	for sev, want := range map[int]int{0: 4, 10: 5, 47: 4, 73: 3, 98: 3, 99: 2, 100: 2} {
		var f fields
		f.Event.Kind, f.Event.Severity = "alert", sev
		if got := severity(&f, sevInfo); got != want {
			t.Errorf("alert severity %d -> %d, want %d", sev, got, want)
		}
	}
	var f fields
	f.Event.Kind, f.Event.Severity = "event", 99
	if got := severity(&f, sevInfo); got != sevInfo {
		t.Errorf("event -> %d", got)
	}
}

func TestCEFEscaping(t *testing.T) {
	for _, tc := range []struct{ in, header, value string }{
		{`plain`, `plain`, `plain`},
		{`a|b`, `a\|b`, `a|b`},
		{`a\b`, `a\\b`, `a\\b`},
		{`a=b`, `a=b`, `a\=b`},
		{"a\nb\rc", "a b c", `a\nb\rc`},
		{`\|=`, `\\\|=`, `\\|\=`},
	} {
		if got := string(appendCEFHeader(nil, tc.in)); got != tc.header {
			t.Errorf("header %q -> %q, want %q", tc.in, got, tc.header)
		}
		if got := string(appendCEFValue(nil, tc.in)); got != tc.value {
			t.Errorf("value %q -> %q, want %q", tc.in, got, tc.value)
		}
	}
}

// splitCEF splits a CEF line into its 7 header fields and the extension,
// honouring escapes, so the test does not trust the writer.
func splitCEF(t *testing.T, line string) ([]string, map[string]string) {
	t.Helper()
	var fields []string
	var cur strings.Builder
	i := 0
	for ; i < len(line) && len(fields) < 7; i++ {
		switch c := line[i]; {
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == '|':
			fields = append(fields, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	ext := map[string]string{}
	keyRE := regexp.MustCompile(`^([A-Za-z0-9]+)=`)
	rest := line[i:]
	for rest != "" {
		m := keyRE.FindStringSubmatch(rest)
		if m == nil {
			t.Fatalf("bad extension at %q", rest)
		}
		rest = rest[len(m[0]):]
		var v strings.Builder
		for rest != "" {
			if rest[0] == '\\' && len(rest) > 1 {
				switch rest[1] {
				case 'n':
					v.WriteByte('\n')
				case 'r':
					v.WriteByte('\r')
				default:
					v.WriteByte(rest[1])
				}
				rest = rest[2:]
				continue
			}
			if rest[0] == ' ' && keyRE.MatchString(rest[1:]) {
				rest = rest[1:]
				break
			}
			v.WriteByte(rest[0])
			rest = rest[1:]
		}
		ext[m[1]] = v.String()
	}
	return fields, ext
}

func TestCEFMessage(t *testing.T) {
	s := mustNew(t, Options{Message: "cef", Version: "2.1"})
	rec := alertRecord(80)
	var f fields
	parseFields(&rec, &f)
	line := string(s.appendCEF(nil, &rec, &f))
	hdr, ext := splitCEF(t, line)
	wantHdr := []string{"CEF:0", "PacketSleuth", "PacketSleuth", "2.1", "PS-0001", "Port scan | horizontal", "8"}
	if fmt.Sprint(hdr) != fmt.Sprint(wantHdr) {
		t.Errorf("header %q, want %q\n%s", hdr, wantHdr, line)
	}
	for k, v := range map[string]string{
		"src": "192.0.2.1", "spt": "40000", "dst": "198.51.100.2", "dpt": "22", "proto": "TCP",
		"rt": fmt.Sprint(t0.UnixMilli()), "cs1": "1:abc=", "cs1Label": "communityId", "externalId": `a"b]c\d`,
		"msg": "many ports\nfrom one host = scan", "cat": "network,intrusion_detection", "cs2": "packetsleuth.alert",
	} {
		if ext[k] != v {
			t.Errorf("ext %s = %q, want %q\n%s", k, ext[k], v, line)
		}
	}
	if strings.ContainsAny(line, "\n\r") {
		t.Errorf("raw line break in CEF: %q", line)
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, o := range []Options{
		{Network: "sctp", Address: "h:1"},
		{Address: "nohostport"},
		{Address: "h:1", Format: "rfc9999"},
		{Address: "h:1", Message: "xml"},
		{Address: "h:1", Facility: "local9"},
		{Address: "h:1", Severity: "8"},
		{Address: "h:1", CA: "/x"},
		{Address: "h:1", Network: "tls", Cert: "/only-cert"},
		{Address: "h:1", SDID: "nopen"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	for _, m := range []string{"json", "cef"} {
		b.Run(m, func(b *testing.B) {
			s, _ := New(Options{Address: "h:1", Message: m})
			rec := alertRecord(50)
			b.ReportAllocs()
			for b.Loop() {
				s.format(&rec)
			}
		})
	}
}

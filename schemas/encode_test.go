package schemas

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"
)

// encoding/json is the reference: Encode must write exactly its bytes, and
// fail exactly when it fails.
func checkAgainstStdlib(t testing.TB, ev *Event) (ok bool) {
	t.Helper()
	want, wantErr := json.Marshal(ev)
	prefix := []byte("prefix ")
	got, err := Encode(slices.Clip(prefix), ev)
	switch {
	case wantErr != nil && err == nil:
		t.Fatalf("encoding/json fails (%v), Encode does not; wrote\n%s\nevent %#v", wantErr, got, ev)
	case wantErr == nil && err != nil:
		t.Fatalf("Encode fails (%v), encoding/json does not; want\n%s\nevent %#v", err, want, ev)
	case err != nil:
		var ee *EncodeError
		if !errors.As(err, &ee) || ee.Field == "" {
			t.Fatalf("Encode error %v is not an *EncodeError naming a field", err)
		}
		if string(got) != "prefix " {
			t.Fatalf("Encode on error returned %q, want the buffer it was given", got)
		}
		return false
	}
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("Encode lost the caller's bytes: %q", got)
	}
	if got = got[len(prefix):]; !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("Encode differs from encoding/json at byte %d:\n got %s\nwant %s\nevent %#v", i, got, want, ev)
	}
	return true
}

func TestEncodeMatchesStdlibOnRandomEvents(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	rnd := rand.New(rand.NewPCG(2026, 11))
	var ok, failed int
	for range n {
		// One event in four may hold values both encoders refuse.
		s := &source{rnd: rnd, encodable: rnd.IntN(4) != 0}
		if checkAgainstStdlib(t, s.event()) {
			ok++
		} else {
			failed++
		}
	}
	// Both outcomes must be exercised, or the test proves little.
	if ok < n/2 || failed < n/50 {
		t.Fatalf("%d events encoded, %d refused: the filler no longer exercises both", ok, failed)
	}
	t.Logf("%d events identical to encoding/json, %d refused by both", ok, failed)
}

func FuzzEncode(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	f.Add(bytes.Repeat([]byte{0x01, 0x02, 0x03, 0x05, 0x07}, 200))
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		b := make([]byte, 2048)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &source{data: data}
		checkAgainstStdlib(t, s.event())
	})
}

// Cases the random filler reaches only by luck, each checked against
// encoding/json and, where the point is subtle, against the bytes expected.
func TestEncodeEdgeCases(t *testing.T) {
	base := func() *Event {
		ev := &Event{Timestamp: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), ECS: ECS{Version: ECSVersion}}
		ev.Event.Kind = "event"
		ev.Event.Dataset = DatasetFlow
		return ev
	}
	negZero := math.Copysign(0, -1)
	cases := []struct {
		name     string
		edit     func(*Event)
		contains string // in the output, when set
		absent   string // not in the output, when set
		fails    bool
	}{
		{"nil category is null", func(ev *Event) {}, `"category":null`, "", false},
		{"empty category is []", func(ev *Event) { ev.Event.Category = []string{} }, `"category":[]`, "", false},
		{"empty non-nil slice keeps its group", func(ev *Event) { ev.Related.IP = []string{} }, `"related":{}`, "", false},
		{"nil slice drops its group", func(ev *Event) { ev.Related.IP = nil }, "", `"related"`, false},
		{"empty map keeps its group", func(ev *Event) { ev.Sensor.Traffic.BytesByProtocol = map[string]int64{} },
			`"packetsleuth":{"traffic":{"packets":0,"bytes":0,"flows":0}}`, "", false},
		{"map keys sorted by bytes", func(ev *Event) {
			ev.Sensor.Traffic.BytesByProtocol = map[string]int64{"udp": 2, "tcp": 1, "icmp": -3, "Z": 0, "\xff": 9, "é": 4, "<": 5}
		}, `"bytes_by_protocol":{"\u003c":5,"Z":0,"icmp":-3,"tcp":1,"udp":2,"é":4,"\ufffd":9}`, "", false},
		{"-0 is a zero group", func(ev *Event) { ev.Sensor.Peak.Value = negZero }, "", `"peak"`, false},
		{"-0 inside a group", func(ev *Event) { ev.Sensor.Peak.Value = negZero; ev.Sensor.Peak.Metric = "bytes" },
			`"value":-0,"baseline":0`, "", false},
		{"-0 risk score omitted", func(ev *Event) { ev.Event.RiskScore = negZero }, "", "risk_score", false},
		{"geo point", func(ev *Event) { ev.Source.Geo.Location = GeoPoint{Lat: -33.8688, Lon: 151.2093} },
			`"location":{"lat":-33.8688,"lon":151.2093}`, "", false},
		{"float forms", func(ev *Event) {
			ev.Sensor.Peak = Peak{Value: 1e21, Baseline: 1e-7, StdDev: 123456789.125, Threshold: 1e20, K: 1e-6}
		}, `"value":1e+21,"baseline":1e-7,"stddev":123456789.125,"threshold":100000000000000000000,"k":0.000001`, "", false},
		{"NaN", func(ev *Event) { ev.Event.RiskScore = math.NaN() }, "", "", true},
		{"+Inf", func(ev *Event) { ev.Sensor.Peak.Threshold = math.Inf(1) }, "", "", true},
		{"-Inf in geo", func(ev *Event) { ev.Destination.Geo.Location.Lon = math.Inf(-1) }, "", "", true},
		{"zero time with a location keeps its group", func(ev *Event) {
			ev.TLS.Server.NotBefore = time.Time{}.In(time.FixedZone("X", 3600))
		}, `"server":{}`, "not_before", false},
		{"zero timestamp written", func(ev *Event) { ev.Timestamp = time.Time{} }, `"@timestamp":"0001-01-01T00:00:00Z"`, "", false},
		{"monotonic clock reading ignored", func(ev *Event) { ev.Event.Start = time.Now(); ev.Event.End = time.Now().Add(time.Second) }, "", "m=", false},
		{"nanoseconds trimmed, zone kept", func(ev *Event) {
			ev.Event.Start = time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.FixedZone("", -(9*3600+30*60+15)))
		}, `"start":"2026-01-02T03:04:05.12-09:30"`, "", false},
		{"year 0", func(ev *Event) { ev.Event.End = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC) }, `"end":"0000-01-01T00:00:00Z"`, "", false},
		{"year 9999", func(ev *Event) {
			ev.TLS.Server.X509.NotAfter = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
		},
			`"not_after":"9999-12-31T23:59:59.999999999Z"`, "", false},
		{"year 10000", func(ev *Event) { ev.TLS.Server.X509.NotAfter = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "", "", true},
		{"year -1", func(ev *Event) { ev.Timestamp = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) }, "", "", true},
		{"zone +23:59", func(ev *Event) { ev.Event.Start = ev.Timestamp.In(time.FixedZone("", 23*3600+59*60)) }, `+23:59"`, "", false},
		{"zone +24:00", func(ev *Event) { ev.Event.Start = ev.Timestamp.In(time.FixedZone("", 24*3600)) }, "", "", true},
		{"zone -100:00", func(ev *Event) { ev.Event.Start = ev.Timestamp.In(time.FixedZone("", -100*3600)) }, "", "", true},
		{"times sharing a second and not", func(ev *Event) {
			ev.Timestamp = time.Date(2026, 11, 26, 10, 0, 0, 500000000, time.UTC)
			ev.Event.Start = time.Date(2026, 11, 26, 9, 59, 59, 1, time.UTC)
			ev.Event.End = time.Date(2026, 11, 26, 10, 0, 0, 1000, time.UTC)
		}, `"@timestamp":"2026-11-26T10:00:00.5Z","ecs":{"version":"` + ECSVersion + `"},"event":{"kind":"event","category":null,"dataset":"packetsleuth.flow","start":"2026-11-26T09:59:59.000000001Z","end":"2026-11-26T10:00:00.000001Z"}`, "", false},
		{"empty string pointing into another is a zero group", func(ev *Event) {
			ev.HTTP.Request.Method = emptyButPointing
		}, "", `"http"`, false},
		{"negative duration", func(ev *Event) { ev.Event.Duration = -1500 * time.Millisecond }, `"duration":-1500000000`, "", false},
		{"extreme integers", func(ev *Event) { ev.Network.Bytes = math.MinInt64; ev.Source.AS.Number = math.MaxInt64 },
			`"bytes":-9223372036854775808`, "", false},
		{"ICMP echo reply is type 0 code 0 and omitted", func(ev *Event) { ev.Sensor.Flow.ICMP = ICMPInfo{} }, "", "icmp", false},
		{"ICMP type 0 code 1", func(ev *Event) { ev.Sensor.Flow.ICMP = ICMPInfo{Code: 1} }, `"icmp":{"type":0,"code":1}`, "", false},
		{"booleans written even when false", func(ev *Event) { ev.TLS.Cipher = "x" }, `"tls":{"cipher":"x","established":false,"resumed":false}`, "", false},
		{"string escapes", func(ev *Event) {
			ev.URL.Original = "\"\\/\b\f\n\r\t\x00\x1f\x7f<>&'\u2028\u2029\xff\xc3(\ufffdé"
		}, `"original":"\"\\/\b\f\n\r\t\u0000\u001f` + "\x7f" + `\u003c\u003e\u0026'\u2028\u2029\ufffd\ufffd(` + "\ufffdé" + `"`, "", false},
		{"DNS answers and an empty answer", func(ev *Event) {
			ev.DNS.Answers = []DNSAnswer{{Name: "a.example", Type: "A", Class: "IN", TTL: 60, Data: "192.0.2.1"}, {}}
		}, `"answers":[{"name":"a.example","type":"A","class":"IN","ttl":60,"data":"192.0.2.1"},{"ttl":0}]`, "", false},
		{"threat enrichments, zero one included", func(ev *Event) {
			var e ThreatEnrichment
			e.Indicator.URL.Domain = "evil.example"
			e.Indicator.Marking.TLP = "AMBER"
			ev.Threat.Enrichments = []ThreatEnrichment{e, {}}
		}, `"enrichments":[{"indicator":{"url":{"domain":"evil.example"},"marking":{"tlp":"AMBER"}},"matched":{}},{"indicator":{},"matched":{}}]`, "", false},
		{"empty enrichments omitted, group kept", func(ev *Event) { ev.Threat.Enrichments = []ThreatEnrichment{} }, `"threat":{}`, "", false},
		{"anonymous structs", func(ev *Event) {
			ev.Observer.Ingress.Interface.Name = "eth0"
			ev.Destination.AS.Organization.Name = "Example & Co"
		}, `"ingress":{"interface":{"name":"eth0"}}`, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := base()
			c.edit(ev)
			ok := checkAgainstStdlib(t, ev)
			if ok == c.fails {
				t.Fatalf("encoded = %v, want %v", ok, !c.fails)
			}
			if !ok {
				return
			}
			got, _ := Encode(nil, ev)
			if c.contains != "" && !strings.Contains(string(got), c.contains) {
				t.Errorf("output lacks %s:\n%s", c.contains, got)
			}
			if c.absent != "" && strings.Contains(string(got), c.absent) {
				t.Errorf("output has %s:\n%s", c.absent, got)
			}
		})
	}
}

// emptyButPointing is "" with a data pointer: a group holding only it is
// zero for encoding/json, though its memory is not all zeroes.
var emptyButPointing = strings.Repeat("x", 3)[:0]

func TestEmptyButPointingIsNotZeroMemory(t *testing.T) {
	if unsafe.StringData(emptyButPointing) == nil {
		t.Fatal("the empty string has no data pointer: the edge case tests nothing")
	}
}

// zeroBlock must cover every group allZero is asked about, or groups
// fall back to the field-by-field check (correct, but slow).
func TestAllZeroCoversGroups(t *testing.T) {
	if n := unsafe.Sizeof(Event{}); n > uintptr(len(zeroBlock)) {
		t.Errorf("an Event is %d bytes, zeroBlock %d", n, len(zeroBlock))
	}
}

func TestEncodeErrorNamesField(t *testing.T) {
	ev := flowEvent()
	ev.Event.End = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	ev.Sensor.Peak.Value = math.NaN() // after end: the first error is kept
	_, err := Encode(nil, ev)
	var ee *EncodeError
	if !errors.As(err, &ee) || ee.Field != "end" || !strings.Contains(err.Error(), "year outside of range") {
		t.Fatalf("error %v, want one on field end about the year", err)
	}
}

// jsonField is one json path of the Event type, and the Go path to it.
type jsonField struct {
	path, goPath string
	isMap        bool
}

// jsonFields lists, by reflection, every json path encoding/json can write
// for t: nested groups, elements of slices of structs, anonymous structs.
func jsonFields(t reflect.Type, path, goPath string, out []jsonField) []jsonField {
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := sf.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if sf.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			out = jsonFields(ft, path, goPath+"."+sf.Name, out) // embedded: flattened
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f := jsonField{path: path + name, goPath: goPath + "." + sf.Name, isMap: ft.Kind() == reflect.Map}
		out = append(out, f)
		if ft.Kind() == reflect.Struct && ft != timeType {
			out = jsonFields(ft, f.path+".", f.goPath, out)
		}
	}
	return out
}

// jsonPaths collects every key path of a decoded document, looking through
// arrays.
func jsonPaths(v any, path string, out map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			p := path + k
			out[p] = true
			jsonPaths(e, p+".", out)
		}
	case []any:
		for _, e := range v {
			jsonPaths(e, path, out)
		}
	}
}

// TestEncoderCoversEveryField guards against drift: a field added to a
// struct reachable from Event, but not to encode.go, fails here by name.
func TestEncoderCoversEveryField(t *testing.T) {
	var ev Event
	fillFull(reflect.ValueOf(&ev).Elem())
	out, err := Encode(nil, &ev)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("Encode wrote invalid JSON: %v\n%s", err, out)
	}
	got := map[string]bool{}
	jsonPaths(doc, "", got)

	fields := jsonFields(reflect.TypeFor[Event](), "", "Event", nil)
	want := map[string]bool{}
	var maps []string
	for _, f := range fields {
		want[f.path] = true
		if f.isMap {
			maps = append(maps, f.path+".")
		}
		if !got[f.path] {
			t.Errorf("field %s (json %q) is not written by Encode: add it to the appendX of its struct in encode.go, in declaration order", f.goPath, f.path)
		}
	}
	for p := range got {
		if !want[p] && !slices.ContainsFunc(maps, func(m string) bool { return strings.HasPrefix(p, m) }) {
			t.Errorf("Encode writes %q, which no struct field has", p)
		}
	}
	if len(fields) < 200 {
		t.Fatalf("only %d fields found by reflection: the walk is broken", len(fields))
	}
	// And with everything set, the bytes are still encoding/json's.
	checkAgainstStdlib(t, &ev)
}

// Typical events, as the sensor makes them.

func flowEvent() *Event {
	ts := time.Date(2026, 11, 24, 10, 0, 0, 9000000, time.UTC)
	ev := &Event{Timestamp: ts, ECS: ECS{Version: ECSVersion}}
	ev.Event = EventMeta{Kind: "event", Category: []string{"network"}, Type: []string{"connection", "end"},
		Dataset: DatasetFlow, Action: "network_flow", Start: ts.Add(-9 * time.Millisecond), End: ts, Duration: 9 * time.Millisecond}
	ev.Network = Network{Transport: "tcp", Type: "ipv4", IANANumber: "6", Protocol: "http", Bytes: 836, Packets: 10,
		CommunityID: "1:e0H8FXGKa3iNVFPGza+GE3x1Op8=", VLAN: VLAN{ID: "100"}, Inner: Inner{VLAN: VLAN{ID: "200"}}}
	ev.Source = Endpoint{IP: "10.1.0.10", Port: 49152, MAC: "02-00-00-00-00-01", Bytes: 476, Packets: 6}
	ev.Destination = Endpoint{IP: "192.0.2.80", Port: 80, MAC: "02-00-00-00-00-02", Bytes: 360, Packets: 4,
		Geo: Geo{ContinentName: "Europe", CountryISOCode: "FR", CountryName: "France", CityName: "Paris",
			Location: GeoPoint{Lat: 48.8534, Lon: 2.3488}},
	}
	ev.Destination.AS.Number = 64496
	ev.Destination.AS.Organization.Name = "Example Networks"
	ev.Related.IP = []string{"10.1.0.10", "192.0.2.80"}
	ev.Sensor.Flow = FlowInfo{State: "SF", History: "ShADadFf", TCPFlagsOrig: "FSPA", TCPFlagsResp: "FSPA", EndReason: "fin"}
	return ev
}

func dnsEvent() *Event {
	ts := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	ev := &Event{Timestamp: ts, ECS: ECS{Version: ECSVersion}}
	ev.Event = EventMeta{Kind: "event", Category: []string{"network"}, Type: []string{"protocol"},
		Dataset: DatasetDNS, Outcome: "success", Start: ts, End: ts.Add(2 * time.Millisecond), Duration: 2 * time.Millisecond}
	ev.Network = Network{Transport: "udp", Type: "ipv4", IANANumber: "17", Protocol: "dns", CommunityID: "1:ATNQ0kvBw+sT6t9L92l1JWg73/o="}
	ev.Source = Endpoint{IP: "10.1.0.10", Port: 53000}
	ev.Destination = Endpoint{IP: "10.1.0.53", Port: 53}
	ev.Related = Related{IP: []string{"10.1.0.10", "10.1.0.53"}, Hosts: []string{"www.example.com"}}
	ev.DNS = DNS{ID: "4660", OpCode: "QUERY", HeaderFlags: []string{"RD", "RA"}, ResponseCode: "NOERROR", Type: "answer",
		Question: DNSQuestion{Name: "www.example.com", Type: "A", Class: "IN", RegisteredDomain: "example.com", Subdomain: "www", TopLevelDomain: "com"},
		Answers: []DNSAnswer{
			{Name: "www.example.com", Type: "CNAME", Class: "IN", TTL: 300, Data: "edge.example.net"},
			{Name: "edge.example.net", Type: "A", Class: "IN", TTL: 3600, Data: "93.184.216.34"},
			{Name: "edge.example.net", Type: "A", Class: "IN", TTL: 3600, Data: "93.184.216.35"},
		},
		ResolvedIP: []string{"93.184.216.34", "93.184.216.35"}}
	return ev
}

func httpEvent() *Event {
	ts := time.Date(2026, 11, 24, 10, 0, 0, 3000000, time.UTC)
	ev := &Event{Timestamp: ts, ECS: ECS{Version: ECSVersion}}
	ev.Event = EventMeta{Kind: "event", Category: []string{"network", "web"}, Type: []string{"protocol"},
		Dataset: DatasetHTTP, Outcome: "success", Start: ts, End: ts.Add(2 * time.Millisecond), Duration: 2 * time.Millisecond}
	ev.Network = Network{Transport: "tcp", Type: "ipv4", IANANumber: "6", Protocol: "http", CommunityID: "1:e0H8FXGKa3iNVFPGza+GE3x1Op8="}
	ev.Source = Endpoint{IP: "10.1.0.10", Port: 49152}
	ev.Destination = Endpoint{IP: "192.0.2.80", Port: 80}
	ev.Related = Related{IP: []string{"10.1.0.10", "192.0.2.80"}, Hosts: []string{"www.example.com"}}
	ev.HTTP = HTTP{Version: "1.1", Request: HTTPRequest{Method: "GET", Bytes: 104, Referrer: "https://www.example.com/?a=1&b=<2>"},
		Response: HTTPResponse{StatusCode: 200, Bytes: 112, Body: HTTPBody{Bytes: 48}, MimeType: "text/html"}}
	ev.URL = URL{Original: "/index.html?q=packetsleuth&lang=fr", Scheme: "http", Domain: "www.example.com", Port: 80,
		Path: "/index.html", Query: "q=packetsleuth&lang=fr"}
	ev.UserAgent.Original = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
	return ev
}

func tlsEvent() *Event {
	ts := time.Date(2026, 11, 24, 10, 0, 1, 250000000, time.UTC)
	ev := &Event{Timestamp: ts, ECS: ECS{Version: ECSVersion}}
	ev.Event = EventMeta{Kind: "event", Category: []string{"network"}, Type: []string{"protocol"},
		Dataset: DatasetTLS, Outcome: "success", Start: ts, End: ts.Add(40 * time.Millisecond), Duration: 40 * time.Millisecond}
	ev.Network = Network{Transport: "tcp", Type: "ipv4", IANANumber: "6", Protocol: "tls", CommunityID: "1:Xv0rJ2fFJ7Jc3jC1mGz2ZmX1uAo="}
	ev.Source = Endpoint{IP: "10.1.0.10", Port: 50514}
	ev.Destination = Endpoint{IP: "192.0.2.44", Port: 443}
	ev.Related = Related{IP: []string{"10.1.0.10", "192.0.2.44"}, Hosts: []string{"www.example.com"},
		Hash: []string{"b4d1c5e0b1a7f2ffe0c3b1d4a8e7f6c5d4b3a2e1f0d9c8b7a6e5f4d3c2b1a0f9"}}
	notBefore := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	notAfter := time.Date(2027, 2, 14, 23, 59, 59, 0, time.UTC)
	ev.TLS = TLS{Version: "1.3", VersionProtocol: "tls", Cipher: "TLS_AES_128_GCM_SHA256", Curve: "x25519",
		Established: true, NextProtocol: "h2",
		Client: TLSClient{ServerName: "www.example.com", JA3: "771d9a4d0f0e2bd6d0b3e0f1f7b8f5a4c",
			SupportedCiphers: []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
				"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}},
		Server: TLSServer{JA3S: "eb1d94daa7e0344597e756a1fb6e7054", Subject: "CN=www.example.com,O=Example Inc,C=US",
			Issuer: "CN=Example CA R3,O=Example Trust,C=US", NotBefore: notBefore, NotAfter: notAfter,
			Hash: Hashes{SHA1: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", SHA256: "b4d1c5e0b1a7f2ffe0c3b1d4a8e7f6c5d4b3a2e1f0d9c8b7a6e5f4d3c2b1a0f9"},
			X509: X509{VersionNumber: "3", SerialNumber: "0C8EE0C90D6A89158804061EE241F9AF",
				Subject: X509Name{DistinguishedName: "CN=www.example.com,O=Example Inc,C=US", CommonName: []string{"www.example.com"},
					Organization: []string{"Example Inc"}, Country: []string{"US"}},
				Issuer: X509Name{DistinguishedName: "CN=Example CA R3,O=Example Trust,C=US", CommonName: []string{"Example CA R3"},
					Organization: []string{"Example Trust"}, Country: []string{"US"}},
				NotBefore: notBefore, NotAfter: notAfter,
				AlternativeNames:   []string{"www.example.com", "example.com", "*.cdn.example.com"},
				PublicKeyAlgorithm: "ECDSA", PublicKeySize: 256, SignatureAlgorithm: "SHA256-RSA"}}}
	ev.Sensor.TLS.JA4 = "t13d1516h2_8daaf6152771_02713d6af862"
	return ev
}

func timeseriesEvent() *Event {
	ts := time.Date(2026, 11, 24, 10, 0, 1, 0, time.UTC)
	ev := &Event{Timestamp: ts, ECS: ECS{Version: ECSVersion}}
	ev.Event = EventMeta{Kind: "metric", Category: []string{"network"}, Dataset: DatasetTimeseries, Duration: time.Second}
	ev.Sensor.Traffic = Traffic{Interface: "eth0", Packets: 1200, Bytes: 960000, Flows: 14,
		BytesByProtocol: map[string]int64{"tcp": 900000, "udp": 50000, "icmp": 1000, "other": 9000}}
	return ev
}

var typicalEvents = []struct {
	name string
	ev   func() *Event
}{
	{"flow", flowEvent},
	{"dns", dnsEvent},
	{"http", httpEvent},
	{"tls", tlsEvent},
	{"timeseries", timeseriesEvent},
}

func TestEncodeTypicalEvents(t *testing.T) {
	for _, c := range typicalEvents {
		t.Run(c.name, func(t *testing.T) {
			if !checkAgainstStdlib(t, c.ev()) {
				t.Fatal("refused")
			}
		})
	}
}

func TestEncodeDoesNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters change allocation counts")
	}
	for _, c := range typicalEvents {
		t.Run(c.name, func(t *testing.T) {
			ev := c.ev()
			buf, err := Encode(nil, ev) // warm-up: the buffer grows once
			if err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(100, func() {
				buf, err = Encode(buf[:0], ev)
			})
			if err != nil {
				t.Fatal(err)
			}
			if allocs != 0 {
				t.Fatalf("%v allocations per %s event, want 0", allocs, c.name)
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, c := range typicalEvents {
		b.Run(c.name, func(b *testing.B) {
			ev := c.ev()
			buf, _ := Encode(nil, ev)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = Encode(buf[:0], ev)
			}
		})
	}
}

// BenchmarkEncodeStdlib is what Encode replaced: encoding/json.Marshal
// appended to a reused buffer.
func BenchmarkEncodeStdlib(b *testing.B) {
	for _, c := range typicalEvents {
		b.Run(c.name, func(b *testing.B) {
			ev := c.ev()
			buf, _ := json.Marshal(ev)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				out, _ := json.Marshal(ev)
				buf = append(buf[:0], out...)
			}
		})
	}
}

// needsEscape agrees with htmlSafe for every byte at every place of a word,
// and on random words.
func TestNeedsEscape(t *testing.T) {
	safe := func(c byte) bool { return c < utf8.RuneSelf && htmlSafe[c] }
	word := func(b [8]byte) uint64 {
		var w uint64
		for i := 7; i >= 0; i-- {
			w = w<<8 | uint64(b[i])
		}
		return w
	}
	for c := range 256 {
		for at := range 8 {
			b := [8]byte{'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}
			b[at] = byte(c)
			if got := needsEscape(word(b)); got == safe(byte(c)) {
				t.Fatalf("byte %#x at %d: needsEscape = %v", c, at, got)
			}
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var b [8]byte
		want := false
		for i := range b {
			b[i] = byte(rnd.IntN(256))
			if rnd.IntN(2) == 0 {
				b[i] = byte(0x20 + rnd.IntN(0x60)) // mostly printable
			}
			want = want || !safe(b[i])
		}
		if got := needsEscape(word(b)); got != want {
			t.Fatalf("%q: needsEscape = %v, want %v", b, got, want)
		}
	}
}

// copySafe agrees with a byte-by-byte look at strings of every length up
// to four words with any one byte anywhere (the short strings read in one
// word, the last word overlapping) and copies a safe one whole, and
// quoted agrees with encoding/json.
func TestCopySafeMatchesBytes(t *testing.T) {
	safe := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf || !htmlSafe[s[i]] {
				return false
			}
		}
		return true
	}
	for n := range 33 {
		dst := make([]byte, n)
		if !copySafe(dst, strings.Repeat("a", n)) {
			t.Fatalf("%d safe bytes: not safe", n)
		}
		for at := range n {
			for c := range 256 {
				b := []byte(strings.Repeat("a", n))
				b[at] = byte(c)
				s := string(b)
				clear(dst)
				got := copySafe(dst, s)
				if got != safe(s) {
					t.Fatalf("%q: copySafe = %v", s, got)
				}
				if got && string(dst) != s {
					t.Fatalf("%q: copySafe copied %q", s, dst)
				}
				want, _ := json.Marshal(s)
				var e encoder
				if e.quoted(s); !bytes.Equal(e.b, want) {
					t.Fatalf("%q: quoted = %s, want %s", s, e.b, want)
				}
			}
		}
	}
}

// needsEscape is exact with two bytes set side by side anywhere in a word:
// a byte that borrows in one of its subtractions (a control character, ",
// &, <, >, \) must not make a safe neighbour look unsafe, or the other way.
func TestNeedsEscapeAdjacentBytes(t *testing.T) {
	safe := func(c byte) bool { return c < utf8.RuneSelf && htmlSafe[c] }
	for at := range 7 {
		for c := range 256 {
			for d := range 256 {
				b := [8]byte{'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}
				b[at], b[at+1] = byte(c), byte(d)
				want := !safe(byte(c)) || !safe(byte(d))
				if got := needsEscape(binary.LittleEndian.Uint64(b[:])); got != want {
					t.Fatalf("%q: needsEscape = %v, want %v", b, got, want)
				}
			}
		}
	}
}

// quoted writes what encoding/json does for the runes the word scan hands
// to the slow path, at every place across word boundaries: U+2028 and
// U+2029 (escaped), other multi-byte runes (kept), invalid UTF-8 (U+FFFD),
// a rune cut by the end of the string, a control byte and a quote; and it
// appends after what the buffer held, at any spare capacity (in place when
// the buffer has room).
func TestQuotedRunesAtEveryPlace(t *testing.T) {
	inserts := []string{"\u2028", "\u2029", "é", "€", "\U0001F600", "\xff", "\xe2\x80", "\xed\xa0\x80", "\x00", "\x1f", "\"", "\\", "<", "\x7f"}
	for n := range 33 {
		for at := 0; at <= n; at++ {
			for _, in := range inserts {
				s := strings.Repeat("a", at) + in + strings.Repeat("b", n-at)
				want, _ := json.Marshal(s)
				for _, spare := range []int{0, 1, 2, len(s) + 1, len(s) + 2, len(want)} {
					e := encoder{b: append(make([]byte, 0, 3+spare), "x,y"...)}
					if e.quoted(s); string(e.b[:3]) != "x,y" || !bytes.Equal(e.b[3:], want) {
						t.Fatalf("%q after %d spare bytes: quoted = %s, want x,y%s", s, spare, e.b, want)
					}
				}
			}
		}
	}
}

// allZero agrees with a byte-by-byte look at every length and alignment
// of a buffer with one byte set anywhere, or none.
func TestAllZeroMatchesBytes(t *testing.T) {
	buf := make([]byte, 96)
	for set := -1; set < len(buf); set++ {
		clear(buf)
		if set >= 0 {
			buf[set] = 0x80
		}
		for from := range 16 {
			for n := 0; from+n <= len(buf); n++ {
				want := set < from || set >= from+n
				if got := allZero(unsafe.Pointer(&buf[from]), uintptr(n)); got != want {
					t.Fatalf("byte %d set, %d bytes from %d: allZero = %v", set, n, from, got)
				}
			}
		}
	}
}

// timestamp writes a UTC time as time.Time.MarshalJSON does with every
// count of the nanoseconds' digits and of their trailing zeros, after a
// time of the same second and of another (the cached date).
func TestTimestampUTCNanoseconds(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	var e encoder
	check := func(ns int) {
		t.Helper()
		for _, sec := range []int64{1764000000, 1764000000 + rnd.Int64N(1e6)} {
			tm := time.Unix(sec, int64(ns)).UTC()
			want, _ := tm.MarshalJSON()
			e.b = e.b[:0]
			if e.timestamp(`,"t":`, tm); !bytes.Equal(e.b, want) {
				t.Fatalf("%d ns: timestamp = %s, want %s", ns, e.b, want)
			}
		}
	}
	check(0)
	// Every shape of the nine digits after the point: the first digit
	// that is not 0 at first (leading zeros: .001, .000000005) and the
	// last one at last (trailing zeros, which the encoding drops).
	for first := range 9 {
		for last := first; last < 9; last++ {
			for range 20 {
				var digits [9]byte
				for i := range digits {
					digits[i] = '0'
					if i > first && i < last {
						digits[i] += byte(rnd.IntN(10))
					}
				}
				digits[first] = '1' + byte(rnd.IntN(9))
				digits[last] = '1' + byte(rnd.IntN(9))
				ns, err := strconv.Atoi(string(digits[:]))
				if err != nil {
					t.Fatal(err)
				}
				check(ns)
			}
		}
	}
}

// timestamp writes each time as time.Time.MarshalJSON does when times
// repeat, in any order: the same instant again (the last one written is
// kept), another instant of its second (the nanoseconds differ, or are 0),
// the same nanoseconds in another second, and a time not in UTC between.
func TestTimestampRepeatedInstants(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	paris := time.FixedZone("CET", 3600)
	var times []time.Time
	for _, sec := range []int64{1764000000, 1764000001, 1764003600} {
		for _, ns := range []int64{0, 5, 500_000_000, 123_456_789, 120_000_000} {
			times = append(times, time.Unix(sec, ns).UTC())
		}
	}
	var e encoder
	for i := range 5000 {
		tm := times[rnd.IntN(len(times))]
		if i%50 == 0 {
			tm = tm.In(paris)
		}
		want, _ := tm.MarshalJSON()
		for range 1 + rnd.IntN(3) { // an instant again and again
			e.b = e.b[:0]
			if e.timestamp(`,"t":`, tm); !bytes.Equal(e.b, want) {
				t.Fatalf("time %d: timestamp = %s, want %s", i, e.b, want)
			}
		}
	}
}

// decimal writes every integer as strconv does: each one below 100,000
// (the digits written in place), those about it and past it, negative
// ones and the extremes, with room in the buffer and without.
func TestDecimalAsStrconv(t *testing.T) {
	var e encoder
	check := func(v int64) {
		t.Helper()
		for _, room := range []int{0, 4, 5, 64} {
			e.b = make([]byte, 1, 1+room)
			if e.decimal(v); string(e.b[1:]) != strconv.FormatInt(v, 10) {
				t.Fatalf("%d, room for %d bytes: decimal = %q", v, room, e.b[1:])
			}
		}
	}
	for v := int64(0); v < 100_100; v++ {
		check(v)
	}
	for _, v := range []int64{-1, -9, -10, -99_999, -100_000, 999_999, 1_000_000, math.MaxInt64, math.MinInt64} {
		check(v)
	}
}

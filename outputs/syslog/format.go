package syslog

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// fields are the parts of an ECS document that syslog headers and CEF use.
type fields struct {
	Event struct {
		ID       string   `json:"id"`
		Kind     string   `json:"kind"`
		Dataset  string   `json:"dataset"`
		Action   string   `json:"action"`
		Outcome  string   `json:"outcome"`
		Category []string `json:"category"`
		Severity int      `json:"severity"`
	} `json:"event"`
	Network struct {
		Transport   string `json:"transport"`
		Protocol    string `json:"protocol"`
		Bytes       int64  `json:"bytes"`
		CommunityID string `json:"community_id"`
	} `json:"network"`
	Source      endpoint `json:"source"`
	Destination endpoint `json:"destination"`
	DNS         struct {
		Question struct {
			Name string `json:"name"`
		} `json:"question"`
	} `json:"dns"`
	HTTP struct {
		Request struct {
			Method string `json:"method"`
		} `json:"request"`
	} `json:"http"`
	URL struct {
		Original string `json:"original"`
	} `json:"url"`
	TLS struct {
		Client struct {
			ServerName string `json:"server_name"`
		} `json:"client"`
	} `json:"tls"`
	Rule struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"rule"`
}

type endpoint struct {
	IP      string `json:"ip"`
	Port    int    `json:"port"`
	MAC     string `json:"mac"`
	Domain  string `json:"domain"`
	Bytes   int64  `json:"bytes"`
	Packets int64  `json:"packets"`
}

func parseFields(rec *schemas.Record, f *fields) {
	*f = fields{}
	json.Unmarshal(rec.JSON, f) // a bad document leaves f partly empty
	if f.Event.Dataset == "" {
		f.Event.Dataset = rec.Dataset
	}
	if f.Event.Kind == "" {
		f.Event.Kind = rec.Kind
	}
}

// Syslog severities (RFC 5424 section 6.2.1).
const (
	sevCritical = 2
	sevError    = 3
	sevWarning  = 4
	sevNotice   = 5
	sevInfo     = 6
)

// severity maps an event to a syslog severity: alerts by event.severity on
// the ECS/Elastic 0-100 scale (>=99 critical, >=73 error, >=47 warning,
// else notice; unset warning), every other event is the configured one.
func severity(f *fields, events int) int {
	if f.Event.Kind != "alert" {
		return events
	}
	switch s := f.Event.Severity; {
	case s <= 0:
		return sevWarning
	case s >= 99:
		return sevCritical
	case s >= 73:
		return sevError
	case s >= 47:
		return sevWarning
	default:
		return sevNotice
	}
}

// appendPRI appends "<PRI>".
func appendPRI(b []byte, facility, sev int) []byte {
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(facility*8+sev), 10)
	return append(b, '>')
}

// appendHeader5424 appends the RFC 5424 header up to and including the
// structured data and the space before MSG.
func (s *Sink) appendHeader5424(b []byte, rec *schemas.Record, f *fields) []byte {
	b = appendPRI(b, s.facility, severity(f, s.evSeverity))
	b = append(b, "1 "...)
	if rec.Time.IsZero() {
		b = append(b, '-')
	} else {
		// RFC 5424 allows at most 6 fraction digits
		b = rec.Time.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	}
	b = append(b, ' ')
	b = appendHeaderField(b, s.hostname, 255)
	b = append(b, ' ')
	b = appendHeaderField(b, s.opts.AppName, 48)
	b = append(b, ' ')
	b = append(b, s.procID...)
	b = append(b, ' ')
	b = appendHeaderField(b, msgID(f.Event.Dataset), 32)
	b = append(b, " ["...)
	b = append(b, s.opts.SDID...)
	b = appendSDParam(b, "dataset", f.Event.Dataset)
	b = appendSDParam(b, "kind", f.Event.Kind)
	if f.Event.ID != "" {
		b = appendSDParam(b, "id", f.Event.ID)
	}
	if f.Network.CommunityID != "" {
		b = appendSDParam(b, "community_id", f.Network.CommunityID)
	}
	return append(b, "] "...)
}

// appendHeader3164 appends "<PRI>Mmm dd hh:mm:ss HOST TAG[pid]: ".
func (s *Sink) appendHeader3164(b []byte, rec *schemas.Record, f *fields) []byte {
	b = appendPRI(b, s.facility, severity(f, s.evSeverity))
	t := rec.Time
	if t.IsZero() {
		t = time.Now()
	}
	b = t.In(s.loc).AppendFormat(b, time.Stamp)
	b = append(b, ' ')
	b = appendHeaderField(b, s.hostname, 255)
	b = append(b, ' ')
	b = appendHeaderField(b, s.opts.AppName, 32)
	b = append(b, '[')
	b = append(b, s.procID...)
	return append(b, "]: "...)
}

// msgID is the dataset without its "packetsleuth." prefix.
func msgID(ds string) string {
	if i := strings.LastIndexByte(ds, '.'); i >= 0 {
		ds = ds[i+1:]
	}
	return ds
}

// appendHeaderField appends a PRINTUSASCII header field (RFC 5424 section
// 6): other bytes become '_', an empty value is "-".
func appendHeaderField(b []byte, v string, maxLen int) []byte {
	if v == "" {
		return append(b, '-')
	}
	for i := 0; i < len(v) && i < maxLen; i++ {
		c := v[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

// appendSDParam appends ` name="value"` escaping '"', '\' and ']'. A
// control byte becomes '_', as in header fields: the values are read from
// the records (a collector's come from Kafka), and a line feed would end
// the message early under LF framing, a NUL in C receivers.
func appendSDParam(b []byte, name, v string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, `="`...)
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' || c == '\\' || c == ']':
			b = append(b, '\\', c)
		case c < ' ' || c == 0x7f:
			b = append(b, '_')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// CEF (ArcSight Common Event Format, rev 25):
//
//	CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension
//
// Header fields escape '\' and '|'; extension values escape '\' and '=' and
// write newlines as \n and \r. Line breaks in header fields become spaces.
// Other control characters and U+2028/U+2029 become \u00XX / \u2028 in
// values and spaces in headers: a NUL cuts the message short in C
// receivers (hiding the fields after it), the separators break lines.

func appendCEFHeader(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' || c == '|':
			b = append(b, '\\', c)
		case c < 0x20 || c == 0x7f:
			b = append(b, ' ')
		case isLineSep(v[i:]):
			b = append(b, ' ')
			i += 2
		default:
			b = append(b, c)
		}
	}
	return b
}

func appendCEFValue(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' || c == '=':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c < 0x20 || c == 0x7f:
			b = fmt.Appendf(b, `\u%04x`, c)
		case isLineSep(v[i:]):
			b = fmt.Appendf(b, `\u%04x`, 0x2028+int(v[i+2]-0xa8))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return b
}

// isLineSep says whether s starts with U+2028 or U+2029 in UTF-8.
func isLineSep[T string | []byte](s T) bool {
	return len(s) >= 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)
}

// appendJSON appends an ECS document with any raw NUL, other control
// character or U+2028/U+2029 written as a \u escape. The sensor's own
// encoder never leaves them raw, but a record may come from elsewhere
// (an NDJSON file), and a raw one can only sit inside a string, where the
// escape means the same.
func appendJSON(b, doc []byte) []byte {
	clean := true
	for i := 0; i < len(doc); i++ {
		if doc[i] < 0x20 || isLineSep(doc[i:]) {
			clean = false
			break
		}
	}
	if clean {
		return append(b, doc...)
	}
	for i := 0; i < len(doc); i++ {
		switch c := doc[i]; {
		case c < 0x20:
			b = fmt.Appendf(b, `\u%04x`, c)
		case isLineSep(doc[i:]):
			b = fmt.Appendf(b, `\u%04x`, 0x2028+int(doc[i+2]-0xa8))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return b
}

// cefSeverity is 0-10: alerts by event.severity/10, events are 3 (low).
func cefSeverity(f *fields) int {
	if f.Event.Kind != "alert" {
		return 3
	}
	if f.Event.Severity <= 0 {
		return 5
	}
	return min(10, (f.Event.Severity+5)/10)
}

// appendCEF appends the CEF message of one event.
func (s *Sink) appendCEF(b []byte, rec *schemas.Record, f *fields) []byte {
	sig, name := f.Event.Dataset, f.Event.Action
	if f.Event.Kind == "alert" && f.Rule.ID != "" {
		sig, name = f.Rule.ID, f.Rule.Name
	}
	if name == "" {
		name = msgID(f.Event.Dataset)
	}
	b = append(b, "CEF:0|PacketSleuth|PacketSleuth|"...)
	b = appendCEFHeader(b, s.opts.Version)
	b = append(b, '|')
	b = appendCEFHeader(b, sig)
	b = append(b, '|')
	b = appendCEFHeader(b, name)
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(cefSeverity(f)), 10)
	b = append(b, '|')
	n := len(b)
	kv := func(k, v string) {
		if v == "" {
			return
		}
		if len(b) > n {
			b = append(b, ' ')
		}
		b = append(b, k...)
		b = append(b, '=')
		b = appendCEFValue(b, v)
	}
	num := func(k string, v int64) {
		if v != 0 {
			kv(k, strconv.FormatInt(v, 10))
		}
	}
	if !rec.Time.IsZero() {
		num("rt", rec.Time.UnixMilli())
	}
	kv("src", f.Source.IP)
	num("spt", int64(f.Source.Port))
	kv("smac", f.Source.MAC)
	kv("shost", f.Source.Domain)
	kv("dst", f.Destination.IP)
	num("dpt", int64(f.Destination.Port))
	kv("dmac", f.Destination.MAC)
	kv("dhost", f.Destination.Domain)
	kv("proto", strings.ToUpper(f.Network.Transport))
	kv("app", f.Network.Protocol)
	num("out", f.Source.Bytes)
	num("in", f.Destination.Bytes)
	kv("act", f.Event.Action)
	kv("outcome", f.Event.Outcome)
	kv("cat", strings.Join(f.Event.Category, ","))
	kv("externalId", f.Event.ID)
	kv("requestMethod", f.HTTP.Request.Method)
	kv("request", f.URL.Original)
	kv("msg", f.Rule.Description)
	if f.Network.CommunityID != "" {
		kv("cs1", f.Network.CommunityID)
		kv("cs1Label", "communityId")
	}
	kv("cs2", f.Event.Dataset)
	kv("cs2Label", "dataset")
	if f.DNS.Question.Name != "" {
		kv("cs3", f.DNS.Question.Name)
		kv("cs3Label", "dnsQuestion")
	}
	if f.TLS.Client.ServerName != "" {
		kv("cs4", f.TLS.Client.ServerName)
		kv("cs4Label", "tlsServerName")
	}
	return b
}

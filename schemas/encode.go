package schemas

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// This file is the hand-written JSON encoder behind Encode. Its output is
// byte-identical to encoding/json.Marshal(ev) (the tests hold it to that on
// random events), without reflection and without allocating once the
// caller's buffer is large enough.
//
// The rules it follows, field by field, are those of encoding/json:
//   - fields in declaration order, under their json tag names;
//   - omitempty drops "", 0, false and empty slices and maps;
//   - omitzero drops a time.Time whose IsZero is true, and a struct that
//     equals its zero value as reflect.Value.IsZero sees it: every field
//     zero, where a slice or map is zero only when nil (an empty, non-nil
//     slice keeps its group, which then encodes as {}), a float is zero
//     when == 0 (so -0 too), and a time.Time only when it is time.Time{}
//     (a zero instant with a location set is not);
//   - a nil slice without omitempty encodes as null;
//   - strings are escaped HTML-safe (<, >, & as \u003c…), with U+2028 and
//     U+2029 escaped and invalid UTF-8 replaced by U+FFFD;
//   - float64 uses the shortest 'f' form, or 'e' below 1e-6 and from 1e21;
//     NaN and ±Inf are errors;
//   - time.Time is time.Time.MarshalJSON (RFC 3339 with nanoseconds), an
//     error for a year outside [0,9999] or a zone offset of 24h or more;
//   - time.Duration is its integer count of nanoseconds;
//   - map keys are sorted by their raw bytes.
//
// Adding a field to a struct of this package means adding it here, in the
// appendX of that struct, in declaration order: TestEncoderCoversEveryField
// fails until then.

// encoder appends one event to b. The first error is kept in err; encoding
// carries on (cheaply) and Encode throws the output away.
type encoder struct {
	b   []byte
	err error
}

// EncodeError is returned by Encode for a value JSON cannot carry: a NaN
// or infinite float, or a time that RFC 3339 cannot express.
type EncodeError struct {
	Field string // the json key of the field holding the value (last path element)
	Err   error
}

func (e *EncodeError) Error() string {
	return "schemas: encoding field " + strconv.Quote(e.Field) + ": " + e.Err.Error()
}

func (e *EncodeError) Unwrap() error { return e.Err }

var (
	errTimeYear = errors.New("Time.MarshalJSON: year outside of range [0,9999]")
	errTimeZone = errors.New("Time.MarshalJSON: timezone hour outside of range [0,23]")
	errNaN      = errors.New("unsupported value: NaN")
	errPosInf   = errors.New("unsupported value: +Inf")
	errNegInf   = errors.New("unsupported value: -Inf")
)

func (e *encoder) fail(key string, err error) {
	if e.err == nil {
		e.err = &EncodeError{Field: key, Err: err}
	}
}

// ---- structure helpers ----

// field writes the separating comma (unless key opens its object) and
// the quoted key with its colon. Keys are the literal ASCII tag names of
// this package, so they need no escaping.
func (e *encoder) field(key string) {
	if e.b[len(e.b)-1] != '{' {
		e.b = append(e.b, ',')
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, key...)
	e.b = append(e.b, '"', ':')
}

// begin and end open and close a JSON object.
func (e *encoder) begin() { e.b = append(e.b, '{') }
func (e *encoder) end()   { e.b = append(e.b, '}') }

// ---- scalar fields ----

func (e *encoder) stringField(key, s string) {
	e.field(key)
	e.b = appendString(e.b, s)
}

// optString writes a string field tagged omitempty.
func (e *encoder) optString(key, s string) {
	if s != "" {
		e.stringField(key, s)
	}
}

func (e *encoder) intField(key string, v int64) {
	e.field(key)
	e.b = strconv.AppendInt(e.b, v, 10)
}

// optInt writes an integer field tagged omitempty.
func (e *encoder) optInt(key string, v int64) {
	if v != 0 {
		e.intField(key, v)
	}
}

func (e *encoder) boolField(key string, v bool) {
	e.field(key)
	e.b = strconv.AppendBool(e.b, v)
}

func (e *encoder) floatField(key string, f float64) {
	e.field(key)
	e.b = e.appendFloat(e.b, key, f)
}

// optFloat writes a float field tagged omitempty (-0 == 0 is omitted too).
func (e *encoder) optFloat(key string, f float64) {
	if f != 0 {
		e.floatField(key, f)
	}
}

func (e *encoder) timeField(key string, t time.Time) {
	e.field(key)
	e.b = e.appendTime(e.b, key, t)
}

// optTime writes a time.Time field tagged omitzero (time.Time.IsZero).
func (e *encoder) optTime(key string, t time.Time) {
	if !t.IsZero() {
		e.timeField(key, t)
	}
}

// ---- slices and maps ----

// stringsField writes a []string; nil is null.
func (e *encoder) stringsField(key string, v []string) {
	e.field(key)
	if v == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.b = append(e.b, '[')
	for i, s := range v {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = appendString(e.b, s)
	}
	e.b = append(e.b, ']')
}

// optStrings writes a []string tagged omitempty.
func (e *encoder) optStrings(key string, v []string) {
	if len(v) > 0 {
		e.stringsField(key, v)
	}
}

// optInt64Map writes a map[string]int64 tagged omitempty, keys sorted.
func (e *encoder) optInt64Map(key string, m map[string]int64) {
	if len(m) == 0 {
		return
	}
	e.field(key)
	// Small maps sort on the stack; bigger ones pay one allocation.
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.b = append(e.b, '{')
	for i, k := range keys {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = appendString(e.b, k)
		e.b = append(e.b, ':')
		e.b = strconv.AppendInt(e.b, m[k], 10)
	}
	e.b = append(e.b, '}')
}

// ---- value encoders ----

// appendFloat formats f as encoding/json formats a float64: like
// strconv 'g' but switching to 'e' below 1e-6 and from 1e21, with a
// one-digit negative exponent unpadded (1e-7, not 1e-07).
func (e *encoder) appendFloat(b []byte, key string, f float64) []byte {
	switch {
	case math.IsNaN(f):
		e.fail(key, errNaN)
		return b
	case math.IsInf(f, 1):
		e.fail(key, errPosInf)
		return b
	case math.IsInf(f, -1):
		e.fail(key, errNegInf)
		return b
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendTime writes t quoted as time.Time.MarshalJSON does: RFC 3339 with
// the fraction of a second trimmed of trailing zeros, and an error for what
// RFC 3339 cannot express (a year not of four digits, a zone of 24h or more).
func (e *encoder) appendTime(b []byte, key string, t time.Time) []byte {
	b = append(b, '"')
	start := len(b)
	b = t.AppendFormat(b, time.RFC3339Nano)
	if b[start+len("2006")] != '-' {
		e.fail(key, errTimeYear)
	} else if b[len(b)-1] != 'Z' {
		// The zone is ±hh:mm; more than two hour digits or hh >= 24 is out.
		zone := b[len(b)-len("+07:00"):]
		if isDigit(zone[0]) || (zone[1]-'0')*10+(zone[2]-'0') >= 24 {
			e.fail(key, errTimeZone)
		}
	}
	return append(b, '"')
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// htmlSafe[c] is true for the ASCII bytes encoding/json copies into a string
// as they are: everything printable but ", \, <, > and &.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString appends s quoted and escaped as encoding/json does with HTML
// escaping on (its default).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	done := 0 // s[:done] is already in b
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[done:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default: // other control characters, <, >, &
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			done = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1: // invalid UTF-8
			b = append(b, s[done:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029': // JSONP-unsafe separators
			b = append(b, s[done:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		done = i
	}
	b = append(b, s[done:]...)
	return append(b, '"')
}

// ---- one appendX per struct type, fields in declaration order ----

func (e *encoder) appendEvent(v *Event) {
	e.begin()
	e.timeField("@timestamp", v.Timestamp)
	e.field("ecs")
	e.appendECS(&v.ECS)
	e.field("event")
	e.appendEventMeta(&v.Event)
	if v.Network != (Network{}) {
		e.field("network")
		e.appendNetwork(&v.Network)
	}
	if v.Source != (Endpoint{}) {
		e.field("source")
		e.appendEndpoint(&v.Source)
	}
	if v.Destination != (Endpoint{}) {
		e.field("destination")
		e.appendEndpoint(&v.Destination)
	}
	if !v.Related.isZero() {
		e.field("related")
		e.appendRelated(&v.Related)
	}
	if v.Observer != (Observer{}) {
		e.field("observer")
		e.appendObserver(&v.Observer)
	}
	if !v.DNS.isZero() {
		e.field("dns")
		e.appendDNS(&v.DNS)
	}
	if v.HTTP != (HTTP{}) {
		e.field("http")
		e.appendHTTP(&v.HTTP)
	}
	if v.URL != (URL{}) {
		e.field("url")
		e.appendURL(&v.URL)
	}
	if v.UserAgent != (UserAgent{}) {
		e.field("user_agent")
		e.appendUserAgent(&v.UserAgent)
	}
	if !v.TLS.isZero() {
		e.field("tls")
		e.appendTLS(&v.TLS)
	}
	if !v.Rule.isZero() {
		e.field("rule")
		e.appendRule(&v.Rule)
	}
	if !v.Threat.isZero() {
		e.field("threat")
		e.appendThreat(&v.Threat)
	}
	e.optStrings("tags", v.Tags)
	if !v.Sensor.isZero() {
		e.field("packetsleuth")
		e.appendCustom(&v.Sensor)
	}
	e.end()
}

func (e *encoder) appendECS(v *ECS) {
	e.begin()
	e.stringField("version", v.Version)
	e.end()
}

func (e *encoder) appendEventMeta(v *EventMeta) {
	e.begin()
	e.optString("id", v.ID)
	e.stringField("kind", v.Kind)
	e.stringsField("category", v.Category)
	e.optStrings("type", v.Type)
	e.stringField("dataset", v.Dataset)
	e.optString("module", v.Module)
	e.optString("action", v.Action)
	e.optString("outcome", v.Outcome)
	e.optString("reason", v.Reason)
	e.optTime("start", v.Start)
	e.optTime("end", v.End)
	e.optInt("duration", int64(v.Duration))
	e.optInt("severity", int64(v.Severity))
	e.optFloat("risk_score", v.RiskScore)
	e.end()
}

func (v *Related) isZero() bool {
	return v.IP == nil && v.Hosts == nil && v.Hash == nil && v.User == nil
}

func (e *encoder) appendRelated(v *Related) {
	e.begin()
	e.optStrings("ip", v.IP)
	e.optStrings("hosts", v.Hosts)
	e.optStrings("hash", v.Hash)
	e.optStrings("user", v.User)
	e.end()
}

func (e *encoder) appendObserver(v *Observer) {
	e.begin()
	e.optString("hostname", v.Hostname)
	e.optString("type", v.Type)
	e.optString("vendor", v.Vendor)
	e.optString("product", v.Product)
	e.optString("version", v.Version)
	if v.Ingress != (ObserverIngress{}) {
		e.field("ingress")
		e.appendObserverIngress(&v.Ingress)
	}
	e.end()
}

func (e *encoder) appendObserverIngress(v *ObserverIngress) {
	e.begin()
	if v.Interface != (ObserverIngress{}).Interface {
		e.field("interface")
		e.begin()
		e.optString("name", v.Interface.Name)
		e.end()
	}
	e.end()
}

func (e *encoder) appendUserAgent(v *UserAgent) {
	e.begin()
	e.optString("original", v.Original)
	e.end()
}

// ---- types of network.go ----

func (e *encoder) appendNetwork(v *Network) {
	e.begin()
	e.optString("transport", v.Transport)
	e.optString("type", v.Type)
	e.optString("iana_number", v.IANANumber)
	e.optString("protocol", v.Protocol)
	e.optString("direction", v.Direction)
	e.optInt("bytes", v.Bytes)
	e.optInt("packets", v.Packets)
	e.optString("community_id", v.CommunityID)
	if v.VLAN != (VLAN{}) {
		e.field("vlan")
		e.appendVLAN(&v.VLAN)
	}
	if v.Inner != (Inner{}) {
		e.field("inner")
		e.appendInner(&v.Inner)
	}
	e.end()
}

func (e *encoder) appendVLAN(v *VLAN) {
	e.begin()
	e.optString("id", v.ID)
	e.end()
}

func (e *encoder) appendInner(v *Inner) {
	e.begin()
	if v.VLAN != (VLAN{}) {
		e.field("vlan")
		e.appendVLAN(&v.VLAN)
	}
	e.end()
}

func (e *encoder) appendEndpoint(v *Endpoint) {
	e.begin()
	e.optString("ip", v.IP)
	e.optInt("port", int64(v.Port))
	e.optString("mac", v.MAC)
	e.optString("domain", v.Domain)
	e.optInt("bytes", v.Bytes)
	e.optInt("packets", v.Packets)
	if v.Geo != (Geo{}) {
		e.field("geo")
		e.appendGeo(&v.Geo)
	}
	if v.AS != (AS{}) {
		e.field("as")
		e.appendAS(&v.AS)
	}
	e.end()
}

func (e *encoder) appendGeo(v *Geo) {
	e.begin()
	e.optString("continent_name", v.ContinentName)
	e.optString("country_iso_code", v.CountryISOCode)
	e.optString("country_name", v.CountryName)
	e.optString("region_name", v.RegionName)
	e.optString("city_name", v.CityName)
	if v.Location != (GeoPoint{}) {
		e.field("location")
		e.appendGeoPoint(&v.Location)
	}
	e.end()
}

func (e *encoder) appendGeoPoint(v *GeoPoint) {
	e.begin()
	e.floatField("lat", v.Lat)
	e.floatField("lon", v.Lon)
	e.end()
}

func (e *encoder) appendAS(v *AS) {
	e.begin()
	e.optInt("number", v.Number)
	if v.Organization != (AS{}).Organization {
		e.field("organization")
		e.begin()
		e.optString("name", v.Organization.Name)
		e.end()
	}
	e.end()
}

// ---- types of dns.go ----

func (v *DNS) isZero() bool {
	return v.ID == "" && v.OpCode == "" && v.HeaderFlags == nil && v.ResponseCode == "" &&
		v.Type == "" && v.Question == (DNSQuestion{}) && v.Answers == nil && v.ResolvedIP == nil
}

func (e *encoder) appendDNS(v *DNS) {
	e.begin()
	e.optString("id", v.ID)
	e.optString("op_code", v.OpCode)
	e.optStrings("header_flags", v.HeaderFlags)
	e.optString("response_code", v.ResponseCode)
	e.optString("type", v.Type)
	if v.Question != (DNSQuestion{}) {
		e.field("question")
		e.appendDNSQuestion(&v.Question)
	}
	if len(v.Answers) > 0 {
		e.field("answers")
		e.b = append(e.b, '[')
		for i := range v.Answers {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.appendDNSAnswer(&v.Answers[i])
		}
		e.b = append(e.b, ']')
	}
	e.optStrings("resolved_ip", v.ResolvedIP)
	e.end()
}

func (e *encoder) appendDNSQuestion(v *DNSQuestion) {
	e.begin()
	e.optString("name", v.Name)
	e.optString("type", v.Type)
	e.optString("class", v.Class)
	e.optString("registered_domain", v.RegisteredDomain)
	e.optString("subdomain", v.Subdomain)
	e.optString("top_level_domain", v.TopLevelDomain)
	e.end()
}

func (e *encoder) appendDNSAnswer(v *DNSAnswer) {
	e.begin()
	e.optString("name", v.Name)
	e.optString("type", v.Type)
	e.optString("class", v.Class)
	e.intField("ttl", v.TTL)
	e.optString("data", v.Data)
	e.end()
}

// ---- types of http.go ----

func (e *encoder) appendHTTP(v *HTTP) {
	e.begin()
	e.optString("version", v.Version)
	if v.Request != (HTTPRequest{}) {
		e.field("request")
		e.appendHTTPRequest(&v.Request)
	}
	if v.Response != (HTTPResponse{}) {
		e.field("response")
		e.appendHTTPResponse(&v.Response)
	}
	e.end()
}

func (e *encoder) appendHTTPRequest(v *HTTPRequest) {
	e.begin()
	e.optString("method", v.Method)
	e.optInt("bytes", v.Bytes)
	if v.Body != (HTTPBody{}) {
		e.field("body")
		e.appendHTTPBody(&v.Body)
	}
	e.optString("mime_type", v.MimeType)
	e.optString("referrer", v.Referrer)
	e.end()
}

func (e *encoder) appendHTTPResponse(v *HTTPResponse) {
	e.begin()
	e.optInt("status_code", int64(v.StatusCode))
	e.optInt("bytes", v.Bytes)
	if v.Body != (HTTPBody{}) {
		e.field("body")
		e.appendHTTPBody(&v.Body)
	}
	e.optString("mime_type", v.MimeType)
	e.end()
}

func (e *encoder) appendHTTPBody(v *HTTPBody) {
	e.begin()
	e.optInt("bytes", v.Bytes)
	e.end()
}

func (e *encoder) appendURL(v *URL) {
	e.begin()
	e.optString("original", v.Original)
	e.optString("scheme", v.Scheme)
	e.optString("domain", v.Domain)
	e.optInt("port", int64(v.Port))
	e.optString("path", v.Path)
	e.optString("query", v.Query)
	e.optString("fragment", v.Fragment)
	e.end()
}

// ---- types of tls.go ----

func (v *TLS) isZero() bool {
	return v.Version == "" && v.VersionProtocol == "" && v.Cipher == "" && v.Curve == "" &&
		!v.Established && !v.Resumed && v.NextProtocol == "" && v.Client.isZero() && v.Server.isZero()
}

func (e *encoder) appendTLS(v *TLS) {
	e.begin()
	e.optString("version", v.Version)
	e.optString("version_protocol", v.VersionProtocol)
	e.optString("cipher", v.Cipher)
	e.optString("curve", v.Curve)
	e.boolField("established", v.Established)
	e.boolField("resumed", v.Resumed)
	e.optString("next_protocol", v.NextProtocol)
	if !v.Client.isZero() {
		e.field("client")
		e.appendTLSClient(&v.Client)
	}
	if !v.Server.isZero() {
		e.field("server")
		e.appendTLSServer(&v.Server)
	}
	e.end()
}

func (v *TLSClient) isZero() bool {
	return v.ServerName == "" && v.JA3 == "" && v.JA4 == "" && v.SupportedCiphers == nil
}

func (e *encoder) appendTLSClient(v *TLSClient) {
	e.begin()
	e.optString("server_name", v.ServerName)
	e.optString("ja3", v.JA3)
	e.optString("ja4", v.JA4)
	e.optStrings("supported_ciphers", v.SupportedCiphers)
	e.end()
}

// A time.Time inside a group compares with == here, as reflect.Value.IsZero
// compares it: a zero instant with a location set is not zero.

func (v *TLSServer) isZero() bool {
	return v.JA3S == "" && v.Subject == "" && v.Issuer == "" &&
		v.NotBefore == (time.Time{}) && v.NotAfter == (time.Time{}) &&
		v.Hash == (Hashes{}) && v.X509.isZero()
}

func (e *encoder) appendTLSServer(v *TLSServer) {
	e.begin()
	e.optString("ja3s", v.JA3S)
	e.optString("subject", v.Subject)
	e.optString("issuer", v.Issuer)
	e.optTime("not_before", v.NotBefore)
	e.optTime("not_after", v.NotAfter)
	if v.Hash != (Hashes{}) {
		e.field("hash")
		e.appendHashes(&v.Hash)
	}
	if !v.X509.isZero() {
		e.field("x509")
		e.appendX509(&v.X509)
	}
	e.end()
}

func (e *encoder) appendHashes(v *Hashes) {
	e.begin()
	e.optString("md5", v.MD5)
	e.optString("sha1", v.SHA1)
	e.optString("sha256", v.SHA256)
	e.end()
}

func (v *X509) isZero() bool {
	return v.VersionNumber == "" && v.SerialNumber == "" && v.Subject.isZero() && v.Issuer.isZero() &&
		v.NotBefore == (time.Time{}) && v.NotAfter == (time.Time{}) && v.AlternativeNames == nil &&
		v.PublicKeyAlgorithm == "" && v.PublicKeySize == 0 && v.SignatureAlgorithm == ""
}

func (e *encoder) appendX509(v *X509) {
	e.begin()
	e.optString("version_number", v.VersionNumber)
	e.optString("serial_number", v.SerialNumber)
	if !v.Subject.isZero() {
		e.field("subject")
		e.appendX509Name(&v.Subject)
	}
	if !v.Issuer.isZero() {
		e.field("issuer")
		e.appendX509Name(&v.Issuer)
	}
	e.optTime("not_before", v.NotBefore)
	e.optTime("not_after", v.NotAfter)
	e.optStrings("alternative_names", v.AlternativeNames)
	e.optString("public_key_algorithm", v.PublicKeyAlgorithm)
	e.optInt("public_key_size", int64(v.PublicKeySize))
	e.optString("signature_algorithm", v.SignatureAlgorithm)
	e.end()
}

func (v *X509Name) isZero() bool {
	return v.DistinguishedName == "" && v.CommonName == nil && v.Organization == nil &&
		v.OrganizationalUnit == nil && v.Country == nil
}

func (e *encoder) appendX509Name(v *X509Name) {
	e.begin()
	e.optString("distinguished_name", v.DistinguishedName)
	e.optStrings("common_name", v.CommonName)
	e.optStrings("organization", v.Organization)
	e.optStrings("organizational_unit", v.OrganizationalUnit)
	e.optStrings("country", v.Country)
	e.end()
}

// ---- types of alert.go ----

func (v *Rule) isZero() bool {
	return v.ID == "" && v.UUID == "" && v.Name == "" && v.Description == "" && v.Category == "" &&
		v.Ruleset == "" && v.Version == "" && v.Reference == "" && v.Author == nil && v.License == ""
}

func (e *encoder) appendRule(v *Rule) {
	e.begin()
	e.optString("id", v.ID)
	e.optString("uuid", v.UUID)
	e.optString("name", v.Name)
	e.optString("description", v.Description)
	e.optString("category", v.Category)
	e.optString("ruleset", v.Ruleset)
	e.optString("version", v.Version)
	e.optString("reference", v.Reference)
	e.optStrings("author", v.Author)
	e.optString("license", v.License)
	e.end()
}

func (v *Threat) isZero() bool {
	return v.Framework == "" && v.Tactic.isZero() && v.Technique.isZero() && v.Enrichments == nil
}

func (e *encoder) appendThreat(v *Threat) {
	e.begin()
	e.optString("framework", v.Framework)
	if !v.Tactic.isZero() {
		e.field("tactic")
		e.appendThreatRef(&v.Tactic)
	}
	if !v.Technique.isZero() {
		e.field("technique")
		e.appendThreatRef(&v.Technique)
	}
	if len(v.Enrichments) > 0 {
		e.field("enrichments")
		e.b = append(e.b, '[')
		for i := range v.Enrichments {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.appendThreatEnrichment(&v.Enrichments[i])
		}
		e.b = append(e.b, ']')
	}
	e.end()
}

func (v *ThreatRef) isZero() bool {
	return v.ID == nil && v.Name == nil && v.Reference == nil
}

func (e *encoder) appendThreatRef(v *ThreatRef) {
	e.begin()
	e.optStrings("id", v.ID)
	e.optStrings("name", v.Name)
	e.optStrings("reference", v.Reference)
	e.end()
}

func (e *encoder) appendThreatEnrichment(v *ThreatEnrichment) {
	e.begin()
	e.field("indicator")
	e.appendThreatIndicator(&v.Indicator)
	e.field("matched")
	e.appendThreatMatched(&v.Matched)
	e.end()
}

func (e *encoder) appendThreatIndicator(v *ThreatIndicator) {
	e.begin()
	e.optString("type", v.Type)
	e.optString("ip", v.IP)
	if v.URL != (ThreatIndicator{}).URL {
		e.field("url")
		e.begin()
		e.optString("original", v.URL.Original)
		e.optString("domain", v.URL.Domain)
		e.end()
	}
	e.optString("description", v.Description)
	e.optString("provider", v.Provider)
	e.optString("confidence", v.Confidence)
	if v.Marking != (ThreatIndicator{}).Marking {
		e.field("marking")
		e.begin()
		e.optString("tlp", v.Marking.TLP)
		e.end()
	}
	e.end()
}

func (e *encoder) appendThreatMatched(v *ThreatMatched) {
	e.begin()
	e.optString("atomic", v.Atomic)
	e.optString("field", v.Field)
	e.optString("type", v.Type)
	e.end()
}

// ---- types of custom.go ----

func (v *Custom) isZero() bool {
	return v.Traffic.isZero() && v.Flow == (FlowInfo{}) && v.Tunnel == (Tunnel{}) && v.HTTP == (HTTPInfo{}) &&
		v.Alert.isZero() && v.Stats == (Stats{}) && v.Peak == (Peak{}) && v.Anomaly == (Anomaly{}) && v.Notes == nil
}

func (e *encoder) appendCustom(v *Custom) {
	e.begin()
	if !v.Traffic.isZero() {
		e.field("traffic")
		e.appendTraffic(&v.Traffic)
	}
	if v.Flow != (FlowInfo{}) {
		e.field("flow")
		e.appendFlowInfo(&v.Flow)
	}
	if v.Tunnel != (Tunnel{}) {
		e.field("tunnel")
		e.appendTunnel(&v.Tunnel)
	}
	if v.HTTP != (HTTPInfo{}) {
		e.field("http")
		e.appendHTTPInfo(&v.HTTP)
	}
	if !v.Alert.isZero() {
		e.field("alert")
		e.appendAlertInfo(&v.Alert)
	}
	if v.Stats != (Stats{}) {
		e.field("stats")
		e.appendStats(&v.Stats)
	}
	if v.Peak != (Peak{}) {
		e.field("peak")
		e.appendPeak(&v.Peak)
	}
	if v.Anomaly != (Anomaly{}) {
		e.field("anomaly")
		e.appendAnomaly(&v.Anomaly)
	}
	e.optStrings("notes", v.Notes)
	e.end()
}

func (e *encoder) appendFlowInfo(v *FlowInfo) {
	e.begin()
	e.optString("state", v.State)
	e.optString("history", v.History)
	e.optString("tcp_flags_orig", v.TCPFlagsOrig)
	e.optString("tcp_flags_resp", v.TCPFlagsResp)
	e.optString("end_reason", v.EndReason)
	e.optInt("missed_bytes", v.MissedBytes)
	if v.ICMP != (ICMPInfo{}) {
		e.field("icmp")
		e.appendICMPInfo(&v.ICMP)
	}
	e.end()
}

func (e *encoder) appendICMPInfo(v *ICMPInfo) {
	e.begin()
	e.intField("type", int64(v.Type))
	e.intField("code", int64(v.Code))
	e.end()
}

func (e *encoder) appendTunnel(v *Tunnel) {
	e.begin()
	e.optString("type", v.Type)
	e.optString("source_ip", v.SourceIP)
	e.optString("destination_ip", v.DestinationIP)
	e.optInt("vni", int64(v.VNI))
	e.end()
}

func (e *encoder) appendHTTPInfo(v *HTTPInfo) {
	e.begin()
	e.optInt("request_body_decoded_bytes", v.RequestBodyDecodedBytes)
	e.optInt("response_body_decoded_bytes", v.ResponseBodyDecodedBytes)
	e.optString("auth_scheme", v.AuthScheme)
	if v.Continue100 {
		e.boolField("continue_100", true)
	}
	e.optString("upgrade", v.Upgrade)
	if v.Tunnel {
		e.boolField("tunnel", true)
	}
	e.end()
}

func (v *AlertInfo) isZero() bool {
	return v.Count == 0 && v.Window == "" && v.Group == nil
}

func (e *encoder) appendAlertInfo(v *AlertInfo) {
	e.begin()
	e.optInt("count", v.Count)
	e.optString("window", v.Window)
	e.optStrings("group", v.Group)
	e.end()
}

func (e *encoder) appendAnomaly(v *Anomaly) {
	e.begin()
	e.optString("kind", v.Kind)
	e.optString("layer", v.Layer)
	e.optString("detail", v.Detail)
	e.optInt("suppressed", v.Suppressed)
	e.end()
}

func (v *Traffic) isZero() bool {
	return v.Interface == "" && v.Packets == 0 && v.Bytes == 0 && v.Flows == 0 && v.BytesByProtocol == nil
}

func (e *encoder) appendTraffic(v *Traffic) {
	e.begin()
	e.optString("interface", v.Interface)
	e.intField("packets", v.Packets)
	e.intField("bytes", v.Bytes)
	e.intField("flows", v.Flows)
	e.optInt64Map("bytes_by_protocol", v.BytesByProtocol)
	e.end()
}

func (e *encoder) appendPeak(v *Peak) {
	e.begin()
	e.optString("metric", v.Metric)
	e.optString("resolution", v.Resolution)
	e.floatField("value", v.Value)
	e.floatField("baseline", v.Baseline)
	e.floatField("stddev", v.StdDev)
	e.floatField("threshold", v.Threshold)
	e.optFloat("k", v.K)
	e.optInt("window", int64(v.Window))
	e.optString("reason", v.Reason)
	e.end()
}

func (e *encoder) appendStats(v *Stats) {
	e.begin()
	e.optString("interface", v.Interface)
	e.optString("engine", v.Engine)
	e.intField("received", v.Received)
	e.intField("bytes", v.Bytes)
	e.intField("kernel_drops", v.KernelDrops)
	e.intField("kernel_drops_delta", v.KernelDropsDelta)
	e.intField("if_drops", v.IfDrops)
	e.intField("sensor_drops", v.SensorDrops)
	e.intField("sensor_drops_delta", v.SensorDropsDelta)
	e.optInt("output_drops", v.OutputDrops)
	e.optInt("truncated", v.Truncated)
	e.optInt("filtered", v.Filtered)
	e.intField("packets", v.Packets)
	e.optInt("flows_active", v.FlowsActive)
	e.optInt("flows", v.Flows)
	e.optInt("events", v.Events)
	e.optInt("uptime_seconds", v.UptimeSeconds)
	e.end()
}

// Package tls parses the clear-text part of TLS handshakes (SSL 3.0 to TLS 1.3)
// for a passive sensor: ClientHello and ServerHello messages, server
// certificate chains, alerts and the record layer of one TCP connection. It
// computes the JA3, JA3S and JA4 (client) fingerprints. It never decrypts
// anything and keeps bounded memory on hostile input.
//
// The message-level functions (ParseClientHello, ParseServerHello,
// ParseCertificates) are pure functions over one handshake message body. Conn
// drives them from the reassembled byte streams of a TCP connection and emits
// one Handshake per connection.
package tls

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/packetsleuth/packetsleuth/internal/intern"
)

// Errors returned by the message parsers. They are wrapped with context; test
// with errors.Is.
var (
	// ErrTruncated means a length field points past the end of its container.
	ErrTruncated = errors.New("tls: truncated message")
	// ErrMalformed means a field holds a value its structure does not allow.
	ErrMalformed = errors.New("tls: malformed message")
)

// Limits on how many list entries a parsed hello keeps. Longer lists are cut
// and Truncated is set; real clients send far fewer.
const (
	MaxCiphers    = 512
	MaxExtensions = 128
	MaxListItems  = 128 // groups, point formats, signature algorithms, versions, key shares
	MaxALPN       = 32
)

// Extension type numbers the parser looks at.
const (
	ExtServerName          uint16 = 0x0000
	ExtSupportedGroups     uint16 = 0x000a
	ExtECPointFormats      uint16 = 0x000b
	ExtSignatureAlgorithms uint16 = 0x000d
	ExtALPN                uint16 = 0x0010
	ExtPreSharedKey        uint16 = 0x0029
	ExtSupportedVersions   uint16 = 0x002b
	ExtKeyShare            uint16 = 0x0033
)

// IsGREASE reports whether v is one of the reserved GREASE values of RFC 8701
// (0x0a0a, 0x1a1a, ... 0xfafa).
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// helloRetryRandom is the fixed ServerHello.random that marks a
// HelloRetryRequest (RFC 8446 section 4.1.3).
var helloRetryRandom = [32]byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// ClientHello is a parsed ClientHello body. Lists keep the wire order and keep
// GREASE values; the fingerprint functions drop GREASE where their spec says
// so. A ClientHello can be reused across calls to ParseClientHello, which then
// reuses its slices (and strings when they are unchanged); it never aliases
// the input.
type ClientHello struct {
	Version             uint16 // legacy_version, e.g. 0x0303
	Random              [32]byte
	SessionID           []byte
	CipherSuites        []uint16
	CompressionMethods  []byte
	Extensions          []uint16 // extension types in wire order
	ServerName          string   // first host_name of server_name, "" if none
	ALPN                []string // protocol names offered, in order
	SupportedGroups     []uint16
	ECPointFormats      []uint8
	SignatureAlgorithms []uint16
	SupportedVersions   []uint16 // supported_versions, in order (GREASE kept)
	KeyShareGroups      []uint16 // groups of the key_share entries offered
	// Truncated is set when a list was longer than its cap (MaxCiphers,
	// MaxExtensions, MaxListItems, MaxALPN) and was cut.
	Truncated bool

	strs *intern.Table // the server names met before (a Pool's), or nil
}

// ServerHello is a parsed ServerHello body (a HelloRetryRequest included).
// It can be reused like ClientHello and never aliases the input.
type ServerHello struct {
	Version           uint16 // legacy_version
	Random            [32]byte
	SessionID         []byte
	CipherSuite       uint16
	CompressionMethod uint8
	Extensions        []uint16 // extension types in wire order
	SupportedVersion  uint16   // selected version from supported_versions, 0 if absent
	ALPN              string   // selected protocol, "" if none
	KeyShareGroup     uint16   // group of key_share (selected group in a HelloRetryRequest), 0 if absent
	PreSharedKey      bool     // pre_shared_key extension present (TLS 1.3 resumption)
	HelloRetryRequest bool     // random equals the HelloRetryRequest magic value
	Truncated         bool
}

// reader is a tiny bounds-checked cursor over a byte slice.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrTruncated, what)
	}
}

func (r *reader) u8(what string) uint8 {
	if len(r.b) < 1 {
		r.fail(what)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16(what string) uint16 {
	if len(r.b) < 2 {
		r.fail(what)
		r.b = nil
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *reader) bytes(n int, what string) []byte {
	if n < 0 || len(r.b) < n {
		r.fail(what)
		r.b = nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// vec8 / vec16 read a vector with a 1- or 2-byte length prefix.
func (r *reader) vec8(what string) []byte  { return r.bytes(int(r.u8(what)), what) }
func (r *reader) vec16(what string) []byte { return r.bytes(int(r.u16(what)), what) }

// setString assigns b to *s without allocating when the value is unchanged
// or one strs keeps.
func setString(s *string, b []byte, strs *intern.Table) {
	if *s != string(b) {
		*s = strs.String(b)
	}
}

// appendU16s appends the big-endian uint16 values of b to dst, keeping at most
// limit entries; it reports whether entries were dropped or b had an odd length.
func appendU16s(dst []uint16, b []byte, limit int) ([]uint16, bool) {
	n := max(0, min(len(b)/2, limit-len(dst)))
	cut := len(b)%2 != 0 || n < len(b)/2
	at := len(dst)
	dst = slices.Grow(dst, n)[:at+n] // one allocation, not one per doubling
	out := dst[at:]                  // filled in place: no append's capacity check a value
	for i := range out {
		out[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	return dst, cut
}

// Reset empties h, keeping its allocated slices.
func (h *ClientHello) Reset() {
	*h = ClientHello{
		SessionID:           h.SessionID[:0],
		CipherSuites:        h.CipherSuites[:0],
		CompressionMethods:  h.CompressionMethods[:0],
		Extensions:          h.Extensions[:0],
		ServerName:          h.ServerName,
		ALPN:                h.ALPN[:0],
		strs:                h.strs,
		SupportedGroups:     h.SupportedGroups[:0],
		ECPointFormats:      h.ECPointFormats[:0],
		SignatureAlgorithms: h.SignatureAlgorithms[:0],
		SupportedVersions:   h.SupportedVersions[:0],
		KeyShareGroups:      h.KeyShareGroups[:0],
	}
}

// HasExtension reports whether the hello carries extension typ.
func (h *ClientHello) HasExtension(typ uint16) bool {
	for _, e := range h.Extensions {
		if e == typ {
			return true
		}
	}
	return false
}

// ParseClientHello parses the body of a ClientHello handshake message (after
// the 4-byte handshake header) into h, which is reset first. On error h holds
// what was parsed before the problem.
func ParseClientHello(b []byte, h *ClientHello) error {
	keepName := h.ServerName
	h.Reset()
	h.ServerName = ""
	r := reader{b: b}
	h.Version = r.u16("client_version")
	copy(h.Random[:], r.bytes(32, "random"))
	sid := r.vec8("session_id")
	if len(sid) > 32 {
		return fmt.Errorf("%w: session_id length %d", ErrMalformed, len(sid))
	}
	h.SessionID = append(h.SessionID, sid...)
	var cut bool
	h.CipherSuites, cut = appendU16s(h.CipherSuites, r.vec16("cipher_suites"), MaxCiphers)
	h.Truncated = h.Truncated || cut
	h.CompressionMethods = append(h.CompressionMethods, r.vec8("compression_methods")...)
	if r.err != nil {
		return fmt.Errorf("client hello: %w", r.err)
	}
	if len(r.b) == 0 {
		return nil // no extensions (SSL 3.0 / old TLS)
	}
	exts := r.vec16("extensions")
	if r.err != nil {
		return fmt.Errorf("client hello: %w", r.err)
	}
	er := reader{b: exts}
	h.Extensions = slices.Grow(h.Extensions, max(0, min(len(exts)/4, MaxExtensions-len(h.Extensions)))) // 4 bytes at least each
	for len(er.b) > 0 {
		typ := er.u16("extension type")
		data := er.vec16("extension data")
		if er.err != nil {
			return fmt.Errorf("client hello: extensions: %w", er.err)
		}
		if len(h.Extensions) < MaxExtensions {
			h.Extensions = append(h.Extensions, typ)
		} else {
			h.Truncated = true
		}
		if err := h.parseExtension(typ, data, keepName); err != nil {
			return fmt.Errorf("client hello: extension %#04x: %w", typ, err)
		}
	}
	return nil
}

func (h *ClientHello) parseExtension(typ uint16, data []byte, keepName string) error {
	r := reader{b: data}
	var cut bool
	switch typ {
	case ExtServerName:
		list := reader{b: r.vec16("server_name_list")}
		for len(list.b) > 0 {
			nameType := list.u8("name_type")
			name := list.vec16("host_name")
			if list.err != nil {
				return list.err
			}
			if nameType == 0 && h.ServerName == "" {
				h.ServerName = keepName
				setString(&h.ServerName, name, h.strs)
			}
		}
	case ExtALPN:
		list := reader{b: r.vec16("protocol_name_list")}
		for len(list.b) > 0 {
			p := list.vec8("protocol_name")
			if list.err != nil {
				return list.err
			}
			if len(h.ALPN) >= MaxALPN {
				h.Truncated = true
				continue
			}
			if len(h.ALPN) < cap(h.ALPN) {
				h.ALPN = h.ALPN[:len(h.ALPN)+1]
				setString(&h.ALPN[len(h.ALPN)-1], p, h.strs)
			} else {
				h.ALPN = append(h.ALPN, string(p))
			}
		}
	case ExtSupportedGroups:
		h.SupportedGroups, cut = appendU16s(h.SupportedGroups, r.vec16("named_group_list"), MaxListItems)
	case ExtECPointFormats:
		pf := r.vec8("ec_point_format_list")
		if len(pf) > MaxListItems {
			pf, cut = pf[:MaxListItems], true
		}
		h.ECPointFormats = append(h.ECPointFormats, pf...)
	case ExtSignatureAlgorithms:
		h.SignatureAlgorithms, cut = appendU16s(h.SignatureAlgorithms, r.vec16("supported_signature_algorithms"), MaxListItems)
	case ExtSupportedVersions:
		h.SupportedVersions, cut = appendU16s(h.SupportedVersions, r.vec8("versions"), MaxListItems)
	case ExtKeyShare:
		list := reader{b: r.vec16("client_shares")}
		for len(list.b) > 0 {
			g := list.u16("group")
			list.vec16("key_exchange")
			if list.err != nil {
				return list.err
			}
			if len(h.KeyShareGroups) < MaxListItems {
				h.KeyShareGroups = append(h.KeyShareGroups, g)
			} else {
				cut = true
			}
		}
	}
	h.Truncated = h.Truncated || cut
	return r.err
}

// Reset empties h, keeping its allocated slices.
func (h *ServerHello) Reset() {
	*h = ServerHello{
		SessionID:  h.SessionID[:0],
		Extensions: h.Extensions[:0],
		ALPN:       h.ALPN,
	}
}

// HasExtension reports whether the hello carries extension typ.
func (h *ServerHello) HasExtension(typ uint16) bool {
	for _, e := range h.Extensions {
		if e == typ {
			return true
		}
	}
	return false
}

// ParseServerHello parses the body of a ServerHello handshake message into h,
// which is reset first. A HelloRetryRequest (a ServerHello whose random is the
// RFC 8446 magic value) sets h.HelloRetryRequest; its key_share then holds
// only the selected group.
func ParseServerHello(b []byte, h *ServerHello) error {
	keepALPN := h.ALPN
	h.Reset()
	h.ALPN = ""
	r := reader{b: b}
	h.Version = r.u16("server_version")
	copy(h.Random[:], r.bytes(32, "random"))
	sid := r.vec8("session_id")
	if len(sid) > 32 {
		return fmt.Errorf("%w: session_id length %d", ErrMalformed, len(sid))
	}
	h.SessionID = append(h.SessionID, sid...)
	h.CipherSuite = r.u16("cipher_suite")
	h.CompressionMethod = r.u8("compression_method")
	if r.err != nil {
		return fmt.Errorf("server hello: %w", r.err)
	}
	h.HelloRetryRequest = h.Random == helloRetryRandom
	if len(r.b) == 0 {
		return nil
	}
	exts := r.vec16("extensions")
	if r.err != nil {
		return fmt.Errorf("server hello: %w", r.err)
	}
	er := reader{b: exts}
	h.Extensions = slices.Grow(h.Extensions, max(0, min(len(exts)/4, MaxExtensions-len(h.Extensions)))) // 4 bytes at least each
	for len(er.b) > 0 {
		typ := er.u16("extension type")
		data := er.vec16("extension data")
		if er.err != nil {
			return fmt.Errorf("server hello: extensions: %w", er.err)
		}
		if len(h.Extensions) < MaxExtensions {
			h.Extensions = append(h.Extensions, typ)
		} else {
			h.Truncated = true
		}
		d := reader{b: data}
		switch typ {
		case ExtSupportedVersions:
			h.SupportedVersion = d.u16("selected_version")
		case ExtALPN:
			list := reader{b: d.vec16("protocol_name_list")}
			p := list.vec8("protocol_name")
			if list.err != nil {
				d.err = list.err
			}
			h.ALPN = keepALPN
			setString(&h.ALPN, p, nil)
		case ExtKeyShare:
			h.KeyShareGroup = d.u16("group") // server_share.group, or HRR selected_group
		case ExtPreSharedKey:
			h.PreSharedKey = true
		}
		if d.err != nil {
			return fmt.Errorf("server hello: extension %#04x: %w", typ, d.err)
		}
	}
	return nil
}

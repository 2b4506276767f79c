package ssh

import (
	"bytes"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// Bounds of the version exchange (RFC 4253 §4.2): the version line is at
// most 255 bytes with its CR LF; a server may send other lines first, which
// are bounded in length and number here so a side that never sends its
// version line costs a fixed amount.
const (
	maxLine     = 255
	maxPreLine  = 1024
	maxPreLines = 16
	// sniffMax is how far the sniffer looks for the '-' ending the protocol
	// version ("SSH-2.0-", "SSH-1.99-").
	sniffMax = 16
)

// Sniff tells whether b, the first bytes of a direction, start an SSH
// version line: "SSH-", a protocol version of digits and dots, and the '-'
// before the software version. It answers More while b is a prefix of that.
func Sniff(b []byte) parsers.Verdict {
	const magic = "SSH-"
	n := min(len(b), len(magic))
	if string(b[:n]) != magic[:n] {
		return parsers.No
	}
	if n < len(magic) {
		return parsers.More
	}
	dot := false
	for i := len(magic); i < len(b) && i < sniffMax; i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && i > len(magic) && !dot && b[i-1] != '.':
			dot = true
		case c == '-' && dot && b[i-1] != '.':
			return parsers.Yes
		default:
			return parsers.No
		}
	}
	if len(b) >= sniffMax {
		return parsers.No
	}
	return parsers.More
}

// Banner is a parsed version line: SSH-protoversion-softwareversion SP comments.
type Banner struct {
	Line     string // the whole line without CR LF
	Proto    string // protocol version. Example: 2.0
	Software string // software version. Example: OpenSSH_7.4
	Comments string // what follows the software version, if anything
}

// parseBanner splits a version line (without its line end).
func parseBanner(line []byte) Banner {
	b := Banner{Line: string(line)}
	rest := b.Line[len("SSH-"):]
	i := bytesIndex(rest, '-')
	if i < 0 {
		b.Proto = rest
		return b
	}
	b.Proto, rest = rest[:i], rest[i+1:]
	if j := bytesIndex(rest, ' '); j >= 0 {
		b.Software, b.Comments = rest[:j], rest[j+1:]
	} else {
		b.Software = rest
	}
	return b
}

func bytesIndex(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// isV1 tells whether a protocol version is SSH 1 only (1.99 means both).
func isV1(proto string) bool {
	return len(proto) > 0 && proto[0] == '1' && proto != "1.99"
}

// trimEOL drops the CR before a line's LF (some old servers send LF alone).
func trimEOL(line []byte) []byte {
	return bytes.TrimSuffix(line, []byte{'\r'})
}

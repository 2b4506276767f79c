package http

import "github.com/packetsleuth/packetsleuth/parsers"

// knownMethods are the request methods Sniff recognises: RFC 9110, PATCH,
// WebDAV, and the UPnP/SSDP methods seen on TCP.
var knownMethods = [...]string{
	"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH",
	"REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY",
	"SUBSCRIBE", "UNSUBSCRIBE", "PURGE",
}

// Sniff tells whether b, the first bytes of one direction of a stream, is
// the start of an HTTP/1.x request (a known method, case sensitive, followed
// by a space) or response ("HTTP/1." and a digit). It answers More while b is
// a prefix of either, so that a stream split into tiny segments is not
// misjudged.
func Sniff(b []byte) (isRequest bool, v parsers.Verdict) {
	const status = "HTTP/1."
	if n := min(len(b), len(status)); string(b[:n]) == status[:n] {
		switch {
		case len(b) <= len(status):
			return false, parsers.More
		case digit(b[len(status)]):
			return false, parsers.Yes
		}
		return false, parsers.No
	}
	for i := 0; i < len(b) && i <= maxMethodLen; i++ {
		if b[i] == ' ' {
			m := b[:i]
			for _, k := range knownMethods {
				if string(m) == k {
					return true, parsers.Yes
				}
			}
			return false, parsers.No
		}
	}
	for _, k := range knownMethods {
		if len(b) <= len(k) && k[:len(b)] == string(b) {
			return true, parsers.More
		}
	}
	return false, parsers.No
}

// maxMethodLen is the length of the longest known method.
const maxMethodLen = len("UNSUBSCRIBE")

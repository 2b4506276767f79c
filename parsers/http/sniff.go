package http

// knownMethods are the request methods Sniff recognises: RFC 9110, PATCH,
// WebDAV, and the UPnP/SSDP methods seen on TCP.
var knownMethods = [...]string{
	"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH",
	"REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY",
	"SUBSCRIBE", "UNSUBSCRIBE", "PURGE",
}

// Sniff reports whether b, the first bytes of one direction of a stream,
// looks like the start of an HTTP/1.x request (a known method, case
// sensitive, followed by a space) or response ("HTTP/1." and a digit). ok is
// false when it does not, or when b is too short to tell.
func Sniff(b []byte) (isRequest bool, ok bool) {
	if len(b) >= 8 && string(b[:7]) == "HTTP/1." && digit(b[7]) {
		return false, true
	}
	for i := 0; i < len(b) && i <= 12; i++ {
		if b[i] == ' ' {
			m := b[:i]
			for _, k := range knownMethods {
				if string(m) == k {
					return true, true
				}
			}
			return false, false
		}
	}
	return false, false
}

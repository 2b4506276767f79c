package ssh

import "github.com/packetsleuth/packetsleuth/parsers"

// authState infers the authentication outcome from the sizes of the
// encrypted chunks, as Zeek's SSH analyzer does (SSH 2 only). Server
// chunks count once the client has sent encrypted data: the first is
// SERVICE_ACCEPT; one 16 bytes shorter is USERAUTH_SUCCESS; the first
// other one is a USERAUTH_FAILURE (one larger by over 256 bytes is taken
// for a pre-auth banner and skipped, once), and each later chunk of that
// size another failed attempt. With compression the sizes say nothing,
// and no outcome is given (Zeek's SSH::compression_algorithms).
type authState struct {
	checked, off  bool // compression looked at; inference off
	sawClient     bool
	serviceAccept int
	failure       int
	skippedBanner bool
	chunks        int
	attempts      int
	success       bool
	gap           bool
}

// encrypted takes the length of a chunk sent after NEWKEYS in direction d.
func (c *Conn) encrypted(d parsers.Dir, n int) {
	a := &c.auth
	if !a.checked {
		a.checked, a.off = true, c.compressed()
		if a.off {
			c.finish() // nothing more to learn
			return
		}
	}
	if a.gap {
		return
	}
	if d == c.clientDir() {
		a.sawClient = true
		return
	}
	if !a.sawClient {
		return
	}
	a.chunks++
	switch {
	case a.serviceAccept == 0:
		a.serviceAccept = n
	case a.failure == 0 && n+16 == a.serviceAccept: // "none" accepted
		a.attempts, a.success = a.attempts+1, true
	case a.failure == 0 && !a.skippedBanner && n-a.serviceAccept > 256:
		a.skippedBanner = true
	case a.failure == 0:
		a.failure = n
	case n == a.failure:
		a.attempts++
	case n+16 == a.serviceAccept:
		a.attempts, a.success = a.attempts+1, true
	}
	if a.success || a.chunks >= maxServerChunks {
		c.finish()
	}
}

// compressed tells whether either direction negotiated compression.
func (c *Conn) compressed() bool {
	k, h := &c.s[parsers.ToServer].kex, &c.s[parsers.ToClient].kex
	if c.clientDir() != parsers.ToServer {
		k, h = h, k
	}
	for _, alg := range [...]string{negotiate(k.CompC2S, h.CompC2S), negotiate(k.CompS2C, h.CompS2C)} {
		if alg != "" && alg != "none" {
			return true
		}
	}
	return false
}

// result is the outcome and the attempts counted.
func (a *authState) result() (string, int) {
	switch {
	case a.success:
		return AuthSuccess, a.attempts
	case a.attempts > 0:
		return AuthFailure, a.attempts
	}
	return "", a.attempts
}

package ssh

import "github.com/packetsleuth/packetsleuth/parsers"

// authState infers the authentication outcome from the sizes of the
// server's encrypted chunks, as Zeek's SSH analyzer does (SSH 2 only): the
// first is SERVICE_ACCEPT; a chunk 16 bytes shorter is USERAUTH_SUCCESS;
// the first other one is a USERAUTH_FAILURE (one larger by over 256 bytes
// is taken for a pre-auth banner and skipped, once), and each later chunk
// of that size another failed attempt.
type authState struct {
	serviceAccept int
	failure       int
	skippedBanner bool
	chunks        int
	attempts      int
	success       bool
	decided       bool
	gap           bool
}

// encrypted takes the length of a chunk sent after NEWKEYS in direction d.
func (c *Conn) encrypted(d parsers.Dir, n int) {
	a := &c.auth
	if d == c.clientDir() || a.gap {
		return
	}
	a.chunks++
	switch {
	case a.serviceAccept == 0:
		a.serviceAccept = n
	case a.failure == 0 && n+16 == a.serviceAccept:
		a.attempts, a.success, a.decided = a.attempts+1, true, true
	case a.failure == 0 && !a.skippedBanner && n-a.serviceAccept > 256:
		a.skippedBanner = true
	case a.failure == 0:
		a.failure = n
	case n == a.failure:
		a.attempts++
	case n+16 == a.serviceAccept:
		a.attempts, a.success, a.decided = a.attempts+1, true, true
	}
	if a.decided || a.chunks >= maxServerChunks {
		c.finish()
	}
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

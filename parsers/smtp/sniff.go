package smtp

import (
	"bytes"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/internal/lineproto"
)

// Sniff tells from the first bytes of both directions whether a stream
// speaks SMTP: the server's first line is a 220 greeting and the client's
// first line is HELO or EHLO (or any command, when the greeting names
// SMTP). A greeting alone is not enough — FTP greets with 220 too — so the
// answer is More until both first lines are whole.
func Sniff(server, client []byte) parsers.Verdict {
	return lineproto.Dialog(server, client, func(verb string, greeting []byte) bool {
		return verb == "EHLO" || verb == "HELO" || bytes.Contains(bytes.ToUpper(greeting), []byte("SMTP"))
	})
}

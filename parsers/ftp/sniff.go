package ftp

import (
	"bytes"

	"github.com/packetsleuth/packetsleuth/parsers"
	"github.com/packetsleuth/packetsleuth/parsers/internal/lineproto"
)

// Sniff tells from the first bytes of both directions whether a stream is
// an FTP control connection: the server's first line is a 220 greeting and
// the client's first line a command that opens an FTP session (USER,
// AUTH, FEAT, SYST, OPTS, HOST, CLNT), or any command but HELO/EHLO when
// the greeting names FTP. A greeting alone is not enough — SMTP greets
// with 220 too — so the answer is More until both first lines are whole.
func Sniff(server, client []byte) parsers.Verdict {
	return lineproto.Dialog(server, client, func(verb string, greeting []byte) bool {
		switch verb {
		case "USER", "AUTH", "FEAT", "SYST", "OPTS", "HOST", "CLNT":
			return true
		case "HELO", "EHLO":
			return false
		}
		return bytes.Contains(bytes.ToUpper(greeting), []byte("FTP"))
	})
}

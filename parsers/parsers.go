// Package parsers holds the small types shared by the protocol parsers in its
// sub-packages (http, dns, tls, quic). Parsers are pure code over bytes: they do
// no I/O, keep bounded memory on hostile input and return their own result
// types; the sensor maps those results to ECS events.
package parsers

import (
	"errors"
	"time"
)

// Dir is the direction of a chunk of application data within a connection.
type Dir uint8

const (
	// ToServer is data sent by the connection's originator (the client).
	ToServer Dir = iota
	// ToClient is data sent by the responder (the server).
	ToClient
)

// String returns "to_server" or "to_client".
func (d Dir) String() string {
	if d == ToServer {
		return "to_server"
	}
	return "to_client"
}

// Reverse returns the other direction.
func (d Dir) Reverse() Dir { return 1 - d }

// StreamParser consumes the reassembled byte streams of one TCP connection.
//
// The reassembler calls Data with in-order bytes of one direction; the slice is
// only valid during the call, so a parser copies what it keeps. Gap reports n
// bytes that were never seen (lost or not captured); the parser should resync
// where its protocol allows and record the gap on what it emits. End is called
// once, when the connection closes, times out or input ends; no call follows it.
// Data returns an error once the stream cannot be parsed as the parser's
// protocol any more; the caller then stops feeding it (and calls End).
// Calls for one connection never overlap; ts is packet time, never wall time.
type StreamParser interface {
	Data(d Dir, b []byte, ts time.Time) error
	Gap(d Dir, n int, ts time.Time)
	End(ts time.Time)
}

// Verdict is a sniffer's answer on the first bytes of one direction of a
// stream. A sniffer answers More only while the bytes so far are a prefix of
// something it would accept, so a caller that buffers until Yes or No never
// decides on too few bytes.
type Verdict uint8

const (
	// No: not this protocol, whatever bytes follow.
	No Verdict = iota
	// Yes: the protocol's start.
	Yes
	// More: too few bytes to tell.
	More
)

// ErrStartTLS is returned by a parser's Data once its connection goes on
// as TLS (RDP's negotiation, a database's SSL request). The parser's
// Switched method then gives the bytes already received of the TLS
// stream, per direction, for the caller to inspect as a new stream.
var ErrStartTLS = errors.New("connection continues as TLS")

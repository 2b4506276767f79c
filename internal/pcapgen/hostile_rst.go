package pcapgen

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Reset is a kind of RST an evader sends to make a monitor stop listening
// while the server keeps the connection.
type Reset uint8

const (
	// ResetBadMD5 carries a TCP MD5 signature on a connection that uses
	// none: the server drops it (RFC 2385; Linux counts TCPMD5Unexpected).
	ResetBadMD5 Reset = iota
	// ResetOutOfWindow has a sequence number 1 MiB past the server's
	// receive window: the server drops it (RFC 793 §3.4).
	ResetOutOfWindow
	// ResetValid is in the window, without a signature: the connection
	// ends.
	ResetValid
)

var resetNames = [...]string{"bad-md5", "out-of-window", "valid"}

func (r Reset) String() string { return resetNames[r] }

// ResetSession is an HTTP exchange (HTTPRequest, HTTPResponse) in which the
// client sends a RST of kind r after the handshake and then the request as
// if nothing happened, then both sides close with FIN.
func ResetSession(client, server netip.AddrPort, t time.Time, r Reset) []Packet {
	c := NewTCPConn(client, server, t).Handshake()
	c.Send(true, fRST|fACK, nil)
	tcp := c.Packets[len(c.Packets)-1].Layers[1].(*layers.TCP)
	switch r {
	case ResetBadMD5:
		tcp.Options = []layers.TCPOption{{OptionType: 19, OptionLength: 18, OptionData: make([]byte, 16)}}
	case ResetOutOfWindow:
		tcp.Seq += 1 << 20
	}
	return c.Data(true, HTTPRequest, 1460).Data(false, HTTPResponse, 1460).Close().Packets
}

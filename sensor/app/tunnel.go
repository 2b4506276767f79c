package app

// A connection that leaves HTTP — CONNECT answered 2xx, or 101 Switching
// Protocols — goes on as another protocol. Its rest is inspected as a new
// application stream, detected by content like any other, and the events
// found in it name the tunnel's target: a TLS handshake through a proxy is
// as visible as a direct one.

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	phttp "github.com/packetsleuth/packetsleuth/parsers/http"
)

// maxTunnelDepth bounds tunnels inside tunnels (CONNECT through CONNECT).
const maxTunnelDepth = 4

// Notes on the HTTP event of a switch whose rest is not inspected.
const (
	noteUpgradeNotInspected = "upgraded protocol not inspected"
	noteTunnelTooDeep       = "tunnel nested too deep: not inspected"
)

// upgradeInspected says whether the protocol a 101 switches to is one the
// detector can find (TLS per RFC 2817, HTTP/1.x); websocket, h2c and others
// are not parsed.
func upgradeInspected(proto string) bool {
	first, _, _ := strings.Cut(proto, ",")
	first = strings.TrimSpace(first)
	return strings.HasPrefix(strings.ToUpper(first), "TLS/") || strings.HasPrefix(strings.ToUpper(first), "HTTP/1.")
}

// inspectSwitch tells whether the rest of a switch is inspected: the
// transaction's event gets a note when it is not.
func (st *state) inspectSwitch(tx *phttp.Transaction) (bool, string) {
	switch {
	case tx.Upgraded && !upgradeInspected(tx.UpgradeProtocol):
		return false, noteUpgradeNotInspected
	case (tx.Upgraded || tx.Tunnel) && st.depth >= maxTunnelDepth:
		return false, noteTunnelTooDeep
	}
	return true, ""
}

// switched continues the connection after the HTTP parser of dt returned
// ErrSwitched: a new detector (the tunnel's sub-stream, in the directions
// the HTTP parser saw) takes the bytes already received of the new
// protocol, then everything that follows.
func (st *state) switched(dt *detector, ts time.Time) error {
	c := dt.parser.(*phttp.Conn)
	sw, _ := c.Switched()
	defer c.End(ts) // emits nothing more; gives back the held bytes' budget
	inspect := sw.Target != "" || upgradeInspected(sw.Protocol)
	if !inspect || st.depth >= maxTunnelDepth {
		dt.parser, dt.dead = nil, true
		return nil
	}
	if sw.Target != "" {
		st.tunnel, st.tunnelPort = sw.Target, targetPort(sw.Target)
	}
	var rest [2][]byte
	var lost [2]int
	for d := range rest {
		// A stray line end after the CONNECT or its answer (some clients
		// and proxies send one) is HTTP's, not the tunnel's first byte.
		rest[d], lost[d] = bytes.TrimLeft(sw.Rest[d], "\r\n"), int(sw.Lost[d])
	}
	return st.handOver(dt, rest, lost, ts)
}

// handOver makes a new detector the parser of dt's stream: the
// connection goes on as another protocol (after an HTTP tunnel or
// upgrade, or RDP's switch to TLS), found by content. It takes rest, the
// bytes already received of the new protocol per direction (then a gap
// of lost bytes), and everything that follows.
func (st *state) handOver(dt *detector, rest [2][]byte, lost [2]int, ts time.Time) error {
	st.depth++
	inner := &detector{st: st}
	dt.parser = inner
	for _, d := range []parsers.Dir{parsers.ToServer, parsers.ToClient} {
		if len(rest[d]) > 0 {
			if err := inner.Data(d, rest[d], ts); err != nil {
				return err
			}
		}
		if lost[d] > 0 {
			inner.Gap(d, lost[d], ts)
		}
	}
	return nil
}

// targetPort is the port of a CONNECT target, 0 if it has none.
func targetPort(target string) uint16 {
	_, p, err := net.SplitHostPort(target)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseUint(p, 10, 16)
	return uint16(n)
}

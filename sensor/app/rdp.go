package app

import (
	"strconv"
	"time"

	"github.com/packetsleuth/packetsleuth/parsers"
	prdp "github.com/packetsleuth/packetsleuth/parsers/rdp"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
)

// emitRDP maps the clear-text start of an RDP connection to an event of
// dataset packetsleuth.rdp.
func (st *state) emitRDP(s *prdp.Session) {
	ev := st.a.newEvent(st, schemas.DatasetRDP, st.f.First())
	ev.Network.Protocol = "rdp"
	x := &ev.Sensor.RDP
	x.Cookie, x.RoutingToken = s.Cookie, s.RoutingToken
	if s.HasRequest {
		x.RequestedProtocols = prdp.ProtocolNames(s.Requested)
	}
	switch {
	case s.HasSelected:
		x.SelectedProtocol = prdp.ProtocolName(s.Selected)
	case s.Confirmed && !s.HasFailure:
		x.SelectedProtocol = "rdp" // a confirm without RDP_NEG_RSP: standard security
	}
	if s.HasFailure {
		x.NegotiationFailure = prdp.FailureName(s.Failure)
		ev.Event.Outcome = "failure"
	}
	x.TLS = s.TLS
	x.ClientName = s.ClientName
	x.ClientBuild, x.KeyboardLayout = int64(s.ClientBuild), int64(s.KeyboardLayout)
	x.DesktopWidth, x.DesktopHeight = int64(s.DesktopWidth), int64(s.DesktopHeight)
	if s.HasEncryption {
		x.EncryptionMethod = nameOr(encMethods, s.EncryptionMethod)
		x.EncryptionLevel = nameOr(encLevels, s.EncryptionLvl)
	}
	if s.Cookie != "" {
		ev.Related.User = one(&st.a.scr.users, s.Cookie)
	}
	ev.Sensor.Notes = s.Notes
	if s.MemoryLimited {
		st.a.anom.Report(anomaly.MemoryLimit, st.f, st.f.Last(), "memory budget spent: RDP frames split across segments not read")
	}
	st.a.emit(ev)
}

// Standard RDP security encryption methods and levels ([MS-RDPBCGR] 2.2.1.4.3).
var (
	encMethods = map[uint32]string{0: "none", 1: "40bit", 2: "128bit", 8: "56bit", 0x10: "fips"}
	encLevels  = map[uint32]string{0: "none", 1: "low", 2: "client_compatible", 3: "high", 4: "fips"}
)

func nameOr(names map[uint32]string, v uint32) string {
	if n, ok := names[v]; ok {
		return n
	}
	return strconv.FormatUint(uint64(v), 10)
}

// startedTLS goes on after the parser of dt returned parsers.ErrStartTLS
// (RDP selected TLS, CredSSP or RDSTLS; a database accepted SSL): the
// rest of the connection is detected (a TLS handshake) and parsed as a
// new stream, so its certificate and fingerprints are seen.
func (st *state) startedTLS(dt *detector, ts time.Time) error {
	c := dt.parser.(interface {
		parsers.StreamParser
		Switched() [2][]byte
	})
	rest := c.Switched()
	defer c.End(ts) // gives back the held bytes' budget
	if st.depth >= maxTunnelDepth {
		dt.parser, dt.dead = nil, true
		return nil
	}
	return st.handOver(dt, rest, [2]int{}, ts)
}

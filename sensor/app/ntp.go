package app

import (
	"net/netip"
	"strconv"

	"github.com/packetsleuth/packetsleuth/parsers/ntp"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// ntpDatagram maps one NTP message to an event of dataset
// packetsleuth.ntp; a datagram of the flow that is not NTP is a counted
// parser error.
func (st *state) ntpDatagram(p *decode.Packet) {
	a := st.a
	m := &a.ntp
	if err := ntp.Parse(p.Payload, m); err != nil {
		st.datagramError("ntp", err, p.Timestamp)
		return
	}
	ev := a.newEvent(st, schemas.DatasetNTP, p.Timestamp)
	ev.Network.Protocol = "ntp"
	x := &ev.Sensor.NTP
	x.Version, x.Mode, x.ModeCode = int(m.Version), ntp.ModeName(m.Mode), int(m.Mode)
	if m.Mode == ntp.ModeControl || m.Mode == ntp.ModePrivate {
		x.Control, x.Response = true, m.Response
		if x.Opcode = ntp.OpcodeName(m.Mode, m.Opcode); x.Opcode == "" {
			x.Opcode = strconv.Itoa(int(m.Opcode))
		}
	} else {
		x.Stratum, x.Poll, x.TrailerBytes = int(m.Stratum), int(m.Poll), m.Trailer
		x.ReferenceID = refID(m.Stratum, m.RefID)
	}
	a.emit(ev)
}

// refID is a reference id as text: four ASCII characters for stratum 0
// (a kiss code) and 1 (a clock source), an address otherwise.
func refID(stratum uint8, id [4]byte) string {
	if id == [4]byte{} {
		return ""
	}
	if stratum <= 1 {
		n := 4
		for n > 0 && id[n-1] == 0 {
			n--
		}
		for _, c := range id[:n] {
			if c < 0x20 || c > 0x7e {
				return netip.AddrFrom4(id).String()
			}
		}
		return string(id[:n])
	}
	return netip.AddrFrom4(id).String()
}

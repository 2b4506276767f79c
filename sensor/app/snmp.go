package app

import (
	"github.com/packetsleuth/packetsleuth/parsers/snmp"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// snmpVersions names the version numbers of the wire.
var snmpVersions = map[int]string{0: "1", 1: "2c", 3: "3"}

// snmpDatagram maps one SNMP message to an event of dataset
// packetsleuth.snmp (the community is never stored: see schemas.SNMP); a
// datagram of the flow that is not SNMP is a counted parser error.
func (st *state) snmpDatagram(p *decode.Packet) {
	a := st.a
	m := &a.snmp
	if err := snmp.Parse(p.Payload, m); err != nil {
		st.datagramError("snmp", err, p.Timestamp)
		return
	}
	ev := a.newEvent(st, schemas.DatasetSNMP, p.Timestamp)
	ev.Network.Protocol = "snmp"
	x := &ev.Sensor.SNMP
	x.Version = snmpVersions[m.Version]
	if m.Version != 3 {
		x.CommunityPresent, x.CommunityLength = true, len(m.Community)
		x.CommunityDefault = snmp.DefaultCommunity(m.Community)
	}
	x.User, x.Encrypted = string(m.UserName), m.Encrypted
	if x.User != "" {
		ev.Related.User = one(&a.scr.users, x.User)
	}
	x.PDUType, x.RequestID, x.ErrorStatus = snmp.PDUName(m.PDU), m.RequestID, m.ErrorStatus
	for _, oid := range m.OIDs[:m.NumOIDs] {
		a.ja = snmp.AppendOID(a.ja[:0], oid)
		x.OIDs = append(x.OIDs, string(a.ja))
	}
	x.OIDsMore = m.MoreOIDs
	a.emit(ev)
}

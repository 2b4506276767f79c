package app

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/packetsleuth/packetsleuth/parsers/dhcp"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// Notes on DHCP events.
const (
	noteDHCPTruncated = "dhcp.options_truncated"
	noteDHCPRepeated  = "dhcp.option_repeated"
)

// dhcpDatagram maps one DHCP message to an event of dataset
// packetsleuth.dhcp (one per message: see schemas.DHCP). A message whose
// option list is cut still gives its event, with what was read and a
// note; a datagram of the flow that is not DHCP at all gives none. Both
// are counted and reported as parser errors.
func (st *state) dhcpDatagram(p *decode.Packet) {
	a := st.a
	m := &a.dhcp
	err := dhcp.Parse(p.Payload, m)
	if err != nil {
		st.datagramError("dhcp", err, p.Timestamp)
		if !errors.Is(err, dhcp.ErrTruncated) {
			return
		}
	}
	ev := a.newEvent(st, schemas.DatasetDHCP, p.Timestamp)
	ev.Network.Protocol = "dhcp"
	x := &ev.Sensor.DHCP
	x.MessageType = "bootp"
	if m.Type != 0 {
		x.MessageType = dhcp.TypeName(m.Type)
	}
	x.TransactionID = fmt.Sprintf("0x%08x", m.XID)
	x.ClientMAC = string(dhcp.AppendMAC(a.ja[:0], m.CHAddr))
	x.ClientIP = addr4(m.CIAddr, m.CIAddr != [4]byte{})
	x.AssignedIP = addr4(m.YIAddr, m.YIAddr != [4]byte{})
	x.RelayIP = addr4(m.GIAddr, m.GIAddr != [4]byte{})
	x.RequestedIP = addr4(m.RequestedIP, m.Has&dhcp.HasRequestedIP != 0)
	x.ServerID = addr4(m.ServerID, m.Has&dhcp.HasServerID != 0)
	x.SubnetMask = addr4(m.SubnetMask, m.Has&dhcp.HasSubnetMask != 0)
	x.Router = addr4(m.Router, m.Has&dhcp.HasRouter != 0)
	x.Hostname, x.Domain, x.VendorClass = string(m.Hostname), string(m.Domain), string(m.VendorClass)
	if m.ClientID != nil {
		x.ClientID = hex.EncodeToString(m.ClientID)
	}
	if m.ParamList != nil {
		a.ja = m.AppendFingerprint(a.ja[:0])
		x.Fingerprint = string(a.ja)
	}
	x.LeaseTime = int64(m.LeaseTime)
	x.Overloaded = m.Overload != 0
	switch m.Type {
	case 5:
		ev.Event.Outcome = "success"
	case 6:
		ev.Event.Outcome = "failure"
	}
	for _, ip := range []string{x.AssignedIP, x.RequestedIP, x.ClientIP} {
		if ip != "" && !slices.Contains(ev.Related.IP, ip) {
			ev.Related.IP = append(ev.Related.IP, ip)
		}
	}
	if x.Hostname != "" {
		ev.Related.Hosts = one(&a.scr.hosts, x.Hostname)
	}
	if errors.Is(err, dhcp.ErrTruncated) {
		ev.Sensor.Notes = append(ev.Sensor.Notes, noteDHCPTruncated)
	}
	if m.Repeated {
		ev.Sensor.Notes = append(ev.Sensor.Notes, noteDHCPRepeated)
	}
	a.emit(ev)
}

// addr4 is a DHCP address as text, "" when absent: a header address is
// absent when 0.0.0.0, an option when the message lacks it.
func addr4(b [4]byte, present bool) string {
	if !present {
		return ""
	}
	return netip.AddrFrom4(b).String()
}

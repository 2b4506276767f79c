package app

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"

	"github.com/packetsleuth/packetsleuth/parsers/dhcp"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// Notes on DHCPv6 events.
const (
	noteDHCP6Truncated = "dhcpv6.options_truncated"
	noteDHCP6BadFQDN   = "dhcpv6.fqdn_truncated"
)

// dhcp6Datagram maps one DHCPv6 message (a relay message: the message it
// relays) to a packetsleuth.dhcp event with network.protocol dhcpv6. A
// message whose options are cut still gives its event, with what was read
// and a note; a datagram of the flow that is not DHCPv6 gives none. Both
// are counted and reported as parser errors.
func (st *state) dhcp6Datagram(p *decode.Packet) {
	a := st.a
	m := &a.dhcp6
	err := dhcp.Parse6(p.Payload, m)
	if err != nil {
		st.datagramError("dhcpv6", err, p.Timestamp)
		if m.Type == 0 { // nothing of a message was read
			return
		}
	}
	ev := a.newEvent(st, schemas.DatasetDHCP, p.Timestamp)
	ev.Network.Protocol = "dhcpv6"
	x := &ev.Sensor.DHCP
	x.MessageType = dhcp.TypeName6(m.Type)
	x.TransactionID = fmt.Sprintf("0x%06x", m.XID)
	if m.Relay != 0 {
		x.RelayType = dhcp.TypeName6(m.Relay)
		x.RelayHops = int64(m.Hops)
		x.RelayIP = addr16(m.LinkAddr)
		x.RelayPeerIP = addr16(m.PeerAddr)
	}
	if m.ClientID != nil {
		x.ClientID = hex.EncodeToString(m.ClientID)
		x.DUIDType = dhcp.DUIDType(m.ClientID)
		if mac := dhcp.DUIDMAC(m.ClientID); mac != nil {
			x.ClientMAC = string(dhcp.AppendMAC(a.ja[:0], mac))
		}
	}
	if m.ServerID != nil {
		x.ServerDUID = hex.EncodeToString(m.ServerID)
	}
	if m.IAKind != 0 {
		x.IAID = fmt.Sprintf("%08x", m.IAID)
		x.RenewTime, x.RebindTime = int64(m.T1), int64(m.T2)
	}
	addrs := m.IAAddrs()
	switch {
	case len(addrs) > 0:
		x.AssignedIP = netip.AddrFrom16(addrs[0].Addr).String()
		x.LeaseTime, x.PreferredLifetime = int64(addrs[0].Valid), int64(addrs[0].Preferred)
	case m.NPrefixes > 0:
		x.LeaseTime, x.PreferredLifetime = int64(m.Prefix.Valid), int64(m.Prefix.Preferred)
	}
	x.AddressCount = int64(m.NAddrs)
	if m.NPrefixes > 0 {
		x.DelegatedPrefix = netip.PrefixFrom(netip.AddrFrom16(m.Prefix.Addr), int(m.Prefix.PrefixLen)).String()
	}
	if m.HasFQDN {
		var ferr error
		a.ja, ferr = m.AppendFQDN(a.ja[:0])
		x.FQDN = string(a.ja)
		host, _, _ := bytes.Cut(a.ja, []byte("."))
		x.Hostname = string(host)
		if ferr != nil {
			ev.Sensor.Notes = append(ev.Sensor.Notes, noteDHCP6BadFQDN)
		}
	}
	x.VendorClass = string(m.VendorClass)
	if m.ORO != nil {
		a.ja = m.AppendFingerprint(a.ja[:0])
		x.Fingerprint = string(a.ja)
	}
	if m.HasStatus {
		x.Status = dhcp.StatusName(m.Status)
	}
	if m.Type == dhcp.V6Reply || m.Type == dhcp.V6Advertise {
		switch {
		case m.HasStatus && m.Status != 0:
			ev.Event.Outcome = "failure"
		case m.Type == dhcp.V6Reply && (m.NAddrs > 0 || m.NPrefixes > 0):
			ev.Event.Outcome = "success"
		}
	}
	for _, ia := range addrs {
		if ip := netip.AddrFrom16(ia.Addr).String(); !slices.Contains(ev.Related.IP, ip) {
			ev.Related.IP = append(ev.Related.IP, ip)
		}
	}
	if x.FQDN != "" {
		ev.Related.Hosts = one(&a.scr.hosts, x.FQDN)
	}
	if err != nil {
		ev.Sensor.Notes = append(ev.Sensor.Notes, noteDHCP6Truncated)
	}
	if m.Repeated {
		ev.Sensor.Notes = append(ev.Sensor.Notes, noteDHCPRepeated)
	}
	a.emit(ev)
}

// addr16 is an IPv6 address as text, "" when unspecified.
func addr16(b [16]byte) string {
	if b == [16]byte{} {
		return ""
	}
	return netip.AddrFrom16(b).String()
}

package hosts

import (
	"time"

	"github.com/packetsleuth/packetsleuth/parsers/dhcp"
)

// lesson is what a DHCP message can teach the table.
type lesson uint8

const (
	learnNothing lesson = iota
	learnName           // a client's name for its coming lease
	learnLease          // a lease granted (or, DHCPv6 valid lifetime 0, ended)
	learnEnd            // a lease ended by its client
)

// lessonOf is what a message of type typ teaches: named, it gives a client
// and its name; assigned, an address granted; ended, the address a
// RELEASE or DECLINE ends. Learn and Teaches4/Teaches6 judge by it alike.
func lessonOf(typ string, named, assigned, ended bool) lesson {
	switch typ {
	case "discover", "request", "inform", "solicit", "renew", "rebind", "confirm", "information-request":
		if named {
			return learnName
		}
	case "ack", "reply":
		if assigned {
			return learnLease
		}
	case "release", "decline":
		if ended {
			return learnEnd
		}
	}
	return learnNothing
}

// Teaches4 reports whether the event of DHCPv4 message m (as parsed for
// it) can change the table: other messages (OFFER, NAK, BOOTP, a REQUEST
// without a name, an ACK without an address) teach it nothing, so that a
// caller ordering the table's uses (the pipeline's workers) need not
// order them.
func Teaches4(m *dhcp.Message) bool {
	var ended bool
	switch m.Type {
	case 7: // RELEASE: its ciaddr
		ended = m.CIAddr != [4]byte{}
	case 4: // DECLINE: the address requested
		ended = m.Has&dhcp.HasRequestedIP != 0
	}
	return lessonOf(dhcp.TypeName(m.Type), len(m.Hostname) > 0 && len(m.CHAddr) > 0, m.YIAddr != [4]byte{}, ended) != learnNothing
}

// Teaches6 is Teaches4 for a DHCPv6 message: the client is its DUID, the
// name its FQDN, the address its first IA address.
func Teaches6(m *dhcp.Message6) bool {
	named := len(m.ClientID) > 0 && m.HasFQDN && len(m.FQDN) > 0 && m.FQDN[0] != 0
	assigned := len(m.IAAddrs()) > 0
	return lessonOf(dhcp.TypeName6(m.Type), named, assigned, assigned) != learnNothing
}

// Admit takes one message that teaches the table (Teaches4, Teaches6), of
// packet time ts, from the learning rate: past Config.MaxLearnRate in its
// second, it must not be learnt from (Learn is not called), and is
// counted (Stats.Limited); first says it is the first so refused in its
// second. A caller with several workers admits in packet order, so that
// any number of them learn from the same messages; each admitted one
// makes them wait for each other (the pipeline's hostorder.go), and the
// rate bounds those waits whatever DHCP an attacker sends.
func (t *Table) Admit(ts time.Time) (ok, first bool) {
	sec := ts.Unix()
	t.rate.Lock()
	defer t.rate.Unlock()
	if sec > t.rateSecond { // an older packet counts in the newest second: time going back does not reopen it
		t.rateSecond, t.inSecond = sec, 0
	}
	t.inSecond++
	if t.inSecond <= t.maxRate {
		return true, false
	}
	t.limited.Add(1)
	return false, t.inSecond == t.maxRate+1
}

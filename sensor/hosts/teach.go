package hosts

import (
	"net/netip"
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

// Teaching says whether a DHCP message can change the table, and which
// of its learning rates it draws on (Admit).
type Teaching uint8

const (
	TeachesNothing Teaching = iota
	TeachesClient           // a client's message: its name, or the lease it ends
	TeachesServer           // an answer granting an address, from a server in Config.Servers
)

// Teaches4 says whether the event of DHCPv4 message m (as parsed for it),
// sent by from, can change the table: other messages (OFFER, NAK, BOOTP, a
// REQUEST without a name, an ACK without an address or from a sender not
// in Config.Servers) teach it nothing, so that a caller ordering the
// table's uses (the pipeline's workers) need not order them.
func (t *Table) Teaches4(m *dhcp.Message, from netip.Addr) Teaching {
	var ended bool
	switch m.Type {
	case 7: // RELEASE: its ciaddr
		ended = m.CIAddr != [4]byte{}
	case 4: // DECLINE: the address requested
		ended = m.Has&dhcp.HasRequestedIP != 0
	}
	return t.teaching(lessonOf(dhcp.TypeName(m.Type), len(m.Hostname) > 0 && len(m.CHAddr) > 0, m.YIAddr != [4]byte{}, ended), from)
}

// Teaches6 is Teaches4 for a DHCPv6 message: the client is its DUID, the
// name its FQDN (named when its first label is whole, as Learn reads it),
// the address its first IA address.
func (t *Table) Teaches6(m *dhcp.Message6, from netip.Addr) Teaching {
	f := m.FQDN
	named := len(m.ClientID) > 0 && m.HasFQDN && len(f) > 0 && f[0] != 0 && len(f) > int(f[0])
	assigned := len(m.IAAddrs()) > 0
	return t.teaching(lessonOf(dhcp.TypeName6(m.Type), named, assigned, assigned), from)
}

func (t *Table) teaching(l lesson, from netip.Addr) Teaching {
	switch {
	case l == learnNothing:
		return TeachesNothing
	case l != learnLease:
		return TeachesClient
	case t.fromServer(from):
		return TeachesServer
	}
	return TeachesNothing // ignored by Learn: it changes nothing
}

// Admit takes one message that teaches the table (Teaches4, Teaches6), of
// packet time ts, from its learning rate: clients' messages and servers'
// answers each have Config.MaxLearnRate a second, so that a flood of the
// one does not crowd out the other. Past it, the message must not be
// learnt from (Learn's admitted false) and is counted (Stats.Limited);
// first says it is the first so refused in its second. A caller with
// several workers admits in packet order, so that any number of them
// learn from the same messages; each admitted one makes them wait for
// each other (the pipeline's hostorder.go), and the rate bounds those
// waits whatever DHCP an attacker sends.
func (t *Table) Admit(kind Teaching, ts time.Time) (ok, first bool) {
	if kind == TeachesNothing {
		return false, false
	}
	t.rate.Lock()
	defer t.rate.Unlock()
	w := t.rates[kind-TeachesClient].window(ts.Unix())
	w.n++
	if w.n <= t.maxRate {
		return true, false
	}
	t.limited.Add(1)
	return false, w.n == t.maxRate+1
}

// learnRate is one learning rate: the window of the newest second seen,
// and one for packets far behind it.
//
// A packet a little older than the newest (a merged capture out of
// order) counts in the newest second: it does not reopen the window. One
// far behind (rateRewind: a capture of another day after this one, or
// the capture's own time after a stray stamp in the future) counts in
// the window behind, which moves on with those packets' own time, so
// learning goes on. Time jumping back and forth (a crafted capture) then
// opens at most two windows, not one a jump.
type learnRate struct {
	now, behind rateWindow
}

// rateWindow is the count of one second of packet time.
type rateWindow struct {
	second int64 // packet time (s) of the window
	n      int64 // messages admitted or refused in it
}

// rateRewind is how far behind the newest second a packet counts in the
// window behind.
const rateRewind = 60

// window returns the window a packet of second sec counts in, moved on
// to sec if sec is newer.
func (r *learnRate) window(sec int64) *rateWindow {
	w := &r.now
	if sec < r.now.second-rateRewind {
		w = &r.behind
	}
	if sec > w.second {
		w.second, w.n = sec, 0
	}
	return w
}

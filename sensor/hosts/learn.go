package hosts

import (
	"net/netip"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// Learn reads a packetsleuth.dhcp event: a client's message that names it
// (host name, FQDN) is remembered for its lease; an answer that grants a
// lease (DHCPv4 ACK with yiaddr, DHCPv6 REPLY with an address) enters the
// table; RELEASE and DECLINE (and a DHCPv6 REPLY with valid lifetime 0)
// end the client's lease at the event's time. What the table took is
// written into the event as packetsleuth.dhcp.lease; from is the
// message's sender (not the event's source: the flow's originator, a
// client for the answer to a unicast renewal). Not admitted (past
// the learning rate, or not a message Teaches4/Teaches6 let through), only
// an answer from a sender not in Config.Servers is marked ignored: that
// changes nothing in the table. It returns false when a lease could not
// be kept (table full, budget spent): the caller reports it.
func (t *Table) Learn(ev *schemas.Event, from netip.Addr, admitted bool) bool {
	if ev.Event.Dataset != schemas.DatasetDHCP {
		return true
	}
	x := &ev.Sensor.DHCP
	if !admitted {
		// Only an answer granting an address is looked at: the client's
		// name and end do not matter, and nothing is built for them (a
		// flood is mostly messages not admitted).
		if lessonOf(x.MessageType, false, x.AssignedIP != "", false) == learnLease && !t.fromServer(from) {
			t.ignore(x)
		}
		return true
	}
	v6 := ev.Network.Protocol == "dhcpv6"
	client, nm := "mac:"+x.ClientMAC, x.Hostname
	if v6 {
		client, nm = "duid:"+x.ClientID, x.FQDN
		if nm == "" {
			nm = x.Hostname
		}
	}
	if client == "mac:" || client == "duid:" {
		client = ""
	}
	ts := ev.Timestamp
	ended := endedIP(x, v6)
	switch lessonOf(x.MessageType, nm != "" && client != "", x.AssignedIP != "", ended != "") {
	case learnName:
		return t.remember(client, nm, ts)
	case learnLease:
		if !t.fromServer(from) {
			t.ignore(x)
			return true
		}
		if v6 && x.LeaseTime == 0 {
			t.release(x.AssignedIP, client, ts, x)
			return true
		}
		if nm == "" {
			nm = t.nameOf(client)
		}
		l := &Lease{IP: x.AssignedIP, MAC: ECSMAC(x.ClientMAC), Hostname: nm, Start: ts, client: client}
		switch {
		case x.LeaseTime == 0:
			l.End = ts.Add(DefaultLease)
		case x.LeaseTime == 0xffffffff: // infinity (RFC 2131, RFC 8415)
		default:
			l.End = ts.Add(time.Duration(x.LeaseTime) * time.Second)
		}
		if !t.put(l) {
			return false
		}
		x.Lease = schemas.DHCPLease{Action: "assigned", IP: l.IP, MAC: l.MAC, Hostname: l.Hostname, End: l.End}
	case learnEnd:
		t.release(ended, client, ts, x)
	}
	return true
}

// endedIP is the address a RELEASE or DECLINE ends ("" for other
// messages): a DHCPv4 RELEASE's ciaddr, a DECLINE's requested address, a
// DHCPv6 one's IA address.
func endedIP(x *schemas.DHCP, v6 bool) string {
	switch {
	case x.MessageType != "release" && x.MessageType != "decline":
		return ""
	case v6:
		return x.AssignedIP
	case x.MessageType == "release":
		return x.ClientIP
	}
	return x.RequestedIP
}

// ignore counts answer x, from a sender not in Config.Servers, and marks
// it ignored.
func (t *Table) ignore(x *schemas.DHCP) {
	t.ignored.Add(1)
	x.Lease = schemas.DHCPLease{Action: "ignored", IP: x.AssignedIP}
}

// fromServer reports whether an answer sent by a may grant a lease.
func (t *Table) fromServer(a netip.Addr) bool {
	if len(t.servers) == 0 {
		return true
	}
	a = a.Unmap()
	for _, p := range t.servers {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// remember keeps client's name for its coming lease.
func (t *Table) remember(client, nm string, ts time.Time) bool {
	if t.names.Load() >= t.max {
		t.sweepNames(ts)
	}
	s := t.shardOf(client)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.names[client]; ok {
		if old.name != nm {
			cost := int64(len(nm) - len(old.name))
			if cost > 0 && !t.budget.Reserve(budget.Hosts, cost) {
				t.refused.Add(1)
				return false
			}
			if cost < 0 {
				t.budget.Release(budget.Hosts, -cost)
			}
		}
		s.names[client] = name{nm, ts}
		return true
	}
	cost := entryCost + int64(len(client)+len(nm))
	if t.names.Load() >= t.max || !t.budget.Reserve(budget.Hosts, cost) {
		t.refused.Add(1)
		return false
	}
	s.names[client] = name{nm, ts}
	t.names.Add(1)
	return true
}

// sweepNames forgets, in every shard, the names not seen for nameTTL, at
// most once a second of packet time: a flood of named DISCOVERs from
// random MACs keeps the table full, and a scan for each would let it buy a
// map walk per packet.
func (t *Table) sweepNames(now time.Time) {
	sec := now.Unix()
	last := t.namesSwept.Load()
	if sec == last || !t.namesSwept.CompareAndSwap(last, sec) {
		return
	}
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for k, v := range s.names {
			if now.Sub(v.seen) > nameTTL {
				delete(s.names, k)
				t.names.Add(-1)
				t.budget.Release(budget.Hosts, entryCost+int64(len(k)+len(v.name)))
			}
		}
		s.mu.Unlock()
	}
}

func (t *Table) nameOf(client string) string {
	if client == "" {
		return ""
	}
	s := t.shardOf(client)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.names[client].name
}

// put enters l, replacing the lease of its address.
func (t *Table) put(l *Lease) bool {
	t.sweep(l.Start, t.leases.Load() >= t.max)
	s := t.shardOf(l.IP)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.byIP[l.IP]
	var oldCost int64
	if old != nil {
		oldCost = old.cost()
	} else if t.leases.Load() >= t.max {
		t.refused.Add(1)
		return false
	}
	if d := l.cost() - oldCost; d > 0 && !t.budget.Reserve(budget.Hosts, d) {
		t.refused.Add(1)
		return false
	} else if d < 0 {
		t.budget.Release(budget.Hosts, -d)
	}
	s.byIP[l.IP] = l
	if old == nil {
		t.leases.Add(1)
	}
	t.learned.Add(1)
	return true
}

// release ends at ts the lease of ip held by client, and says so in the
// event (x.Lease).
func (t *Table) release(ip, client string, ts time.Time, x *schemas.DHCP) {
	if ip == "" {
		return
	}
	s := t.shardOf(ip)
	s.mu.Lock()
	l := s.byIP[ip]
	if l == nil || l.client != client || !l.live(ts) {
		s.mu.Unlock()
		return
	}
	// A new Lease, not an update in place: readers copied the old one
	// under the read lock, and Leases hands out copies too.
	ended := *l
	ended.End = ts
	s.byIP[ip] = &ended
	s.mu.Unlock()
	t.released.Add(1)
	x.Lease = schemas.DHCPLease{Action: "released", IP: ip, MAC: ended.MAC, Hostname: ended.Hostname, End: ts}
}

// sweep drops the leases that ended sweepGrace before now (every one that
// ended, when the table is full), at most once a sweepEvery of packet time
// (once a second when full): a full table of live leases refuses new ones
// at the cost of one scan a second. The grace lets a worker that lags
// behind still name its events by a lease that just ended.
func (t *Table) sweep(now time.Time, full bool) {
	sec, every, cut := now.Unix(), int64(sweepEvery/time.Second), now.Add(-sweepGrace)
	if full {
		every, cut = 1, now
	}
	last := t.lastSweep.Load()
	if sec-last < every || !t.lastSweep.CompareAndSwap(last, sec) {
		return
	}
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for ip, l := range s.byIP {
			if !l.End.IsZero() && !cut.Before(l.End) {
				delete(s.byIP, ip)
				t.leases.Add(-1)
				t.expired.Add(1)
				t.budget.Release(budget.Hosts, l.cost())
			}
		}
		s.mu.Unlock()
	}
}

// How often ended leases are swept, and how long after their end.
const (
	sweepEvery = time.Minute
	sweepGrace = time.Minute
)

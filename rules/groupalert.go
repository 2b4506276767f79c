package rules

import (
	"reflect"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// groupEvent is what a threshold alert is made of: the group_by fields of
// ev, the addresses among them as related.ip, at the newest time the group
// counted (newest, Unix ns; 0: none).
//
// Why not the event that crossed the threshold: with several workers
// sharing the state, which of a group's events arrives last depends on
// their scheduling (a port scan's flows end at one sweep in every worker
// at once), so an alert copying it would name another port, flow and
// time from run to run. The group, the count, the members and the newest
// time are the same however the events interleave, as long as the same
// events are counted; an event's own fields are in its own event.
func groupEvent(r *Rule, ev *schemas.Event, newest int64) *schemas.Event {
	g := &schemas.Event{Observer: ev.Observer}
	if newest != 0 {
		g.Timestamp = time.Unix(0, newest).In(ev.Timestamp.Location())
	}
	dst, src := reflect.ValueOf(g).Elem(), reflect.ValueOf(ev).Elem()
	for _, f := range r.thrGroup {
		dst.FieldByIndex(f.index).Set(src.FieldByIndex(f.index))
	}
	relateGroup(g)
	return g
}

// groupEventOf is groupEvent made from the group's key once its event is
// gone (a deferred use): the key gives the values back, as every group_by
// field is a scalar (lookupField).
func groupEventOf(r *Rule, key []byte, obs schemas.Observer) *schemas.Event {
	g := &schemas.Event{Observer: obs}
	setGroup(g, r.thrGroup, string(key))
	relateGroup(g)
	return g
}

// relateGroup lists the group's addresses as related.ip.
func relateGroup(g *schemas.Event) {
	for _, ip := range []string{g.Source.IP, g.Destination.IP} {
		if ip != "" {
			g.Related.IP = append(g.Related.IP, ip)
		}
	}
}

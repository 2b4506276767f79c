package storetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// FleetNames are the sensors of Fleet.
var FleetNames = []string{"edge-a", "edge-b", "edge-c"}

// Fleet is what three sensors sent around t0, each event named by its
// sensor (edge-c by agent.id only, as a sensor without a name): sensor i
// (from 1) has i flows of 1000·i bytes and 4 packets each from 10.0.0.i to
// 192.0.2.1:443, one alert of rule PS-<name> (severity 50), one DNS event
// and a 1 s traffic bucket of 100·i packets on eth0 at t0, and a
// whole-sensor stats report at t0 (a heartbeat: version 2.<i>, site
// site-<i>, i·1000 packets, i drops).
func Fleet(t testing.TB, t0 time.Time) []schemas.Record {
	t.Helper()
	var recs []schemas.Record
	add := func(name string, ev *schemas.Event) {
		ev.ECS.Version = schemas.ECSVersion
		if name == "edge-c" {
			ev.Agent.ID = name
		} else {
			ev.Observer.Name = name
		}
		r, err := schemas.NewRecord(ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	for k, name := range FleetNames {
		i := k + 1
		src := "10.0.0." + strconv.Itoa(i)
		for j := range i {
			end := t0.Add(time.Duration(j) * time.Second)
			ev := &schemas.Event{Timestamp: end}
			ev.Event = schemas.EventMeta{ID: name + "-flow-" + strconv.Itoa(j), Kind: "event", Category: []string{"network"},
				Type: []string{"connection", "end"}, Dataset: schemas.DatasetFlow, Start: end.Add(-time.Second), End: end, Duration: time.Second}
			ev.Network = schemas.Network{Transport: "tcp", Protocol: "tls", Bytes: int64(1000 * i), Packets: 4, CommunityID: "1:" + name}
			ev.Source = schemas.Endpoint{IP: src, Port: 40000 + j, Bytes: int64(500 * i), Packets: 2}
			ev.Destination = schemas.Endpoint{IP: "192.0.2.1", Port: 443, Bytes: int64(500 * i), Packets: 2}
			add(name, ev)
		}
		al := &schemas.Event{Timestamp: t0}
		al.Event = schemas.EventMeta{ID: name + "-alert", Kind: "alert", Dataset: schemas.DatasetAlert, Severity: 50}
		al.Rule = schemas.Rule{ID: "PS-" + name, Name: "rule of " + name}
		al.Source.IP = src
		add(name, al)
		dns := &schemas.Event{Timestamp: t0}
		dns.Event = schemas.EventMeta{ID: name + "-dns", Kind: "event", Dataset: schemas.DatasetDNS}
		dns.Source.IP = src
		add(name, dns)
		b := &schemas.Event{Timestamp: t0}
		b.Event = schemas.EventMeta{ID: name + "-bucket", Kind: "metric", Dataset: schemas.DatasetTimeseries, Duration: time.Second}
		b.Sensor.Traffic = schemas.Traffic{Interface: "eth0", Packets: int64(100 * i), Bytes: 1, Flows: 1}
		add(name, b)
		st := &schemas.Event{Timestamp: t0}
		st.Event = schemas.EventMeta{ID: name + "-stats", Kind: "metric", Dataset: schemas.DatasetStats, Category: []string{"network"}}
		st.Observer.Geo.Name = "site-" + strconv.Itoa(i)
		st.Agent.Version = "2." + strconv.Itoa(i)
		st.Sensor.Stats = schemas.Stats{Packets: int64(1000 * i), KernelDrops: int64(i)}
		add(name, st)
	}
	return recs
}

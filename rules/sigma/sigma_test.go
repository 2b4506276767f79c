package sigma

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// loadConverted loads converted rules over the shipped set (their macros
// and lists) and fails on any error: a conversion must give a valid rule.
func loadConverted(t *testing.T, rs ...*Rule) *rules.Set {
	t.Helper()
	doc, err := yaml.Marshal(map[string]any{"rules": rs})
	if err != nil {
		t.Fatal(err)
	}
	set, errs := rules.Load(fstest.MapFS{"sigma.yaml": {Data: doc}}, "sigma.yaml")
	for _, e := range errs {
		t.Fatalf("%v\n%s", e, doc)
	}
	return set
}

func fire(set *rules.Set, ev schemas.Event) []string {
	var ids []string
	e := rules.NewEvaluator(set, rules.EvalOptions{IncludeDisabled: true})
	e.Eval(&ev, func(a *schemas.Event) { ids = append(ids, a.Rule.ID) })
	return ids
}

func dnsQuery(name string) schemas.Event {
	var ev schemas.Event
	ev.Event.Kind, ev.Event.Dataset = "event", schemas.DatasetDNS
	ev.Source.IP, ev.Destination.IP = "10.0.0.1", "10.0.0.53"
	ev.DNS.Question.Name = name
	return ev
}

// Our own Sigma rule, written for this test: selections, modifiers,
// wildcards, "1 of", a filter, case-insensitive matching.
const ownRule = `
title: Callback domains
id: 6c1f0f7e-0000-4000-8000-000000000001
status: test
description: test rule
author: PacketSleuth tests
tags: [attack.command-and-control, attack.t1071.004]
logsource: {category: dns}
detection:
    sel_suffix:
        query|endswith: ['.oast.fun', '.interact.sh']
    sel_glob:
        query: 'x*.CALLBACK.example'
    sel_contains_glob:
        query|contains: 'tun?el.*.bad'
    filter_main:
        query|contains: 'polling'
    condition: 1 of sel_* and not 1 of filter_*
level: high
`

func TestConvertOwnRule(t *testing.T) {
	r, err := Convert([]byte(ownRule))
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "SIGMA-6c1f0f7e-0000-4000-8000-000000000001" || r.Severity != "high" || len(r.Threat) != 2 ||
		r.Threat[0].Tactic.ID != "TA0011" || r.Threat[1].Technique.ID != "T1071.004" {
		t.Errorf("converted %+v", r)
	}
	set := loadConverted(t, r)
	for name, want := range map[string]bool{
		"abc.OAST.fun":           true, // case-insensitive, as Sigma
		"a.interact.sh":          true,
		"x1.callback.example":    true,
		"y1.callback.example":    false,
		"polling.oast.fun":       false, // filtered
		"oast.fun.example":       false,
		"xa.callback.example.io": false, // a wildcard pattern is anchored
		"a.tunnel.x.bad.example": true,  // |contains with wildcards is not anchored
	} {
		if got := len(fire(set, dnsQuery(name))) == 1; got != want {
			t.Errorf("%s: fired %v, want %v (condition %s)", name, got, want, r.Condition)
		}
	}
}

func TestConvertRefusals(t *testing.T) {
	base := "title: x\nid: 1\nlogsource: {category: dns}\nlevel: low\n"
	for det, want := range map[string]string{
		"detection: {sel: [a, b], condition: sel}":                   "keyword searches",
		"detection: {sel: {qname: x}, condition: sel}":               `field "qname" of this log source has no PacketSleuth equivalent`,
		"detection: {sel: {query|base64: x}, condition: sel}":        `modifier "base64" is not supported`,
		"detection: {sel: {query: x}, condition: sel | count() > 5}": "aggregation",
		"detection: {sel: {query: x}, condition: other}":             `unknown selection "other"`,
	} {
		_, err := Convert([]byte(base + det))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %s", det, err, want)
		}
	}
	if _, err := Convert([]byte("title: x\nid: 1\nlogsource: {category: process_creation}\ndetection: {sel: {a: b}, condition: sel}\n")); err == nil ||
		!strings.Contains(err.Error(), "no PacketSleuth equivalent") {
		t.Errorf("process_creation: %v", err)
	}
}

// The public SigmaHQ network and proxy rules: every one either converts
// into a rule that loads, or says why not.
func TestConvertSigmaHQ(t *testing.T) {
	const dir = "../../../shared/sigma"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("../shared/sigma is not beside the repository")
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".yml") {
			files = append(files, p)
		}
		return nil
	})
	var converted []*Rule
	reasons := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Convert(b)
		if err != nil {
			reasons[strings.SplitN(err.Error(), ":", 2)[0]]++
			continue
		}
		converted = append(converted, r)
	}
	loadConverted(t, converted...)
	t.Logf("%d of %d SigmaHQ rules converted; not converted: %v", len(converted), len(files), reasons)
	if len(converted) < len(files)/2 {
		t.Errorf("only %d of %d converted: %v", len(converted), len(files), reasons)
	}
}

// Correlations become thresholds over the rule they name: here a
// value_count (a host asking for many names under one domain) and an
// event_count; a temporal one over a single rule is refused with the reason.
const ownCorrelation = `
title: Query under a tunnel domain
id: 6c1f0f7e-0000-4000-8000-000000000002
name: tunnel_query
logsource: {category: dns}
detection:
    sel:
        query|endswith: '.t.example'
    condition: sel
level: low
---
title: Many names under a tunnel domain
id: 6c1f0f7e-0000-4000-8000-000000000003
correlation:
    type: value_count
    rules: [tunnel_query]
    group-by: [src_ip]
    timespan: 1m
    condition: {gte: 3, field: query}
level: high
---
title: Many queries under a tunnel domain
id: 6c1f0f7e-0000-4000-8000-000000000004
correlation:
    type: event_count
    rules: [6c1f0f7e-0000-4000-8000-000000000002]
    group-by: [src_ip]
    timespan: 1d
    condition: {gt: 3}
level: medium
---
title: Temporal
id: 6c1f0f7e-0000-4000-8000-000000000005
correlation:
    type: temporal
    rules: [tunnel_query]
    group-by: [src_ip]
    timespan: 1m
level: medium
`

// Temporal correlations become sequences: unordered for temporal, ordered
// for temporal_ordered; aliases name a group-by field per rule.
const temporalCorrelation = `
title: Query under a tunnel domain
id: 6c1f0f7e-0000-4000-8000-000000000012
name: tunnel_query
logsource: {category: dns}
detection: {sel: {query|endswith: '.t.example'}, condition: sel}
level: low
---
title: Connection to SSH
id: 6c1f0f7e-0000-4000-8000-000000000013
name: ssh_conn
logsource: {product: zeek, service: conn}
detection: {sel: {id.resp_p: 22}, condition: sel}
level: low
---
title: Tunnel lookup and SSH, any order
id: 6c1f0f7e-0000-4000-8000-000000000014
correlation:
    type: temporal
    rules: [tunnel_query, ssh_conn]
    group-by: [client]
    aliases:
        client: {tunnel_query: src_ip, ssh_conn: id.orig_h}
    timespan: 5m
level: high
---
title: Tunnel lookup, then SSH
id: 6c1f0f7e-0000-4000-8000-000000000015
correlation:
    type: temporal_ordered
    rules: [tunnel_query, ssh_conn]
    group-by: [client]
    aliases:
        client: {tunnel_query: src_ip, ssh_conn: id.orig_h}
    timespan: 5m
level: high
`

func TestConvertTemporal(t *testing.T) {
	res := ConvertFile([]byte(temporalCorrelation))
	var rs []*Rule
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Title, r.Err)
		}
		rs = append(rs, r.Rule)
	}
	if sq := rs[2].Sequence; sq == nil || sq.Ordered == nil || *sq.Ordered || sq.Window != "5m0s" ||
		len(sq.Steps) != 2 || sq.Steps[0].By[0] != "source.ip" || sq.Steps[1].By[0] != "source.ip" {
		t.Fatalf("temporal: %+v", rs[2].Sequence)
	}
	if sq := rs[3].Sequence; sq == nil || sq.Ordered != nil {
		t.Fatalf("temporal_ordered: %+v", rs[3].Sequence)
	}
	set := loadConverted(t, rs...)
	dns := dnsQuery("a.t.example")
	dns.Timestamp = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ssh := dnsQuery("")
	ssh.Event.Dataset = schemas.DatasetFlow
	ssh.Destination.IP, ssh.Destination.Port = "192.0.2.7", 22
	ssh.Timestamp = dns.Timestamp.Add(time.Minute)
	for _, c := range []struct {
		name   string
		events []schemas.Event
		want   map[string]int
	}{
		{"lookup then ssh: both", []schemas.Event{dns, ssh}, map[string]int{"14": 1, "15": 1}},
		{"ssh then lookup: unordered only", []schemas.Event{withTime(ssh, dns.Timestamp), withTime(dns, ssh.Timestamp)}, map[string]int{"14": 1}},
	} {
		e := rules.NewEvaluator(set, rules.EvalOptions{})
		got := map[string]int{}
		for i := range c.events {
			e.Eval(&c.events[i], func(a *schemas.Event) {
				if id := a.Rule.ID; strings.HasSuffix(id, "14") || strings.HasSuffix(id, "15") {
					got[id[len(id)-2:]]++
				}
			})
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: alerts %v, want %v", c.name, got, c.want)
		}
	}
}

func withTime(e schemas.Event, at time.Time) schemas.Event {
	e.Timestamp = at
	return e
}

func TestConvertCorrelations(t *testing.T) {
	res := ConvertFile([]byte(ownCorrelation))
	if len(res) != 4 || res[3].Err == nil || !strings.Contains(res[3].Err.Error(), `a temporal correlation over 1 rules`) {
		t.Fatalf("results %+v", res)
	}
	var rs []*Rule
	for _, r := range res[:3] {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		rs = append(rs, r.Rule)
	}
	if th := rs[1].Threshold; th.Type != "distinct" || th.Field != "dns.question.name" || th.GroupBy[0] != "source.ip" || *th.GTE != 3 || th.Window != "1m0s" {
		t.Errorf("value_count: %+v", th)
	}
	if th := rs[2].Threshold; th.Type != "count" || *th.GT != 3 || th.Window != "24h0m0s" {
		t.Errorf("event_count: %+v", th)
	}
	set := loadConverted(t, rs...)
	e := rules.NewEvaluator(set, rules.EvalOptions{})
	got := map[string]int{}
	for _, name := range []string{"a.t.example", "b.t.example", "a.t.example", "c.t.example", "d.t.example"} {
		ev := dnsQuery(name)
		e.Eval(&ev, func(a *schemas.Event) { got[a.Rule.ID]++ })
	}
	// base: 5 alerts; value_count fires at the 3rd distinct name (c), then
	// needs 3 afresh; event_count fires past 3 (the 4th query) once.
	if got["SIGMA-6c1f0f7e-0000-4000-8000-000000000002"] != 5 || got["SIGMA-6c1f0f7e-0000-4000-8000-000000000003"] != 1 ||
		got["SIGMA-6c1f0f7e-0000-4000-8000-000000000004"] != 1 {
		t.Errorf("alerts %v", got)
	}
}

// Zeek's Kerberos request types are "AS" and "TGS"; the sensor's are
// "AS-REQ" and "TGS-REQ".
func TestConvertZeekKerberosRequestType(t *testing.T) {
	r, err := Convert([]byte("title: k\nid: k1\nlogsource: {product: zeek, service: kerberos}\nlevel: low\ndetection: {sel: {request_type: TGS}, condition: sel}\n"))
	if err != nil {
		t.Fatal(err)
	}
	set := loadConverted(t, r)
	var ev schemas.Event
	ev.Event.Kind, ev.Event.Dataset = "event", schemas.DatasetKerberos
	ev.Sensor.Kerberos.Request = "TGS-REQ"
	if got := fire(set, ev); len(got) != 1 {
		t.Errorf("TGS-REQ: %v (condition %s)", got, r.Condition)
	}
	ev.Sensor.Kerberos.Request = "AS-REQ"
	if got := fire(set, ev); len(got) != 0 {
		t.Errorf("AS-REQ: %v", got)
	}
}

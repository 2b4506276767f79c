package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/netip"
	"path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"go.yaml.in/yaml/v3"
)

// Test events are partial ECS documents written as YAML maps, with dotted
// ("source.ip: 10.0.0.1") or nested keys, decoded into schemas.Event by a
// JSON round trip (unknown fields are errors). Three directives help write
// threshold tests without pages of events:
//
//	_repeat: 250          emit the event 250 times
//	_every: 10ms          event-time step between repeats (default 10ms)
//	_vary: [source.port]  per repeat i, add i to an integer or IP field; a
//	                      string field gets "{n}" replaced by i (or i appended)
//
// Event time starts at TestEpoch and advances by 10ms from one event to the
// next unless an event sets @timestamp (later events continue from it).
// event.kind defaults to "event" and ecs.version to schemas.ECSVersion.

// TestEpoch is the event time of the first test event without @timestamp.
var TestEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	defaultStep      = 10 * time.Millisecond
	maxCaseEvents    = 100000
	maxLoadTestEvent = 1000000
)

func (l *loader) tests(f *srcFile, rn *yaml.Node, r *Rule, docs []testDoc) []TestCase {
	tn := valueNode(rn, "tests")
	var out []TestCase
	names := map[string]bool{}
	for i, d := range docs {
		at := rn
		if tn != nil && tn.Kind == yaml.SequenceNode && i < len(tn.Content) {
			at = tn.Content[i]
		}
		tc := TestCase{Name: d.Name, File: f.name, Line: at.Line, ExpectNone: d.ExpectNone}
		if d.Name == "" {
			l.errf(f, at, r.ID, "", "test without name")
			continue
		}
		if names[d.Name] {
			l.errf(f, pathNode(at, "name"), r.ID, "", "test %q defined twice", d.Name)
		}
		names[d.Name] = true
		switch {
		case len(d.Events) > 0 && d.Pcap != "":
			l.errf(f, at, r.ID, "", "test %q: give events or pcap, not both", d.Name)
		case len(d.Events) == 0 && d.Pcap == "":
			l.errf(f, at, r.ID, "", "test %q: events or pcap is required", d.Name)
		case d.Pcap != "":
			tc.Pcap = f.resolve(d.Pcap)
		}
		if (len(d.Intel) > 0 || len(d.HomeNet) > 0) && d.Pcap == "" {
			l.errf(f, at, r.ID, "", "test %q: intel and home_net enrich a pcap case (set the fields of events directly)", d.Name)
		}
		for _, p := range d.Intel {
			tc.Intel = append(tc.Intel, f.resolve(p))
		}
		hn := valueNode(at, "home_net")
		for i, h := range d.HomeNet {
			for _, item := range strings.Split(h, ",") {
				if _, _, err := parseIPItem(strings.TrimSpace(item)); err != nil {
					hat := hn
					if hn != nil && hn.Kind == yaml.SequenceNode && i < len(hn.Content) {
						hat = hn.Content[i]
					}
					l.errf(f, hat, r.ID, "", "test %q: home_net: bad IP or CIDR %q", d.Name, item)
				}
			}
			tc.HomeNet = append(tc.HomeNet, h)
		}
		if d.ExpectNone && len(d.Expect) > 0 {
			l.errf(f, at, r.ID, "", "test %q: expect and expect_none together", d.Name)
		}
		if !d.ExpectNone && len(d.Expect) == 0 {
			l.errf(f, at, r.ID, "", "test %q: expect or expect_none is required", d.Name)
		}
		for _, e := range d.Expect {
			c := 1
			if e.Count != nil {
				c = *e.Count
			}
			if e.Rule == "" {
				e.Rule = r.ID
			}
			if c < 0 {
				l.errf(f, pathNode(at, "expect"), r.ID, "", "test %q: negative count", d.Name)
			}
			tc.Expect = append(tc.Expect, Expectation{Rule: e.Rule, Count: c})
		}
		cursor := TestEpoch
		for j := range d.Events {
			en := &d.Events[j]
			evs, next, err := l.decodeTestEvent(en, cursor)
			if err != nil {
				l.errf(f, en, r.ID, "", "test %q event %d: %v", d.Name, j+1, err)
				break
			}
			cursor = next
			if len(tc.Events)+len(evs) > maxCaseEvents {
				l.errf(f, en, r.ID, "", "test %q: more than %d events", d.Name, maxCaseEvents)
				break
			}
			tc.Events = append(tc.Events, evs...)
		}
		out = append(out, tc)
	}
	return out
}

// resolve makes a path of a test relative to the rule file's directory,
// unless it is absolute.
func (f *srcFile) resolve(p string) string {
	if !f.os {
		return path.Join(f.dir, p)
	}
	p = filepath.FromSlash(p)
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(f.dir, p)
}

// decodeTestEvent turns one YAML map into events (several with _repeat).
func (l *loader) decodeTestEvent(n *yaml.Node, cursor time.Time) ([]schemas.Event, time.Time, error) {
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		return nil, cursor, err
	}
	repeat, every := 1, defaultStep
	var vary []string
	if v, ok := m["_repeat"]; ok {
		r, ok := v.(int)
		if !ok || r < 1 || r > maxCaseEvents {
			return nil, cursor, fmt.Errorf("_repeat must be an integer within 1..%d", maxCaseEvents)
		}
		repeat = r
		delete(m, "_repeat")
	}
	if v, ok := m["_every"]; ok {
		s, _ := v.(string)
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return nil, cursor, fmt.Errorf("_every must be a duration like 10ms")
		}
		every = d
		delete(m, "_every")
	}
	if v, ok := m["_vary"]; ok {
		list, ok := v.([]any)
		if !ok {
			return nil, cursor, fmt.Errorf("_vary must be a list of fields")
		}
		for _, x := range list {
			s, _ := x.(string)
			vary = append(vary, s)
		}
		delete(m, "_vary")
	}
	if l.testEvs+repeat > maxLoadTestEvent {
		return nil, cursor, fmt.Errorf("more than %d test events in all", maxLoadTestEvent)
	}
	l.testEvs += repeat
	nested := map[string]any{}
	for k, v := range m {
		if strings.HasPrefix(k, "_") {
			return nil, cursor, fmt.Errorf("unknown directive %q (_repeat, _every, _vary)", k)
		}
		if err := setDotted(nested, k, v); err != nil {
			return nil, cursor, err
		}
	}
	js, err := json.Marshal(jsonable(nested))
	if err != nil {
		return nil, cursor, err
	}
	var base schemas.Event
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&base); err != nil {
		return nil, cursor, fmt.Errorf("not an ECS event: %v", err)
	}
	if base.Timestamp.IsZero() {
		base.Timestamp = cursor
	}
	if base.Event.Kind == "" {
		base.Event.Kind = "event"
	}
	if base.ECS.Version == "" {
		base.ECS.Version = schemas.ECSVersion
	}
	varied := make([]field, 0, len(vary))
	for _, name := range vary {
		fld, msg := lookupField(name)
		if msg != "" {
			return nil, cursor, fmt.Errorf("_vary: %s", msg)
		}
		varied = append(varied, fld)
	}
	out := make([]schemas.Event, repeat)
	for i := range out {
		ev := base
		ev.Timestamp = base.Timestamp.Add(time.Duration(i) * every)
		for _, fld := range varied {
			if err := varyField(&ev, fld, i); err != nil {
				return nil, cursor, err
			}
		}
		out[i] = ev
	}
	return out, out[len(out)-1].Timestamp.Add(defaultStep), nil
}

// setDotted stores v at the dotted key k of m ("source.ip" → m.source.ip);
// "@timestamp" and other keys without a dot are stored as they are.
func setDotted(m map[string]any, k string, v any) error {
	parts := strings.Split(k, ".")
	cur := m
	for i, p := range parts {
		if p == "" {
			return fmt.Errorf("bad key %q", k)
		}
		if i == len(parts)-1 {
			if sub, ok := v.(map[string]any); ok {
				dst, ok := cur[p].(map[string]any)
				if !ok {
					if _, exists := cur[p]; exists {
						return fmt.Errorf("key %q given twice", k)
					}
					dst = map[string]any{}
					cur[p] = dst
				}
				for sk, sv := range sub {
					if err := setDotted(dst, sk, sv); err != nil {
						return err
					}
				}
				return nil
			}
			if _, exists := cur[p]; exists {
				return fmt.Errorf("key %q given twice", k)
			}
			cur[p] = v
			return nil
		}
		next, ok := cur[p].(map[string]any)
		if !ok {
			if _, exists := cur[p]; exists {
				return fmt.Errorf("key %q conflicts with a value", k)
			}
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	return nil
}

// jsonable converts YAML-decoded values to what encoding/json accepts.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
		return x
	case time.Time:
		return x.Format(time.RFC3339Nano)
	}
	return v
}

// varyField adds i to fld of ev (see the _vary directive).
func varyField(ev *schemas.Event, fld field, i int) error {
	v := reflect.ValueOf(ev).Elem().FieldByIndex(fld.index)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + int64(i))
	case reflect.String:
		s := v.String()
		if a, err := netip.ParseAddr(s); err == nil {
			b := new(big.Int).SetBytes(a.AsSlice())
			b.Add(b, big.NewInt(int64(i)))
			raw := b.Bytes()
			buf := make([]byte, a.BitLen()/8)
			if len(raw) > len(buf) {
				return fmt.Errorf("_vary: %s overflows", fld.name)
			}
			copy(buf[len(buf)-len(raw):], raw)
			na, _ := netip.AddrFromSlice(buf)
			v.SetString(na.String())
			return nil
		}
		if strings.Contains(s, "{n}") {
			v.SetString(strings.ReplaceAll(s, "{n}", strconv.Itoa(i)))
		} else {
			v.SetString(s + strconv.Itoa(i))
		}
	default:
		return fmt.Errorf("_vary: %s is not an integer or string", fld.name)
	}
	return nil
}

package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"path"
	"path/filepath"
	"reflect"
	"sort"
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
		cursor, n := TestEpoch, 0
		for j := range d.Events {
			en := &d.Events[j]
			if f.testsChecked {
				l.testEvs += eventRepeat(en)
				continue
			}
			te, next, err := l.decodeTestEvent(en, cursor)
			if err != nil {
				at, name := en, ""
				var fe *eventFieldError
				if errors.As(err, &fe) {
					name = fe.field
					if k := keyNode(en, fe.field); k != nil {
						at = k
					}
				}
				l.errf(f, at, r.ID, name, "test %q event %d: %v", d.Name, j+1, err)
				break
			}
			cursor = next
			if n += te.repeat; n > maxCaseEvents {
				l.errf(f, en, r.ID, "", "test %q: more than %d events", d.Name, maxCaseEvents)
				break
			}
			tc.events = append(tc.events, te)
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

// testEvent is one event of a test as written: the decoded event and its
// _repeat, _every and _vary, which TestCase.Events expands.
type testEvent struct {
	base   schemas.Event
	repeat int
	every  time.Duration
	varied []field
}

// Events returns the case's events, each one written expanded by its
// _repeat and _vary (none for a pcap case). The load decoded and checked
// them but does not expand them: a sensor drops the tests it loads (the
// shipped set's expanded events were tens of MB and half its start-up),
// and only running a case needs them.
func (tc *TestCase) Events() []schemas.Event {
	var out []schemas.Event
	for i := range tc.events {
		out = tc.events[i].expand(out)
	}
	return out
}

// expand appends te's events to out. The load met varyField's errors
// (checkVary), so none is left here.
func (te *testEvent) expand(out []schemas.Event) []schemas.Event {
	for i := range te.repeat {
		ev := te.base
		ev.Timestamp = te.base.Timestamp.Add(time.Duration(i) * te.every)
		for _, fld := range te.varied {
			_ = varyField(&ev, fld, i)
		}
		out = append(out, ev)
	}
	return out
}

// eventRepeat is how many events a test event that decodes stands for:
// its _repeat, else 1.
func eventRepeat(n *yaml.Node) int {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "_repeat" {
				r := 1
				_ = n.Content[i+1].Decode(&r)
				return r
			}
		}
	}
	return 1
}

// decodeTestEvent turns one YAML map into a test event (several events
// with _repeat) and returns the event time that follows it.
func (l *loader) decodeTestEvent(n *yaml.Node, cursor time.Time) (testEvent, time.Time, error) {
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		return testEvent{}, cursor, err
	}
	repeat, every := 1, defaultStep
	var vary []string
	if v, ok := m["_repeat"]; ok {
		r, ok := v.(int)
		if !ok || r < 1 || r > maxCaseEvents {
			return testEvent{}, cursor, fmt.Errorf("_repeat must be an integer within 1..%d", maxCaseEvents)
		}
		repeat = r
		delete(m, "_repeat")
	}
	if v, ok := m["_every"]; ok {
		s, _ := v.(string)
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return testEvent{}, cursor, fmt.Errorf("_every must be a duration like 10ms")
		}
		every = d
		delete(m, "_every")
	}
	if v, ok := m["_vary"]; ok {
		list, ok := v.([]any)
		if !ok {
			return testEvent{}, cursor, fmt.Errorf("_vary must be a list of fields")
		}
		for _, x := range list {
			s, _ := x.(string)
			vary = append(vary, s)
		}
		delete(m, "_vary")
	}
	if l.testEvs+repeat > maxLoadTestEvent {
		return testEvent{}, cursor, fmt.Errorf("more than %d test events in all", maxLoadTestEvent)
	}
	l.testEvs += repeat
	nested := map[string]any{}
	for k, v := range m {
		if strings.HasPrefix(k, "_") {
			return testEvent{}, cursor, fmt.Errorf("unknown directive %q (_repeat, _every, _vary)", k)
		}
		if err := setDotted(nested, k, v); err != nil {
			return testEvent{}, cursor, err
		}
	}
	js, err := json.Marshal(jsonable(nested))
	if err != nil {
		return testEvent{}, cursor, err
	}
	var base schemas.Event
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&base); err != nil {
		return testEvent{}, cursor, eventError(err, nested)
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
			return testEvent{}, cursor, fmt.Errorf("_vary: %s", msg)
		}
		varied = append(varied, fld)
	}
	if err := checkVary(&base, varied, repeat); err != nil {
		return testEvent{}, cursor, err
	}
	last := base.Timestamp.Add(time.Duration(repeat-1) * every)
	return testEvent{base: base, repeat: repeat, every: every, varied: varied}, last.Add(defaultStep), nil
}

// checkVary returns the first error varying base's fields meets over
// repeat events, in the order expanding meets them (copy by copy, field
// by field), without keeping the copies: one scratch event whose varied
// fields are set back after each.
func checkVary(base *schemas.Event, varied []field, repeat int) error {
	if len(varied) == 0 {
		return nil
	}
	ev := *base
	cur, orig := reflect.ValueOf(&ev).Elem(), reflect.ValueOf(base).Elem()
	for i := range repeat {
		for _, fld := range varied {
			if err := varyField(&ev, fld, i); err != nil {
				return err
			}
		}
		for _, fld := range varied {
			cur.FieldByIndex(fld.index).Set(orig.FieldByIndex(fld.index))
		}
	}
	return nil
}

// eventFieldError is a test event's value that does not fit its field.
type eventFieldError struct {
	field string
	msg   string
}

func (e *eventFieldError) Error() string { return e.msg }

// eventError says in ECS terms why a test event does not decode, instead
// of encoding/json's Go-struct words: which field, and what it expects.
func eventError(err error, ev map[string]any) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return &eventFieldError{field: te.Field, msg: fmt.Sprintf("%s: expected %s, got %s", te.Field, kindName(te.Type), te.Value)}
	}
	if leaf, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if name := unknownKey(ev, ""); name != "" && strconv.Quote(name[strings.LastIndexByte(name, '.')+1:]) == leaf {
			return &eventFieldError{field: name, msg: fmt.Sprintf("unknown field %q%s", name, suggest(name))}
		}
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		if name := keyOf(ev, "", pe.Value); name != "" {
			return &eventFieldError{field: name, msg: fmt.Sprintf("%s: expected a time (RFC 3339), got %q", name, pe.Value)}
		}
	}
	return fmt.Errorf("not an ECS event: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// kindName spells a Go type the way a rule writer knows it.
func kindName(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(time.Time{}):
		return "a time (RFC 3339)"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case isNumeric(t) && t.Kind() != reflect.Float32 && t.Kind() != reflect.Float64:
		return "an integer"
	case isNumeric(t):
		return "a number"
	case t.Kind() == reflect.Slice:
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(kindName(t.Elem()), "a "), "an ") + "s"
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		return "an object"
	}
	return t.String()
}

// unknownKey returns the first dotted key of a nested test event that
// names no field of schemas.Event, "" if all do.
func unknownKey(m map[string]any, prefix string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := prefix + k
		f, ok := ecsFields()[name]
		if !ok {
			return name
		}
		if sub, isMap := m[k].(map[string]any); isMap && f.typ.Kind() == reflect.Struct {
			if bad := unknownKey(sub, name+"."); bad != "" {
				return bad
			}
		}
	}
	return ""
}

// keyOf returns the dotted key of a nested test event that holds the
// string v, "" if none does.
func keyOf(m map[string]any, prefix string, v string) string {
	for k, x := range m {
		switch x := x.(type) {
		case string:
			if x == v {
				return prefix + k
			}
		case map[string]any:
			if name := keyOf(x, prefix+k+".", v); name != "" {
				return name
			}
		}
	}
	return ""
}

// keyNode finds the key of a dotted field in a YAML map written with
// dotted or nested keys, or nil.
func keyNode(n *yaml.Node, name string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Value == name {
			return k
		}
		if rest, ok := strings.CutPrefix(name, k.Value+"."); ok {
			if found := keyNode(n.Content[i+1], rest); found != nil {
				return found
			}
		}
	}
	return nil
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

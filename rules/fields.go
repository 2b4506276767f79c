package rules

import (
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// field is a resolved ECS field of schemas.Event: its dotted name (as in
// the `expr` tags), the index path, the Go type and its kind, and the
// byte offset in the event: every field is reached through structs held by
// value (ecsFields goes through no pointer, map or slice), so it is fixed.
type field struct {
	name  string
	index []int
	typ   reflect.Type
	kind  reflect.Kind
	off   uintptr
}

var (
	fieldsOnce sync.Once
	fieldByECS map[string]field
	timeType   = reflect.TypeOf(time.Time{})
)

// ecsFields maps every leaf and group name of schemas.Event to its field.
func ecsFields() map[string]field {
	fieldsOnce.Do(func() {
		fieldByECS = make(map[string]field)
		var walk func(t reflect.Type, prefix string, index []int, off uintptr)
		walk = func(t reflect.Type, prefix string, index []int, off uintptr) {
			for i := 0; i < t.NumField(); i++ {
				sf := t.Field(i)
				tag := sf.Tag.Get("expr")
				if tag == "" || tag == "-" || !sf.IsExported() {
					continue
				}
				name := tag
				if prefix != "" {
					name = prefix + "." + tag
				}
				idx := append(append([]int(nil), index...), i)
				fieldByECS[name] = field{name: name, index: idx, typ: sf.Type, kind: sf.Type.Kind(), off: off + sf.Offset}
				if sf.Type.Kind() == reflect.Struct && sf.Type != timeType {
					walk(sf.Type, name, idx, off+sf.Offset)
				}
			}
		}
		walk(reflect.TypeOf(schemas.Event{}), "", nil, 0)
		// The ECS spelling of the event time; expr spells it `timestamp`.
		if f, ok := fieldByECS["timestamp"]; ok {
			f.name = "@timestamp"
			fieldByECS["@timestamp"] = f
		}
	})
	return fieldByECS
}

// scalarKinds are the kinds a group_by, distinct or exception field may have.
func isScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

func isNumeric(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// lookupField resolves a dotted ECS name to a scalar field.
func lookupField(name string) (field, string) {
	f, ok := ecsFields()[name]
	if !ok {
		return field{}, "unknown field " + strconv.Quote(name) + suggest(name)
	}
	if !isScalar(f.typ) {
		return field{}, "field " + strconv.Quote(name) + " is a " + f.typ.String() + ", not a scalar"
	}
	return f, ""
}

// suggest names a known field close to a misspelt one.
func suggest(name string) string {
	best, bestD := "", 4
	for k := range ecsFields() {
		if d := editDistance(k, name); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + strconv.Quote(best) + "?)"
}

func editDistance(a, b string) int {
	if a == b {
		return 0
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// value returns the reflect value of f in ev (no allocation).
func (f *field) value(ev *schemas.Event) reflect.Value {
	return reflect.ValueOf(ev).Elem().FieldByIndex(f.index)
}

// at is where f lies in ev. A pointer receiver: a closure holding f reads
// its offset in place instead of copying the field to its stack each call.
func (f *field) at(ev *schemas.Event) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(ev), f.off) }

// appendValue appends the text of f in ev to buf. The kinds of the group_by
// and distinct fields of the rules are read in place: through reflect, each
// read of a flood's events cost more than the rest of its group key.
func (f *field) appendValue(buf []byte, ev *schemas.Event) []byte {
	switch f.kind {
	case reflect.String:
		return append(buf, *(*string)(f.at(ev))...)
	case reflect.Int:
		return strconv.AppendInt(buf, int64(*(*int)(f.at(ev))), 10)
	case reflect.Int64:
		return strconv.AppendInt(buf, *(*int64)(f.at(ev)), 10)
	}
	return appendScalar(buf, f.value(ev))
}

// appendScalar appends the text of a scalar value to buf (nothing for
// other kinds).
func appendScalar(buf []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.String:
		return append(buf, v.String()...)
	case reflect.Bool:
		return strconv.AppendBool(buf, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(buf, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(buf, v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.AppendFloat(buf, v.Float(), 'g', -1, 64)
	}
	return buf
}

// number returns f in ev as a float64 (numeric fields only).
func (f *field) number(ev *schemas.Event) float64 {
	switch f.kind {
	case reflect.Int:
		return float64(*(*int)(f.at(ev)))
	case reflect.Int64:
		return float64(*(*int64)(f.at(ev)))
	case reflect.Float64:
		return *(*float64)(f.at(ev))
	}
	v := f.value(ev)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint())
	case reflect.Float32, reflect.Float64:
		return v.Float()
	}
	return 0
}

// topLevelNames are the root names of the expr environment; list and macro
// names must not shadow them. Built once: the load asks for every list
// and macro, on its serial path.
var topLevelNames = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool)
	for k := range ecsFields() {
		if !strings.Contains(k, ".") {
			m[k] = true
		}
	}
	return m
})

package elasticsearch

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// flatten turns nested properties into dotted path → mapping.
func flatten(props map[string]any, prefix string, out map[string]map[string]any) {
	for name, v := range props {
		m := v.(map[string]any)
		out[prefix+name] = m
		if sub, ok := m["properties"].(map[string]any); ok {
			flatten(sub, prefix+name+".", out)
		}
	}
}

// ipFields are the fields mapped as ip, which take only addresses.
var ipFields = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range schemas.Fields("") {
		m[f.Name] = f.Type == "ip"
	}
	return m
}()

// fill sets every field of v to a non-zero value, so that the encoded event
// carries every field the sensor can emit.
func fill(v reflect.Value, path string) {
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		if ipFields[path] {
			v.SetString("192.0.2.1")
		} else {
			v.SetString("x")
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), path)
		v.Set(s)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			p := name
			if path != "" {
				p = path + "." + name
			}
			fill(v.Field(i), p)
		}
	}
}

// leaves lists the dotted paths of a decoded JSON document's values.
func leaves(v any, prefix string, out map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			leaves(e, p, out)
		}
	case []any:
		for _, e := range x {
			leaves(e, prefix, out)
		}
	default:
		out[prefix] = x
	}
}

// TestEveryEmittedFieldIsMapped encodes a fully populated event and checks
// that each of its values has a mapping that accepts it.
func TestEveryEmittedFieldIsMapped(t *testing.T) {
	var ev schemas.Event
	fill(reflect.ValueOf(&ev).Elem(), "")
	rec, err := schemas.NewRecord(&ev)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(rec.JSON, &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	leaves(doc, "", got)
	flat := map[string]map[string]any{}
	flatten(Mappings(), "", flat)
	for p, v := range got {
		m, ok := flat[p]
		if !ok {
			// geo_point values arrive as {lat, lon}
			if parent := p[:max(strings.LastIndexByte(p, '.'), 0)]; flat[parent] != nil && flat[parent]["type"] == "geo_point" {
				continue
			}
			t.Errorf("%s = %v has no mapping", p, v)
			continue
		}
		typ := m["type"].(string)
		ok = false
		switch v.(type) {
		case string:
			ok = typ == "keyword" || typ == "wildcard" || typ == "ip" || typ == "date" || typ == "match_only_text"
		case float64:
			ok = typ == "long" || typ == "float" || typ == "double"
		case bool:
			ok = typ == "boolean"
		}
		if !ok {
			t.Errorf("%s = %v (%T) mapped as %s", p, v, v, typ)
		}
	}
	if len(got) < 100 {
		t.Errorf("only %d fields in the populated event", len(got))
	}
}

func TestIndexTemplateShape(t *testing.T) {
	for _, mode := range []string{ModeDataStream, ModeIndex} {
		b, err := IndexTemplate(SetupOptions{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		var tmpl struct {
			IndexPatterns []string        `json:"index_patterns"`
			DataStream    *map[string]any `json:"data_stream"`
			Priority      int             `json:"priority"`
			Template      struct {
				Settings map[string]any `json:"settings"`
				Mappings struct {
					Properties map[string]any `json:"properties"`
				} `json:"mappings"`
			} `json:"template"`
		}
		if err := json.Unmarshal(b, &tmpl); err != nil {
			t.Fatal(err)
		}
		if (tmpl.DataStream != nil) != (mode == ModeDataStream) || tmpl.Priority <= 100 || tmpl.Template.Settings["index.lifecycle.name"] != "packetsleuth" {
			t.Errorf("%s: %s", mode, b)
		}
		s, _ := New(Config{Hosts: []string{"http://es:9200"}, Mode: mode})
		name := s.Index(schemas.DatasetDNS, time.Date(2026, 11, 26, 23, 59, 0, 0, time.UTC))
		matched := false
		for _, p := range tmpl.IndexPatterns {
			if ok, _ := filepath.Match(p, name); ok {
				matched = true
			}
		}
		if !matched {
			t.Errorf("%s: the default target %s matches none of %v", mode, name, tmpl.IndexPatterns)
		}
		if tmpl.Template.Mappings.Properties["@timestamp"].(map[string]any)["type"] != "date" {
			t.Errorf("@timestamp mapping: %v", tmpl.Template.Mappings.Properties["@timestamp"])
		}
	}
	p, _ := ILMPolicy(SetupOptions{})
	if !strings.Contains(string(p), `"max_age": "1d"`) || !strings.Contains(string(p), `"min_age": "30d"`) {
		t.Errorf("ILM policy: %s", p)
	}
	p, _ = ILMPolicy(SetupOptions{Mode: ModeIndex})
	if strings.Contains(string(p), "rollover") {
		t.Errorf("dated indices cannot roll over: %s", p)
	}
}

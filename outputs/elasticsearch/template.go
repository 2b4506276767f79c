package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	es "github.com/elastic/go-elasticsearch/v8"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// fieldTypes overrides the type derived from the Go type, for the fields
// whose Go type (string, slice of structs) does not say enough. Keys are
// dotted ECS paths. Everything else follows goType.
var fieldTypes = map[string]string{
	"source.ip":                                 "ip",
	"destination.ip":                            "ip",
	"related.ip":                                "ip",
	"dns.resolved_ip":                           "ip",
	"threat.enrichments.indicator.ip":           "ip",
	"packetsleuth.tunnel.source_ip":             "ip",
	"packetsleuth.tunnel.destination_ip":        "ip",
	"url.original":                              "wildcard",
	"url.path":                                  "wildcard",
	"threat.enrichments.indicator.url.original": "wildcard",
	"threat.enrichments":                        "nested",
	"event.risk_score":                          "float",
}

// multiFields adds ECS's text sub-fields.
var multiFields = map[string]bool{
	"url.original":        true,
	"user_agent.original": true,
	"threat.enrichments.indicator.url.original": true,
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
	geoPointType = reflect.TypeFor[schemas.GeoPoint]()
)

// Mappings returns the `properties` of every field schemas.Event can
// emit, by walking the struct: json names give the paths, Go types give
// the Elasticsearch types (string → keyword, integers → long, float64 →
// float/double, bool → boolean, time.Time → date, time.Duration → long
// nanoseconds, GeoPoint → geo_point), fieldTypes gives ip/wildcard/nested.
func Mappings() map[string]any {
	return properties(reflect.TypeFor[schemas.Event](), "")
}

func properties(t reflect.Type, prefix string) map[string]any {
	props := map[string]any{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		path := prefix + name
		props[name] = mapping(f.Type, path)
	}
	return props
}

func mapping(t reflect.Type, path string) map[string]any {
	if typ, ok := fieldTypes[path]; ok && typ == "nested" {
		return map[string]any{"type": "nested", "properties": properties(elem(t), path+".")}
	}
	if typ, ok := fieldTypes[path]; ok {
		m := map[string]any{"type": typ}
		if multiFields[path] {
			m["fields"] = map[string]any{"text": map[string]any{"type": "match_only_text"}}
		}
		return m
	}
	t = elem(t)
	switch {
	case t == timeType:
		return map[string]any{"type": "date"}
	case t == durationType:
		return map[string]any{"type": "long"}
	case t == geoPointType:
		return map[string]any{"type": "geo_point"}
	}
	switch t.Kind() {
	case reflect.String:
		m := map[string]any{"type": "keyword", "ignore_above": 1024}
		if multiFields[path] {
			m["fields"] = map[string]any{"text": map[string]any{"type": "match_only_text"}}
		}
		return m
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "long"}
	case reflect.Float32:
		return map[string]any{"type": "float"}
	case reflect.Float64:
		return map[string]any{"type": "double"}
	case reflect.Struct:
		return map[string]any{"type": "object", "properties": properties(t, path+".")}
	case reflect.Map:
		// A map of counters keyed by name (packetsleuth.traffic.bytes_by_protocol):
		// the keys are open-ended, so Elasticsearch maps them as they come.
		return map[string]any{"type": "object", "dynamic": true}
	}
	panic(fmt.Sprintf("elasticsearch: no mapping for %s (%s)", path, t))
}

// elem strips slices and pointers: an ECS array has its element's type.
func elem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// SetupOptions tell Setup what to install. Zero values take the defaults.
type SetupOptions struct {
	Mode         string        // data_stream (default) or index, as in Config.Mode
	Template     string        // index template name (default "packetsleuth")
	Policy       string        // ILM policy name (default "packetsleuth")
	Patterns     []string      // index patterns (default by mode)
	Priority     int           // template priority (default 200, above the built-in logs template's 100)
	DeleteAfter  time.Duration // ILM delete phase min_age (default 30 days)
	RolloverAge  time.Duration // data streams: roll over at this age (default 1 day)
	RolloverSize string        // data streams: max_primary_shard_size (default "50gb")
}

func (o *SetupOptions) defaults() {
	if o.Mode == "" {
		o.Mode = ModeDataStream
	}
	if o.Template == "" {
		o.Template = "packetsleuth"
	}
	if o.Policy == "" {
		o.Policy = "packetsleuth"
	}
	if len(o.Patterns) == 0 {
		o.Patterns = []string{"logs-packetsleuth.*-*"}
		if o.Mode == ModeIndex {
			o.Patterns = []string{"packetsleuth-*"}
		}
	}
	if o.Priority == 0 {
		o.Priority = 200
	}
	if o.DeleteAfter == 0 {
		o.DeleteAfter = 30 * 24 * time.Hour
	}
	if o.RolloverAge == 0 {
		o.RolloverAge = 24 * time.Hour
	}
	if o.RolloverSize == "" {
		o.RolloverSize = "50gb"
	}
}

// esDuration spells d in Elasticsearch time units (whole days, hours, ...).
func esDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// IndexTemplate returns the body of PUT _index_template/<name>.
func IndexTemplate(opts SetupOptions) ([]byte, error) {
	opts.defaults()
	if opts.Mode != ModeDataStream && opts.Mode != ModeIndex {
		return nil, fmt.Errorf("elasticsearch: setup: mode %q is not one of data_stream, index", opts.Mode)
	}
	tmpl := map[string]any{
		"index_patterns": opts.Patterns,
		"priority":       opts.Priority,
		"template": map[string]any{
			"settings": map[string]any{
				"index.lifecycle.name":             opts.Policy,
				"index.mapping.total_fields.limit": 2000,
				"index.query.default_field":        []string{"message", "tags", "dns.question.name", "url.original", "user_agent.original"},
			},
			"mappings": map[string]any{
				"dynamic":        true,
				"date_detection": false,
				"properties":     Mappings(),
			},
		},
		"_meta": map[string]any{"managed_by": "packetsleuth", "ecs_version": schemas.ECSVersion},
	}
	if opts.Mode == ModeDataStream {
		tmpl["data_stream"] = map[string]any{}
	}
	return json.MarshalIndent(tmpl, "", "  ")
}

// ILMPolicy returns the body of PUT _ilm/policy/<name>: data streams roll
// over daily or at 50gb per primary shard; everything is deleted after
// DeleteAfter. Dated indices have no rollover alias, so only the delete
// phase applies to them.
func ILMPolicy(opts SetupOptions) ([]byte, error) {
	opts.defaults()
	phases := map[string]any{
		"delete": map[string]any{"min_age": esDuration(opts.DeleteAfter), "actions": map[string]any{"delete": map[string]any{}}},
	}
	hot := map[string]any{}
	if opts.Mode == ModeDataStream {
		hot["rollover"] = map[string]any{"max_age": esDuration(opts.RolloverAge), "max_primary_shard_size": opts.RolloverSize}
	}
	phases["hot"] = map[string]any{"min_age": "0ms", "actions": hot}
	return json.MarshalIndent(map[string]any{
		"policy": map[string]any{"phases": phases, "_meta": map[string]any{"managed_by": "packetsleuth"}},
	}, "", "  ")
}

// Setup installs the ILM policy and then the index template (the template
// names the policy). It is what `sensor setup elasticsearch` runs; it may be
// run again to update both.
func Setup(ctx context.Context, client *es.Client, opts SetupOptions) error {
	opts.defaults()
	policy, err := ILMPolicy(opts)
	if err != nil {
		return err
	}
	tmpl, err := IndexTemplate(opts)
	if err != nil {
		return err
	}
	s := &Sink{cfg: Config{Hosts: []string{"(client)"}}}
	res, err := client.ILM.PutLifecycle(opts.Policy, client.ILM.PutLifecycle.WithBody(bytes.NewReader(policy)), client.ILM.PutLifecycle.WithContext(ctx))
	if err != nil {
		return s.transportError("setup ILM policy "+opts.Policy, err)
	}
	if res.IsError() {
		defer res.Body.Close()
		return s.statusError("setup ILM policy "+opts.Policy, res.StatusCode, res.Body)
	}
	res.Body.Close()
	res, err = client.Indices.PutIndexTemplate(opts.Template, bytes.NewReader(tmpl), client.Indices.PutIndexTemplate.WithContext(ctx))
	if err != nil {
		return s.transportError("setup index template "+opts.Template, err)
	}
	defer res.Body.Close()
	if res.IsError() {
		return s.statusError("setup index template "+opts.Template, res.StatusCode, res.Body)
	}
	return nil
}

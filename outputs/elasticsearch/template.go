package elasticsearch

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"time"

	es "github.com/elastic/go-elasticsearch/v8"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// mappingsJSON is the `properties` of every field schemas.Event can emit,
// generated from its structs by `go generate ./schemas`.
//
//go:embed mappings.json
var mappingsJSON []byte

// Mappings returns the `properties` of the index template (a new copy).
func Mappings() map[string]any {
	var m map[string]any
	if err := json.Unmarshal(mappingsJSON, &m); err != nil {
		panic("elasticsearch: generated mappings.json: " + err.Error())
	}
	return m
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

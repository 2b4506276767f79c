package schemas

import (
	"slices"
	"strings"
)

//go:generate go run -tags schemagen ./internal/gen

// Field is one leaf field of Event, as the generated field table
// (fields_gen.go) describes it.
type Field struct {
	Name        string   // dotted name, as rules and Elasticsearch spell it
	Type        string   // Elasticsearch type: keyword, long, ip, date, …
	Array       bool     // an array of Type
	Datasets    []string // the datasets whose events can carry it
	Description string
	Example     string
}

// Custom says whether the field is PacketSleuth's own (packetsleuth.*)
// rather than an ECS field.
func (f Field) Custom() bool { return strings.HasPrefix(f.Name, "packetsleuth.") }

// Fields returns every leaf field of Event in declaration order, or those
// a dataset's events can carry when dataset is not "". The slice is the
// caller's; the Datasets inside are shared.
func Fields(dataset string) []Field {
	var out []Field
	for _, f := range fieldTable {
		if dataset == "" || slices.Contains(f.Datasets, dataset) {
			out = append(out, f)
		}
	}
	return out
}

// Datasets returns every dataset of DatasetGroups, sorted.
func Datasets() []string {
	out := make([]string, 0, len(DatasetGroups))
	for ds := range DatasetGroups {
		out = append(out, ds)
	}
	slices.Sort(out)
	return out
}

// DatasetsOf returns the datasets whose events can carry the field or
// group name (dotted, as rules spell it; "timestamp" is @timestamp), or
// nil for a name that is no field of Event.
func DatasetsOf(name string) []string {
	if name == "timestamp" {
		name = "@timestamp"
	}
	var out []string
	for _, f := range fieldTable {
		// name and a dot, without building name+"." for every field (rule
		// loading asks for every field every rule reads)
		if strings.HasPrefix(f.Name, name) && (len(f.Name) == len(name) || f.Name[len(name)] == '.') {
			for _, ds := range f.Datasets {
				if !slices.Contains(out, ds) {
					out = append(out, ds)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

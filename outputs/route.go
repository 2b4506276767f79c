package outputs

import (
	"fmt"
	"path"
	"strings"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// Route selects the records an output receives (keys datasets,
// min_severity and rules of every output): by event.dataset, and for
// alerts by severity and rule id. Records that are not alerts pass the
// severity and rule filters; choose them with datasets. The zero Route
// passes everything.
type Route struct {
	datasets    []string // globs over event.dataset
	minSeverity int      // event.severity of alerts
	rules       []string // globs over rule.id of alerts
}

// NewRoute checks and builds the route of c.
func NewRoute(c SinkConfig) (Route, error) {
	rank, ok := SeverityRank(c.MinSeverity)
	if !ok {
		return Route{}, fmt.Errorf("%s: min_severity: %q is not one of low, medium, high, critical", c.label(), c.MinSeverity)
	}
	r := Route{minSeverity: rank}
	for key, globs := range map[string][]string{"datasets": c.Datasets, "rules": c.Rules} {
		for _, g := range globs {
			if _, err := path.Match(g, ""); err != nil || g == "" {
				return Route{}, fmt.Errorf("%s: %s: bad pattern %q", c.label(), key, g)
			}
		}
	}
	r.datasets, r.rules = c.Datasets, c.Rules
	return r, nil
}

// All reports whether the route passes every record.
func (r Route) All() bool {
	return len(r.datasets) == 0 && r.minSeverity <= 1 && len(r.rules) == 0
}

// Match reports whether rec passes the route.
func (r Route) Match(rec *schemas.Record) bool {
	if len(r.datasets) > 0 && !anyMatch(r.datasets, rec.Dataset) {
		return false
	}
	if rec.Kind != "alert" {
		return true
	}
	return rec.Severity >= r.minSeverity && (len(r.rules) == 0 || anyMatch(r.rules, rec.Rule))
}

func anyMatch(globs []string, s string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}

// SeverityRank is the lowest event.severity of a severity name (rules use
// 21, 47, 73, 99); "" means low.
func SeverityRank(name string) (int, bool) {
	switch strings.ToLower(name) {
	case "", "low":
		return 1, true
	case "medium":
		return 47, true
	case "high":
		return 73, true
	case "critical":
		return 99, true
	}
	return 0, false
}

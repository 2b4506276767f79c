// Package sigma converts Sigma rules of network log sources (categories
// dns, proxy, webserver, firewall and network_connection; product zeek
// with its conn, dns, http, dce_rpc, kerberos, rdp and x509 logs) into
// PacketSleuth rules, with a documented field mapping (fields.go). A rule
// that cannot be converted faithfully is not converted: the error says
// why (an unmapped log source or field, a keyword search, an unsupported
// modifier or aggregation).
//
// Sigma matches strings case-insensitively; the conversion lowers the
// field and the value. Regular expressions (|re) keep their own case
// rules, as in Sigma.
package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Rule is one converted rule, in the fields of a PacketSleuth rule file.
type Rule struct {
	ID             string     `yaml:"id"`
	Name           string     `yaml:"name"`
	Description    string     `yaml:"description,omitempty"`
	Condition      string     `yaml:"condition"`
	Severity       string     `yaml:"severity"`
	Tags           []string   `yaml:"tags,omitempty"`
	Threat         []threat   `yaml:"threat,omitempty"`
	References     []string   `yaml:"references,omitempty"`
	Author         []string   `yaml:"author,omitempty"`
	FalsePositives string     `yaml:"false_positives,omitempty"`
	Enabled        *bool      `yaml:"enabled,omitempty"`
	Threshold      *Threshold `yaml:"threshold,omitempty"`
	Sequence       *Sequence  `yaml:"sequence,omitempty"`

	src source // the log source, for correlations over the rule
}

// Sequence is a converted temporal correlation: every rule it names, within
// the window, tied by the group-by fields (in order for temporal_ordered).
type Sequence struct {
	Window  string `yaml:"window"`
	Ordered *bool  `yaml:"ordered,omitempty"`
	Steps   []Step `yaml:"steps"`
}

// Step is one rule of a temporal correlation.
type Step struct {
	Name      string   `yaml:"name"`
	Condition string   `yaml:"condition"`
	By        []string `yaml:"by"`
}

// Threshold is a converted correlation's threshold.
type Threshold struct {
	Type    string   `yaml:"type"`
	Field   string   `yaml:"field,omitempty"`
	GroupBy []string `yaml:"group_by,omitempty"`
	Window  string   `yaml:"window"`
	GTE     *float64 `yaml:"gte,omitempty"`
	GT      *float64 `yaml:"gt,omitempty"`
	LTE     *float64 `yaml:"lte,omitempty"`
	LT      *float64 `yaml:"lt,omitempty"`
}

type threat struct {
	Tactic    *idName `yaml:"tactic,omitempty"`
	Technique *idName `yaml:"technique,omitempty"`
}

type idName struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name,omitempty"`
}

type sigmaDoc struct {
	Title          string         `yaml:"title"`
	ID             string         `yaml:"id"`
	Status         string         `yaml:"status"`
	Description    string         `yaml:"description"`
	References     []string       `yaml:"references"`
	Author         string         `yaml:"author"`
	Tags           []string       `yaml:"tags"`
	Logsource      map[string]any `yaml:"logsource"`
	Detection      map[string]any `yaml:"detection"`
	FalsePositives []string       `yaml:"falsepositives"`
	Level          string         `yaml:"level"`
	Name           string         `yaml:"name"`
	Correlation    *correlation   `yaml:"correlation"`
}

// correlation is a Sigma correlation rule's definition.
type correlation struct {
	Type      string         `yaml:"type"`
	Rules     []string       `yaml:"rules"`
	GroupBy   []string       `yaml:"group-by"`
	Timespan  string         `yaml:"timespan"`
	Condition map[string]any `yaml:"condition"` // gte: 10, and value_count's field
	Field     string         `yaml:"field"`     // value_count, in older drafts
	// Aliases name a group-by field per rule when the rules of a temporal
	// correlation call it differently: alias → rule name → field.
	Aliases map[string]map[string]string `yaml:"aliases"`
}

// Convert converts one Sigma rule document.
func Convert(data []byte) (*Rule, error) {
	var d sigmaDoc
	if err := yaml.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("not a Sigma rule: %w", err)
	}
	if d.Correlation != nil {
		return nil, fmt.Errorf("a correlation rule needs the rules it correlates: convert them together (ConvertFile)")
	}
	return convert(&d)
}

// Result is the outcome of one document of a file.
type Result struct {
	Title string
	Rule  *Rule
	Err   error
}

// ConvertFile converts every document of a Sigma file (documents separated
// by ---), correlation rules included: event_count and value_count become
// threshold rules over the condition of the rule they name (by name or
// id, earlier in the file); temporal and temporal_ordered ones become
// sequences over the rules they name.
func ConvertFile(data []byte) []Result {
	var out []Result
	byRef := map[string]*Rule{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var d sigmaDoc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			return append(out, Result{Err: fmt.Errorf("not a Sigma rule: %w", err)})
		}
		res := Result{Title: d.Title}
		if d.Correlation != nil {
			res.Rule, res.Err = convertCorrelation(&d, byRef)
		} else {
			res.Rule, res.Err = convert(&d)
			if res.Rule != nil {
				for _, ref := range []string{d.Name, d.ID} {
					if ref != "" {
						byRef[ref] = res.Rule
					}
				}
			}
		}
		out = append(out, res)
	}
}

func convertCorrelation(d *sigmaDoc, byRef map[string]*Rule) (*Rule, error) {
	c := d.Correlation
	switch c.Type {
	case "temporal", "temporal_ordered":
		return convertTemporal(d, byRef)
	case "event_count", "value_count":
	default:
		return nil, fmt.Errorf("correlation type %q is not supported (event_count, value_count, temporal and temporal_ordered are)", c.Type)
	}
	if len(c.Rules) != 1 {
		return nil, fmt.Errorf("correlation over %d rules: only one rule per count is supported", len(c.Rules))
	}
	base := byRef[c.Rules[0]]
	if base == nil {
		return nil, fmt.Errorf("correlation names rule %q, which is not converted earlier in the file", c.Rules[0])
	}
	window, err := timespan(c.Timespan)
	if err != nil {
		return nil, err
	}
	t := &Threshold{Type: "count", Window: window}
	for _, g := range c.GroupBy {
		f, ok := base.src.fields[g]
		if !ok || f.elem != "" || f.ext {
			return nil, fmt.Errorf("group-by field %q has no PacketSleuth equivalent", g)
		}
		t.GroupBy = append(t.GroupBy, f.field)
	}
	field := c.Field
	cond := map[string]float64{}
	for k, v := range c.Condition {
		if k == "field" {
			field, _ = v.(string)
			continue
		}
		n, err := strconv.ParseFloat(fmt.Sprint(v), 64)
		if err != nil {
			return nil, fmt.Errorf("correlation condition %s: %v is not a number", k, v)
		}
		cond[k] = n
	}
	if c.Type == "value_count" {
		if field == "" {
			return nil, fmt.Errorf("value_count needs a field")
		}
		f, ok := base.src.fields[field]
		if !ok || f.elem != "" || f.ext {
			return nil, fmt.Errorf("value_count field %q has no PacketSleuth equivalent", field)
		}
		t.Type, t.Field = "distinct", f.field
	}
	for op, v := range cond {
		switch op {
		case "gte":
			t.GTE = &v
		case "gt":
			t.GT = &v
		case "lte":
			t.LTE = &v
		case "lt":
			t.LT = &v
		default:
			return nil, fmt.Errorf("correlation condition %q is not supported (gte, gt, lte and lt are)", op)
		}
	}
	if len(cond) != 1 {
		return nil, fmt.Errorf("correlation condition needs one of gte, gt, lte, lt (ranges are not supported)")
	}
	r, err := correlationRule(d, base.ID)
	if err != nil {
		return nil, err
	}
	r.Condition, r.Threshold, r.src = base.Condition, t, base.src
	return r, nil
}

// correlationRule is the rule of correlation d over the rules named, less
// its logic.
func correlationRule(d *sigmaDoc, over ...string) (*Rule, error) {
	if d.ID == "" {
		return nil, fmt.Errorf("the rule has no id")
	}
	for i, id := range over {
		over[i] = strings.TrimPrefix(id, "SIGMA-")
	}
	r := &Rule{
		ID: "SIGMA-" + d.ID, Name: d.Title, Severity: severity(d.Level),
		Description:    strings.TrimSpace(d.Description + "\n\nConverted from Sigma correlation rule " + d.ID + " over " + strings.Join(over, ", ") + "."),
		References:     d.References,
		FalsePositives: strings.Join(d.FalsePositives, "; "),
	}
	if d.Author != "" {
		r.Author = []string{d.Author}
	}
	r.Tags, r.Threat = tagsAndThreat(d.Tags)
	return r, nil
}

// convertTemporal makes a sequence of a temporal correlation: one step per
// rule named, tied by the group-by fields (through the aliases where a rule
// names one differently).
func convertTemporal(d *sigmaDoc, byRef map[string]*Rule) (*Rule, error) {
	c := d.Correlation
	if len(c.Rules) < 2 || len(c.Rules) > 8 {
		return nil, fmt.Errorf("a temporal correlation over %d rules: 2 to 8 are supported", len(c.Rules))
	}
	if len(c.GroupBy) == 0 {
		return nil, fmt.Errorf("a temporal correlation without group-by would tie unrelated events: not converted")
	}
	for k, v := range c.Condition {
		if n, err := strconv.Atoi(fmt.Sprint(v)); k != "gte" || err != nil || n != len(c.Rules) {
			return nil, fmt.Errorf("temporal condition %s: %v: only all of the rules (gte: %d) is supported", k, v, len(c.Rules))
		}
	}
	window, err := timespan(c.Timespan)
	if err != nil {
		return nil, err
	}
	seq := &Sequence{Window: window}
	if c.Type == "temporal" {
		seq.Ordered = new(bool)
	}
	ids := make([]string, len(c.Rules))
	for i, ref := range c.Rules {
		base := byRef[ref]
		if base == nil {
			return nil, fmt.Errorf("correlation names rule %q, which is not converted earlier in the file", ref)
		}
		ids[i] = base.ID
		st := Step{Name: ref, Condition: base.Condition}
		for _, g := range c.GroupBy {
			name := g
			if a, ok := c.Aliases[g][ref]; ok {
				name = a
			}
			f, ok := base.src.fields[name]
			if !ok || f.elem != "" || f.ext {
				return nil, fmt.Errorf("group-by field %q of rule %s has no PacketSleuth equivalent", name, ref)
			}
			st.By = append(st.By, f.field)
		}
		seq.Steps = append(seq.Steps, st)
	}
	r, err := correlationRule(d, ids...)
	if err != nil {
		return nil, err
	}
	r.Sequence = seq
	return r, nil
}

// timespan reads Sigma's 30s, 5m, 1h, 2d.
func timespan(s string) (string, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d > 0 {
			return (time.Duration(d) * 24 * time.Hour).String(), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return "", fmt.Errorf("timespan %q: want 30s, 5m, 1h or 2d", s)
	}
	return d.String(), nil
}

func convert(d *sigmaDoc) (*Rule, error) {
	if d.Title == "" || d.Detection == nil {
		return nil, fmt.Errorf("not a Sigma rule: title and detection are required")
	}
	src, err := logSource(d.Logsource)
	if err != nil {
		return nil, err
	}
	cond, ok := d.Detection["condition"]
	if !ok {
		return nil, fmt.Errorf("detection has no condition")
	}
	condStr, ok := cond.(string)
	if !ok {
		return nil, fmt.Errorf("several conditions in one rule are not supported")
	}
	sel := map[string]string{}
	names := make([]string, 0, len(d.Detection))
	for name := range d.Detection {
		if name != "condition" && name != "timeframe" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		x, err := selection(src, d.Detection[name])
		if err != nil {
			return nil, fmt.Errorf("selection %s: %w", name, err)
		}
		sel[name] = x
	}
	expr, err := translateCondition(condStr, sel)
	if err != nil {
		return nil, err
	}
	r := &Rule{
		ID:             "SIGMA-" + d.ID,
		Name:           d.Title,
		Description:    strings.TrimSpace(strings.TrimSpace(d.Description) + "\n\nConverted from Sigma rule " + d.ID + " (SigmaHQ, Detection Rule License 1.1)."),
		Condition:      fmt.Sprintf("event.dataset == %q and (%s)", src.dataset, expr),
		Severity:       severity(d.Level),
		References:     d.References,
		FalsePositives: strings.Join(d.FalsePositives, "; "),
		src:            src,
	}
	if d.ID == "" {
		return nil, fmt.Errorf("the rule has no id")
	}
	if d.Author != "" {
		r.Author = []string{d.Author}
	}
	if d.Status == "experimental" || d.Status == "deprecated" || d.Status == "unsupported" {
		off := false
		r.Enabled = &off // as Sigma backends do by default
	}
	r.Tags, r.Threat = tagsAndThreat(d.Tags)
	return r, nil
}

func logSource(ls map[string]any) (source, error) {
	str := func(k string) string { s, _ := ls[k].(string); return s }
	key := ""
	switch {
	case str("product") == "zeek":
		key = "zeek:" + str("service")
	case str("category") != "":
		key = "category:" + str("category")
	}
	s, ok := sources[key]
	if !ok {
		return source{}, fmt.Errorf("log source %v has no PacketSleuth equivalent", ls)
	}
	return s, nil
}

func severity(level string) string {
	switch level {
	case "low", "medium", "high", "critical":
		return level
	}
	return "low" // informational, or none
}

var techniqueRE = regexp.MustCompile(`^t\d{4}(\.\d{3})?$`)

func tagsAndThreat(tags []string) ([]string, []threat) {
	var out []threat
	for _, t := range tags {
		name, ok := strings.CutPrefix(strings.ToLower(t), "attack.")
		switch {
		case !ok:
		case techniqueRE.MatchString(name):
			out = append(out, threat{Technique: &idName{ID: strings.ToUpper(name)}})
		default:
			if ta, ok := tactics[name]; ok {
				out = append(out, threat{Tactic: &idName{ID: ta.id, Name: ta.name}})
			}
		}
	}
	return tags, out
}

// selection translates a map (fields AND-ed) or a list of maps (OR-ed).
func selection(src source, v any) (string, error) {
	switch s := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(s))
		for k := range s {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			x, err := fieldMatch(src, k, s[k])
			if err != nil {
				return "", err
			}
			parts = append(parts, x)
		}
		return "(" + strings.Join(parts, " and ") + ")", nil
	case []any:
		parts := make([]string, 0, len(s))
		for _, e := range s {
			m, ok := e.(map[string]any)
			if !ok {
				return "", fmt.Errorf("keyword searches (values without a field) are not supported")
			}
			x, err := selection(src, m)
			if err != nil {
				return "", err
			}
			parts = append(parts, x)
		}
		return "(" + strings.Join(parts, " or ") + ")", nil
	}
	return "", fmt.Errorf("a selection must be a map or a list of maps")
}

// fieldMatch translates "field|mod|mod: value(s)".
func fieldMatch(src source, key string, v any) (string, error) {
	parts := strings.Split(key, "|")
	name, mods := parts[0], parts[1:]
	t, ok := src.fields[name]
	if !ok {
		return "", fmt.Errorf("field %q of this log source has no PacketSleuth equivalent", name)
	}
	op, all := "", false
	for _, m := range mods {
		switch m {
		case "contains", "startswith", "endswith", "re", "cidr":
			if op != "" {
				return "", fmt.Errorf("modifiers %q and %q together are not supported", op, m)
			}
			op = m
		case "all":
			all = true
		default:
			return "", fmt.Errorf("modifier %q is not supported", m)
		}
	}
	var values []any
	if l, ok := v.([]any); ok {
		values = l
	} else {
		values = []any{v}
	}
	if op == "cidr" {
		cidrs := make([]string, len(values))
		for i, x := range values {
			cidrs[i] = strconv.Quote(fmt.Sprint(x))
		}
		return wrap(t, "cidr_match(%s, "+strings.Join(cidrs, ", ")+")"), nil
	}
	conds := make([]string, 0, len(values))
	for _, x := range values {
		c, err := valueMatch(t, op, x)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		conds = append(conds, c)
	}
	join := " or "
	if all {
		join = " and "
	}
	if len(conds) == 1 {
		return conds[0], nil
	}
	return "(" + strings.Join(conds, join) + ")", nil
}

// wrap applies a predicate written with %s for the value to test, to a
// field, or to each element of an array field. Only the first %s is
// replaced: the rest of pred holds quoted values, which may contain %.
func wrap(t target, pred string) string {
	if t.elem != "" {
		return "any(" + t.field + ", {" + strings.Replace(pred, "%s", "."+t.elem, 1) + "})"
	}
	return strings.Replace(pred, "%s", t.field, 1)
}

func valueMatch(t target, op string, x any) (string, error) {
	if x == nil {
		return wrap(t, `%s == ""`), nil
	}
	if t.num {
		n, err := strconv.ParseFloat(fmt.Sprint(x), 64)
		if err != nil || op != "" {
			return "", fmt.Errorf("%v: a numeric field takes plain numbers", x)
		}
		return wrap(t, "%s == "+strconv.FormatFloat(n, 'f', -1, 64)), nil
	}
	s := fmt.Sprint(x)
	if op == "re" {
		return wrap(t, "%s matches "+strconv.Quote(s)), nil
	}
	if t.ext {
		if op != "" {
			return "", fmt.Errorf("modifiers on a file extension are not supported")
		}
		s, op = "."+s, "endswith"
	}
	lit, wild := unescape(s)
	if wild {
		re := globRE(s)
		switch op {
		case "":
			re = "^" + re + "$"
		case "startswith":
			re = "^" + re
		case "endswith":
			re += "$"
		}
		return wrap(t, "%s matches "+strconv.Quote("(?i)"+re)), nil
	}
	if op == "" {
		lit += t.suffix
	}
	q := strconv.Quote(strings.ToLower(lit))
	switch op {
	case "contains":
		return wrap(t, "lower(%s) contains "+q), nil
	case "startswith":
		return wrap(t, "lower(%s) startsWith "+q), nil
	case "endswith":
		return wrap(t, "lower(%s) endsWith "+q), nil
	}
	return wrap(t, "lower(%s) == "+q), nil
}

// unescape reads a Sigma string: \* \? and \\ are literal, a bare * or ?
// makes it a wildcard pattern.
func unescape(s string) (string, bool) {
	var b strings.Builder
	wild := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i++
		case c == '*' || c == '?':
			wild = true
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), wild
}

// globRE turns a Sigma wildcard pattern into a regular expression.
func globRE(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			b.WriteString(regexp.QuoteMeta(string(s[i+1])))
			i++
		case c == '*':
			b.WriteString(".*")
		case c == '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

package rules

import (
	"fmt"
	"time"

	"github.com/expr-lang/expr/vm"
)

// Severity levels and their numbers. PacketSleuth follows Elastic's
// detection-rule convention and uses the same number for `event.severity`
// and for the default `event.risk_score`: low 21, medium 47, high 73,
// critical 99. A rule may set its own risk_score (0–100); event.severity
// always comes from the severity name.
const (
	SeverityLow      = 21
	SeverityMedium   = 47
	SeverityHigh     = 73
	SeverityCritical = 99
)

var severityNumbers = map[string]int{
	"low":      SeverityLow,
	"medium":   SeverityMedium,
	"high":     SeverityHigh,
	"critical": SeverityCritical,
}

// SeverityNumber maps a severity name to its number (0 if unknown).
func SeverityNumber(name string) int { return severityNumbers[name] }

// Rule is one loaded and compiled detection rule.
type Rule struct {
	ID             string
	Name           string
	Description    string
	Condition      string // as written, before macro and list expansion
	Output         string // the alert's message template (%field.name), "" for none
	Severity       string // low, medium, high, critical
	SeverityNumber int    // event.severity of its alerts
	RiskScore      float64
	Tags           []string
	Threat         []ThreatMapping
	References     []string
	Enabled        bool
	FalsePositives string
	Version        string
	Category       string
	Author         []string
	Ruleset        string // the file's `ruleset:` or its directory name
	Exceptions     []Exception
	Threshold      *Threshold
	Sequence       *Sequence // instead of Condition
	Absence        *Absence  // alert on the silence of groups that matched
	Suppress       *Suppress
	Tests          []TestCase
	// Datasets are the event.dataset values the condition pins the rule to
	// (nil: it runs on every event).
	Datasets []string
	File     string
	Line     int

	index    int
	program  *vm.Program
	native   func(*natEnv) bool // program as Go code, when it can be (native.go)
	thrField field              // distinct/sum field
	thrGroup []field            // group_by
	supBy    []field
	exc      []compiledException
	output   *outputTemplate
	branches *branchSet // the condition's OR alternatives (packetsleuth.alert.matched)
}

// ThreatMapping is one MITRE ATT&CK tactic/technique pair.
type ThreatMapping struct {
	TacticID      string
	TacticName    string
	TechniqueID   string
	TechniqueName string
}

// Exception silences a rule when Field equals one of Values (an IP/CIDR
// value matches addresses in the prefix when the field holds IPs).
type Exception struct {
	Name   string
	Field  string
	Values []string
}

// Threshold makes a rule stateful: per group (the values of GroupBy) it
// counts matches, distinct values of Field, or sums or averages Field
// within Window of event time. gte/gt fire as soon as the sliding window
// reaches the value. lte/lt ("fewer than") are judged when a window that
// began with the group's first match closes: it fires if the window's
// total is below the value (a group with no match at all is the business
// of absence rules).
type Threshold struct {
	Type    string // count, distinct, sum, avg
	Field   string
	GroupBy []string
	Window  time.Duration
	Op      string // gte, gt, lte or lt
	Value   float64
}

// reached reports whether a group's count, distinct count, sum or average
// fires.
func (t *Threshold) reached(v float64) bool {
	switch t.Op {
	case "gt":
		return v > t.Value
	case "lte":
		return v <= t.Value
	case "lt":
		return v < t.Value
	}
	return v >= t.Value
}

// below says the threshold counts "fewer than" (judged at window end).
func (t *Threshold) below() bool { return t.Op == "lt" || t.Op == "lte" }

// Comparison spells the test the way people read it: ">= 10", "< 3".
func (t *Threshold) Comparison() string {
	op := map[string]string{"gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}[t.Op]
	return fmt.Sprintf("%s %g", op, t.Value)
}

// Suppress drops a rule's alerts that repeat the values of By within For
// of event time after an emitted one.
type Suppress struct {
	By  []string
	For time.Duration
}

// TestCase is one entry of a rule's `tests:`.
type TestCase struct {
	Name   string
	events []testEvent // expanded by Events
	Pcap   string      // resolved path (relative to the rule file's directory)
	// Intel (threat-intel files, resolved like Pcap) and HomeNet (CIDRs)
	// enrich the events a pcap case replays, as --intel and --home-net do.
	Intel      []string
	HomeNet    []string
	Expect     []Expectation
	ExpectNone bool
	File       string
	Line       int
}

// Expectation is an expected number of alerts of one rule.
type Expectation struct {
	Rule  string
	Count int
}

// NamedList is a named set of values usable in conditions, with `in_list(name,
// value)` or `value in name`: both match by the list's type (an ip list's
// CIDRs, a domain list's subdomains); elsewhere the name is an array.
type NamedList struct {
	Name  string
	Type  string // string, ip, domain, port
	Items []string
	File  string
	Line  int

	ports   map[int]struct{}
	strs    map[string]struct{}
	ips     *prefixSet
	domains domainSet
}

// Macro is a named condition fragment, expanded where its name appears.
type Macro struct {
	Name      string
	Condition string
	File      string
	Line      int
	// memo is the macro's slot in an Evaluator's per-event memo (natEnv),
	// from 1; 0: its value is not kept.
	memo int
}

// Set is a loaded, compiled rule set. It is immutable and may be shared by
// any number of Evaluators.
type Set struct {
	rules     []*Rule
	lists     map[string]*NamedList
	macros    map[string]*Macro
	byDataset map[string][]*Rule // pinned rules of a dataset + unpinned
	unpinned  []*Rule            // rules that run on every event
	warnings  []*Error
}

// Warnings returns what the loader found odd but not wrong: a rule pinned
// to datasets that reads a field none of them carries, a condition that
// is always true without a threshold, a folder without rule files.
func (s *Set) Warnings() []*Error { return s.warnings }

// Rules returns the rules in load order (files in the order given, rules in
// file order).
func (s *Set) Rules() []*Rule { return s.rules }

// Rule returns the rule with the given id, or nil.
func (s *Set) Rule(id string) *Rule {
	for _, r := range s.rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// Lists returns the named lists.
func (s *Set) Lists() map[string]*NamedList { return s.lists }

// Macros returns the named macros.
func (s *Set) Macros() map[string]*Macro { return s.macros }

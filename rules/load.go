package rules

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/packetsleuth/packetsleuth/internal/homenet"
	"github.com/packetsleuth/packetsleuth/rulesets"
	"go.yaml.in/yaml/v3"
)

// srcFile is one rule file being loaded.
type srcFile struct {
	name  string // as reported in errors
	dir   string // directory for pcap paths of tests
	os    bool   // dir is an OS path (filepath), else an fs path
	data  []byte
	lines []string
	// testsChecked: the file's test events were checked when the binary
	// was built (a shipped ruleset under Options.SkipShippedTests); the
	// load leaves them undecoded and their cases out of the Set.
	testsChecked bool
}

type ruleEntry struct {
	doc  ruleDoc
	node *yaml.Node
	file *srcFile
	set  string   // ruleset name
	auth []string // file authors
	// first is the rule first defined with this one's id, which this one
	// duplicates (nil: none); such a rule is reported, not built
	first *ruleEntry
	cond  *ruleCondition
	// compiled is closed when cond is set (compileConditions).
	compiled chan struct{}
}

// ruleCondition is a rule's condition compiled by compileConditions.
type ruleCondition struct {
	compiled
	datasets  []string
	branches  *branchSet
	uncarried []*Error // the set's warnings if it loads
}

type overrideEntry struct {
	doc  overrideDoc
	node *yaml.Node
	file *srcFile
}

type loader struct {
	errs      []error
	lists     map[string]*NamedList
	macros    map[string]*Macro
	macroNode map[string]*yaml.Node
	macroFile map[string]*srcFile
	rules     []*ruleEntry
	overrides []*overrideEntry
	testEvs   int      // test events decoded so far (bounded)
	warns     []*Error // found odd but not wrong while loading
}

func (l *loader) add(e *Error) { l.errs = append(l.errs, e) }

// Load reads the rule files of fsys matched by patterns (fs.Glob patterns;
// a directory stands for every *.yaml / *.yml below it), and compiles them
// into a Set. It reports every problem it finds, each an *Error with file,
// line, column, rule id and field; the Set is nil if there is any.
//
// Files are processed in the order given (the matches of one pattern in
// lexical order). A list or macro defined again in a later file replaces
// the earlier one (`append: true` on a list adds to it), and `overrides:`
// change rules of earlier files: this is how local files tune the shipped
// rules without editing them.
func Load(fsys fs.FS, patterns ...string) (*Set, []error) {
	l := newLoader(nil)
	files := l.fsFiles(fsys, patterns, "")
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	return l.load(files)
}

// LoadDefault loads the shipped rulesets embedded in the binary.
func LoadDefault() (*Set, []error) {
	return Load(rulesets.FS, rulesets.Dirs...)
}

// Options select what LoadFiles adds to the files it is given.
type Options struct {
	// Defaults loads the embedded shipped rulesets first, so the local
	// files can use and override their lists, macros and rules.
	Defaults bool
	// HomeNet is the sensor's home network (enrich.home_net, --home-net),
	// which conditions see as the ip list home_networks. Empty means
	// homenet.Default.
	HomeNet []string
	// SkipShippedTests leaves the shipped rules' test cases out of the
	// Set, for a caller that does not run them (a sensor): their tests:
	// sections are not parsed (loadUntested), or where that could change
	// the outcome, their events are not decoded (decoding them was a
	// third of the load's serial work). They are fixed when the binary
	// is built and `go test ./rulesets/...` decodes and runs them;
	// whether an event decodes depends on it alone (the ECS schema), not
	// on the local files. What the local files can change is still
	// checked: the rules those cases expect alerts of must be in the set,
	// and the events of all cases count towards the bound on test events.
	// The local files' tests load as without it.
	SkipShippedTests bool
}

// LoadFiles loads rule files and directories from the OS file system.
func LoadFiles(opts Options, paths ...string) (*Set, []error) {
	l := newLoader(opts.HomeNet)
	var files []*srcFile
	if opts.Defaults {
		files = l.fsFiles(rulesets.FS, rulesets.Dirs, "rulesets/")
		for _, f := range files {
			f.testsChecked = opts.SkipShippedTests
		}
	}
	seen := map[string]bool{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			l.add(&Error{File: p, Msg: err.Error(), Err: err})
			continue
		}
		var names []string
		if fi.IsDir() {
			_ = filepath.WalkDir(p, func(name string, d fs.DirEntry, err error) error {
				if err != nil {
					l.add(&Error{File: name, Msg: err.Error(), Err: err})
					return nil
				}
				if !d.IsDir() && isYAML(name) {
					names = append(names, name)
				}
				return nil
			})
			sort.Strings(names)
			if len(names) == 0 {
				l.warns = append(l.warns, &Error{File: p, Msg: "no rule files (*.yaml, *.yml) in this folder"})
			}
		} else {
			names = []string{p}
		}
		for _, name := range names {
			if seen[name] {
				continue
			}
			seen[name] = true
			data, err := os.ReadFile(name)
			if err != nil {
				l.add(&Error{File: name, Msg: err.Error(), Err: err})
				continue
			}
			files = append(files, &srcFile{name: name, dir: filepath.Dir(name), os: true, data: data})
		}
	}
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	if opts.SkipShippedTests && opts.Defaults {
		if set := loadUntested(l, files, opts.HomeNet); set != nil {
			return set, nil
		}
	}
	return l.load(files)
}

// loadUntested loads files with the shipped ones' tests: sections cut
// out (blanked line for line: what is left keeps its lines and columns),
// so that they are not even parsed (45 % of the shipped YAML). It
// returns nil where the cases left out could have changed the outcome,
// for l to load the files as before (the cases checked, not decoded) and
// report what it reports: on any error (a case may expect alerts of a
// rule that does not build), and where the local files' test events are
// enough for the shipped ones to reach the bound on test events (the
// shipped ones are fewer than half of it: TestShippedTestsCut).
func loadUntested(l *loader, files []*srcFile, homeNet []string) *Set {
	cut := make([]*srcFile, len(files))
	for i, f := range files {
		cut[i] = f
		if f.testsChecked {
			cut[i] = &srcFile{name: f.name, dir: f.dir, os: f.os, data: cutTests(f.data)}
		}
	}
	u := newLoader(homeNet)
	u.warns = slices.Clone(l.warns)
	set, errs := u.load(cut)
	if len(errs) > 0 || u.testEvs > maxLoadTestEvent/2 {
		return nil
	}
	return set
}

// cutTests blanks the lines of every tests: block of a rule file: the
// line of a tests: key, and those after it that are blank, comments or
// indented more than the key. TestShippedTestsCut checks that this
// leaves the shipped files' documents as they were less their rules'
// tests.
func cutTests(data []byte) []byte {
	out := make([]byte, 0, len(data))
	in, keyIndent := false, 0
	for rest := data; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i+1], rest[i+1:]
		} else {
			rest = nil
		}
		text := bytes.TrimLeft(line, " ")
		indent := len(line) - len(text)
		blank := len(bytes.TrimSpace(text)) == 0 || text[0] == '#'
		if in && (blank || indent > keyIndent) {
			out = append(out, '\n')
			continue
		}
		in = false
		if bytes.HasPrefix(text, []byte("tests:")) {
			in, keyIndent = true, indent
			out = append(out, '\n')
			continue
		}
		out = append(out, line...)
	}
	return out
}

func isYAML(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// HomeNetworks is the list that holds the sensor's home network. Rule
// files cannot define it: the home network has one definition, which
// network.direction follows too.
const HomeNetworks = "home_networks"

func newLoader(homeNet []string) *loader {
	l := &loader{
		lists:  map[string]*NamedList{},
		macros: map[string]*Macro{}, macroNode: map[string]*yaml.Node{}, macroFile: map[string]*srcFile{},
	}
	home, err := homenet.Parse("home network", homenet.Or(homeNet))
	if err != nil {
		l.add(&Error{Msg: err.Error(), Err: err})
	}
	lst := &NamedList{Name: HomeNetworks, Type: "ip", File: "enrich.home_net", ips: &prefixSet{}}
	for _, it := range home.Strings() {
		_ = lst.addItem(it) // parsed above
	}
	l.lists[HomeNetworks] = lst
	return l
}

// fsFiles resolves patterns in fsys; display prefixes the reported names.
func (l *loader) fsFiles(fsys fs.FS, patterns []string, display string) []*srcFile {
	var files []*srcFile
	seen := map[string]bool{}
	for _, pat := range patterns {
		var names []string
		if fi, err := fs.Stat(fsys, pat); err == nil && fi.IsDir() {
			_ = fs.WalkDir(fsys, pat, func(name string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && isYAML(name) {
					names = append(names, name)
				}
				return nil
			})
		} else {
			m, err := fs.Glob(fsys, pat)
			if err != nil {
				l.add(&Error{File: pat, Msg: "bad pattern: " + err.Error(), Err: err})
				continue
			}
			names = m
		}
		if len(names) == 0 {
			l.add(&Error{File: display + pat, Msg: "no rule files match"})
			continue
		}
		sort.Strings(names)
		for _, name := range names {
			if seen[name] {
				continue
			}
			seen[name] = true
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				l.add(&Error{File: display + name, Msg: err.Error(), Err: err})
				continue
			}
			files = append(files, &srcFile{name: display + name, dir: path.Dir(display + name), data: data})
		}
	}
	return files
}

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (l *loader) load(files []*srcFile) (*Set, []error) {
	// Files are parsed in parallel, each with a loader of its own for
	// its errors, which are reported in the files' order as before.
	parses := make([]*loader, len(files))
	docs := make([][]parsed, len(files))
	eachParallel(len(files), func(i int) {
		files[i].lines = strings.Split(string(files[i].data), "\n")
		parses[i] = &loader{}
		docs[i] = parses[i].parseFile(files[i])
	})
	for i, f := range files {
		def := path.Base(strings.ReplaceAll(f.dir, "\\", "/"))
		if def == "." || def == "/" || def == "" {
			def = "local"
		}
		l.errs = append(l.errs, parses[i].errs...)
		seenList, seenMacro := map[string]bool{}, map[string]bool{}
		for _, p := range docs[i] {
			set := p.doc.Ruleset
			if set == "" {
				set = def
			}
			for i, ld := range p.doc.Lists {
				l.addList(f, ld, p.listNodes[i], seenList)
			}
			for i, md := range p.doc.Macros {
				l.addMacro(f, md, p.macroNodes[i], seenMacro)
			}
			for i, rd := range p.doc.Rules {
				l.rules = append(l.rules, &ruleEntry{doc: rd, node: p.ruleNodes[i], file: f, set: set, auth: p.doc.Author})
			}
			for i, od := range p.doc.Overrides {
				l.overrides = append(l.overrides, &overrideEntry{doc: od, node: p.overrideNodes[i], file: f})
			}
		}
	}
	// Macros are compiled on their own first, so an error in one is
	// reported once, at the macro.
	bad := map[string]bool{}
	names := make([]string, 0, len(l.macros))
	for n := range l.macros {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		l.macros[n].memo = i + 1
	}
	// On GOMAXPROCS goroutines: the rules' compiles wait for bad.
	probs := make([][]exprProblem, len(names))
	eachParallel(len(names), func(i int) {
		m := l.macros[names[i]]
		probs[i] = compileCondition(m.Condition, l.lists, l.macros, nil, m.Name).probs
	})
	for i, n := range names {
		if len(probs[i]) > 0 {
			bad[n] = true
			for _, p := range probs[i] {
				l.exprErr(l.macroFile[n], pathNode(l.macroNode[n], "condition"), "", fmt.Sprintf("macro %s: condition: ", n), p)
			}
		}
	}
	byID := map[string]*ruleEntry{}
	for _, re := range l.rules {
		if prev, ok := byID[re.doc.ID]; ok && re.doc.ID != "" {
			re.first = prev
			continue
		}
		byID[re.doc.ID] = re
	}
	compiling := l.compileConditions(bad)
	defer compiling()
	set := &Set{lists: l.lists, macros: l.macros, byDataset: map[string][]*Rule{}}
	built := map[string]*Rule{}
	for _, re := range l.rules {
		if prev := re.first; prev != nil {
			l.errf(re.file, pathNode(re.node, "id"), re.doc.ID, "", "duplicate rule id (first defined at %s:%d); use overrides: to change a rule", prev.file.name, prev.node.Line)
			continue
		}
		r := l.buildRule(re, bad)
		if r == nil {
			continue
		}
		built[r.ID] = r
		r.index = len(set.rules)
		set.rules = append(set.rules, r)
	}
	for _, o := range l.overrides {
		l.applyOverride(o, built)
	}
	// Test expectations may name any rule of the set.
	for _, r := range set.rules {
		re := byID[r.ID]
		for ti, tc := range r.Tests {
			for ei, ex := range tc.Expect {
				if _, ok := built[ex.Rule]; !ok {
					at := re.node
					if tn := valueNode(re.node, "tests"); tn != nil && ti < len(tn.Content) {
						at = pathNode(tn.Content[ti], "expect")
						if at.Kind == yaml.SequenceNode && ei < len(at.Content) {
							at = pathNode(at.Content[ei], "rule")
						}
					}
					l.errf(re.file, at, r.ID, "", "test %q expects alerts of unknown rule %q", tc.Name, ex.Rule)
				}
			}
		}
	}
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	for _, r := range set.rules {
		if byID[r.ID].file.testsChecked {
			r.Tests = nil // their events were not decoded
		}
	}
	set.warnings = l.warns
	for _, r := range set.rules {
		if r.program == nil { // a sequence
			continue
		}
		set.warnings = append(set.warnings, byID[r.ID].cond.uncarried...)
		if b, ok := r.program.Node().(*ast.BoolNode); ok && b.Value && r.Threshold == nil {
			set.warnings = append(set.warnings, &Error{File: r.File, Line: r.Line, RuleID: r.ID,
				Msg: "condition is always true: the rule alerts on every event (add a threshold, or narrow it)"})
		}
	}
	set.index()
	return set, nil
}

var listTypes = map[string]bool{"string": true, "ip": true, "domain": true, "port": true}

// claimName checks the name of a list or macro (kind) and marks it seen in
// this file. clash says a definition of the other kind has the name. It
// reports the first problem and returns false.
func (l *loader) claimName(f *srcFile, n *yaml.Node, kind, name, other string, clash bool, seen map[string]bool) bool {
	var msg string
	switch {
	case !nameRE.MatchString(name):
		msg = fmt.Sprintf("%s name %q must be an identifier (letters, digits, _)", kind, name)
	case isReserved(name):
		msg = fmt.Sprintf("%s name %q is reserved (a field or helper)", kind, name)
	case name == HomeNetworks:
		msg = fmt.Sprintf("%s %q is the sensor's home network: set enrich.home_net in the config (or --home-net) instead, so network.direction and the rules agree", kind, name)
	case clash:
		msg = fmt.Sprintf("%s %q has the name of a %s", kind, name, other)
	case seen[name]:
		msg = fmt.Sprintf("%s %q defined twice in this file", kind, name)
	default:
		seen[name] = true
		return true
	}
	l.errf(f, pathNode(n, "name"), "", "", "%s", msg)
	return false
}

func (l *loader) addList(f *srcFile, d listDoc, n *yaml.Node, seen map[string]bool) {
	_, clash := l.macros[d.Name]
	if !l.claimName(f, n, "list", d.Name, "macro", clash, seen) {
		return
	}
	prev := l.lists[d.Name]
	if d.Append {
		if prev == nil {
			l.errf(f, pathNode(n, "append"), "", "", "append to undefined list %q", d.Name)
			return
		}
		if d.Type != "" && d.Type != prev.Type {
			l.errf(f, pathNode(n, "type"), "", "", "list %q is of type %s, not %s", d.Name, prev.Type, d.Type)
			return
		}
		d.Type = prev.Type
		d.Items = append(append([]string(nil), prev.Items...), d.Items...)
	}
	if d.Type == "" {
		d.Type = "string"
	}
	if !listTypes[d.Type] {
		l.errf(f, pathNode(n, "type"), "", "", "list %q: unknown type %q (string, ip, domain, port)", d.Name, d.Type)
		return
	}
	lst := &NamedList{Name: d.Name, Type: d.Type, File: f.name, Line: n.Line, ips: &prefixSet{}}
	items := valueNode(n, "items")
	ok := true
	for i, it := range d.Items {
		at := n
		if !d.Append && items != nil && items.Kind == yaml.SequenceNode && i < len(items.Content) {
			at = items.Content[i]
		}
		if err := lst.addItem(it); err != nil {
			l.errf(f, at, "", "", "list %q: %v", d.Name, err)
			ok = false
		}
	}
	if !ok {
		return
	}
	l.lists[d.Name] = lst
}

func (lst *NamedList) addItem(it string) error {
	switch lst.Type {
	case "port":
		p, err := strconv.Atoi(strings.TrimSpace(it))
		if err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("bad port %q", it)
		}
		if lst.ports == nil {
			lst.ports = map[int]struct{}{}
		}
		lst.ports[p] = struct{}{}
		it = strconv.Itoa(p)
	case "ip":
		if lst.ips == nil {
			lst.ips = &prefixSet{}
		}
		if err := lst.ips.add(it); err != nil {
			return fmt.Errorf("bad IP or CIDR %q", it)
		}
	case "domain":
		d := normDomain(it)
		if d == "" || strings.ContainsAny(d, " /:@") {
			return fmt.Errorf("bad domain %q", it)
		}
		if lst.domains == nil {
			lst.domains = domainSet{}
		}
		lst.domains[d] = struct{}{}
	default:
		if lst.strs == nil {
			lst.strs = map[string]struct{}{}
		}
		lst.strs[it] = struct{}{}
	}
	lst.Items = append(lst.Items, it)
	return nil
}

func (l *loader) addMacro(f *srcFile, d macroDoc, n *yaml.Node, seen map[string]bool) {
	_, clash := l.lists[d.Name]
	if !l.claimName(f, n, "macro", d.Name, "list", clash, seen) {
		return
	}
	if strings.TrimSpace(d.Condition) == "" {
		l.errf(f, n, "", "", "macro %q: condition is empty", d.Name)
		return
	}
	l.macros[d.Name] = &Macro{Name: d.Name, Condition: d.Condition, File: f.name, Line: n.Line}
	l.macroNode[d.Name] = n
	l.macroFile[d.Name] = f
}

var (
	tacticRE    = regexp.MustCompile(`^TA\d{4}$`)
	techniqueRE = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
)

func (l *loader) buildRule(re *ruleEntry, bad map[string]bool) *Rule {
	d, n, f := re.doc, re.node, re.file
	nerr := len(l.errs)
	id := d.ID
	if id == "" {
		l.errf(f, n, "", "", "rule without id")
		return nil
	}
	if !idRE.MatchString(id) {
		l.errf(f, pathNode(n, "id"), id, "", "id must be letters, digits, '.', '_' or '-'")
	}
	r := &Rule{
		ID: id, Name: d.Name, Description: strings.TrimSpace(d.Description), Condition: d.Condition,
		Severity: d.Severity, Tags: d.Tags, References: d.References, Enabled: true,
		FalsePositives: strings.TrimSpace(d.FalsePositives), Version: d.Version, Category: d.Category,
		Author: d.Author, Ruleset: re.set, File: f.name, Line: n.Line,
	}
	if r.Version == "" {
		r.Version = "1"
	}
	if len(r.Author) == 0 {
		r.Author = re.auth
	}
	if d.Enabled != nil {
		r.Enabled = *d.Enabled
	}
	if r.Name == "" {
		l.errf(f, n, id, "", "name is required")
	}
	if r.Severity == "" {
		l.errf(f, n, id, "", "severity is required (low, medium, high, critical)")
	} else if SeverityNumber(r.Severity) == 0 {
		l.errf(f, pathNode(n, "severity"), id, "", "unknown severity %q (low, medium, high, critical)", r.Severity)
	}
	r.SeverityNumber = SeverityNumber(r.Severity)
	r.RiskScore = float64(r.SeverityNumber)
	if d.RiskScore != nil {
		if *d.RiskScore < 0 || *d.RiskScore > 100 {
			l.errf(f, pathNode(n, "risk_score"), id, "", "risk_score must be within 0..100")
		}
		r.RiskScore = *d.RiskScore
	}
	for i, t := range d.Threat {
		at := pathNode(n, "threat")
		if at.Kind == yaml.SequenceNode && i < len(at.Content) {
			at = at.Content[i]
		}
		if t.Tactic.ID != "" && !tacticRE.MatchString(t.Tactic.ID) {
			l.errf(f, pathNode(at, "tactic", "id"), id, "", "threat: bad ATT&CK tactic id %q (TAnnnn)", t.Tactic.ID)
		}
		if t.Technique.ID != "" && !techniqueRE.MatchString(t.Technique.ID) {
			l.errf(f, pathNode(at, "technique", "id"), id, "", "threat: bad ATT&CK technique id %q (Tnnnn or Tnnnn.nnn)", t.Technique.ID)
		}
		if t.Tactic.ID == "" && t.Technique.ID == "" {
			l.errf(f, at, id, "", "threat: a tactic or technique id is required")
		}
		r.Threat = append(r.Threat, ThreatMapping{TacticID: t.Tactic.ID, TacticName: t.Tactic.Name, TechniqueID: t.Technique.ID, TechniqueName: t.Technique.Name})
	}
	// Condition.
	cn := pathNode(n, "condition")
	switch {
	case d.Sequence != nil && strings.TrimSpace(d.Condition) != "":
		l.errf(f, cn, id, "", "give condition or sequence, not both")
	case d.Sequence != nil && d.Threshold != nil:
		l.errf(f, pathNode(n, "threshold"), id, "", "a sequence takes no threshold")
	case d.Sequence != nil:
		l.sequence(f, pathNode(n, "sequence"), r, d.Sequence, bad)
	case strings.TrimSpace(d.Condition) == "":
		l.errf(f, cn, id, "", "condition (or sequence) is required")
	default:
		<-re.compiled
		c := re.cond
		for _, p := range c.probs {
			l.exprErr(f, cn, id, "condition: ", p)
		}
		r.program, r.native, r.Datasets, r.branches = c.program, c.native, c.datasets, c.branches
	}
	if d.Absence != nil {
		switch {
		case d.Sequence != nil || d.Threshold != nil:
			l.errf(f, pathNode(n, "absence"), id, "", "absence takes no threshold or sequence")
		default:
			l.absence(f, pathNode(n, "absence"), r, d.Absence)
		}
	}
	l.output(f, pathNode(n, "output"), r, d.Output)
	r.Exceptions, r.exc = l.exceptions(f, pathNode(n, "exceptions"), id, d.Exceptions)
	if d.Threshold != nil {
		l.threshold(f, pathNode(n, "threshold"), r, d.Threshold)
	}
	if len(l.errs) == nerr {
		l.groupOutput(f, pathNode(n, "output"), r)
	}
	if d.Suppress != nil {
		r.Suppress, r.supBy = l.suppress(f, pathNode(n, "suppress"), id, d.Suppress)
		if r.Threshold != nil && r.Threshold.below() || r.Absence != nil {
			l.errf(f, pathNode(n, "suppress"), id, "", "suppress does not apply to lt/lte thresholds and absence rules (each group alerts once per window or silence)")
		}
	}
	r.Tests = l.tests(f, n, r, d.Tests)
	if len(l.errs) > nerr {
		return nil
	}
	return r
}

// compileConditions compiles the conditions buildRule takes (expr.Compile
// is the most of a load's CPU) on GOMAXPROCS goroutines, in the rules'
// order, while buildRule goes through the rules (their tests are the most
// of the rest) and reports problems in the rules' order. It returns a
// func that waits for the compiles to end.
func (l *loader) compileConditions(bad map[string]bool) (wait func()) {
	for _, re := range l.rules {
		re.compiled = make(chan struct{})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		eachParallel(len(l.rules), func(i int) {
			re := l.rules[i]
			defer close(re.compiled)
			d := &re.doc
			if re.first != nil || d.ID == "" || d.Sequence != nil || strings.TrimSpace(d.Condition) == "" {
				return // buildRule does not take its condition
			}
			c := &ruleCondition{compiled: compileCondition(d.Condition, l.lists, l.macros, bad, "")}
			if c.program != nil {
				c.datasets = c.pin()
				c.branches = newBranchSet(d.Condition, l.lists, l.macros)
				c.uncarried = uncarried(&Rule{ID: d.ID, File: re.file.name, Line: re.node.Line, Datasets: c.datasets, program: c.program})
			}
			re.cond = c
		})
	}()
	return func() { <-done }
}

// exprErr reports a condition problem at its position in the file.
func (l *loader) exprErr(f *srcFile, n *yaml.Node, ruleID, prefix string, p exprProblem) {
	e := &Error{File: f.name, RuleID: ruleID, Field: p.field, Msg: prefix + p.msg}
	e.Line, e.Column = scalarPos(f, n, p.loc.From)
	l.add(e)
}

// scalarPos maps a rune offset inside the scalar n to a file line and
// column. Block scalars (| and >) are mapped line by line; folded lines
// count as one space, as YAML folds them. Escapes in quoted scalars may
// shift the column a little.
func scalarPos(f *srcFile, n *yaml.Node, off int) (int, int) {
	if n == nil {
		return 0, 0
	}
	if n.Kind != yaml.ScalarNode {
		return n.Line, n.Column
	}
	line := n.Line
	col := n.Column
	first := true
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		line++
		first = false
	} else if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		col++
	}
	indent := -1
	for ; line <= len(f.lines); line++ {
		s := f.lines[line-1]
		var content string
		start := 0
		if first {
			start = col - 1
			first = false
		} else {
			trimmed := strings.TrimLeft(s, " \t")
			if trimmed == "" && indent < 0 {
				continue
			}
			if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
				if indent < 0 {
					indent = len(s) - len(trimmed)
				}
				start = min(indent, len(s)-len(trimmed))
			} else {
				start = len(s) - len(trimmed)
			}
		}
		if start > len(s) {
			start = len(s)
		}
		content = s[start:]
		if r := []rune(content); off <= len(r) {
			return line, start + len(string(r[:off])) + 1
		} else {
			off -= len(r) + 1
		}
	}
	return n.Line, n.Column
}

func (l *loader) exceptions(f *srcFile, n *yaml.Node, id string, docs []exceptionDoc) ([]Exception, []compiledException) {
	var out []Exception
	var comp []compiledException
	for i, d := range docs {
		at := n
		if n.Kind == yaml.SequenceNode && i < len(n.Content) {
			at = n.Content[i]
		}
		fld, msg := lookupField(d.Field)
		if msg != "" {
			l.errf(f, pathNode(at, "field"), id, d.Field, "exception %s: %s", d.Name, msg)
			continue
		}
		if len(d.Values) == 0 {
			l.errf(f, at, id, d.Field, "exception %s: values are required", d.Name)
			continue
		}
		ce, err := compileException(fld, d.Values)
		if err != nil {
			l.errf(f, pathNode(at, "values"), id, d.Field, "exception %s: %v", d.Name, err)
			continue
		}
		out = append(out, Exception(d))
		comp = append(comp, ce)
	}
	return out, comp
}

func (l *loader) fields(f *srcFile, n *yaml.Node, id, what string, names []string) ([]field, bool) {
	var out []field
	ok := true
	for i, name := range names {
		at := n
		if n.Kind == yaml.SequenceNode && i < len(n.Content) {
			at = n.Content[i]
		}
		fld, msg := lookupField(name)
		if msg != "" {
			l.errf(f, at, id, name, "%s: %s", what, msg)
			ok = false
			continue
		}
		out = append(out, fld)
	}
	return out, ok
}

// maxDistinct bounds the values a distinct threshold keeps per group.
const maxDistinct = 100000

func (l *loader) threshold(f *srcFile, n *yaml.Node, r *Rule, d *thresholdDoc) {
	id := r.ID
	t := &Threshold{Type: d.Type, Field: d.Field, GroupBy: d.GroupBy}
	switch d.Type {
	case "count":
		if d.Field != "" {
			l.errf(f, pathNode(n, "field"), id, d.Field, "threshold: count takes no field (use distinct, sum or avg)")
		}
	case "distinct", "sum", "avg":
		fld, msg := lookupField(d.Field)
		if d.Field == "" {
			msg = "field is required for " + d.Type
		}
		if msg != "" {
			l.errf(f, pathNode(n, "field"), id, d.Field, "threshold: %s", msg)
		} else if d.Type != "distinct" && !isNumeric(fld.typ) {
			l.errf(f, pathNode(n, "field"), id, d.Field, "threshold: %s needs a numeric field, %s is %s", d.Type, d.Field, fld.typ)
		}
		r.thrField = fld
	default:
		l.errf(f, pathNode(n, "type"), id, "", "threshold: unknown type %q (count, distinct, sum, avg)", d.Type)
	}
	r.thrGroup, _ = l.fields(f, pathNode(n, "group_by"), id, "threshold: group_by", d.GroupBy)
	w, err := time.ParseDuration(d.Window)
	switch {
	case d.Window == "":
		l.errf(f, n, id, "", "threshold: window is required")
	case err != nil:
		l.errf(f, pathNode(n, "window"), id, "", "threshold: bad window: %v", err)
	case w <= 0 || w > 24*time.Hour:
		l.errf(f, pathNode(n, "window"), id, "", "threshold: window must be within (0, 24h]")
	}
	t.Window = w
	var ops []string
	for op, v := range map[string]*float64{"gte": d.GTE, "gt": d.GT, "lte": d.LTE, "lt": d.LT} {
		if v != nil {
			ops = append(ops, op)
			t.Op, t.Value = op, *v
		}
	}
	switch {
	case len(ops) > 1:
		sort.Strings(ops)
		l.errf(f, pathNode(n, ops[0]), id, "", "threshold: give one of gte, gt, lte, lt (got %s)", strings.Join(ops, ", "))
	case len(ops) == 0:
		l.errf(f, n, id, "", "threshold: gte, gt, lte or lt is required")
	case t.Op == "gte" && t.Value <= 0:
		l.errf(f, pathNode(n, "gte"), id, "", "threshold: gte must be > 0")
	case t.Value < 0:
		l.errf(f, pathNode(n, t.Op), id, "", "threshold: %s must be >= 0", t.Op)
	case t.below() && d.Type == "distinct":
		l.errf(f, pathNode(n, t.Op), id, "", "threshold: %s counts fewer than N in a window: use count, sum or avg", t.Op)
	case t.Op == "lt" && t.Value == 0:
		l.errf(f, pathNode(n, "lt"), id, "", "threshold: lt 0 can never hold")
	}
	if d.Type == "distinct" && t.Value >= maxDistinct {
		l.errf(f, pathNode(n, t.Op), id, "", "threshold: distinct %s must be < %d", t.Op, maxDistinct)
	}
	r.Threshold = t
}

func (l *loader) suppress(f *srcFile, n *yaml.Node, id string, d *suppressDoc) (*Suppress, []field) {
	by, _ := l.fields(f, pathNode(n, "by"), id, "suppress: by", d.By)
	w, err := time.ParseDuration(d.For)
	switch {
	case d.For == "":
		l.errf(f, n, id, "", "suppress: for is required")
	case err != nil:
		l.errf(f, pathNode(n, "for"), id, "", "suppress: bad duration: %v", err)
	case w <= 0:
		l.errf(f, pathNode(n, "for"), id, "", "suppress: for must be > 0")
	}
	return &Suppress{By: d.By, For: w}, by
}

func (l *loader) applyOverride(o *overrideEntry, built map[string]*Rule) {
	d, n, f := o.doc, o.node, o.file
	r, ok := built[d.ID]
	if !ok {
		l.errf(f, pathNode(n, "id"), d.ID, "", "override of unknown rule%s", suggestName(d.ID, built))
		return
	}
	if d.Enabled != nil {
		r.Enabled = *d.Enabled
	}
	if d.Severity != "" {
		if SeverityNumber(d.Severity) == 0 {
			l.errf(f, pathNode(n, "severity"), d.ID, "", "unknown severity %q", d.Severity)
		} else {
			if r.RiskScore == float64(r.SeverityNumber) {
				r.RiskScore = float64(SeverityNumber(d.Severity))
			}
			r.Severity, r.SeverityNumber = d.Severity, SeverityNumber(d.Severity)
		}
	}
	if d.RiskScore != nil {
		r.RiskScore = *d.RiskScore
	}
	exc, comp := l.exceptions(f, pathNode(n, "exceptions"), d.ID, d.Exceptions)
	if d.ReplaceExceptions {
		r.Exceptions, r.exc = exc, comp
	} else {
		r.Exceptions = append(append([]Exception(nil), r.Exceptions...), exc...)
		r.exc = append(append([]compiledException(nil), r.exc...), comp...)
	}
	if d.Suppress != nil {
		r.Suppress, r.supBy = l.suppress(f, pathNode(n, "suppress"), d.ID, d.Suppress)
	}
}

// index builds the dataset index: for each pinned dataset, its rules and
// the unpinned ones, in load order.
func (s *Set) index() {
	for _, r := range s.rules {
		if r.Datasets == nil {
			s.unpinned = append(s.unpinned, r)
		}
	}
	for _, r := range s.rules {
		for _, ds := range r.Datasets {
			if _, ok := s.byDataset[ds]; ok {
				continue
			}
			var list []*Rule
			for _, r2 := range s.rules {
				if r2.Datasets == nil || contains(r2.Datasets, ds) {
					list = append(list, r2)
				}
			}
			s.byDataset[ds] = list
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

package rules

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// TestOptions select what RunTests runs and how it prints the results.
type TestOptions struct {
	Rule   string // only the cases of this rule ("" for all)
	Format string // text (default), json or junit
}

// TestFormats are the formats RunTests prints.
var TestFormats = []string{"text", "json", "junit"}

// TestSummary counts the results of RunTests.
type TestSummary struct {
	Passed, Failed, Skipped int
}

// RunTests runs the test cases of every rule of set (disabled rules
// included), or of opts.Rule, and prints the results. The text format is
// the way `go test -v` prints:
//
//	--- PASS: PS-NET-001/syn-flood
//	--- FAIL: PS-NET-001/below-threshold (stable/network.yaml:57)
//	    expected 0 alerts of PS-NET-001, got 1
//	    alert PS-NET-001 at 2026-01-01T00:00:02Z 10.0.0.1:40000 -> 10.0.0.2:80
//	--- SKIP: PS-X/capture (stable/x.yaml:12)
//	    pcap case and no replay function
//	41 passed, 1 failed, 1 skipped
//
// json is one object with the counts and every case; junit is JUnit XML
// (one testsuite per rule) for CI systems. pcap cases use replay; with a
// nil replay they are skipped. An unknown rule or format is an error.
func RunTests(set *Set, replay ReplayFunc, w io.Writer, opts TestOptions) (TestSummary, error) {
	var sum TestSummary
	if opts.Rule != "" && set.Rule(opts.Rule) == nil {
		ids := map[string]bool{}
		for _, r := range set.Rules() {
			ids[r.ID] = true
		}
		return sum, fmt.Errorf("unknown rule %q%s", opts.Rule, suggestName(opts.Rule, ids))
	}
	format := opts.Format
	if format == "" {
		format = "text"
	}
	if !contains(TestFormats, format) {
		return sum, fmt.Errorf("unknown format %q (%s)", format, strings.Join(TestFormats, ", "))
	}
	var results []CaseResult
	for _, r := range set.Rules() {
		if opts.Rule != "" && r.ID != opts.Rule {
			continue
		}
		for i := range r.Tests {
			res := RunCase(set, r, &r.Tests[i], replay)
			switch {
			case res.Skipped:
				sum.Skipped++
			case res.Failed:
				sum.Failed++
			default:
				sum.Passed++
			}
			if format == "text" {
				writeTextResult(w, &res)
			}
			results = append(results, res)
		}
	}
	switch format {
	case "json":
		return sum, writeJSONResults(w, sum, results)
	case "junit":
		return sum, writeJUnit(w, results)
	}
	_, err := fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", sum.Passed, sum.Failed, sum.Skipped)
	return sum, err
}

func (r *CaseResult) status() string {
	switch {
	case r.Skipped:
		return "skip"
	case r.Failed:
		return "fail"
	}
	return "pass"
}

func writeTextResult(w io.Writer, res *CaseResult) {
	switch res.status() {
	case "skip":
		fmt.Fprintf(w, "--- SKIP: %s/%s (%s:%d)\n", res.Rule, res.Case, res.File, res.Line)
	case "fail":
		fmt.Fprintf(w, "--- FAIL: %s/%s (%s:%d)\n", res.Rule, res.Case, res.File, res.Line)
	default:
		fmt.Fprintf(w, "--- PASS: %s/%s\n", res.Rule, res.Case)
	}
	for _, m := range res.Msgs {
		fmt.Fprintf(w, "    %s\n", m)
	}
	for _, a := range res.Alerts {
		fmt.Fprintf(w, "    alert %s\n", a)
	}
}

type jsonCase struct {
	Rule     string   `json:"rule"`
	Case     string   `json:"case"`
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Status   string   `json:"status"`
	Messages []string `json:"messages,omitempty"`
	Alerts   []string `json:"alerts,omitempty"`
}

func writeJSONResults(w io.Writer, sum TestSummary, results []CaseResult) error {
	out := struct {
		Passed  int        `json:"passed"`
		Failed  int        `json:"failed"`
		Skipped int        `json:"skipped"`
		Cases   []jsonCase `json:"cases"`
	}{sum.Passed, sum.Failed, sum.Skipped, []jsonCase{}}
	for _, r := range results {
		out.Cases = append(out.Cases, jsonCase{r.Rule, r.Case, r.File, r.Line, r.status(), r.Msgs, r.Alerts})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Tests   int          `xml:"tests,attr"`
	Failed  int          `xml:"failures,attr"`
	Skipped int          `xml:"skipped,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name    string      `xml:"name,attr"`
	Tests   int         `xml:"tests,attr"`
	Failed  int         `xml:"failures,attr"`
	Skipped int         `xml:"skipped,attr"`
	Cases   []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr"`
	Line      int           `xml:"line,attr"`
	Failure   *junitMessage `xml:"failure"`
	Skipped   *junitMessage `xml:"skipped"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, results []CaseResult) error {
	var out junitSuites
	for _, r := range results {
		if n := len(out.Suites); n == 0 || out.Suites[n-1].Name != r.Rule {
			out.Suites = append(out.Suites, junitSuite{Name: r.Rule})
		}
		s := &out.Suites[len(out.Suites)-1]
		c := junitCase{Name: r.Case, Classname: r.Rule, File: r.File, Line: r.Line}
		msg := &junitMessage{Message: strings.Join(r.Msgs, "; ")}
		if len(r.Alerts) > 0 {
			msg.Text = "alerts:\n" + strings.Join(r.Alerts, "\n")
		}
		s.Tests++
		out.Tests++
		switch r.status() {
		case "fail":
			c.Failure = msg
			s.Failed++
			out.Failed++
		case "skip":
			c.Skipped = msg
			s.Skipped++
			out.Skipped++
		}
		s.Cases = append(s.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

package rules

import (
	"errors"
	"strings"
	"testing"
)

// Filters (export --where) speak the rules' language: helpers, shipped
// lists and macros, and errors placed with a did-you-mean.
func TestCompileFilter(t *testing.T) {
	ev := flowEvent("10.1.2.3", "198.51.100.7", 4444)
	for src, want := range map[string]bool{
		`flow_event and in_list("rare_ports", destination.port)`:        true,
		`destination.port in rare_ports`:                                true,
		`cidr_match(source.ip, "10.0.0.0/8") and is_private(source.ip)`: true,
		`dns_event`:                           false,
		`source.ip in ["10.0.0.0/8"]`:         false, // a literal array compares strings
		`in_list("home_networks", source.ip)`: true,
	} {
		f, err := CompileFilter(nil, src)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got, err := f.Match(&ev); err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", src, got, err, want)
		}
	}
	for src, want := range map[string]string{
		`sorce.ip == "10.0.0.1"`:  `column 1: unknown field "sorce.ip" (did you mean "source.ip"?)`,
		`in_lst("rare_ports", 1)`: `did you mean "in_list"`,
		`in_list("no_such", 1)`:   `no_such`,
		"  ":                      "empty expression",
	} {
		_, err := CompileFilter(nil, src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %s", src, err, want)
		}
		var fe *FilterError
		if err != nil && !errors.As(err, &fe) {
			t.Errorf("%q: %T is not a *FilterError", src, err)
		}
	}
}

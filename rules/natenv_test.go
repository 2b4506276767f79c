package rules

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// An Evaluator keeps the addresses it parsed across events; an address
// field set again (a parser's or an enricher's string, a reused event)
// must be read anew, whatever its length or backing, in every form of
// address test.
func TestAddressChangedAfterFillIsReread(t *testing.T) {
	set := mustLoad(t, `
lists:
  - {name: nets, type: ip, items: ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]}
rules:
  - {id: L-1, name: in_list, severity: low, condition: 'in_list("nets", source.ip) and not in_list("nets", destination.ip)'}
  - {id: C-1, name: cidr, severity: low, condition: 'cidr_match(source.ip, "10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32") and not cidr_match(destination.ip, "10.0.0.0/8")'}
  - {id: I-1, name: in, severity: low, condition: 'source.ip in nets and not (destination.ip in nets)'}
`)
	for _, id := range []string{"L-1", "C-1", "I-1"} {
		if set.Rule(id).native == nil {
			t.Fatalf("%s does not run as Go: the test would not reach the parsed addresses", id)
		}
	}
	e := NewEvaluator(set, EvalOptions{})
	ev := flowEvent("10.1.2.3", "198.51.100.1", 443)
	for i, c := range []struct {
		src, dst string
		want     bool
	}{
		{"10.1.2.3", "198.51.100.1", true},
		{"11.1.2.3", "198.51.100.1", false}, // same length, other address
		{strings.Clone("10.1.2.3"), "198.51.100.1", true},
		{"10.1.2.3", "10.9.9.9", false}, // the destination changed alone
		{"10.1.2.3", "198.51.100.1", true},
		{"192.0.2.7", "198.51.100.1", true},
		{"192.0.2.8", "198.51.100.1", false},
		{"2001:db8::1", "198.51.100.1", true},
		{"::ffff:10.0.0.1", "198.51.100.1", true},
		{"2001:db9::1", "198.51.100.1", false},
		{"not-an-ip", "198.51.100.1", false},
		{"", "", false},
		{"10.1.2.3", "", true},
	} {
		ev.Source.IP, ev.Destination.IP = c.src, c.dst
		fired := map[string]bool{}
		for _, a := range collect(e, ev) {
			fired[a.Rule.ID] = true
		}
		for _, id := range []string{"L-1", "C-1", "I-1"} {
			if fired[id] != c.want {
				t.Errorf("%d: %s on %s -> %s fired %v, want %v", i, id, c.src, c.dst, fired[id], c.want)
			}
			if got := vmHolds(t, set.Rule(id).program, &ev); got != c.want {
				t.Errorf("%d: %s on the VM: %v, want %v", i, id, got, c.want)
			}
		}
	}
}

// An address list without items matches nothing, so a condition asking it
// reads no address: the shipped allow-lists are empty until a site fills
// them, and most rules ask one of every event. A filled list in the same
// rule is still asked (and its address read).
func TestEmptyIPListReadsNoAddress(t *testing.T) {
	set := mustLoad(t, `
lists:
  - {name: none, type: ip, items: []}
  - {name: nets, type: ip, items: ["10.0.0.0/8"]}
rules:
  - {id: E-1, name: empty, severity: low, condition: 'not in_list("none", source.ip) and not in_list("none", destination.ip)'}
  - {id: F-1, name: filled, severity: low, condition: 'in_list("none", source.ip) or in_list("nets", destination.ip)'}
`)
	for _, id := range []string{"E-1", "F-1"} {
		if set.Rule(id).native == nil {
			t.Fatalf("%s does not run as Go", id)
		}
	}
	e := NewEvaluator(set, EvalOptions{})
	ev := flowEvent("10.1.2.3", "10.9.9.9", 443)
	fired := map[string]bool{}
	for _, a := range collect(e, ev) {
		fired[a.Rule.ID] = true
	}
	if !fired["E-1"] || !fired["F-1"] {
		t.Fatalf("fired %v, want E-1 and F-1", fired)
	}
	if e.nat.src.s != "" {
		t.Errorf("source.ip was read (%q): only an empty list asks it", e.nat.src.s)
	}
	if e.nat.dst.s != "10.9.9.9" {
		t.Errorf("destination.ip read as %q, want 10.9.9.9 (the filled list asks it)", e.nat.dst.s)
	}
}

// An Evaluator keeps the answer of the last list asked about an address:
// lists asked in turn about one address, in one event and across events,
// each give their own answer, and a new address is asked anew.
func TestAddressListsAskedInTurn(t *testing.T) {
	set := mustLoad(t, `
lists:
  - {name: tens, type: ip, items: ["10.0.0.0/8"]}
  - {name: docs, type: ip, items: ["192.0.2.0/24"]}
rules:
  - {id: T-1, name: tens, severity: low, condition: 'in_list("tens", source.ip)'}
  - {id: D-1, name: docs, severity: low, condition: 'in_list("docs", source.ip)'}
  - {id: T-2, name: tens again, severity: low, condition: 'in_list("tens", source.ip) and not in_list("docs", source.ip)'}
`)
	e := NewEvaluator(set, EvalOptions{})
	ev := flowEvent("10.1.2.3", "198.51.100.1", 443)
	for i, c := range []struct {
		src  string
		want string
	}{
		{"10.1.2.3", "T-1 T-2"},
		{"10.1.2.3", "T-1 T-2"},
		{"192.0.2.9", "D-1"},
		{"192.0.2.9", "D-1"},
		{"10.1.2.4", "T-1 T-2"},
		{"198.51.100.7", ""},
	} {
		ev.Source.IP = c.src
		var fired []string
		for _, a := range collect(e, ev) {
			fired = append(fired, a.Rule.ID)
		}
		slices.Sort(fired)
		if got := strings.Join(fired, " "); got != c.want {
			t.Errorf("%d: %s fired %q, want %q", i, c.src, got, c.want)
		}
	}
}

// An Evaluator told the addresses an event's source.ip and destination.ip
// were printed from (AddrsPrinted) judges the event as one that parses
// them, for IPv4, IPv6, IPv4-mapped and invalid addresses, without
// parsing them (told another address than its string's, it answers for
// the one told); an event whose strings are not those told is parsed.
func TestAddrsPrintedAsParsed(t *testing.T) {
	set := mustLoad(t, `
lists:
  - {name: nets, type: ip, items: ["10.0.0.0/8", "2001:db8::/32"]}
rules:
  - {id: S-1, name: src, severity: low, condition: 'in_list("nets", source.ip)'}
  - {id: D-1, name: dst, severity: low, condition: 'in_list("nets", destination.ip) and not in_list("nets", source.ip)'}
`)
	told, parsed := NewEvaluator(set, EvalOptions{}), NewEvaluator(set, EvalOptions{})
	fired := func(e *Evaluator, ev schemasEvent) string {
		var ids []string
		for _, a := range collect(e, ev) {
			ids = append(ids, a.Rule.ID)
		}
		return strings.Join(ids, " ")
	}
	addrs := []netip.Addr{
		netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("198.51.100.7"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:10.1.2.3"),
		netip.MustParseAddr("::ffff:198.51.100.7"), {},
	}
	for _, a := range addrs {
		for _, b := range addrs {
			src, dst := a.String(), b.String()
			told.AddrsPrinted(a, b, src, dst)
			if got, want := fired(told, flowEvent(src, dst, 443)), fired(parsed, flowEvent(src, dst, 443)); got != want {
				t.Errorf("%v -> %v told: fired %q, parsed %q", a, b, got, want)
			}
			told.AddrsPrinted(a, b, src, dst)
			if got, want := fired(told, flowEvent(dst, src, 443)), fired(parsed, flowEvent(dst, src, 443)); got != want {
				t.Errorf("%v -> %v told of %v -> %v: fired %q, parsed %q", b, a, a, b, got, want)
			}
		}
	}
	told.AddrsPrinted(addrs[0], addrs[1], "198.51.100.7", "10.1.2.3")
	if got := fired(told, flowEvent("198.51.100.7", "10.1.2.3", 443)); got != "S-1" {
		t.Errorf("told 10.1.2.3 -> 198.51.100.7 for the reverse strings: fired %q, want S-1 (the addresses told, not parsed)", got)
	}
}

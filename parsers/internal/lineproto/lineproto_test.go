package lineproto

import (
	"testing"

	"github.com/packetsleuth/packetsleuth/parsers"
)

// Command returns the verb in upper case whatever its case, common verbs
// without an allocation.
func TestCommandVerb(t *testing.T) {
	for _, c := range []struct {
		line, verb, args string
		v                parsers.Verdict
	}{
		{"GET / HTTP/1.1\r\n", "GET", "/ HTTP/1.1", parsers.Yes},
		{"ehlo mail.example\r\n", "EHLO", "mail.example", parsers.Yes},
		{"UsEr anonymous\r\n", "USER", "anonymous", parsers.Yes},
		{"xyzw arg\r\n", "XYZW", "arg", parsers.Yes},
		{"abc\r\n", "ABC", "", parsers.Yes},
		{"OPTIONS * HTTP/1.1\r\n", "", "", parsers.No},
		{"HEL", "", "", parsers.More},
		{"EHLO x", "", "", parsers.More},
		{"1GET /\r\n", "", "", parsers.No},
	} {
		verb, args, v := Command([]byte(c.line))
		if verb != c.verb || string(args) != c.args || v != c.v {
			t.Errorf("Command(%q) = %q %q %v, want %q %q %v", c.line, verb, args, v, c.verb, c.args, c.v)
		}
	}
	for _, verb := range commonVerbs {
		b := []byte(verb + " x\r\n")
		if n := testing.AllocsPerRun(10, func() { Command(b) }); n != 0 {
			t.Errorf("Command of %s: %v allocations", verb, n)
		}
	}
}

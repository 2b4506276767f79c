package textsafe

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain.example.org":   "plain.example.org",
		"ü日本":                 "ü日本",
		"a\x1b]0;owned\x07b":  `a\x1b]0;owned\x07b`,
		"nul\x00cut":          `nul\x00cut`,
		"line\r\nfeed\ttab":   `line\r\nfeed\ttab`,
		"del\x7f":             `del\x7f`,
		"c1\u009b31m":         `c1\x9b31m`,
		"bidi\u202etxt.exe":   `bidi\u202etxt.exe`,
		"sep\u2028\u2029":     `sep\u2028\u2029`,
		"iso\u2066x\u2069":    `iso\u2066x\u2069`,
		"bad\xff\xfeutf8":     `bad\xff\xfeutf8`,
		"half\xe6\x97":        `half\xe6\x97`,
		`already\x1b escaped`: `already\x1b escaped`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2":            "'=1+2",
		"+cmd|' /C calc'": "'+cmd|' /C calc'",
		"-2+3":            "'-2+3",
		"@SUM(A1)":        "'@SUM(A1)",
		"\t=1":            `'\t=1`,
		"\r=1":            `'\r=1`,
		"-5":              "-5",
		"+1.5e3":          "+1.5e3",
		"-0.25":           "-0.25",
		"10.0.0.1":        "10.0.0.1",
		"a=b":             "a=b",
		"":                "",
		"x\x1by":          `x\x1by`,
	} {
		if got := CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// A rune split across writes is kept whole; newlines and TABs pass.
func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	in := "日本\x1b[31m\n\tend\xe6"
	for i := range len(in) {
		if _, err := w.Write([]byte(in[i : i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "日本\\x1b[31m\n\tend\\xe6"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"a\x1b[2J", "=1", "\xe6\x97", "\u202e", "-1e5", "\t\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Escape(s), CSVCell(s)} {
			if !utf8.ValidString(out) {
				t.Fatalf("%q: invalid UTF-8 %q", s, out)
			}
			if strings.ContainsFunc(out, unsafe) {
				t.Fatalf("%q: unsafe rune left in %q", s, out)
			}
		}
		if c := CSVCell(s); c != "" && strings.ContainsRune("=+-@", rune(c[0])) && c != s {
			t.Fatalf("%q: cell %q starts a formula", s, c)
		}
		var b bytes.Buffer
		w := NewWriter(&b)
		for i := 0; i < len(s); i += 3 {
			w.Write([]byte(s[i:min(i+3, len(s))]))
		}
		w.Flush()
		if strings.ContainsFunc(b.String(), func(r rune) bool { return unsafe(r) && r != '\n' && r != '\t' }) || !utf8.ValidString(b.String()) {
			t.Fatalf("%q: writer left %q", s, b.String())
		}
	})
}

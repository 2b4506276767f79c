// Package textsafe makes captured strings safe to show: in a terminal (no
// escape sequence from a packet may drive the analyst's terminal) and in a
// CSV cell (no formula may run when a spreadsheet opens the export).
//
// Escaped characters become Go-style escapes (\x1b, \u202e), so the data
// stays readable. Backslashes are not doubled: the output is for people
// and spreadsheets, not for parsing back.
package textsafe

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode/utf8"
)

// unsafe says whether r must not reach a terminal or a cell as it is: C0
// and C1 controls, DEL, the Unicode line and paragraph separators, and the
// bidirectional overrides and isolates (which reorder what is shown).
func unsafe(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return true
	case r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
		return true
	}
	return false
}

// appendEscaped appends s to b, escaping unsafe runes and invalid UTF-8;
// keep lists runes to let through ('\n' and '\t' for a whole document).
func appendEscaped(b []byte, s string, keep ...rune) []byte {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b = fmt.Appendf(b, `\x%02x`, s[i])
		case unsafe(r) && !kept(r, keep):
			switch r {
			case '\t':
				b = append(b, `\t`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			default:
				if r < 0x100 {
					b = fmt.Appendf(b, `\x%02x`, r)
				} else {
					b = fmt.Appendf(b, `\u%04x`, r)
				}
			}
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}

func kept(r rune, keep []rune) bool {
	for _, k := range keep {
		if r == k {
			return true
		}
	}
	return false
}

// needsEscape says whether s has anything Escape would change.
func needsEscape(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unsafe(r) {
			return true
		}
	}
	return false
}

// Escape returns s with control characters, line separators, bidi
// controls and invalid UTF-8 escaped: one line, safe for a terminal or a
// table cell.
func Escape(s string) string {
	if !needsEscape(s) {
		return s
	}
	return string(appendEscaped(make([]byte, 0, len(s)+8), s))
}

// CSVCell returns s escaped (see Escape) and, when it would start a
// formula in a spreadsheet (=, +, -, @, or a TAB or CR escaped away), with
// a ' in front, as OWASP recommends. Numbers stay numbers: "-5" and
// "+1.5e3" are left as they are.
func CSVCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + Escape(s)
		}
	}
	return Escape(s)
}

// CSVCells applies CSVCell to every cell of rec, in place.
func CSVCells(rec []string) []string {
	for i, c := range rec {
		rec[i] = CSVCell(c)
	}
	return rec
}

// IsTerminal says whether w is a terminal (not merely a character device
// such as /dev/null, where the system can tell).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && isTTY(f)
}

package app

import "github.com/packetsleuth/packetsleuth/schemas"

// scratch holds the backing arrays of the slices of the event being made
// (Analyzer.ev). That event lives only until it is encoded (emit), so the
// arrays serve event after event instead of being allocated per event.
// They are the analyzer's own: a slice that came from elsewhere (a parser's
// notes, a shared category list) is never appended to in place. Whatever
// keeps a value past emit copies it (rules clone an alert's slices).
type scratch struct {
	hosts, hash, users        []string
	flags, resolved, ciphers  []string
	subjectCN, issuerCN, sans []string
	answers                   []schemas.DNSAnswer
}

// one returns the one-element list of s in *buf's backing array.
func one(buf *[]string, s string) []string {
	*buf = append((*buf)[:0], s)
	return *buf
}

// nonEmpty returns the list of those of ss that are not empty in *buf's
// backing array, nil when none is.
func nonEmpty(buf *[]string, ss ...string) []string {
	*buf = (*buf)[:0]
	for _, s := range ss {
		if s != "" {
			*buf = append(*buf, s)
		}
	}
	if len(*buf) == 0 {
		return nil
	}
	return *buf
}

// Intel file formats: plain lists, CSV and NDJSON (STIX-like), with
// per-line errors.

package enrich

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// loadIntelFile reads one intel file into b, choosing the format from the
// extension (.csv; .json, .ndjson, .jsonl) or, otherwise, from the first
// indicator line ('{' means NDJSON, anything else a plain list).
// loadPath loads a list file, or every file of a directory (in name
// order; dot files left out): a fleet set's intel directory.
func (b *intelBuilder) loadPath(path string) error {
	fi, err := os.Stat(path)
	if err != nil || !fi.IsDir() {
		return b.loadFile(path)
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return fmt.Errorf("intel: %w", err)
	}
	var errs []error
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := b.loadFile(filepath.Join(path, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (b *intelBuilder) loadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("intel: %w", err)
	}
	defer f.Close()
	b.db.counts.Files++
	feed := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	r := bufio.NewReaderSize(f, 1<<16)
	le := &lineErrs{file: path}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		b.loadCSV(r, feed, le)
	case ".json", ".ndjson", ".jsonl":
		b.loadNDJSON(r, feed, le)
	default:
		if sniffJSON(r) {
			b.loadNDJSON(r, feed, le)
		} else {
			b.loadPlain(r, feed, le)
		}
	}
	if le.ioErr != nil {
		le.errs = append(le.errs, fmt.Errorf("%s: %w", path, le.ioErr))
	}
	if le.more > 0 {
		le.errs = append(le.errs, fmt.Errorf("%s: %d more bad lines", path, le.more))
	}
	return errors.Join(le.errs...)
}

type lineErrs struct {
	file  string
	errs  []error
	more  int
	ioErr error
}

func (l *lineErrs) add(line int, format string, args ...any) {
	if len(l.errs) >= maxLineErrors {
		l.more++
		return
	}
	l.errs = append(l.errs, &LineError{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func sniffJSON(r *bufio.Reader) bool {
	for n := 1; ; n *= 2 {
		b, err := r.Peek(min(n*512, r.Size()))
		for _, line := range bytes.Split(b, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 || line[0] == '#' {
				continue
			}
			return line[0] == '{'
		}
		if err != nil || n*512 >= r.Size() {
			return false
		}
	}
}

// maxLine bounds one line of an intel file.
const maxLine = 1 << 20

func lines(r io.Reader, le *lineErrs, fn func(n int, line string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		fn(n, sc.Text())
	}
	if err := sc.Err(); err != nil {
		le.ioErr = fmt.Errorf("after line %d: %w", n, err)
	}
}

// Plain lists: one indicator a line, its type inferred (or set by a
// "# type:" directive), '#' starts a comment. Comment lines of the form
// "# feed: NAME", "# provider: NAME", "# confidence: X", "# tlp: X",
// "# description: TEXT" and "# type: T" set the metadata of the lines that
// follow. Hosts-file lines ("0.0.0.0 evil.example") give the domain.
func (b *intelBuilder) loadPlain(r io.Reader, feed string, le *lineErrs) {
	m := indicatorMeta{Provider: feed}
	k := kindInfer
	lines(r, le, func(n int, line string) {
		line = strings.TrimSpace(line)
		if line == "" {
			return
		}
		if line[0] == '#' {
			key, val, ok := strings.Cut(strings.TrimSpace(line[1:]), ":")
			if !ok {
				return
			}
			val = strings.TrimSpace(val)
			switch strings.ToLower(strings.TrimSpace(key)) {
			case "feed", "provider":
				m.Provider = val
			case "confidence":
				m.Confidence = val
			case "description":
				m.Description = val
			case "tlp":
				t, ok := normTLP(val)
				if !ok {
					le.add(n, "bad TLP %q", val)
					return
				}
				m.TLP = t
			case "type":
				kk, ok := parseKind(val)
				if !ok {
					le.add(n, "unknown indicator type %q", val)
					return
				}
				k = kk
			}
			return
		}
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			rest := strings.TrimSpace(line[i:])
			first := line[:i]
			switch {
			case rest == "" || rest[0] == '#':
				line = first
			case first == "0.0.0.0" || first == "127.0.0.1" || first == "::" || first == "::1":
				host, _, _ := strings.Cut(rest, " ")
				if err := b.add(kindDomain, host, m); err != nil {
					le.add(n, "%v", err)
				}
				return
			default:
				le.add(n, "unexpected text after the indicator: %q", rest)
				return
			}
		}
		if err := b.add(k, line, m); err != nil {
			le.add(n, "%v", err)
		}
	})
}

func normTLP(s string) (string, bool) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "TLP:")
	t = strings.TrimSpace(t)
	switch t {
	case "":
		return "", true
	case "WHITE", "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED":
		return t, true
	}
	return "", false
}

// CSV: a header row names the columns; "type" and one of "indicator",
// "value", "ioc" are required (an empty type cell means: infer it). Optional
// columns: "feed"/"provider"/"source", "confidence", "tlp"/"marking",
// "description"/"comment". Other columns are ignored. '#' lines are comments.
func (b *intelBuilder) loadCSV(r io.Reader, feed string, le *lineErrs) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		var pe *csv.ParseError
		switch {
		case err == io.EOF:
		case errors.As(err, &pe):
			le.add(pe.Line, "bad CSV header: %v", pe.Err)
		default:
			le.ioErr = err
		}
		return
	}
	head = slices.Clone(head) // ReuseRecord
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	find := func(names ...string) int {
		for _, n := range names {
			if i, ok := col[n]; ok {
				return i
			}
		}
		return -1
	}
	cType, cVal := find("type", "indicator_type", "ioc_type"), find("indicator", "value", "ioc")
	cFeed, cConf := find("feed", "provider", "source"), find("confidence")
	cTLP, cDesc := find("tlp", "marking"), find("description", "comment")
	if cType < 0 || cVal < 0 {
		line, _ := cr.FieldPos(0)
		le.add(line, `CSV header needs a "type" and an "indicator" (or "value") column, have %q`, head)
		return
	}
	cell := func(rec []string, i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				le.add(pe.Line, "bad CSV: %v", pe.Err)
				if pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote {
					continue
				}
			} else {
				le.ioErr = err
			}
			return
		}
		line, _ := cr.FieldPos(0)
		m := indicatorMeta{Provider: feed, Confidence: cell(rec, cConf), Description: cell(rec, cDesc)}
		if f := cell(rec, cFeed); f != "" {
			m.Provider = f
		}
		t, ok := normTLP(cell(rec, cTLP))
		if !ok {
			le.add(line, "bad TLP %q", cell(rec, cTLP))
			continue
		}
		m.TLP = t
		k, ok := parseKind(cell(rec, cType))
		if !ok {
			le.add(line, "unknown indicator type %q", cell(rec, cType))
			continue
		}
		if err := b.add(k, cell(rec, cVal), m); err != nil {
			le.add(line, "%v", err)
		}
	}
}

// ndIndicator is the ECS threat.indicator object (the part we use).
type ndIndicator struct {
	Type        string `json:"type"`
	IP          string `json:"ip"`
	Domain      string `json:"domain"` // ECS 1.x threat.indicator.domain
	Name        string `json:"name"`
	Provider    string `json:"provider"`
	Confidence  string `json:"confidence"`
	Description string `json:"description"`
	URL         struct {
		Full     string `json:"full"`
		Original string `json:"original"`
		Domain   string `json:"domain"`
	} `json:"url"`
	Marking struct {
		TLP string `json:"tlp"`
	} `json:"marking"`
	File struct {
		Hash struct {
			MD5    string `json:"md5"`
			SHA1   string `json:"sha1"`
			SHA256 string `json:"sha256"`
		} `json:"hash"`
	} `json:"file"`
}

type ndDoc struct {
	Threat struct {
		Indicator *ndIndicator `json:"indicator"`
		Feed      struct {
			Name string `json:"name"`
		} `json:"feed"`
	} `json:"threat"`
	Indicator *ndIndicator `json:"indicator"`
}

// addFileHashes adds each of an ECS file indicator's
// threat.indicator.file.hash.{md5,sha1,sha256}; false when it has none.
func (b *intelBuilder) addFileHashes(ind *ndIndicator, m indicatorMeta, n int, le *lineErrs) bool {
	found := false
	for _, v := range []string{ind.File.Hash.MD5, ind.File.Hash.SHA1, ind.File.Hash.SHA256} {
		if v == "" {
			continue
		}
		found = true
		if err := b.addFileHash(v, m); err != nil {
			le.add(n, "%v", err)
		}
	}
	return found
}

// NDJSON: one ECS document a line with a nested "threat.indicator" object
// (threat.feed.name names the feed), or a bare {"indicator": {...}}. The
// value is taken by type: ip; url.domain (or domain, name) for domains;
// url.full (or url.original, name) for URLs; name for fingerprints.
func (b *intelBuilder) loadNDJSON(r io.Reader, feed string, le *lineErrs) {
	lines(r, le, func(n int, line string) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			return
		}
		var d ndDoc
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			le.add(n, "bad JSON: %v", err)
			return
		}
		ind := d.Threat.Indicator
		if ind == nil {
			ind = d.Indicator
		}
		if ind == nil {
			le.add(n, `no "threat.indicator" object`)
			return
		}
		m := indicatorMeta{Provider: feed, Confidence: ind.Confidence, Description: ind.Description}
		if d.Threat.Feed.Name != "" {
			m.Provider = d.Threat.Feed.Name
		}
		if ind.Provider != "" {
			m.Provider = ind.Provider
		}
		t, ok := normTLP(ind.Marking.TLP)
		if !ok {
			le.add(n, "bad TLP %q", ind.Marking.TLP)
			return
		}
		m.TLP = t
		k, ok := parseKind(ind.Type)
		if !ok {
			le.add(n, "unknown indicator type %q", ind.Type)
			return
		}
		first := func(vs ...string) string {
			for _, v := range vs {
				if v != "" {
					return v
				}
			}
			return ""
		}
		var v string
		switch k {
		case kindIP:
			v = first(ind.IP, ind.Name)
		case kindDomain:
			v = first(ind.URL.Domain, ind.Domain, ind.Name)
		case kindURL:
			v = first(ind.URL.Full, ind.URL.Original, ind.Name)
		case kindJA3, kindJA3S, kindJA4:
			v = ind.Name
		case kindFileHash:
			if b.addFileHashes(ind, m, n, le) {
				return
			}
			v = ind.Name
		default:
			switch {
			case ind.IP != "":
				k, v = kindIP, ind.IP
			case ind.URL.Full != "" || ind.URL.Original != "":
				k, v = kindURL, first(ind.URL.Full, ind.URL.Original)
			case ind.URL.Domain != "" || ind.Domain != "":
				k, v = kindDomain, first(ind.URL.Domain, ind.Domain)
			case b.addFileHashes(ind, m, n, le):
				return
			default:
				v = ind.Name
			}
		}
		if v == "" {
			le.add(n, "indicator has no value for type %q", ind.Type)
			return
		}
		if err := b.add(k, v, m); err != nil {
			le.add(n, "%v", err)
		}
	})
}

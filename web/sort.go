package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store"
)

// maxSortScan caps the rows one sorted list request reads: the sort is
// over the whole result up to it (the answer says truncated past it).
const maxSortScan = 50_000

// sortSpec is a sort= parameter: an event field, how its values compare
// (by the field's type), and the direction.
type sortSpec struct {
	field string
	path  []string
	kind  byte // 'n' number, 'i' IP address, 's' anything else (times compare as RFC 3339 text)
	desc  bool
}

// sortSpec reads sort= (nil when absent or @timestamp, the store's own
// order). An unknown field is a 400 that says so.
func (p *params) sortSpec() *sortSpec {
	name := p.str("sort")
	if name == "" || name == "@timestamp" {
		return nil
	}
	s := &sortSpec{field: name, path: strings.Split(name, "."), desc: p.oneOf("order", "desc", "asc", "desc") == "desc"}
	for _, f := range schemas.Fields("") {
		if f.Name != name {
			continue
		}
		switch f.Type {
		case "long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long":
			s.kind = 'n'
		case "ip":
			s.kind = 'i'
		default:
			s.kind = 's'
		}
		return s
	}
	p.fail(badf("sort: %q is not a field of the events (see docs/fields.md)", name))
	return nil
}

// sortKey is one row's value of the sort field.
type sortKey struct {
	ok  bool // the row has the field
	num float64
	ip  netip.Addr
	str string
}

// key reads the field from a stored event (its first value, for arrays).
func (s *sortSpec) key(it store.Item) sortKey {
	dec := json.NewDecoder(bytes.NewReader(it.JSON))
	dec.UseNumber()
	var doc map[string]any
	if dec.Decode(&doc) != nil {
		return sortKey{}
	}
	var v any = doc
	for _, part := range s.path {
		m, ok := v.(map[string]any)
		if !ok {
			return sortKey{}
		}
		if v, ok = m[part]; !ok {
			return sortKey{}
		}
	}
	if a, ok := v.([]any); ok {
		if len(a) == 0 {
			return sortKey{}
		}
		v = a[0]
	}
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return sortKey{ok: err == nil, num: f, str: x.String()}
	case string:
		k := sortKey{ok: true, str: x}
		if s.kind == 'i' {
			k.ip, _ = netip.ParseAddr(x)
		}
		return k
	case bool:
		if x {
			return sortKey{ok: true, num: 1, str: "true"}
		}
		return sortKey{ok: true, str: "false"}
	}
	return sortKey{}
}

// compare orders two keys in the spec's direction; rows without the field
// come last either way.
func (s *sortSpec) compare(a, b sortKey) int {
	switch {
	case !a.ok || !b.ok:
		return cmpBool(!a.ok, !b.ok)
	}
	var c int
	switch {
	case s.kind == 'n':
		c = cmp.Compare(a.num, b.num)
	case s.kind == 'i' && a.ip.IsValid() && b.ip.IsValid():
		c = a.ip.Unmap().Compare(b.ip.Unmap())
	default:
		c = strings.Compare(a.str, b.str)
	}
	if s.desc {
		return -c
	}
	return c
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

type sortRow struct {
	key sortKey
	it  store.Item
}

// SortedPage is ListPage for a sorted request: paged by offset over the
// whole result, with its size.
type SortedPage struct {
	Items []store.Item `json:"items"`
	// NextOffset is the offset= of the next page (absent on the last).
	NextOffset int `json:"next_offset,omitempty"`
	// Total counts the rows that matched; Truncated says the scan stopped
	// at maxSortScan rows read, so the order is over those only.
	Total     int  `json:"total"`
	Truncated bool `json:"truncated,omitempty"`
}

// listSorted answers a list request with sort=: every matching row (up to
// maxSortScan read) is ordered by the field, ties newest first, and the
// page at offset= is returned. Only the rows that can still be on that
// page are held.
func (s *Server) listSorted(w http.ResponseWriter, r *http.Request, q store.ListQuery, spec *sortSpec, keep func(store.Item) bool) {
	off, want := q.Offset, q.Limit
	if off+want > maxSortScan {
		writeError(w, http.StatusBadRequest, "offset: a sorted list pages through its first 50000 rows")
		return
	}
	q.Offset, q.After, q.Desc, q.Limit = 0, "", true, 500
	hold := off + want
	var rows []sortRow
	trim := func() {
		slices.SortStableFunc(rows, func(a, b sortRow) int { return spec.compare(a.key, b.key) })
		rows = rows[:min(len(rows), hold)]
	}
	out := SortedPage{Items: []store.Item{}}
	scanned := 0
	for scanning := true; scanning; {
		pg, err := s.cfg.Store.List(r.Context(), q)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, it := range pg.Items {
			if scanned >= maxSortScan {
				out.Truncated = true
				scanning = false
				break
			}
			scanned++
			if keep != nil && !keep(it) {
				continue
			}
			out.Total++
			rows = append(rows, sortRow{key: spec.key(it), it: it})
			if len(rows) >= 2*hold+500 {
				trim()
			}
		}
		if pg.Next == "" {
			break
		}
		q.After = pg.Next
	}
	trim()
	for _, row := range rows[min(off, len(rows)):] {
		out.Items = append(out.Items, row.it)
	}
	if off+want < out.Total {
		out.NextOffset = off + want
	}
	writeJSON(w, http.StatusOK, out)
}

// The history endpoints: stored flows, DPI events and alerts (paged by
// cursor), the alert summary and acknowledgements.

package web

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/store"
)

// listQuery reads the filters shared by flows, events and alerts.
func (p *params) listQuery(dataset string) store.ListQuery {
	q := store.ListQuery{
		Dataset:     dataset,
		Range:       p.rng(),
		Protocol:    p.str("protocol"),
		CommunityID: p.str("community_id"),
		Port:        p.int("port", 0, 0, 65535),
		Desc:        p.oneOf("order", "desc", "asc", "desc") == "desc",
		Limit:       p.int("limit", DefaultPage, 1, MaxPage),
		Offset:      p.int("offset", 0, 0, 1<<30),
		After:       p.str("cursor"),
	}
	if v := p.str("ip"); v != "" {
		a, err := netip.ParseAddr(v)
		if err != nil {
			p.fail(badf("ip: %q is not an IP address", v))
		} else {
			q.IP = a.Unmap().String()
		}
	}
	if q.After != "" && !validCursor(q.After) {
		p.fail(badf("cursor: %q is not a cursor from a previous page", q.After))
	}
	return q
}

var cursorRE = regexp.MustCompile(`^-?[0-9]{1,19}\.[0-9]{1,19}$`)

func validCursor(c string) bool { return cursorRE.MatchString(c) }

// ListPage is the answer of the list endpoints.
type ListPage struct {
	Items []store.Item `json:"items"`
	Next  string       `json:"next,omitempty"` // pass as cursor= for the next page
}

func (s *Server) handleList(dataset string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.needStore(w) {
			return
		}
		p := s.params(r)
		ds := dataset
		if ds == "" {
			ds = p.oneOf("dataset", "", store.EventDatasets...)
			if ds == "" && p.err == nil {
				p.fail(badf("dataset: required, one of %s", strings.Join(store.EventDatasets, ", ")))
			}
		}
		q := p.listQuery(ds)
		if p.err != nil {
			s.fail(w, r, p.err)
			return
		}
		s.listFiltered(w, r, q, p, nil)
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// severityName names an event.severity number like the rules do.
func severityName(n int) string {
	switch {
	case n >= rules.SeverityCritical:
		return "critical"
	case n >= rules.SeverityHigh:
		return "high"
	case n >= rules.SeverityMedium:
		return "medium"
	case n > 0:
		return "low"
	}
	return ""
}

// maxAlertScan caps the rows one severity-filtered alerts page reads.
const maxAlertScan = 50_000

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	if !s.needStore(w) {
		return
	}
	p := s.params(r)
	q := p.listQuery("alert")
	q.RuleID = p.str("rule")
	q.Unacked = p.bool("unacked")
	minSev := 0
	if v := strings.ToLower(p.str("severity")); v != "" {
		if n := rules.SeverityNumber(v); n > 0 {
			minSev = n
		} else if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 100 {
			minSev = n
		} else {
			p.fail(badf("severity: want low, medium, high, critical or 0..100, got %q", v))
		}
	}
	if p.err != nil {
		s.fail(w, r, p.err)
		return
	}
	keep := func(it store.Item) bool {
		var doc struct {
			Event struct {
				Severity int `json:"severity"`
			} `json:"event"`
		}
		return json.Unmarshal(it.JSON, &doc) == nil && doc.Event.Severity >= minSev
	}
	if minSev == 0 {
		keep = nil
	}
	s.listFiltered(w, r, q, p, keep)
}

// listFiltered answers a list request: sorted by a field (listSorted),
// one store page, or, when the store cannot filter (alert severity, a
// where expression), pages walked with
// the keyset cursor, keeping the matching rows. The cursor handed back is
// that of the last row read, so the next page continues exactly there;
// at most maxAlertScan rows are read per request.
func (s *Server) listFiltered(w http.ResponseWriter, r *http.Request, q store.ListQuery, p *params, keep func(store.Item) bool) {
	where, err := p.where()
	if err != nil {
		writeJSON(w, http.StatusBadRequest, err)
		return
	}
	if where != nil {
		prev := keep
		keep = func(it store.Item) bool { return (prev == nil || prev(it)) && where.match(it) }
	}
	if spec := p.sortSpec(); p.err != nil {
		s.fail(w, r, p.err)
		return
	} else if spec != nil {
		s.listSorted(w, r, q, spec, keep)
		return
	}
	if keep == nil {
		pg, err := s.cfg.Store.List(r.Context(), q)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, ListPage{Items: nonNil(pg.Items), Next: pg.Next})
		return
	}
	want := q.Limit
	q.Limit = max(want, 500)
	out := ListPage{Items: []store.Item{}}
	scanned := 0
	for {
		pg, err := s.cfg.Store.List(r.Context(), q)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for i, it := range pg.Items {
			scanned++
			if keep(it) {
				out.Items = append(out.Items, it)
			}
			if len(out.Items) == want || scanned >= maxAlertScan {
				if i < len(pg.Items)-1 || pg.Next != "" {
					out.Next = cursorOf(it)
				}
				writeJSON(w, http.StatusOK, out)
				return
			}
		}
		if pg.Next == "" {
			writeJSON(w, http.StatusOK, out)
			return
		}
		q.After, q.Offset = pg.Next, 0
	}
}

// cursorOf is the keyset cursor after an item (store.Page.Next's format).
func cursorOf(it store.Item) string {
	return strconv.FormatInt(it.Time.UnixNano(), 10) + "." + strconv.FormatInt(it.ID, 10)
}

// AlertSummary is one rule's alert counts with its severity name.
type AlertSummary struct {
	store.AlertCount
	Severity string `json:"severity"`
}

func (s *Server) handleAlertSummary(w http.ResponseWriter, r *http.Request) {
	if !s.needStore(w) {
		return
	}
	p := s.params(r)
	rg := p.rng()
	if p.err != nil {
		s.fail(w, r, p.err)
		return
	}
	counts, err := s.cfg.Store.AlertCounts(r.Context(), rg)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]AlertSummary, len(counts))
	for i, c := range counts {
		out[i] = AlertSummary{AlertCount: c, Severity: severityName(c.MaxSeverity)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": out})
}

func (s *Server) handleAck(w http.ResponseWriter, r *http.Request) {
	if !s.needStore(w) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "id: want a positive alert id")
		return
	}
	body := struct {
		Acknowledged *bool `json:"acknowledged"`
	}{}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	ack := body.Acknowledged == nil || *body.Acknowledged
	if err := s.cfg.Store.Acknowledge(r.Context(), id, ack); err != nil {
		s.fail(w, r, err)
		return
	}
	action := "acknowledge"
	if !ack {
		action = "unacknowledge"
	}
	s.audit(r, action, s.who(r), "alert "+strconv.FormatInt(id, 10))
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "acknowledged": ack})
}

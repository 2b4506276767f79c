// The live connections endpoint: what the workers track now, filtered,
// sorted and paged.

package web

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

// Connection is one active flow as the API shows it.
type Connection struct {
	CommunityID      string    `json:"community_id"`
	Transport        string    `json:"transport"`
	Protocol         string    `json:"protocol,omitempty"`
	SourceIP         string    `json:"source_ip"`
	SourcePort       int       `json:"source_port"`
	DestinationIP    string    `json:"destination_ip"`
	DestinationPort  int       `json:"destination_port"`
	Interface        string    `json:"interface,omitempty"`
	First            time.Time `json:"first"`
	Last             time.Time `json:"last"`
	Duration         float64   `json:"duration"` // seconds, last - first
	Packets          int64     `json:"packets"`
	Bytes            int64     `json:"bytes"`
	SourceBytes      int64     `json:"source_bytes"`
	DestinationBytes int64     `json:"destination_bytes"`
	State            string    `json:"state,omitempty"`
}

// ConnectionsPage is the answer of GET /api/v1/connections.
type ConnectionsPage struct {
	AsOf  time.Time    `json:"as_of"`
	Total int          `json:"total"` // matching the filters, before paging
	Items []Connection `json:"items"`
}

// Sort keys of the connections endpoint.
var connSorts = []string{"bytes", "packets", "duration", "first", "last", "source", "destination", "port", "protocol"}

// ipFilter matches an address against an IP or a CIDR prefix.
type ipFilter struct {
	addr   netip.Addr
	prefix netip.Prefix
	set    bool
}

func (p *params) ipFilter(name string) ipFilter {
	v := p.str(name)
	if v == "" {
		return ipFilter{}
	}
	if strings.Contains(v, "/") {
		pr, err := netip.ParsePrefix(v)
		if err != nil {
			p.fail(badf("%s: %q is not an IP address or CIDR prefix", name, v))
			return ipFilter{}
		}
		return ipFilter{prefix: pr.Masked(), set: true}
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		p.fail(badf("%s: %q is not an IP address or CIDR prefix", name, v))
		return ipFilter{}
	}
	return ipFilter{addr: a.Unmap(), set: true}
}

func (f ipFilter) match(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	if f.prefix.IsValid() {
		return f.prefix.Contains(a)
	}
	return a == f.addr
}

func (s *Server) handleConnections(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Live == nil {
		writeError(w, http.StatusServiceUnavailable, "no live capture: this server shows history only")
		return
	}
	p := s.params(r)
	ipf := p.ipFilter("ip")
	port := p.int("port", 0, 0, 65535)
	proto := strings.ToLower(p.str("protocol"))
	iface := p.str("interface")
	sortBy := p.oneOf("sort", "bytes", connSorts...)
	order := p.oneOf("order", "", "asc", "desc")
	limit := p.int("limit", 100, 1, MaxConnections)
	offset := p.int("offset", 0, 0, 1<<30)
	if p.err != nil {
		s.fail(w, r, p.err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	flows, err := s.cfg.Live.ActiveFlows(ctx)
	if errors.Is(err, pipeline.ErrNotLive) {
		writeError(w, http.StatusServiceUnavailable, "the pipeline is not capturing live")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]Connection, 0, min(len(flows), 1024))
	for i := range flows {
		f := &flows[i]
		if ipf.set && !ipf.match(f.SourceIP) && !ipf.match(f.DestinationIP) {
			continue
		}
		if port != 0 && f.SourcePort != port && f.DestinationPort != port {
			continue
		}
		if proto != "" && !strings.EqualFold(f.Transport, proto) && !strings.EqualFold(f.Protocol, proto) {
			continue
		}
		if iface != "" && f.Interface != iface {
			continue
		}
		items = append(items, Connection{
			CommunityID: f.CommunityID, Transport: f.Transport, Protocol: f.Protocol,
			SourceIP: f.SourceIP, SourcePort: f.SourcePort, DestinationIP: f.DestinationIP, DestinationPort: f.DestinationPort,
			Interface: f.Interface, First: f.First.UTC(), Last: f.Last.UTC(), Duration: f.Last.Sub(f.First).Seconds(),
			Packets: f.Packets, Bytes: f.Bytes, SourceBytes: f.SourceBytes, DestinationBytes: f.DestinationBytes, State: f.State,
		})
	}
	SortConnections(items, sortBy, order)
	page := ConnectionsPage{AsOf: s.cfg.Now().UTC(), Total: len(items)}
	if offset < len(items) {
		page.Items = items[offset:min(len(items), offset+limit)]
	} else {
		page.Items = []Connection{}
	}
	writeJSON(w, http.StatusOK, page)
}

// SortConnections orders c by key (bytes, packets, duration, first, last,
// source, destination, port, protocol) in order "asc" or "desc"; with
// order "" numbers and times go descending, text ascending. Ties break by
// community id so pages are stable. sensor top sorts ended flows with it,
// so they read like the live ones.
func SortConnections(c []Connection, key, order string) {
	desc := order == "desc"
	if order == "" {
		desc = key == "bytes" || key == "packets" || key == "duration" || key == "first" || key == "last"
	}
	ipCmp := func(a, b string) int {
		x, ex := netip.ParseAddr(a)
		y, ey := netip.ParseAddr(b)
		if ex != nil || ey != nil {
			return strings.Compare(a, b)
		}
		return x.Compare(y)
	}
	slices.SortStableFunc(c, func(a, b Connection) int {
		var d int
		switch key {
		case "bytes":
			d = cmp.Compare(a.Bytes, b.Bytes)
		case "packets":
			d = cmp.Compare(a.Packets, b.Packets)
		case "duration":
			d = cmp.Compare(a.Duration, b.Duration)
		case "first":
			d = a.First.Compare(b.First)
		case "last":
			d = a.Last.Compare(b.Last)
		case "source":
			d = ipCmp(a.SourceIP, b.SourceIP)
			if d == 0 {
				d = cmp.Compare(a.SourcePort, b.SourcePort)
			}
		case "destination":
			d = ipCmp(a.DestinationIP, b.DestinationIP)
			if d == 0 {
				d = cmp.Compare(a.DestinationPort, b.DestinationPort)
			}
		case "port":
			d = cmp.Compare(a.DestinationPort, b.DestinationPort)
		case "protocol":
			d = cmp.Compare(cmp.Or(a.Protocol, a.Transport), cmp.Or(b.Protocol, b.Transport))
		}
		if desc {
			d = -d
		}
		if d == 0 {
			d = strings.Compare(a.CommunityID, b.CommunityID)
		}
		return d
	})
}

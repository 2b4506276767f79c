package top

import (
	ord "cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/packetsleuth/packetsleuth/internal/textsafe"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/store"
	"github.com/packetsleuth/packetsleuth/web"
)

const topHelp = `Usage: sensor top [flags]

A live terminal view of a running sensor's connections and top talkers,
read from its REST API (--url, --token or $PS_WEB_TOKEN). Against a sensor
that captures ("sensor run" with the web server on) it shows the active
connections and the talkers among them; against "sensor serve" (history
only) it shows the most recent ended flows and the stored top talkers.

Keys: s next sort column, r reverse order, / filter (e.g. "ip=10.0.0.5
port=53 proto=udp"; a bare address, number or word works too), c clear
the filter, q quit. When standard output is not a terminal it prints
--count plain-text snapshots, --interval apart, and exits.

Flags:
`

// topSorts are the sort columns, in the order s cycles through them.
var topSorts = []string{"bytes", "packets", "duration", "source", "destination", "port", "protocol"}

// topState is what the view shows and how.
type topState struct {
	sort    string
	reverse bool // against the column's natural order
	ip      string
	port    string
	proto   string
}

func (s *topState) filterText() string {
	var parts []string
	for _, kv := range [][2]string{{"ip", s.ip}, {"port", s.port}, {"proto", s.proto}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// setFilter parses "ip=A port=N proto=P" (or bare values); an error leaves
// the state unchanged.
func (s *topState) setFilter(text string) error {
	n := topState{sort: s.sort, reverse: s.reverse}
	for _, tok := range strings.Fields(text) {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			v = tok
			switch {
			case strings.ContainsAny(tok, ".:/"):
				k = "ip"
			case isDigits(tok):
				k = "port"
			default:
				k = "proto"
			}
		}
		switch strings.ToLower(k) {
		case "ip", "host", "addr":
			n.ip = v
		case "port":
			if p, err := strconv.Atoi(v); err != nil || p < 0 || p > 65535 {
				return fmt.Errorf("port %q is not 0..65535", v)
			}
			n.port = v
		case "proto", "protocol":
			n.proto = strings.ToLower(v)
		default:
			return fmt.Errorf("unknown filter %q (ip, port, proto)", k)
		}
	}
	*s = n
	return nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// topClient reads a sensor's REST API.
type topClient struct {
	base  string
	token string
	hc    *http.Client
}

// errNoLive is the API's 503 on /connections: a history-only server.
var errNoLive = errors.New("no live capture")

func (c *topClient) get(ctx context.Context, path string, q url.Values, v any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		var e struct{ Error string }
		json.Unmarshal(body, &e)
		if res.StatusCode == http.StatusServiceUnavailable && path == "/api/v1/connections" {
			return errNoLive
		}
		return fmt.Errorf("%s: %s %s", path, res.Status, e.Error)
	}
	return json.Unmarshal(body, v)
}

// topView is one snapshot to draw.
type topView struct {
	live    bool
	total   int
	conns   []web.Connection
	talkers []store.TopRow
	asOf    time.Time
}

// fetch reads one snapshot: live connections (filtered and sorted by the
// server) and the talkers among them, or on a history server the newest
// ended flows and the stored top talkers.
func (c *topClient) fetch(ctx context.Context, st *topState) (*topView, error) {
	q := url.Values{}
	q.Set("sort", st.sort)
	if st.reverse {
		q.Set("order", st.order())
	}
	for k, v := range map[string]string{"ip": st.ip, "port": st.port, "protocol": st.proto} {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("limit", strconv.Itoa(web.MaxConnections))
	var page web.ConnectionsPage
	err := c.get(ctx, "/api/v1/connections", q, &page)
	if err == nil {
		v := &topView{live: true, total: page.Total, conns: page.Items, asOf: page.AsOf}
		v.talkers = talkersOf(page.Items)
		return v, nil
	}
	if !errors.Is(err, errNoLive) {
		return nil, err
	}
	// History: the newest ended flows, sorted here.
	q.Del("sort")
	q.Del("order")
	q.Set("limit", "500")
	if st.ip != "" && strings.Contains(st.ip, "/") {
		return nil, errors.New("a history server filters by a single IP, not a prefix")
	}
	var flows web.ListPage
	if err := c.get(ctx, "/api/v1/flows", q, &flows); err != nil {
		return nil, err
	}
	v := &topView{asOf: time.Now().UTC()}
	for _, it := range flows.Items {
		var ev struct {
			Event struct {
				Start time.Time `json:"start"`
			} `json:"event"`
			Network struct {
				Transport, Protocol string
				Bytes, Packets      int64
				CommunityID         string `json:"community_id"`
			} `json:"network"`
			Source, Destination struct {
				IP   string `json:"ip"`
				Port int    `json:"port"`
			}
			PS struct {
				Flow struct{ State string } `json:"flow"`
			} `json:"packetsleuth"`
		}
		if json.Unmarshal(it.JSON, &ev) != nil {
			continue
		}
		first := ord.Or(ev.Event.Start, it.Time)
		v.conns = append(v.conns, web.Connection{
			CommunityID: ev.Network.CommunityID, Transport: ev.Network.Transport, Protocol: ev.Network.Protocol,
			SourceIP: ev.Source.IP, SourcePort: ev.Source.Port, DestinationIP: ev.Destination.IP, DestinationPort: ev.Destination.Port,
			First: first, Last: it.Time, Duration: it.Time.Sub(first).Seconds(), Bytes: ev.Network.Bytes, Packets: ev.Network.Packets,
			State: ev.PS.Flow.State,
		})
	}
	web.SortConnections(v.conns, st.sort, st.order())
	v.total = len(v.conns)
	var top web.TopAnswer
	if err := c.get(ctx, "/api/v1/top", url.Values{"group": {"source.ip"}, "limit": {"10"}}, &top); err != nil {
		return nil, err
	}
	v.talkers = top.Rows
	return v, nil
}

func naturalDesc(sort string) bool { return sort == "bytes" || sort == "packets" || sort == "duration" }

// order is the direction of the current sort: the key's natural one,
// turned round by reverse.
func (st *topState) order() string {
	if naturalDesc(st.sort) != st.reverse {
		return "desc"
	}
	return "asc"
}

// talkersOf sums connections by source IP, most bytes first.
func talkersOf(conns []web.Connection) []store.TopRow {
	m := map[string]*store.TopRow{}
	for _, c := range conns {
		r := m[c.SourceIP]
		if r == nil {
			r = &store.TopRow{Key: c.SourceIP}
			m[c.SourceIP] = r
		}
		r.Bytes += c.Bytes
		r.Packets += c.Packets
		r.Flows++
	}
	out := make([]store.TopRow, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b store.TopRow) int {
		return ord.Or(ord.Compare(b.Bytes, a.Bytes), strings.Compare(a.Key, b.Key))
	})
	return out
}

// render draws the view into at most height lines of width columns.
func render(v *topView, st *topState, base string, width, height int, msg string) []string {
	mode := "history (newest ended flows)"
	if v.live {
		mode = "live"
	}
	dir := st.order()
	lines := []string{
		fmt.Sprintf("PacketSleuth top  %s  %s  %s", base, mode, v.asOf.Local().Format("15:04:05")),
		fmt.Sprintf("connections: %d  sort: %s %s  filter: %s", v.total, st.sort, dir, st.filterText()),
		"keys: s sort  r reverse  / filter  c clear  q quit",
		"",
		fmt.Sprintf("%-39s %10s %10s %7s", "TOP TALKERS (source IP)", "BYTES", "PACKETS", "FLOWS"),
	}
	nt := min(len(v.talkers), 5)
	for _, t := range v.talkers[:nt] {
		lines = append(lines, fmt.Sprintf("%-39s %10s %10d %7d", t.Key, humanize.IBytes(uint64(t.Bytes)), t.Packets, t.Flows))
	}
	if nt == 0 {
		lines = append(lines, "(none)")
	}
	lines = append(lines, "", fmt.Sprintf("%-45s %-45s %-10s %10s %8s %9s %s", "SOURCE", "DESTINATION", "PROTO", "BYTES", "PKTS", "DURATION", "STATE"))
	room := height - len(lines) - 1
	if height <= 0 {
		room = len(v.conns)
	}
	for i, c := range v.conns {
		if i >= room {
			break
		}
		proto := c.Transport
		if c.Protocol != "" {
			proto += "/" + c.Protocol
		}
		lines = append(lines, fmt.Sprintf("%-45s %-45s %-10s %10s %8d %9s %s", hostPort(c.SourceIP, c.SourcePort),
			hostPort(c.DestinationIP, c.DestinationPort), proto, humanize.IBytes(uint64(c.Bytes)), c.Packets,
			fmtDur(c.Duration), c.State))
	}
	if len(v.conns) == 0 {
		lines = append(lines, "(no connections match)")
	}
	if msg != "" {
		lines = append(lines, msg)
	}
	for i, l := range lines {
		// Host names, states and error texts come from the sensor's
		// answers: a packet must not drive the analyst's terminal.
		l = textsafe.Escape(l)
		if width > 0 && len(l) > width {
			l = l[:width]
		}
		lines[i] = l
	}
	return lines
}

func hostPort(ip string, port int) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:" + strconv.Itoa(port)
	}
	return ip + ":" + strconv.Itoa(port)
}

func fmtDur(sec float64) string {
	switch {
	case sec < 1:
		return fmt.Sprintf("%.0fms", sec*1000)
	case sec < 120:
		return fmt.Sprintf("%.1fs", sec)
	case sec < 7200:
		return fmt.Sprintf("%.1fm", sec/60)
	}
	return fmt.Sprintf("%.1fh", sec/3600)
}

// Options are sensor top's settings.
type Options struct {
	URL      string        // base URL of the sensor's web server
	Token    string        // bearer token
	CA       string        // PEM CA file for https
	Interval time.Duration // refresh interval (at least 100ms)
	Count    int           // snapshots printed when stdout is not a terminal
	Sort     string        // one of Sorts
	Reverse  bool
	Filter   string // e.g. "ip=10.0.0.5 port=53 proto=udp"
}

// Sorts are the sort columns, in the order the s key cycles through them.
var Sorts = topSorts

// Help is the command's usage text.
const Help = topHelp

// Run shows the view until q, a signal or ctx's end (interactive on a
// terminal, else Count plain snapshots). It returns an exit status: 0, 1
// for a failure talking to the sensor, 2 for bad options.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) int {
	st := &topState{sort: o.Sort, reverse: o.Reverse}
	if !slices.Contains(topSorts, st.sort) {
		fmt.Fprintf(stderr, "sensor top: --sort: want one of %s\n", strings.Join(topSorts, ", "))
		return 2
	}
	if err := st.setFilter(o.Filter); err != nil {
		fmt.Fprintln(stderr, "sensor top: --filter:", err)
		return 2
	}
	if o.Interval < 100*time.Millisecond {
		fmt.Fprintln(stderr, "sensor top: --interval must be at least 100ms")
		return 2
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // the sensor is reached directly
	if o.CA != "" {
		tc, err := outputs.ClientTLS{CA: o.CA}.Config("--ca")
		if err != nil {
			fmt.Fprintln(stderr, "sensor top:", err)
			return 2
		}
		tr.TLSClientConfig = tc
	}
	c := &topClient{base: strings.TrimRight(o.URL, "/"), token: o.Token, hc: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
	out, isFile := stdout.(*os.File)
	if !isFile || !textsafe.IsTerminal(out) || !textsafe.IsTerminal(os.Stdin) {
		return topPlain(ctx, c, st, o.Count, o.Interval, stdout, stderr)
	}
	if err := topInteractive(ctx, c, st, o.Interval, out); err != nil {
		fmt.Fprintln(stderr, "sensor top:", textsafe.Escape(err.Error()))
		return 1
	}
	return 0
}

// topPlain prints count snapshots as plain text.
func topPlain(ctx context.Context, c *topClient, st *topState, count int, every time.Duration, stdout, stderr io.Writer) int {
	for i := range max(count, 1) {
		if i > 0 {
			select {
			case <-ctx.Done():
				return 0
			case <-time.After(every):
			}
			fmt.Fprintln(stdout)
		}
		v, err := c.fetch(ctx, st)
		if err != nil {
			fmt.Fprintln(stderr, "sensor top:", textsafe.Escape(err.Error()))
			return 1
		}
		for _, l := range render(v, st, c.base, 0, 0, "") {
			fmt.Fprintln(stdout, strings.TrimRight(l, " "))
		}
	}
	return 0
}

// topInteractive redraws in place on the terminal until q or a signal.
func topInteractive(ctx context.Context, c *topClient, st *topState, every time.Duration, out *os.File) error {
	restore, err := rawTerminal(os.Stdin)
	if err != nil {
		return err
	}
	defer restore()
	fmt.Fprint(out, "\x1b[?1049h\x1b[?25l") // alternate screen, hide cursor
	defer fmt.Fprint(out, "\x1b[?25h\x1b[?1049l")

	keys := make(chan byte, 16)
	go func() {
		b := make([]byte, 1)
		for {
			if n, err := os.Stdin.Read(b); err != nil || n == 0 {
				close(keys)
				return
			}
			keys <- b[0]
		}
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	var (
		view    *topView
		msg     string
		typing  bool
		typed   []byte
		refresh = true
	)
	for {
		if refresh {
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			v, err := c.fetch(fctx, st)
			cancel()
			if err != nil {
				msg = "error: " + err.Error()
				if view == nil {
					view = &topView{asOf: time.Now()}
				}
			} else {
				view = v
				if strings.HasPrefix(msg, "error: ") {
					msg = ""
				}
			}
			refresh = false
		}
		w, h := terminalSize(out)
		footer := msg
		if typing {
			footer = "filter (ip=, port=, proto=; Enter applies, Esc cancels): " + string(typed)
		}
		var b strings.Builder
		b.WriteString("\x1b[H")
		for _, l := range render(view, st, c.base, w, h, footer) {
			b.WriteString(l)
			b.WriteString("\x1b[K\r\n")
		}
		b.WriteString("\x1b[J")
		io.WriteString(out, b.String())

		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			refresh = true
		case k, ok := <-keys:
			if !ok {
				return nil
			}
			switch {
			case typing:
				switch k {
				case '\r', '\n':
					typing = false
					if err := st.setFilter(string(typed)); err != nil {
						msg = "error: " + err.Error()
					} else {
						msg, refresh = "", true
					}
				case 0x1b:
					typing = false
				case 0x7f, 0x08:
					if len(typed) > 0 {
						typed = typed[:len(typed)-1]
					}
				default:
					if k >= 0x20 && k < 0x7f && len(typed) < 200 {
						typed = append(typed, k)
					}
				}
			case k == 'q' || k == 'Q' || k == 3:
				return nil
			case k == 's':
				i := slices.Index(topSorts, st.sort)
				st.sort = topSorts[(i+1)%len(topSorts)]
				refresh = true
			case k == 'S':
				i := slices.Index(topSorts, st.sort)
				st.sort = topSorts[(i+len(topSorts)-1)%len(topSorts)]
				refresh = true
			case k == 'r':
				st.reverse = !st.reverse
				refresh = true
			case k == '/' || k == 'f':
				typing, typed = true, []byte(strings.TrimPrefix(st.filterText(), "none"))
			case k == 'c':
				st.ip, st.port, st.proto = "", "", ""
				msg, refresh = "", true
			}
		}
	}
}

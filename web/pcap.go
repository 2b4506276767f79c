package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/packetsleuth/packetsleuth/sensor/carve"
	"github.com/packetsleuth/packetsleuth/store"
)

// PcapSource says where the server finds a flow's packets for
// GET /api/v1/flows/{community_id}/pcap: the captures named by the packet
// indexes in IndexDirs (sensor replay --index writes them to
// STORE.pcapidx, which sensor serve adds by default), and the capture
// files under CaptureDirs (read through CAPTURE.psidx beside each, or an
// index in IndexDirs, else scanned).
type PcapSource struct {
	IndexDirs   []string `yaml:"index_dirs"`
	CaptureDirs []string `yaml:"capture_dirs"`
	// Sync, if set, is called before a carve: sensor run's packet ring
	// closes its current file with its index, so its packets are found.
	Sync func(context.Context) error `yaml:"-"`
}

func (p PcapSource) empty() bool { return len(p.IndexDirs) == 0 && len(p.CaptureDirs) == 0 }

// Carving reads captures: a few at a time per user and for the server.
const (
	pcapPerUser = 2
	pcapTotal   = 4
)

// pcapGate bounds concurrent downloads.
type pcapGate struct {
	mu     sync.Mutex
	total  int
	byUser map[string]int
}

func (g *pcapGate) enter(user string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.total >= pcapTotal || g.byUser[user] >= pcapPerUser {
		return false
	}
	if g.byUser == nil {
		g.byUser = map[string]int{}
	}
	g.total++
	g.byUser[user]++
	return true
}

func (g *pcapGate) leave(user string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.total--
	if g.byUser[user]--; g.byUser[user] <= 0 {
		delete(g.byUser, user)
	}
}

// communityIDRE is a Community ID v1: "1:" and base64 of a SHA-1.
var communityIDRE = regexp.MustCompile(`^1:[A-Za-z0-9+/]{27}=$`)

// lazyPcap sends the headers of a pcap answer with its first byte, so an
// error before any packet can still be a JSON error.
type lazyPcap struct {
	w       http.ResponseWriter
	name    string
	started bool
}

func (l *lazyPcap) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		h := l.w.Header()
		h.Set("Content-Type", "application/vnd.tcpdump.pcap")
		h.Set("Content-Disposition", `attachment; filename="`+l.name+`"`)
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(p)
}

// handleFlowPcap streams the packets of one flow as pcap (analysts only:
// packets hold payloads). from/to narrow the time range, for a 5-tuple
// reused by several flows.
func (s *Server) handleFlowPcap(w http.ResponseWriter, r *http.Request) {
	id := s.who(r)
	if id.role != RoleAnalyst {
		writeError(w, http.StatusForbidden, "role "+id.role+" may not download packets")
		return
	}
	cid := r.PathValue("community_id")
	if !communityIDRE.MatchString(cid) {
		writeError(w, http.StatusBadRequest, "community_id: want a Community ID v1 (1: and 28 base64 characters)")
		return
	}
	p := s.params(r)
	from, to := p.time("from"), p.time("to")
	if p.err != nil {
		s.fail(w, r, p.err)
		return
	}
	src := s.cfg.Pcap
	if src.empty() {
		writeError(w, http.StatusNotFound, "no packet source configured: replay with --index beside the store, or set web.pcap")
		return
	}
	if !s.pcapGate.enter(id.user) {
		tooMany(w, 5*time.Second, "too many packet downloads at once; retry shortly")
		return
	}
	defer s.pcapGate.leave(id.user)
	s.audit(r, "pcap_download", id, cid)

	var dirs []string
	for _, d := range src.IndexDirs {
		if _, err := os.Stat(d); err == nil { // the default folder exists only once a replay indexed
			dirs = append(dirs, d)
		}
	}
	out := &lazyPcap{w: w, name: "flow-" + strings.NewReplacer("/", "_", "+", "-", ":", "_", "=", "").Replace(cid) + ".pcap"}
	pw := carve.NewWriter(out, false)
	opt := carve.Options{CommunityID: cid, From: from, To: to, IndexDirs: dirs, AllIndexed: true,
		Warn: func(msg string) { s.cfg.Log.Warn("web: pcap", "community_id", cid, "msg", msg) }}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Minute)
	defer cancel()
	if src.Sync != nil {
		if err := src.Sync(ctx); err != nil {
			s.cfg.Log.Warn("web: pcap: the packet ring's current file is not indexed", "err", err)
		}
	}
	st, err := s.carve(ctx, src.CaptureDirs, opt, pw)
	if err == nil && st.Frames > 0 {
		err = pw.Close()
	}
	switch {
	case err != nil && out.started:
		// Half a file must not look whole: the client sees the stream cut.
		s.cfg.Log.Error("web: pcap download cut", "community_id", cid, "err", err)
		panic(http.ErrAbortHandler)
	case err != nil:
		s.fail(w, r, err)
	case st.Frames == 0:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no packets of flow %s in the captures (%d file(s) looked at)", cid, st.Files))
	}
}

// carve runs a carve; no capture at all is no packets, not an error.
func (s *Server) carve(ctx context.Context, paths []string, opt carve.Options, w *carve.Writer) (carve.Stats, error) {
	if len(paths) == 0 && len(opt.IndexDirs) == 0 {
		return carve.Stats{}, nil
	}
	st, err := carve.Carve(ctx, paths, opt, w)
	if err != nil && st.Files == 0 && errors.Is(err, carve.ErrNoCapture) {
		return st, nil
	}
	return st, err
}

// StoreIndexDir is where replay --index puts the indexes of the captures
// replayed into an SQLite store c ("" for PostgreSQL): STORE.pcapidx.
func StoreIndexDir(c store.Config) string {
	c = c.WithDefaults()
	if c.Driver != store.SQLite {
		return ""
	}
	return c.Path + ".pcapidx"
}

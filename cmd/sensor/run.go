package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/packetsleuth/packetsleuth/enrich"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// wiring is what replay and run share around the pipeline: enrichment,
// detection rules and outputs.
type wiring struct {
	shared *enrich.Shared // nil without enrichment
	rules  *ruleSwitch    // nil without rules
	fan    *outputs.Fanout
	log    *slog.Logger
	// history: a store output keeps the traffic time series, so the
	// pipeline makes its 1-second buckets.
	history bool
}

// openWiring opens the enrichment data, loads the rules (unless
// cfg.Rules.Disabled) and opens the outputs. Rule errors are written to
// stderr. The caller closes w.fan (with a deadline) and then calls w.close.
func openWiring(cfg *Config, sinks []outputs.SinkConfig, log *slog.Logger, stderr io.Writer) (*wiring, error) {
	w := &wiring{log: log}
	e := cfg.Enrich
	if e.GeoIPCity != "" || e.GeoIPASN != "" || len(e.Intel) > 0 || len(e.HomeNet) > 0 {
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("enrich: %w", err)
		}
		var err error
		if w.shared, err = enrich.Open(e, log); err != nil {
			return nil, fmt.Errorf("enrich: %w", err)
		}
	}
	if !cfg.Rules.Disabled {
		set, errs := rules.LoadFiles(true, cfg.Rules.Paths...)
		if len(errs) > 0 {
			rules.WriteErrors(stderr, errs)
			w.close()
			return nil, fmt.Errorf("%d rule error(s)", len(errs))
		}
		w.rules = newRuleSwitch(set, cfg.Rules.Paths, max(cfg.Workers, 1))
	}
	fan, err := outputs.Open(sinks, outputs.WithLogger(log))
	if err != nil {
		w.close()
		return nil, fmt.Errorf("outputs: %w", err)
	}
	w.fan = fan
	for _, s := range sinks {
		w.history = w.history || s.Type == "store"
	}
	return w, nil
}

// pipelineConfig is the pipeline setup cfg and the wiring describe.
func (w *wiring) pipelineConfig(cfg *Config) pipeline.Config {
	flowCfg := cfg.Flow
	flowCfg.CommunityIDSeed = cfg.CommunityIDSeed
	pc := pipeline.Config{
		Workers: cfg.Workers, Flow: flowCfg, BPF: cfg.BPF, Output: w.fan, Log: w.log, Observer: observer(),
		Timeseries: w.history,
	}
	if w.rules != nil {
		pc.NewDetector = w.rules.newDetector
	}
	if w.shared != nil {
		shared := w.shared
		pc.NewEnricher = func() pipeline.Enricher { return shared.NewWorker() }
	}
	return pc
}

func (w *wiring) close() {
	if w.shared != nil {
		w.shared.Close()
	}
}

// ruleSwitch holds the rule set in force. Reload swaps in a new one; each
// worker's detector picks it up at its next event (threshold and
// suppression state start afresh with the new set).
type ruleSwitch struct {
	cur     atomic.Pointer[ruleGen]
	paths   []string
	workers int
}

type ruleGen struct {
	set  *rules.Set
	opts rules.EvalOptions
}

func newRuleSwitch(set *rules.Set, paths []string, workers int) *ruleSwitch {
	s := &ruleSwitch{paths: paths, workers: workers}
	s.install(set)
	return s
}

func (s *ruleSwitch) install(set *rules.Set) {
	g := &ruleGen{set: set}
	if s.workers > 1 {
		// Group keys (source, destination) cross worker shards.
		g.opts.Shared = rules.NewSharedState(set, g.opts)
	}
	s.cur.Store(g)
}

// Reload loads the rule files again; on any error the rules in force stay.
func (s *ruleSwitch) Reload() (int, []error) {
	set, errs := rules.LoadFiles(true, s.paths...)
	if len(errs) > 0 {
		return 0, errs
	}
	s.install(set)
	return len(set.Rules()), nil
}

func (s *ruleSwitch) newDetector() pipeline.Detector { return &switchedDetector{sw: s} }

type switchedDetector struct {
	sw  *ruleSwitch
	gen *ruleGen
	ev  *rules.Evaluator
}

func (d *switchedDetector) Eval(ev *schemas.Event, emit func(*schemas.Event)) {
	if g := d.sw.cur.Load(); g != d.gen {
		d.gen, d.ev = g, rules.NewEvaluator(g.set, g.opts)
	}
	d.ev.Eval(ev, emit)
}

// cmdRun is `sensor run`: live capture on one or more interfaces until
// SIGINT or SIGTERM.
func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sensor run [flags]\n\nCaptures on the interfaces of -i or the config, writes ECS events, and\nreports capture health (packetsleuth.stats events, heartbeat log lines).\nSIGINT/SIGTERM stop it cleanly; SIGHUP reloads rules, intel and GeoIP.\n\nFlags:")
		fs.PrintDefaults()
	}
	var common commonFlags
	common.register(fs, "BPF filter in tcpdump syntax, applied in the kernel", "extra output, TYPE[:key=value,...] (repeatable)")
	var ifaces listFlag
	fs.Var(&ifaces, "i", "interface to capture on, repeatable (replaces the config's interfaces)")
	engine := fs.String("engine", "", "capture engine: auto, pcap or afpacket")
	snaplen := fs.Int("snaplen", 0, "bytes kept per frame (default 262144)")
	promisc := fs.Bool("promisc", true, "promiscuous mode")
	bufSize := fs.String("buffer-size", "", "kernel buffer or ring per interface, e.g. 64MiB")
	fanout := fs.Int("fanout", 0, "AF_PACKET sockets per interface, in one fanout group, each read by its own goroutine (1..64; default: config, else 1)")
	webListen := fs.String("web", "", "serve the web UI, REST API and /metrics on ADDR (auth from web: in the config or PS_WEB_TOKEN)")
	interim := fs.Duration("interim", 0, "interim flow events every this long for long-lived flows (0 = config)")
	statsInterval := fs.Duration("stats-interval", 0, "interval of packetsleuth.stats events (default 60s)")
	heartbeat := fs.Duration("heartbeat", 0, "interval of heartbeat log lines (default 60s)")
	dropUser := fs.String("drop-privileges", "", "switch to this user once the capture handles are open")
	duration := fs.Duration("duration", 0, "stop after this long (0 = until a signal)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sensor run: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, err := loadConfig(common.config)
	if err != nil {
		fmt.Fprintln(stderr, "sensor run:", err)
		return 2
	}
	set := visited(fs)
	common.apply(&cfg, set)
	if set["i"] {
		cfg.Interfaces = nil
		for _, name := range ifaces {
			cfg.Interfaces = append(cfg.Interfaces, InterfaceConfig{Name: name})
		}
	}
	if set["bpf"] { // over the interfaces' own filters too
		for i := range cfg.Interfaces {
			cfg.Interfaces[i].BPF = ""
		}
	}
	if set["engine"] {
		cfg.Capture.Engine = *engine
		for i := range cfg.Interfaces {
			cfg.Interfaces[i].Engine = ""
		}
	}
	if set["fanout"] {
		cfg.Capture.Fanout = *fanout
		for i := range cfg.Interfaces {
			cfg.Interfaces[i].Fanout = 0
		}
	}
	if set["snaplen"] {
		cfg.Capture.Snaplen = *snaplen
	}
	if set["promisc"] {
		cfg.Capture.Promisc = promisc
		for i := range cfg.Interfaces {
			cfg.Interfaces[i].Promisc = nil
		}
	}
	if set["buffer-size"] {
		var b outputs.ByteSize
		n, err := humanize.ParseBytes(*bufSize)
		if err != nil {
			fmt.Fprintln(stderr, "sensor run: --buffer-size:", err)
			return 2
		}
		b = outputs.ByteSize(n)
		cfg.Capture.BufferSize = b
	}
	if set["interim"] {
		cfg.Flow.Interim = *interim
	}
	if set["stats-interval"] {
		cfg.Stats.Interval = *statsInterval
	}
	if set["heartbeat"] {
		cfg.Stats.Heartbeat = *heartbeat
	}
	if set["drop-privileges"] {
		cfg.DropPrivileges = *dropUser
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(stderr, "sensor run:", err)
		return 2
	}
	if len(cfg.Interfaces) == 0 {
		fmt.Fprintln(stderr, "sensor run: no interface: give -i IFACE or interfaces: in the config")
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintln(stderr, "sensor run: --log-level:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// Capture handles first: they need the privileges dropped afterwards.
	srcs := make([]*source.Live, 0, len(cfg.Interfaces))
	closeSrcs := func() {
		for _, s := range srcs {
			s.Close()
		}
	}
	for i := range cfg.Interfaces {
		lc := cfg.liveConfig(i)
		s, err := source.OpenLive(lc)
		if err != nil {
			closeSrcs()
			fmt.Fprintln(stderr, "sensor run:", err)
			return 1
		}
		log.Info("capture open", "interface", s.Name(), "engine", s.Engine(), "linktype", s.LinkType().String(), "fanout", s.Fanout())
		if lc.Fanout > s.Fanout() {
			log.Warn("libpcap ignores fanout: one socket", "interface", s.Name(), "fanout", lc.Fanout)
		}
		srcs = append(srcs, s)
	}
	sinks, outPath, err := common.sinks(&cfg)
	if err != nil {
		closeSrcs()
		fmt.Fprintln(stderr, "sensor run:", err)
		return 2
	}
	w, err := openWiring(&cfg, sinks, log, stderr)
	if err != nil {
		closeSrcs()
		fmt.Fprintln(stderr, "sensor run:", err)
		return 2
	}
	defer w.close()
	if cfg.DropPrivileges != "" {
		if err := dropPrivileges(cfg.DropPrivileges); err != nil {
			closeSrcs()
			w.fan.Close(context.Background())
			fmt.Fprintln(stderr, "sensor run: --drop-privileges:", err)
			return 1
		}
		log.Info("privileges dropped", "user", cfg.DropPrivileges)
	}

	pc := w.pipelineConfig(&cfg)
	pc.Live, pc.FlowsOnly = true, common.flowsOnly
	pc.BPF = "" // in the kernel
	for _, s := range srcs {
		pc.Interfaces = append(pc.Interfaces, s.Name())
	}
	p, err := pipeline.New(pc)
	if err != nil {
		closeSrcs()
		w.fan.Close(context.Background())
		fmt.Fprintln(stderr, "sensor run:", err)
		return 2
	}
	start := time.Now()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if *duration > 0 {
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeout(ctx, *duration)
		defer c2()
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	feeders := make([]*pipeline.Feeder, len(srcs))
	var wg sync.WaitGroup
	var failed atomic.Int32
	readers := 0
	for i, s := range srcs {
		feeders[i] = p.NewFeeder(s.Name())
		for j, sock := range s.Sockets() { // one reader per fanout socket
			f := feeders[i]
			if j > 0 {
				f = f.NewSibling()
			}
			readers++
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := f.Feed(ctx, sock); err != nil {
					failed.Add(1)
					log.Error("capture stopped", "interface", s.Name(), "err", err)
				}
			}()
		}
	}
	if w.shared != nil {
		// Intel lists and GeoIP databases reload when their files change
		// (a bad new file keeps the old data), besides SIGHUP.
		go w.shared.Watch(ctx, enrichWatchInterval)
	}
	waitWeb := func() {}
	if cfg.Web.Enabled || *webListen != "" {
		if *webListen != "" {
			cfg.Web.Enabled, cfg.Web.Listen = true, *webListen
		}
		if waitWeb, err = startWeb(ctx, &cfg, w, p, srcs, log); err != nil {
			log.Error("web UI not started", "err", err)
			waitWeb = func() {}
		}
	}
	defer func() { cancel(); waitWeb() }()
	rep := &statsReporter{srcs: srcs, feeders: feeders, p: p, fan: w.fan, log: log, start: start, last: start, obs: observer()}
	statsEvery := cmp(cfg.Stats.Interval, defaultStatsInterval)
	beatEvery := cmp(cfg.Stats.Heartbeat, defaultStatsInterval)
	statsT, beatT := time.NewTicker(statsEvery), time.NewTicker(beatEvery)
	secondT := time.NewTicker(time.Second)
	defer secondT.Stop()
	var peaks *peakWatcher
	if cfg.Peaks.Enabled {
		peaks = newPeakWatcher(cfg.Peaks, w.peakEmitter())
	}
	feedersDone := make(chan struct{})
	go func() { wg.Wait(); close(feedersDone) }()
	log.Info("capture started", "interfaces", pc.Interfaces, "workers", max(cfg.Workers, 1))
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-feedersDone:
			break loop
		case <-hup:
			w.reload()
		case <-statsT.C:
			rep.emit()
		case <-beatT.C:
			rep.heartbeat()
		case now := <-secondT.C:
			if peaks != nil {
				peaks.second(now, p.Snapshot())
			}
		}
	}
	statsT.Stop()
	beatT.Stop()
	cancel()
	<-feedersDone // each feeder sees the end at its next read timeout
	closeSrcs()   // reads the kernel counters a last time
	p.Close()     // ends every flow
	rep.emit()    // the final counts
	rep.heartbeat()
	st := p.Snapshot()
	st.Wall = time.Since(start)

	timeout := cmp(cfg.ShutdownTimeout, defaultShutdownTimeout)
	closeCtx, cancelClose := context.WithTimeout(context.Background(), timeout)
	defer cancelClose()
	summaries, closeErr := w.fan.Close(closeCtx)
	if !common.quiet {
		fmt.Fprintf(stderr, "run: %d interface(s), %d frames, %s in %s\n", len(srcs), st.Frames, humanize.Bytes(st.Bytes), st.Wall.Round(time.Millisecond))
		for _, s := range srcs {
			cs, _ := s.Stats()
			fmt.Fprintf(stderr, "  %s (%s): %d frames, kernel drops %d, interface drops %d, truncated %d\n",
				s.Name(), cs.Engine, cs.Frames, cs.KernelDrops, cs.IfDrops, cs.Truncated)
		}
		printTotals(stderr, &st, summaries, outPath)
	}
	switch {
	case int(failed.Load()) == readers:
		fmt.Fprintln(stderr, "sensor run: every capture failed")
		return 1
	case closeErr != nil:
		fmt.Fprintln(stderr, "sensor run: outputs:", closeErr)
		return 1
	}
	return 0
}

// cmp is d, or def when d is zero.
func cmp(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// reload re-reads the rules and the enrichment data (SIGHUP). What fails
// to load is logged and the old data stays in force.
// peakEmitter writes a peak event, and the alerts the rules raise on it, to
// the outputs. It runs on run's own goroutine, with its own detector.
func (w *wiring) peakEmitter() func(*schemas.Event) {
	var det pipeline.Detector
	if w.rules != nil {
		det = w.rules.newDetector()
	}
	write := func(ev *schemas.Event) {
		rec, err := schemas.NewRecord(ev)
		if err == nil {
			err = w.fan.Write([]schemas.Record{rec})
		}
		if err != nil {
			w.log.Error("peak event", "err", err)
		}
	}
	return func(ev *schemas.Event) {
		ev.Observer = observer()
		write(ev)
		if det != nil {
			det.Eval(ev, write)
		}
	}
}

// enrichWatchInterval is how often run looks at the enrichment files.
const enrichWatchInterval = 5 * time.Second

func (w *wiring) reload() {
	if w.rules != nil {
		n, errs := w.rules.Reload()
		if len(errs) > 0 {
			for _, e := range errs {
				w.log.Error("rules reload failed; the rules in force stay", "err", e)
			}
		} else {
			w.log.Info("rules reloaded", "rules", n)
		}
	}
	if w.shared != nil {
		if err := w.shared.Reload(); err != nil {
			w.log.Error("enrichment reload failed", "err", err)
		}
	}
}

// dropPrivileges switches the process (every thread) to name's user and
// group, with its supplementary groups.
func dropPrivileges(name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return err
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return err
	}
	var groups []int
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.Atoi(id); err == nil {
				groups = append(groups, g)
			}
		}
	}
	if len(groups) == 0 {
		groups = []int{gid}
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("setgid: %w", err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	if os.Getuid() != uid || os.Geteuid() != uid {
		return errors.New("setuid did not take effect")
	}
	return nil
}

// statsReporter makes the periodic capture-health reports: a
// packetsleuth.stats event per interface plus one for the whole sensor, and
// a heartbeat log line. Only the run loop calls it.
type statsReporter struct {
	srcs    []*source.Live
	feeders []*pipeline.Feeder
	p       *pipeline.Pipeline
	fan     *outputs.Fanout
	log     *slog.Logger
	start   time.Time
	obs     schemas.Observer

	last          time.Time   // of the previous stats event (start at first)
	events, beats dropTracker // drops at the previous event, heartbeat
	buf           []byte
}

var (
	statsCategory = []string{"network"}
	statsType     = []string{"info"}
)

// dropTracker remembers the drop counters of the previous report, per
// interface and in total (last), for the *Delta fields.
type dropTracker struct{ kernel, sensor []int64 }

func (d *dropTracker) delta(i int, st *schemas.Stats, n int) {
	if d.kernel == nil {
		d.kernel, d.sensor = make([]int64, n), make([]int64, n)
	}
	st.KernelDropsDelta, d.kernel[i] = st.KernelDrops-d.kernel[i], st.KernelDrops
	st.SensorDropsDelta, d.sensor[i] = st.SensorDrops-d.sensor[i], st.SensorDrops
}

// sensorDrops counts frames a feeder read but could not analyse.
func sensorDrops(st *pipeline.Stats) int64 {
	var n uint64
	for _, e := range st.Decode.Errors {
		n += e
	}
	for _, u := range st.Decode.UnknownLinks {
		n += u
	}
	return int64(n)
}

func (r *statsReporter) outputDrops() int64 {
	var n uint64
	for _, s := range r.fan.Stats() {
		n += s.Dropped
	}
	return int64(n)
}

// collect returns the per-interface reports, then the whole sensor's, with
// the drops since d's previous report.
func (r *statsReporter) collect(now time.Time, d *dropTracker) []schemas.Stats {
	up := int64(now.Sub(r.start) / time.Second)
	out := make([]schemas.Stats, 0, len(r.srcs)+1)
	var total schemas.Stats
	for i, s := range r.srcs {
		cs, err := s.Stats()
		if err != nil {
			r.log.Warn("capture statistics", "interface", s.Name(), "err", err)
		}
		fs := r.feeders[i].Stats()
		st := schemas.Stats{
			Interface: s.Name(), Engine: cs.Engine, Received: int64(cs.Frames), Bytes: int64(cs.Bytes),
			KernelDrops: int64(cs.KernelDrops), IfDrops: int64(cs.IfDrops), SensorDrops: sensorDrops(&fs),
			Truncated: int64(cs.Truncated), Filtered: int64(fs.Filtered), Packets: int64(fs.Packets), UptimeSeconds: up,
		}
		d.delta(i, &st, len(r.srcs)+1)
		out = append(out, st)
		total.Received += st.Received
		total.Bytes += st.Bytes
		total.KernelDrops += st.KernelDrops
		total.IfDrops += st.IfDrops
		total.SensorDrops += st.SensorDrops
		total.Truncated += st.Truncated
		total.Filtered += st.Filtered
		total.Packets += st.Packets
	}
	d.delta(len(r.srcs), &total, len(r.srcs)+1)
	ps := r.p.Snapshot()
	total.FlowsActive, total.Flows = int64(ps.Flows.Active), int64(ps.Flows.Created)
	for _, v := range ps.Events {
		total.Events += int64(v)
	}
	total.OutputDrops = r.outputDrops()
	total.UptimeSeconds = up
	return append(out, total)
}

// emit writes the stats events to the outputs.
func (r *statsReporter) emit() {
	now := time.Now().UTC()
	reports := r.collect(now, &r.events)
	recs := make([]schemas.Record, 0, len(reports))
	defer func() { r.last = now }()
	r.buf = r.buf[:0]
	starts := make([]int, 0, len(reports))
	for i := range reports {
		ev := schemas.Event{Timestamp: now}
		ev.ECS.Version = schemas.ECSVersion
		ev.Event.Kind, ev.Event.Dataset, ev.Event.Module = "metric", schemas.DatasetStats, "packetsleuth"
		ev.Event.Category, ev.Event.Type = statsCategory, statsType
		ev.Event.Duration = now.Sub(r.last)
		ev.Observer = r.obs
		ev.Observer.Ingress.Interface.Name = reports[i].Interface
		ev.Sensor.Stats = reports[i]
		start := len(r.buf)
		var err error
		if r.buf, err = schemas.Encode(r.buf, &ev); err != nil {
			r.log.Error("stats event", "err", err)
			r.buf = r.buf[:start]
			continue
		}
		starts = append(starts, start)
		recs = append(recs, schemas.Record{Dataset: schemas.DatasetStats, Kind: "metric", Time: now})
	}
	for i := range recs {
		end := len(r.buf)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		recs[i].JSON = r.buf[starts[i]:end:end]
	}
	if err := r.fan.Write(recs); err != nil {
		r.log.Error("stats event output", "err", err)
	}
}

// heartbeat logs one line per interface and one for the whole sensor
// (a warning when frames were dropped since the previous line).
func (r *statsReporter) heartbeat() {
	reports := r.collect(time.Now(), &r.beats)
	for _, st := range reports {
		name := st.Interface
		if name == "" {
			name = "all"
		}
		args := []any{"interface", name, "received", st.Received, "bytes", st.Bytes, "kernel_drops", st.KernelDrops,
			"if_drops", st.IfDrops, "sensor_drops", st.SensorDrops, "packets", st.Packets, "uptime_s", st.UptimeSeconds}
		if st.Interface == "" {
			args = append(args, "flows_active", st.FlowsActive, "events", st.Events, "output_drops", st.OutputDrops)
		}
		level := slog.LevelInfo
		if st.KernelDropsDelta > 0 || st.SensorDropsDelta > 0 {
			level = slog.LevelWarn
		}
		r.log.Log(context.Background(), level, "heartbeat", args...)
	}
}

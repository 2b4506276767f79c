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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/sensor/pcapring"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
	"github.com/packetsleuth/packetsleuth/sensor/source"
	"github.com/packetsleuth/packetsleuth/store"
)

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
		fmt.Fprintln(stderr, "sensor run:", outputs.Redact(err.Error()))
		return 2
	}
	set := visited(fs)
	common.apply(&cfg, set)
	if *webListen != "" {
		cfg.Web.Enabled, cfg.Web.Listen = true, *webListen
	}
	if cfg.Web.Enabled {
		// The rule of sensor serve: no authentication only on loopback.
		if err := cfg.Web.WithDefaults().Validate(); err != nil {
			fmt.Fprintln(stderr, "sensor run: web:", strings.ReplaceAll(err.Error(), "\n", "; "))
			return 2
		}
	}
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
		fmt.Fprintln(stderr, "sensor run:", outputs.Redact(err.Error()))
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
	log := slog.New(outputs.RedactHandler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))

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
			fmt.Fprintln(stderr, "sensor run:", outputs.Redact(err.Error()))
			return 1
		}
		log.Info("capture open", "interface", s.Name(), "engine", s.Engine(), "linktype", s.LinkType().String(), "fanout", s.Fanout())
		if lc.Fanout > s.Fanout() {
			log.Warn("libpcap ignores fanout: one socket", "interface", s.Name(), "fanout", lc.Fanout)
		}
		srcs = append(srcs, s)
	}
	sinks, out, err := common.sinks(&cfg)
	if err != nil {
		closeSrcs()
		fmt.Fprintln(stderr, "sensor run:", outputs.Redact(err.Error()))
		return 2
	}
	w, err := openWiring(&cfg, sinks, log, stderr)
	if err != nil {
		closeSrcs()
		fmt.Fprintln(stderr, "sensor run:", outputs.Redact(err.Error()))
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
	var ring *pcapring.Ring
	if rc := cfg.Capture.PcapRing; rc != nil {
		links := make([]layers.LinkType, len(srcs))
		for i, s := range srcs {
			links[i] = s.LinkType()
		}
		if ring, err = openRing(rc, &cfg, &pc, w, links, log); err != nil {
			closeSrcs()
			w.fan.Close(context.Background())
			fmt.Fprintln(stderr, "sensor run:", err)
			return 1
		}
		pc.OpenLiveTap = func(iface int) pipeline.LiveTap { return ring.Tap(iface) }
		if rc.Keep == pcapring.KeepAlerts {
			pc.Output = alertTap{Output: pc.Output, ring: ring}
		}
		log.Info("pcap ring open", "dir", rc.Dir, "max_bytes", int64(rc.MaxBytes), "keep", cmpStr(rc.Keep, pcapring.KeepAll))
	}
	p, err := pipeline.New(pc)
	if err != nil {
		closeSrcs()
		if ring != nil {
			ring.Close()
		}
		w.fan.Close(context.Background())
		fmt.Fprintln(stderr, "sensor run:", outputs.Redact(err.Error()))
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
	if w.fleet != nil {
		go w.fleet.Run(ctx)
	}
	if w.shared != nil {
		// Intel lists and GeoIP databases reload when their files change
		// (a bad new file keeps the old data), besides SIGHUP.
		go w.shared.Watch(ctx, enrichWatchInterval)
	}
	waitWeb := func() {}
	if cfg.Web.Enabled {
		if waitWeb, err = startWeb(ctx, &cfg, w, p, srcs, ring, log); err != nil {
			log.Error("web UI not started", "err", err)
			waitWeb = func() {}
		}
	}
	defer func() { cancel(); waitWeb() }()
	rep := &statsReporter{srcs: srcs, feeders: feeders, p: p, fan: w.fan, log: log, start: start, last: start, id: w.id, fleet: w.fleet}
	statsEvery := cmp(cfg.Stats.Interval, defaultStatsInterval)
	beatEvery := cmp(cfg.Stats.Heartbeat, defaultStatsInterval)
	statsT, beatT := time.NewTicker(statsEvery), time.NewTicker(beatEvery)
	secondT := time.NewTicker(time.Second)
	defer secondT.Stop()
	var peaks *store.PeakWatcher
	if cfg.Peaks.Enabled {
		peaks = newPeakWatcher(cfg.Peaks, w.peakEmitter())
	}
	feedersDone := make(chan struct{})
	go func() { wg.Wait(); close(feedersDone) }()
	log.Info("capture started", "interfaces", pc.Interfaces, "workers", cfg.workers())
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-feedersDone:
			break loop
		case <-hup:
			w.reload()
		case <-w.fleetChanged:
			w.reload()
		case <-statsT.C:
			rep.emit()
		case <-beatT.C:
			rep.heartbeat()
		case now := <-secondT.C:
			if peaks != nil {
				st := p.Snapshot()
				peaks.Second(now, st.Packets, st.Bytes, st.Flows.Created)
			}
		}
	}
	statsT.Stop()
	beatT.Stop()
	clock := newShutdownClock(w.fan, cmp(cfg.ShutdownTimeout, defaultShutdownTimeout))
	defer clock.stop()
	closeCtx := clock.start() // a down output holds the shutdown no longer than this
	cancel()
	<-feedersDone // each feeder sees the end at its next read timeout
	closeSrcs()   // reads the kernel counters a last time
	p.Close()     // ends every flow
	rep.emit()    // the final counts
	rep.heartbeat()
	if ring != nil {
		// After the pipeline: the alerts of the flows it ended reach the ring.
		if err := ring.Close(); err != nil {
			log.Error("pcap ring", "err", err)
		}
	}
	st := p.Snapshot()
	st.Wall = time.Since(start)
	st.App = withRing(st.App, ring)

	summaries, closeErr := w.fan.Close(closeCtx)
	if err := out.ensure(); err != nil && closeErr == nil {
		closeErr = err
	}
	if !common.quiet {
		fmt.Fprintf(stderr, "run: %d interface(s), %d frames, %s in %s\n", len(srcs), st.Frames, humanize.Bytes(st.Bytes), st.Wall.Round(time.Millisecond))
		for _, s := range srcs {
			cs, _ := s.Stats()
			fmt.Fprintf(stderr, "  %s (%s): %d frames, kernel drops %d, interface drops %d, truncated %d\n",
				s.Name(), cs.Engine, cs.Frames, cs.KernelDrops, cs.IfDrops, cs.Truncated)
		}
		printTotals(stderr, &st, summaries, out)
		w.printRuleState(stderr)
		if ring != nil {
			printRing(stderr, ring)
		}
	}
	switch {
	case int(failed.Load()) == readers:
		fmt.Fprintln(stderr, "sensor run: every capture failed")
		return 1
	case closeErr != nil:
		fmt.Fprintln(stderr, "sensor run: outputs:", outputs.Redact(closeErr.Error()))
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

// enrichWatchInterval is how often run looks at the enrichment files.
const enrichWatchInterval = 5 * time.Second

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

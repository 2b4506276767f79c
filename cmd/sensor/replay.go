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
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/pcapindex"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
	"github.com/packetsleuth/packetsleuth/store"
)

func cmdReplay(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sensor replay [flags] FILE|DIR...\n\nReads pcap/pcapng captures (gzip too) as the live sensor would see them\n(event time = packet time) and writes ECS events as NDJSON.\n\nFlags:")
		fs.PrintDefaults()
	}
	var common commonFlags
	common.register(fs, "BPF filter in tcpdump syntax, applied to the capture files",
		"extra output, TYPE[:key=value,...] (repeatable), e.g. kafka:brokers=127.0.0.1:9092")
	seed := fs.Uint("community-id-seed", 0, "Community ID seed")
	var intel listFlag
	fs.Var(&intel, "intel", "threat-intel list (plain, CSV or ECS NDJSON), repeatable")
	homeNet := fs.String("home-net", "", "home networks, CIDR,... (sets network.direction)")
	geoCity := fs.String("geoip-city", "", "MaxMind/DB-IP City or Country database (.mmdb)")
	geoASN := fs.String("geoip-asn", "", "MaxMind/DB-IP ASN database (.mmdb)")
	storeTo := fs.String("store", "", "also keep the events in a history store: an SQLite file, a postgres:// DSN or mysql://user:pw@tcp(host:3306)/db")
	index := fs.Bool("index", false, "write a packet index of each capture (for sensor carve and the pcap download), into --index-dir or beside the store/output: STORE.pcapidx or OUT.pcapidx")
	indexDir := fs.String("index-dir", "", "folder for the packet indexes of --index")
	statsReport := fs.Bool("stats-report", false, "after the captures, write one packetsleuth.stats report of the whole replay to the outputs, as a live sensor does (a replaying sensor of a fleet then shows on the Sensors page)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	memProfile := fs.String("memprofile", "", "write the allocations of the run, outputs closed, to this file (go tool pprof; GODEBUG=memprofilerate=1 counts every one)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	cfg, err := loadConfig(common.config)
	if err != nil {
		fmt.Fprintln(stderr, "sensor replay:", outputs.Redact(err.Error()))
		return 2
	}
	set := visited(fs)
	common.apply(&cfg, set)
	if set["community-id-seed"] {
		if *seed > 65535 {
			fmt.Fprintln(stderr, "sensor replay: --community-id-seed must be 0..65535")
			return 2
		}
		cfg.CommunityIDSeed = uint16(*seed)
	}

	if set["geoip-city"] {
		cfg.Enrich.GeoIPCity = *geoCity
	}
	if set["geoip-asn"] {
		cfg.Enrich.GeoIPASN = *geoASN
	}
	if set["home-net"] {
		cfg.Enrich.HomeNet = []string{*homeNet}
	}
	cfg.Enrich.Intel = append(cfg.Enrich.Intel, intel...)

	log := slog.New(outputs.RedactHandler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	sinks, out, err := common.sinks(&cfg)
	if err != nil {
		fmt.Fprintln(stderr, "sensor replay:", outputs.Redact(err.Error()))
		return 2
	}
	if *storeTo != "" {
		sinks = append(sinks, storeSink(*storeTo))
	}
	w, err := openWiring(&cfg, sinks, log, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "sensor replay:", outputs.Redact(err.Error()))
		return 2
	}
	defer w.close()
	fan := w.fan
	pcfg := w.pipelineConfig(&cfg)
	pcfg.FlowsOnly = common.flowsOnly
	var idx *pcapindex.Writer
	if *index || *indexDir != "" {
		dir := indexFolder(*indexDir, *storeTo, out)
		if dir == "" {
			fmt.Fprintln(stderr, "sensor replay: --index needs --index-dir when there is neither a --store file nor an --out file")
			return 2
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			fmt.Fprintln(stderr, "sensor replay:", err)
			return 2
		}
		idx = pcapindex.NewWriter(dir, cfg.CommunityIDSeed, pcfg.Defrag, pcfg.Budget)
		idx.Filtered = cfg.BPF != ""
		pcfg.OpenTap = func(path string) pipeline.Tap { return idx.Open(path) }
	}
	if showProgress(common.quiet, stderr) {
		started := time.Now()
		pcfg.Progress = func(s pipeline.Stats) {
			fmt.Fprintf(stderr, "\r\033[K%s", progressLine(s, time.Since(started)))
		}
	}
	p, err := pipeline.New(pcfg)
	if err != nil {
		fmt.Fprintln(stderr, "sensor replay:", outputs.Redact(err.Error()))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	clock := newShutdownClock(fan, cmp(cfg.ShutdownTimeout, defaultShutdownTimeout))
	defer clock.stop()
	stopWatch := clock.startOn(ctx) // a down output must not hold a SIGTERM
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "sensor replay:", err)
			return 2
		}
		defer stopProfile()
	}
	st, runErr := p.Replay(ctx, fs.Args())
	if *statsReport {
		if err := replayStatsReport(w, fan, &st, time.Now()); err != nil {
			fmt.Fprintln(stderr, "sensor replay: stats report:", outputs.Redact(err.Error()))
		}
	}
	stopWatch()
	summaries, closeErr := fan.Close(clock.start())
	if err := out.ensure(); err != nil && closeErr == nil {
		closeErr = err
	}
	if *memProfile != "" {
		if err := writeAllocsProfile(*memProfile); err != nil {
			fmt.Fprintln(stderr, "sensor replay:", err)
			return 2
		}
	}
	if pcfg.Progress != nil {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if !common.quiet {
		printSummary(stderr, &st, summaries, out)
		w.printRuleState(stderr)
		if idx != nil {
			fmt.Fprintf(stderr, "  packet index: %d file(s) in %s\n", len(idx.Written()), idx.Dir)
		}
	}
	if idx != nil && len(idx.Errors()) > 0 {
		for _, e := range idx.Errors() {
			fmt.Fprintln(stderr, "sensor replay:", e)
		}
		if runErr == nil && closeErr == nil {
			return 1
		}
	}
	switch {
	case runErr != nil && errors.Is(runErr, pipeline.ErrNoPackets):
		fmt.Fprintln(stderr, "sensor replay:", runErr)
		return 1
	case runErr != nil:
		fmt.Fprintln(stderr, "sensor replay:", runErr)
		return 1
	case closeErr != nil:
		fmt.Fprintln(stderr, "sensor replay: outputs:", outputs.Redact(closeErr.Error()))
		return 1
	}
	return 0
}

// indexFolder is where replay --index writes: the folder given, else
// beside the SQLite store (STORE.pcapidx, where serve looks), else beside
// the --out file.
func indexFolder(dir, store string, out outFile) string {
	switch {
	case dir != "":
		return dir
	case store != "" && !strings.Contains(store, "://"):
		return store + ".pcapidx"
	case out.isFile():
		return out.path + ".pcapidx"
	}
	return ""
}

// startCPUProfile profiles the process into path until stop.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeAllocsProfile writes every allocation sampled so far to path.
func writeAllocsProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // the profile holds what was allocated up to the last GC
	err = pprof.Lookup("allocs").WriteTo(f, 0)
	return errors.Join(err, f.Close())
}

// replaySinks decides where events go: --out (or the default file) unless
// the config or --output flags name outputs.
func replaySinks(fromConfig []outputs.SinkConfig, out string, flags []string) ([]outputs.SinkConfig, outFile, error) {
	sinks := append([]outputs.SinkConfig(nil), fromConfig...)
	for _, f := range flags {
		c, err := outputs.ParseFlag(f)
		if err != nil {
			return nil, outFile{}, err
		}
		sinks = append(sinks, c)
	}
	if out == "" && len(sinks) > 0 {
		return sinks, outFile{}, nil
	}
	if out == "" {
		out = filepath.Join("out", "events-"+time.Now().UTC().Format("20060102T150405Z")+".ndjson")
	}
	if out != "-" {
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return nil, outFile{}, err
		}
	}
	c, err := outputs.ParseFlag("file:name=out,path=" + out)
	if err != nil {
		return nil, outFile{}, err
	}
	return append(sinks, c), statOut(out), nil
}

func printSummary(w io.Writer, st *pipeline.Stats, sinks []outputs.Summary, out outFile) {
	fmt.Fprintf(w, "replay: %d file(s), %d frames, %s in %s (%.0f packets/s)\n",
		st.Files, st.Frames, humanize.Bytes(st.Bytes), st.Wall.Round(time.Millisecond), st.PacketsPerSecond())
	printTotals(w, st, sinks, out)
}

// printTotals is the summary after its first line (shared with run).
func printTotals(w io.Writer, st *pipeline.Stats, sinks []outputs.Summary, out outFile) {
	if st.Filtered > 0 {
		fmt.Fprintf(w, "  filtered out by BPF: %d frames\n", st.Filtered)
	}
	ended := st.Flows.Ended
	fmt.Fprintf(w, "  flows: %d (ended by fin %d, rst %d, timeout %d, eviction %d, end of input %d)\n",
		st.Flows.Created, ended[1], ended[2], ended[0], ended[3], ended[4])
	if b, refused := st.Budget, budgetDenials(st.Budget); len(refused) > 0 {
		fmt.Fprintf(w, "  memory budget %s reached (peak %s): flows evicted %d (given back to another worker's share %d); refused: %s\n",
			humanize.IBytes(uint64(b.Limit)), humanize.IBytes(uint64(b.Peak)), st.Flows.EvictedMemory, st.Flows.EvictedForShare, countList(refused))
	}
	fmt.Fprintf(w, "  events: %s\n", countList(st.Events))
	fmt.Fprintf(w, "  decode errors: %s; not IP: %d\n", countList(st.Decode.ErrorCounts()), st.Decode.NotIP)
	if st.Decode.Fragments > 0 {
		fmt.Fprintf(w, "  fragments: %d (datagrams reassembled %d, dropped incomplete at timeout %d, at a bound %d; overlaps %d, with different bytes %d)\n",
			st.Decode.Fragments, st.Decode.Reassembled, st.Decode.FragTimeouts, st.Decode.FragLimited, st.Decode.FragOverlaps, st.Decode.FragConflict)
	}
	if len(st.App.ParserErrors) > 0 {
		fmt.Fprintf(w, "  parser errors: %s\n", countList(st.App.ParserErrors))
	}
	if h := st.Hosts; h.Learned > 0 || h.Refused > 0 || h.Limited > 0 {
		fmt.Fprintf(w, "  hosts (DHCP leases): %d held, %d learnt, %d released, %d expired, %d not kept (table full or memory budget); %d event endpoints named\n",
			h.Leases, h.Learned, h.Released, h.Expired, h.Refused, h.Enriched)
	}
	if n := st.Hosts.Limited; n > 0 {
		fmt.Fprintf(w, "  hosts: %d DHCP messages not learnt from (past hosts.max_learn_rate a second)\n", n)
	}
	if n := st.HostBarriers; n > 0 {
		fmt.Fprintf(w, "  hosts: the workers waited for each other at %d DHCP messages (the host table's packet order)\n", n)
	}
	if an := anomalyCounts(st.App.Anomalies); len(an) > 0 {
		fmt.Fprintf(w, "  anomalies: %s\n", countList(an))
	}
	for lt, n := range st.Decode.UnknownLinks {
		fmt.Fprintf(w, "  unsupported link type %d: %d frames skipped\n", lt, n)
	}
	if st.Clamped > 0 {
		fmt.Fprintf(w, "  records longer than their packet: %d (read whole, original length raised)\n", st.Clamped)
	}
	for _, e := range st.SourceErrors {
		fmt.Fprintf(w, "  input stopped early: %s\n", e)
	}
	for _, s := range sinks {
		fmt.Fprintf(w, "  output %s\n", s)
	}
	if line := out.summary(); line != "" {
		fmt.Fprintf(w, "  %s\n", line)
	}
}

// printRuleState says when the rules could not track every group.
func (w *wiring) printRuleState(out io.Writer) {
	if w.rules == nil {
		return
	}
	if st := w.rules.Stats().State; st.Refused > 0 {
		fmt.Fprintf(out, "  rule state: %d groups, suppression keys or distinct values not tracked (rules.max_state_bytes or the memory budget reached; %s held)\n",
			st.Refused, humanize.IBytes(uint64(st.Bytes)))
	}
}

// budgetDenials names the pools whose reservations were refused.
func budgetDenials(b budget.Stats) map[string]uint64 {
	m := map[string]uint64{}
	for p, ps := range b.Pools {
		if ps.Denied > 0 {
			m[budget.Pool(p).String()] = ps.Denied
		}
	}
	return m
}

// anomalyCounts names the anomaly kinds seen, with their counts.
func anomalyCounts(c anomaly.Counts) map[string]uint64 {
	m := map[string]uint64{}
	for k := range anomaly.NumKinds {
		if c.Seen[k] > 0 {
			m[k.String()] = c.Seen[k]
		}
	}
	return m
}

func countList(m map[string]uint64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// storeSink is the output of --store: an SQLite file, PostgreSQL for a
// postgres:// or postgresql:// DSN, MySQL/MariaDB for a mysql:// one. A replay produces events faster than a
// database takes them, so the queue is deep (bounded by bytes) and batches
// are large: the packets are processed at full speed while the store drains.
func storeSink(to string) outputs.SinkConfig {
	c := outputs.SinkConfig{Type: "store", QueueSize: 100_000, QueueBytes: 256 << 20, BatchSize: 5000, BatchBytes: 64 << 20}
	if strings.HasPrefix(to, "postgres://") || strings.HasPrefix(to, "postgresql://") || strings.HasPrefix(to, store.MySQLScheme) {
		sc := store.DSNConfig(to)
		c.SetOption("driver", sc.Driver)
		c.SetOption("dsn", sc.DSN.Value())
	} else {
		c.SetOption("path", to)
	}
	return c
}

package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/packetsleuth/packetsleuth/enrich"
	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/fleet"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/metrics"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/app"
	"github.com/packetsleuth/packetsleuth/sensor/identity"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

// wiring is what replay and run share around the pipeline: enrichment,
// detection rules and outputs.
type wiring struct {
	shared *enrich.Shared // nil without enrichment
	rules  *ruleSwitch    // nil without rules
	fan    *outputs.Fanout
	budget *budget.Budget // the process's memory budget (limits.memory)
	// stopPacing ends the GC target's pacing (newBudget)
	stopPacing func()
	files      *files.Store // files.store: the extraction directory (nil: none)
	log        *slog.Logger
	id         *identity.Identity // who this sensor is: every event carries it
	// history: a store output keeps the traffic time series, and so does
	// the central store behind a kafka output (sensor collect), so the
	// pipeline makes its 1-second buckets.
	history bool
	// fleet keeps the fleet's rules and intel set (nil: no fleet:);
	// fleetChanged says a new set is in force (run reloads).
	fleet        *fleet.Syncer
	fleetChanged chan struct{}
}

// openWiring opens the enrichment data, loads the rules (unless
// cfg.Rules.Disabled) and opens the outputs. Rule errors are written to
// stderr. The caller closes w.fan (with a deadline) and then calls w.close.
func openWiring(cfg *Config, sinks []outputs.SinkConfig, log *slog.Logger, stderr io.Writer) (*wiring, error) {
	id, err := identity.Load(cfg.Sensor, version)
	if err != nil {
		return nil, err
	}
	w := &wiring{log: log, id: &id}
	w.budget, w.stopPacing = newBudget(cfg.Limits)
	if cfg.Fleet.Enabled() {
		// the set in force (the last good one) loads with the local files
		w.fleetChanged = make(chan struct{}, 1)
		changed := func() {
			select {
			case w.fleetChanged <- struct{}{}:
			default:
			}
		}
		if w.fleet, err = fleet.NewSyncer(cfg.Fleet, fleetChecker(cfg), changed, log); err != nil {
			w.close()
			return nil, err
		}
		cfg.Rules.Paths = append(slices.Clone(cfg.Rules.Paths), w.fleet.Dir().RulesPath())
		cfg.Enrich.Intel = append(slices.Clone(cfg.Enrich.Intel), w.fleet.Dir().IntelPath())
	}
	// Always on: network.direction follows the home network, which has a
	// default.
	if w.shared, err = enrich.Open(cfg.Enrich, log); err != nil {
		w.close()
		return nil, fmt.Errorf("enrich: %w", err)
	}
	if err := w.shared.TrackFirstSeen(w.budget); err != nil {
		w.close()
		return nil, err
	}
	if d := cfg.Files.Store; d.Dir != "" && cfg.Files.layer() != nil {
		if w.files, err = files.OpenStore(d.store()); err != nil {
			w.close()
			return nil, fmt.Errorf("files.store: %w", err)
		}
	}
	if !cfg.Rules.Disabled {
		set, errs := rules.LoadFiles(ruleOptions(cfg), cfg.Rules.Paths...)
		if len(errs) > 0 {
			rules.WriteErrors(stderr, errs)
			w.close()
			return nil, fmt.Errorf("%d rule error(s)", len(errs))
		}
		for _, warn := range set.Warnings() {
			fmt.Fprintln(stderr, "rules: warning:", warn)
		}
		w.rules = newRuleSwitch(set, cfg, cfg.workers())
	}
	fan, err := outputs.Open(sinks, outputs.WithLogger(log), outputs.WithBudget(w.budget))
	if err != nil {
		w.close()
		return nil, fmt.Errorf("outputs: %w", err)
	}
	w.fan = fan
	for _, s := range sinks {
		w.history = w.history || s.Type == "store" || s.Type == "kafka"
	}
	return w, nil
}

// fleetChecker loads a staged fleet set as the sensor will: the rules over
// the local ones, the intel lists.
func fleetChecker(cfg *Config) fleet.Checker {
	paths, opts, disabled, home := slices.Clone(cfg.Rules.Paths), ruleOptions(cfg), cfg.Rules.Disabled, cfg.Enrich.HomeNet
	return func(rulesDir, intelDir string) error {
		if !disabled {
			if _, errs := rules.LoadFiles(opts, append(slices.Clone(paths), rulesDir)...); len(errs) > 0 {
				msg := strings.ReplaceAll(errs[0].Error(), rulesDir+string(filepath.Separator), "rules/")
				return fmt.Errorf("%d rule error(s), the first: %s", len(errs), msg)
			}
		}
		sh, err := enrich.Open(enrich.Config{Intel: []string{intelDir}, HomeNet: home}, nil)
		if err != nil {
			return errors.New(strings.ReplaceAll(err.Error(), intelDir+string(filepath.Separator), "intel/"))
		}
		sh.Close()
		return nil
	}
}

// pipelineConfig is the pipeline setup cfg and the wiring describe.
func (w *wiring) pipelineConfig(cfg *Config) pipeline.Config {
	flowCfg := cfg.Flow
	flowCfg.CommunityIDSeed = cfg.CommunityIDSeed
	pc := pipeline.Config{
		Workers: cfg.workers(), Flow: flowCfg, Defrag: cfg.Defrag.decode(), BPF: cfg.BPF, Output: w.fan, Log: w.log, Identity: w.id,
		Timeseries: w.history, Budget: w.budget,
	}
	pc.Hosts = cfg.Hosts.table(w.budget)
	if w.id != nil {
		pc.Observer = w.id.Observer
	}
	pc.App.HTTP = cfg.HTTP.parser()
	if pc.App.Files = cfg.Files.layer(); pc.App.Files != nil {
		pc.App.Files.Store = w.files
	}
	pc.App.HTTPHeaders = app.NewHeaderSelection(cfg.HTTP.Headers)
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
	w.stopPacing()
	if w.shared != nil {
		w.shared.Close()
	}
}

// ruleSwitch holds the rule set in force. Reload swaps in a new one; each
// worker's detector picks it up at its next event (threshold and
// suppression state start afresh with the new set).
type ruleSwitch struct {
	cur     atomic.Pointer[ruleGen]
	load    rules.Options
	paths   []string
	workers int
	opts    rules.EvalOptions // bounds of each set's state

	mu        sync.Mutex // guards detectors
	detectors []*switchedDetector
}

type ruleGen struct {
	set  *rules.Set
	opts rules.EvalOptions
}

// ruleOptions loads the rules over the shipped set with the sensor's home
// network. A sensor runs no rule tests (install drops them): the shipped
// ones are left out of the load, the local ones are still checked.
func ruleOptions(cfg *Config) rules.Options {
	return rules.Options{Defaults: true, HomeNet: cfg.Enrich.HomeNet, SkipShippedTests: true}
}

func newRuleSwitch(set *rules.Set, cfg *Config, workers int) *ruleSwitch {
	rc := cfg.Rules
	s := &ruleSwitch{load: ruleOptions(cfg), paths: rc.Paths, workers: workers, opts: rules.EvalOptions{MaxStateBytes: int64(rc.MaxStateBytes)}}
	s.install(set)
	return s
}

func (s *ruleSwitch) install(set *rules.Set) {
	// The rules' test cases (their events, expanded from _repeat: tens of
	// MB for the shipped set) were checked by the load; only `sensor rules
	// test` runs them, so a running sensor does not keep them.
	for _, r := range set.Rules() {
		r.Tests = nil
	}
	g := &ruleGen{set: set, opts: s.opts}
	if s.workers > 1 {
		// Group keys (source, destination) cross worker shards.
		g.opts.Shared = rules.NewSharedState(set, g.opts)
	}
	s.cur.Store(g)
}

// Reload loads the rule files again; on any error the rules in force stay.
// It returns the new set (nil on error) for its count and warnings.
func (s *ruleSwitch) Reload() (*rules.Set, []error) {
	set, errs := rules.LoadFiles(s.load, s.paths...)
	if len(errs) > 0 {
		return nil, errs
	}
	s.install(set)
	return set, nil
}

func (s *ruleSwitch) newDetector() pipeline.Detector {
	d := &switchedDetector{sw: s}
	s.mu.Lock()
	s.detectors = append(s.detectors, d)
	s.mu.Unlock()
	return d
}

// Stats sums the counters the workers' evaluators last published, and
// takes the shared state's (several workers) from the rule set in force.
func (s *ruleSwitch) Stats() rules.Stats {
	s.mu.Lock()
	all := make([]rules.Stats, 0, len(s.detectors))
	for _, d := range s.detectors {
		d.mu.Lock()
		all = append(all, d.published)
		d.mu.Unlock()
	}
	s.mu.Unlock()
	st := metrics.MergeRuleStats(all...)
	if shared := s.cur.Load().opts.Shared; shared != nil {
		st.State = shared.Stats()
	}
	return st
}

type switchedDetector struct {
	sw    *ruleSwitch
	gen   *ruleGen
	ev    *rules.Evaluator
	acct  *budget.Account // the worker's share of the memory budget
	later func(use any)   // pipeline.Deferrer: set on every evaluator

	mu        sync.Mutex // guards published
	published rules.Stats
}

// Publish copies the evaluator's counters (pipeline.StatsPublisher); the
// worker calls it on its own goroutine.
func (d *switchedDetector) Publish() {
	if d.ev == nil {
		return
	}
	st := d.ev.Stats()
	d.mu.Lock()
	d.published = st
	d.mu.Unlock()
}

// UseBudget makes the rule state draw on the worker's account
// (pipeline.BudgetUser).
func (d *switchedDetector) UseBudget(acct *budget.Account) { d.acct = acct }

func (d *switchedDetector) Eval(ev *schemas.Event, emit func(*schemas.Event)) {
	d.current().Eval(ev, emit)
}

// current returns the evaluator of the rule set in force, made anew when
// the set was replaced.
func (d *switchedDetector) current() *rules.Evaluator {
	if g := d.sw.cur.Load(); g != d.gen {
		if d.ev != nil {
			d.ev.Close() // the replaced set's state gives its memory back
		}
		d.gen, d.ev = g, rules.NewEvaluator(g.set, g.opts)
		d.ev.UseBudget(d.acct)
		if d.later != nil {
			d.ev.Defer(d.later)
		}
	}
	return d.ev
}

// AddrsPrinted tells the evaluator in force the addresses of the next
// event (pipeline.AddrReader).
func (d *switchedDetector) AddrsPrinted(src, dst netip.Addr, srcText, dstText string) {
	d.current().AddrsPrinted(src, dst, srcText, dstText)
}

// Defer hands the uses of the shared rule state to later
// (pipeline.Deferrer).
func (d *switchedDetector) Defer(later func(use any)) { d.later = later }

// Apply makes a use another worker's detector deferred: with the rule set
// in force, which a use of a replaced one does not touch.
func (d *switchedDetector) Apply(use any, emit func(*schemas.Event)) {
	d.current().Apply(use, emit)
}

// peakEmitter writes a peak event, and the alerts the rules raise on it, to
// the outputs. It runs on run's own goroutine, with its own detector.
func (w *wiring) peakEmitter() func(*schemas.Event) {
	var det pipeline.Detector
	if w.rules != nil {
		d := w.rules.newDetector().(*switchedDetector)
		d.UseBudget(w.budget.NewAccount()) // its rule state is counted like the workers'
		det = d
	}
	write := func(ev *schemas.Event) {
		rec, err := schemas.NewRecord(ev)
		if err == nil {
			err = w.fan.TryWrite([]schemas.Record{rec}) // on run's goroutine: never wait
		}
		if err != nil {
			w.log.Error("peak event", "err", err)
		}
	}
	return func(ev *schemas.Event) {
		ev.Observer = w.id.Observer
		w.id.Stamp(ev)
		write(ev)
		if det != nil {
			det.Eval(ev, write)
		}
	}
}

// reload re-reads the rules and the enrichment data (SIGHUP). What fails
// to load is logged and the old data stays in force.
func (w *wiring) reload() {
	if w.rules != nil {
		set, errs := w.rules.Reload()
		if len(errs) > 0 {
			for _, e := range errs {
				w.log.Error("rules reload failed; the rules in force stay", "err", e)
			}
		} else {
			for _, warn := range set.Warnings() {
				w.log.Warn("rules: warning", "warning", warn.Error())
			}
			w.log.Info("rules reloaded", "rules", len(set.Rules()), "warnings", len(set.Warnings()))
		}
	}
	if w.shared != nil {
		if err := w.shared.Reload(); err != nil {
			w.log.Error("enrichment reload failed", "err", err)
		}
	}
}

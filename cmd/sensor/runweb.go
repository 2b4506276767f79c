package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/packetsleuth/packetsleuth/metrics"
	"github.com/packetsleuth/packetsleuth/rules"
	"github.com/packetsleuth/packetsleuth/sensor/app"
	"github.com/packetsleuth/packetsleuth/sensor/pcapring"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
	"github.com/packetsleuth/packetsleuth/sensor/source"
	"github.com/packetsleuth/packetsleuth/store"
	"github.com/packetsleuth/packetsleuth/web"
	"github.com/prometheus/client_golang/prometheus"
)

// startWeb serves the UI, the REST API and /metrics of a capturing sensor
// (config web: or --web). It returns a function that waits for the server
// to stop after ctx ends, and closes the history store it opened.
func startWeb(ctx context.Context, cfg *Config, w *wiring, p *pipeline.Pipeline, srcs []*source.Live, ring *pcapring.Ring, log *slog.Logger) (wait func(), err error) {
	ws := cfg.Web.WithDefaults()
	interfaces := func() []metrics.InterfaceStats {
		out := make([]metrics.InterfaceStats, 0, len(srcs))
		for _, s := range srcs {
			if c, err := s.Stats(); err == nil {
				out = append(out, metrics.InterfaceStats{Name: s.Name(), Packets: c.Frames, Bytes: c.Bytes, KernelDrops: c.KernelDrops, InterfaceDrops: c.IfDrops})
			}
		}
		return out
	}
	src := metrics.Sources{
		Pipeline: p.Snapshot, Outputs: w.fan.Stats, Interfaces: interfaces, Version: version,
		App: func() app.Stats { return withRing(p.Snapshot().App, ring) }, // default page size
	}
	if w.shared != nil {
		src.Enrich = w.shared.Stats
	}
	if w.rules != nil {
		src.Rules = w.rules.Stats
		src.RuleSeverity = metrics.SeverityOf(w.rules.cur.Load().set)
	}
	reg := prometheus.NewRegistry()
	var hist *store.Store
	if sc, ok, err := web.StoreConfig(cfg.Outputs); err != nil {
		return nil, fmt.Errorf("web: store output: %w", err)
	} else if ok {
		if hist, err = store.Open(ctx, sc); err != nil {
			return nil, fmt.Errorf("web: store: %w", err)
		}
	}
	wc := web.Config{Store: hist, Live: p, Metrics: metrics.Handler(reg), Outputs: w.fan.Stats, Interfaces: interfaces, Version: version, Log: log, Files: w.files}
	if sc, ok, _ := web.StoreConfig(cfg.Outputs); ok {
		if dir := web.StoreIndexDir(sc); dir != "" {
			wc.Pcap.IndexDirs = append(wc.Pcap.IndexDirs, dir)
		}
	}
	if ring != nil {
		wc.Pcap.IndexDirs = append(wc.Pcap.IndexDirs, ring.Dir())
		wc.Pcap.Sync = ring.Sync
		src.PcapRing = ring.Stats
	}
	if w.rules != nil {
		wc.RulesFunc = func() *rules.Set { return w.rules.cur.Load().set }
	}
	srv, err := web.New(ws.Apply(wc))
	if err == nil {
		src.WebAuth = srv.AuthStats
		if _, err = metrics.New(reg, src); err != nil {
			err = fmt.Errorf("metrics: %w", err)
		}
	}
	if err != nil {
		if hist != nil {
			hist.Close()
		}
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx, ws.Listen); err != nil {
			log.Error("web", "err", err)
		}
	}()
	log.Info("web UI and API", "listen", ws.Listen)
	return func() {
		<-done
		if hist != nil {
			hist.Close()
		}
	}, nil
}

package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/app"
	"github.com/packetsleuth/packetsleuth/sensor/pcapring"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

// PcapRingConfig is capture.pcap_ring: live packet retention.
type PcapRingConfig struct {
	Dir             string           `yaml:"dir"`
	MaxBytes        outputs.ByteSize `yaml:"max_bytes"`
	MaxAge          time.Duration    `yaml:"max_age"`
	MaxBytesPerFlow outputs.ByteSize `yaml:"max_bytes_per_flow"`
	Keep            string           `yaml:"keep"`     // all (default) or alerts
	Lookback        time.Duration    `yaml:"lookback"` // keep: alerts (default 10s)
}

func (p *PcapRingConfig) validate(c *Config) error {
	if p == nil {
		return nil
	}
	var errs []error
	at := func(msg, key string) { errs = append(errs, c.errAt(msg, "capture", "pcap_ring", key)) }
	if p.Dir == "" {
		at("is required", "dir")
	}
	if p.MaxBytes < 2<<20 {
		at("is required, at least 2MiB", "max_bytes")
	}
	if p.MaxAge < 0 {
		at("must not be negative", "max_age")
	}
	if p.MaxBytesPerFlow < 0 {
		at("must not be negative", "max_bytes_per_flow")
	}
	if p.Keep != "" && p.Keep != pcapring.KeepAll && p.Keep != pcapring.KeepAlerts {
		at("must be all or alerts", "keep")
	}
	if p.Lookback < 0 {
		at("must not be negative", "lookback")
	}
	return errors.Join(errs...)
}

// openRing starts the packet ring of sensor run, for captures of link types
// links (by interface index).
func openRing(p *PcapRingConfig, cfg *Config, pc *pipeline.Config, w *wiring, links []layers.LinkType, log *slog.Logger) (*pcapring.Ring, error) {
	return pcapring.New(pcapring.Config{
		Dir: p.Dir, MaxBytes: int64(p.MaxBytes), MaxAge: p.MaxAge, MaxBytesPerFlow: int64(p.MaxBytesPerFlow),
		Keep: p.Keep, Lookback: p.Lookback, Links: links, Snaplen: cfg.Capture.Snaplen,
		Seed: cfg.CommunityIDSeed, Defrag: pc.Defrag, Budget: pc.Budget, Log: log,
		Anomaly: func(ev *schemas.Event) { // on the ring's writer: never wait
			ev.Observer = w.id.Observer
			w.id.Stamp(ev)
			rec, err := schemas.NewRecord(ev)
			if err == nil {
				err = w.fan.TryWrite([]schemas.Record{rec})
			}
			if err != nil {
				log.Error("pcap ring anomaly event", "err", err)
			}
		},
	})
}

// withRing adds the ring's anomalies to the workers' (the run summary and
// /metrics count them together).
func withRing(s app.Stats, ring *pcapring.Ring) app.Stats {
	if ring != nil {
		s.Anomalies.Add(ring.Stats().Anomalies)
	}
	return s
}

// alertTap tells the ring which flows raised alerts (keep: alerts).
type alertTap struct {
	pipeline.Output
	ring *pcapring.Ring
}

// BudgetRefused passes on the outputs' count (pipeline.BudgetRefusals).
func (a alertTap) BudgetRefused() uint64 {
	if br, ok := a.Output.(pipeline.BudgetRefusals); ok {
		return br.BudgetRefused()
	}
	return 0
}

func (a alertTap) Write(recs []schemas.Record) error {
	for i := range recs {
		if recs[i].Kind == "alert" {
			a.ring.Alert(recs[i].Key)
		}
	}
	return a.Output.Write(recs)
}

// printRing is the ring's line of the run summary.
func printRing(w io.Writer, r *pcapring.Ring) {
	s := r.Stats()
	fmt.Fprintf(w, "  pcap ring: %d frames (%s) in %s, %d file(s) closed, %d removed (%s), %s on disk; not written: queue full %d, depth %d, not alerted %d, look-back full %d, write errors %d\n",
		s.Frames, humanize.IBytes(s.Bytes), r.Dir(), s.Files, s.FilesRemoved, humanize.IBytes(s.BytesRemoved), humanize.IBytes(uint64(max(s.DiskBytes, 0))),
		s.QueueDrops, s.DepthSkipped, s.NotKept, s.LookbackEvicted, s.WriteErrors)
}

func cmpStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

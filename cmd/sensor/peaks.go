package main

import (
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store"
)

// PeaksConfig turns on live traffic-peak events (config peaks:).
type PeaksConfig struct {
	Enabled  bool    `yaml:"enabled"`
	Metric   string  `yaml:"metric"`   // bytes (default), packets or flows
	Window   int     `yaml:"window"`   // seconds of baseline (default 60)
	K        float64 `yaml:"k"`        // standard deviations above the baseline (default 3)
	Absolute float64 `yaml:"absolute"` // or above this per-second value (0: off)
}

// newPeakWatcher makes the live peak detector of config peaks:.
func newPeakWatcher(c PeaksConfig, emit func(*schemas.Event)) *store.PeakWatcher {
	return store.NewPeakWatcher(store.PeakOptions{Metric: store.Metric(c.Metric), Window: c.Window, K: c.K, Absolute: c.Absolute}, emit)
}

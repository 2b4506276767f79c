package web

import (
	"net/http"
	"time"

	"github.com/packetsleuth/packetsleuth/store"
)

// SensorStaleAfter is how old a sensor's newest report may be before the
// sensor is marked stale: three stats intervals of the default 60 s. A
// sensor that reports less often (its reports say how often) gets three of
// its own intervals, up to sensorStaleMax.
const SensorStaleAfter = 3 * time.Minute

// sensorStaleMax bounds the wait of a sensor whose reports claim a long
// interval (a wrong or hostile one must not keep it "reporting" for days).
const sensorStaleMax = 3 * time.Hour

// staleAfter is how long x may stay silent before it is stale.
func staleAfter(x *store.Sensor) time.Duration {
	return min(max(3*x.ReportInterval, SensorStaleAfter), sensorStaleMax)
}

// SensorInfo is a sensor as GET /api/v1/sensors lists it.
type SensorInfo struct {
	store.Sensor
	Stale bool `json:"stale"` // no report for StaleAfterSeconds
	// StaleAfterSeconds is three of the sensor's report intervals, at
	// least SensorStaleAfter.
	StaleAfterSeconds int `json:"stale_after_seconds"`
	// LagSeconds is how long the newest report took from the sensor to the
	// store (StoredAt − LastSeen): the lag of Kafka and the collector.
	// Negative when the sensor's clock is ahead of the store's.
	LagSeconds float64 `json:"lag_seconds"`
}

// handleSensors lists the sensors that reported to the store (their
// packetsleuth.stats events), stale ones marked.
func (s *Server) handleSensors(w http.ResponseWriter, r *http.Request) {
	if !s.needStore(w) {
		return
	}
	list, err := s.cfg.Store.Sensors(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.cfg.Now()
	out := make([]SensorInfo, 0, len(list))
	for _, x := range list {
		after := staleAfter(&x)
		out = append(out, SensorInfo{Sensor: x, Stale: now.Sub(x.LastSeen) > after, StaleAfterSeconds: int(after / time.Second),
			LagSeconds: x.StoredAt.Sub(x.LastSeen).Seconds()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sensors": out, "stale_after_seconds": int(SensorStaleAfter / time.Second)})
}

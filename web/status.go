package web

import (
	"context"
	"net/http"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
)

// Status is the answer of GET /api/v1/status. It holds counters and
// health, never configuration secrets.
type Status struct {
	Version    string            `json:"version"`
	Mode       string            `json:"mode"` // live or history
	Started    time.Time         `json:"started"`
	Now        time.Time         `json:"now"`
	Uptime     float64           `json:"uptime"` // seconds
	Store      *StoreStatus      `json:"store"`
	Pipeline   *PipelineStatus   `json:"pipeline"`
	Interfaces []InterfaceStatus `json:"interfaces"`
	Outputs    []OutputStatus    `json:"outputs"`
	Rules      int               `json:"rules"`
}

// StoreStatus describes the history store.
type StoreStatus struct {
	Driver        string     `json:"driver"`
	SchemaVersion int        `json:"schema_version"`
	Oldest        *time.Time `json:"oldest"` // null when empty
	Newest        *time.Time `json:"newest"`
	Error         string     `json:"error,omitempty"`
}

// PipelineStatus are the live pipeline's running totals.
type PipelineStatus struct {
	Frames       uint64            `json:"frames"`
	Bytes        uint64            `json:"bytes"`
	Packets      uint64            `json:"packets"`
	Filtered     uint64            `json:"filtered"`
	FlowsCreated uint64            `json:"flows_created"`
	FlowsActive  int               `json:"flows_active"`
	Events       map[string]uint64 `json:"events"`
	DecodeErrors map[string]uint64 `json:"decode_errors"`
	EncodeErrors uint64            `json:"encode_errors"`
	OutputErrors uint64            `json:"output_errors"`
	SourceErrors []string          `json:"source_errors,omitempty"`
}

// InterfaceStatus is one capture interface's counters and drops.
type InterfaceStatus struct {
	Name           string `json:"name"`
	Packets        uint64 `json:"packets"`
	Bytes          uint64 `json:"bytes"`
	KernelDrops    uint64 `json:"kernel_drops"`
	InterfaceDrops uint64 `json:"interface_drops"`
	SensorDrops    uint64 `json:"sensor_drops"`
}

// OutputStatus is one output's health: healthy unless it failed within
// the last minute or holds a spool it cannot deliver.
type OutputStatus struct {
	Name          string     `json:"name"`
	Type          string     `json:"type"`
	Healthy       bool       `json:"healthy"`
	Enqueued      uint64     `json:"enqueued"`
	Sent          uint64     `json:"sent"`
	Retried       uint64     `json:"retried"`
	Spooled       uint64     `json:"spooled"`
	Dropped       uint64     `json:"dropped"`
	Lost          uint64     `json:"lost"`
	DeadLettered  uint64     `json:"dead_lettered"`
	Errors        uint64     `json:"errors"`
	QueueLen      int        `json:"queue_len"`
	SpoolRecords  int64      `json:"spool_records"`
	LastError     string     `json:"last_error,omitempty"`
	LastErrorTime *time.Time `json:"last_error_time,omitempty"`
}

// unhealthyFor is how long an output error marks an output unhealthy.
const unhealthyFor = time.Minute

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.Now()
	st := Status{
		Version: s.cfg.Version, Mode: "history", Started: s.started.UTC(), Now: now.UTC(),
		Uptime: now.Sub(s.started).Seconds(), Interfaces: []InterfaceStatus{}, Outputs: []OutputStatus{},
	}
	if set := s.rules(); set != nil {
		st.Rules = len(set.Rules())
	}
	if s.cfg.Store != nil {
		st.Store = s.storeStatus(r.Context())
	}
	if s.cfg.Live != nil {
		st.Mode = "live"
		ps := s.cfg.Live.Snapshot()
		st.Pipeline = &PipelineStatus{
			Frames: ps.Frames, Bytes: ps.Bytes, Packets: ps.Packets, Filtered: ps.Filtered,
			FlowsCreated: ps.Flows.Created, FlowsActive: ps.Flows.Active,
			Events: ps.Events, DecodeErrors: ps.Decode.ErrorCounts(),
			EncodeErrors: ps.EncodeErrors, OutputErrors: ps.OutputErrors,
		}
		for _, e := range ps.SourceErrors {
			st.Pipeline.SourceErrors = append(st.Pipeline.SourceErrors, outputs.Redact(e))
		}
		if st.Pipeline.Events == nil {
			st.Pipeline.Events = map[string]uint64{}
		}
	}
	if s.cfg.Interfaces != nil {
		for _, i := range s.cfg.Interfaces() {
			st.Interfaces = append(st.Interfaces, InterfaceStatus{Name: i.Name, Packets: i.Packets, Bytes: i.Bytes,
				KernelDrops: i.KernelDrops, InterfaceDrops: i.InterfaceDrops, SensorDrops: i.SensorDrops})
		}
	}
	if s.cfg.Outputs != nil {
		for _, o := range s.cfg.Outputs() {
			st.Outputs = append(st.Outputs, outputStatus(o, now))
		}
	}
	writeJSON(w, http.StatusOK, st)
}

func outputStatus(o outputs.Stats, now time.Time) OutputStatus {
	os := OutputStatus{
		Name: o.Name, Type: o.Type, Enqueued: o.Enqueued, Sent: o.Sent, Retried: o.Retried, Spooled: o.Spooled,
		Dropped: o.Dropped, Lost: o.Lost, DeadLettered: o.DeadLettered, Errors: o.Errors, QueueLen: o.QueueLen,
		SpoolRecords: o.SpoolRecords, LastError: outputs.Redact(o.LastError),
	}
	recent := !o.LastErrorTime.IsZero() && now.Sub(o.LastErrorTime) < unhealthyFor
	os.Healthy = !recent && !(o.SpoolRecords > 0 && o.LastError != "")
	if !o.LastErrorTime.IsZero() {
		t := o.LastErrorTime.UTC()
		os.LastErrorTime = &t
	}
	return os
}

func (s *Server) storeStatus(ctx context.Context) *StoreStatus {
	ss := &StoreStatus{Driver: s.cfg.Store.Driver()}
	v, err := s.cfg.Store.SchemaVersion(ctx)
	if err == nil {
		ss.SchemaVersion = v
		var lo, hi time.Time
		lo, hi, err = s.cfg.Store.Bounds(ctx)
		if err == nil && !lo.IsZero() {
			ss.Oldest, ss.Newest = &lo, &hi
		}
	}
	if err != nil {
		s.cfg.Log.Warn("web: status: store", "err", err)
		ss.Error = "store unavailable"
	}
	return ss
}

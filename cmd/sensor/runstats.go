package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/packetsleuth/packetsleuth/fleet"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/identity"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

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
	id      *identity.Identity
	fleet   *fleet.Syncer // nil without fleet:

	last          time.Time   // of the previous stats event (start at first)
	events, beats dropTracker // drops at the previous event, heartbeat
	beatOutDrops  int64       // output drops at the previous heartbeat
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

// outputDrops counts the records outputs discarded, by policy or by a
// failure (Dropped + Lost).
func (r *statsReporter) outputDrops() int64 {
	var n uint64
	for _, s := range r.fan.Stats() {
		n += s.Dropped + s.Lost
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
	if r.fleet != nil {
		st := r.fleet.Status()
		total.ConfigVersion, total.ConfigError = st.Version, st.Error
	}
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
		ev.Observer = r.id.Observer
		r.id.Stamp(&ev)
		ev.Observer.Ingress.Interface.Name = reports[i].Interface
		ev.Sensor.Stats = reports[i]
		start := len(r.buf)
		var err error
		if r.buf, err = schemas.EncodeWithID(r.buf, &ev); err != nil {
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
	// never wait for a full output: the run loop (signals, heartbeats)
	// must keep going while one is down
	if err := r.fan.TryWrite(recs); err != nil {
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
			if st.ConfigVersion != "" {
				args = append(args, "config_version", st.ConfigVersion)
			}
		}
		level := slog.LevelInfo
		if st.KernelDropsDelta > 0 || st.SensorDropsDelta > 0 {
			level = slog.LevelWarn
		}
		if st.Interface == "" {
			if st.OutputDrops > r.beatOutDrops {
				level = slog.LevelWarn
				args = append(args, "output_drops_delta", st.OutputDrops-r.beatOutDrops)
			}
			r.beatOutDrops = st.OutputDrops
		}
		r.log.Log(context.Background(), level, "heartbeat", args...)
	}
	for _, o := range r.fan.Stats() {
		if o.Blocked > 0 {
			r.log.Warn("output full: the pipeline waits for it (on_full: block)", "output", o.Name, "type", o.Type,
				"queue", o.QueueLen, "last_error", o.LastError)
		}
	}
}

package main

import (
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

// replayStatsReport is the one whole-sensor packetsleuth.stats report of
// replay --stats-report: what a live sensor reports every stats.interval,
// so that a replaying sensor of a fleet shows on the Sensors page. Its
// time is the end of the replay (wall clock, as a live report's).
func replayStatsReport(w *wiring, fan *outputs.Fanout, st *pipeline.Stats, now time.Time) error {
	ev := schemas.Event{Timestamp: now.UTC()}
	ev.ECS.Version = schemas.ECSVersion
	ev.Event.Kind, ev.Event.Dataset, ev.Event.Module = "metric", schemas.DatasetStats, "packetsleuth"
	ev.Event.Category, ev.Event.Type = statsCategory, statsType
	ev.Event.Duration = st.Wall
	ev.Observer = w.id.Observer
	w.id.Stamp(&ev)
	s := schemas.Stats{Received: int64(st.Frames), Bytes: int64(st.Bytes), Filtered: int64(st.Filtered), Packets: int64(st.Packets),
		Flows: int64(st.Flows.Created), UptimeSeconds: int64(st.Wall.Seconds())}
	for _, n := range st.Events {
		s.Events += int64(n)
	}
	if w.fleet != nil {
		fs := w.fleet.Status()
		s.ConfigVersion, s.ConfigError = fs.Version, fs.Error
	}
	ev.Sensor.Stats = s
	rec, err := schemas.NewRecord(&ev)
	if err != nil {
		return err
	}
	return fan.Write([]schemas.Record{rec})
}

package store

import (
	"math"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// PeakOptions tune DetectPeaks. Zero fields take the defaults.
type PeakOptions struct {
	Metric Metric  // bytes (default), packets or flows
	Window int     // buckets in the rolling baseline before each bucket; default 60
	K      float64 // standard deviations above the baseline mean; default 3
	// MinBaseline is how many preceding buckets a baseline needs before a
	// bucket can be judged against it; default min(Window, 10).
	MinBaseline int
	// Absolute flags every bucket above this value whatever the baseline
	// (0: off). Useful for a hard link-capacity limit.
	Absolute float64
	// Resolution is the bucket width, written to event.duration; default
	// the spacing of the first two points (or 1 s).
	Resolution time.Duration
	Interface  string // written to observer.ingress.interface.name
}

func (o PeakOptions) withDefaults(series []Point) PeakOptions {
	if o.Metric == "" {
		o.Metric = ByBytes
	}
	if o.Window <= 0 {
		o.Window = 60
	}
	if o.K <= 0 {
		o.K = 3
	}
	if o.MinBaseline <= 0 {
		o.MinBaseline = min(o.Window, 10)
	}
	o.MinBaseline = min(o.MinBaseline, o.Window)
	if o.Resolution <= 0 {
		o.Resolution = time.Second
		if len(series) > 1 && series[1].Time.After(series[0].Time) {
			o.Resolution = series[1].Time.Sub(series[0].Time)
		}
	}
	return o
}

func (p *Point) value(m Metric) float64 {
	switch m {
	case ByPackets:
		return float64(p.Packets)
	case ByFlows:
		return float64(p.Flows)
	}
	return float64(p.Bytes)
}

// DetectPeaks finds the buckets of an evenly spaced series (as Series
// returns it: empty buckets are zero points) that stand out. A bucket is a
// peak when its value is above mean + K·stddev of the (up to) Window
// buckets just before it — with at least MinBaseline of them, and strictly
// above the mean, so a flat series has no peaks — or above Absolute when
// that is set. Leading zero buckets are skipped (a capture or sensor that
// starts is not a peak); zeros after the first traffic count as quiet time. Peak buckets stay in later baselines (a long plateau stops
// being a peak once it is the norm). Each peak is an ECS event: event.kind
// event, event.category [network], event.dataset packetsleuth.traffic,
// @timestamp and event.start the bucket start, event.duration the bucket
// width, the bucket's counts under packetsleuth.traffic and the value,
// baseline and threshold under packetsleuth.peak. Results are in series
// order; the function is pure, so live alerting can call it on a window.
func DetectPeaks(series []Point, opts PeakOptions) []schemas.Event {
	o := opts.withDefaults(series)
	var out []schemas.Event
	first := 0 // leading empty buckets are "no data yet", not a quiet baseline
	for first < len(series) && series[first].value(o.Metric) == 0 {
		first++
	}
	for i := first; i < len(series); i++ {
		v := series[i].value(o.Metric)
		var mean, sd float64
		n := min(i-first, o.Window)
		baseline := false
		if n >= o.MinBaseline && n > 0 {
			for _, p := range series[i-n : i] {
				mean += p.value(o.Metric)
			}
			mean /= float64(n)
			for _, p := range series[i-n : i] {
				d := p.value(o.Metric) - mean
				sd += d * d
			}
			sd = math.Sqrt(sd / float64(n))
			baseline = true
		}
		thr := mean + o.K*sd
		var reason string
		switch {
		case baseline && v > thr && v > mean:
			reason = "baseline"
		case o.Absolute > 0 && v > o.Absolute:
			reason, thr = "absolute", o.Absolute
		default:
			continue
		}
		out = append(out, peakEvent(&series[i], o, schemas.Peak{
			Metric: string(o.Metric), Resolution: o.Resolution.String(), Value: v,
			Baseline: mean, StdDev: sd, Threshold: thr, K: o.K, Window: n, Reason: reason,
		}))
	}
	return out
}

func peakEvent(p *Point, o PeakOptions, pk schemas.Peak) schemas.Event {
	ev := schemas.Event{Timestamp: p.Time}
	ev.ECS.Version = schemas.ECSVersion
	ev.Event = schemas.EventMeta{
		Kind: "event", Category: []string{"network"}, Type: []string{"info"},
		Dataset: schemas.DatasetTraffic, Module: "packetsleuth", Action: "traffic_peak",
		Start: p.Time, End: p.Time.Add(o.Resolution), Duration: o.Resolution,
	}
	ev.Observer.Ingress.Interface.Name = o.Interface
	ev.Sensor.Traffic = schemas.Traffic{Interface: o.Interface, Packets: p.Packets, Bytes: p.Bytes, Flows: p.Flows}
	if p.BytesTCP|p.BytesUDP|p.BytesICMP|p.BytesOther != 0 {
		ev.Sensor.Traffic.BytesByProtocol = map[string]int64{}
		for k, n := range map[string]int64{"tcp": p.BytesTCP, "udp": p.BytesUDP, "icmp": p.BytesICMP, "other": p.BytesOther} {
			if n != 0 {
				ev.Sensor.Traffic.BytesByProtocol[k] = n
			}
		}
	}
	ev.Sensor.Peak = pk
	return ev
}

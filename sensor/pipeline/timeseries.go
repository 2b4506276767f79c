package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// maxSeriesInterfaces bounds the per-interface buckets a worker keeps open.
const maxSeriesInterfaces = 64

// timeseries sums a worker's traffic into 1-second buckets of packet time,
// per interface, and emits each bucket (dataset packetsleuth.timeseries)
// once its second has passed. Buckets of different workers for the same
// second and interface add up downstream.
type timeseries struct {
	// shard is the worker's index: two workers' buckets of one second can
	// be byte-identical, and the store adds buckets up but drops an
	// event.id it has seen, so the id tells the workers apart.
	shard int
	cfg   *Config
	emit  func(*schemas.Event)
	open  []bucket // by interface index
	ev    schemas.Event
}

type bucket struct {
	sec                   int64 // unix second; 0 = empty
	packets, bytes, flows int64
	tcp, udp, icmp, other int64
}

func (t *timeseries) init(cfg *Config, emit func(*schemas.Event)) {
	t.cfg, t.emit = cfg, emit
}

func (t *timeseries) add(p *decode.Packet, newFlow bool) {
	i := p.Interface
	if i < 0 || i >= maxSeriesInterfaces {
		i = 0
	}
	for len(t.open) <= i {
		t.open = append(t.open, bucket{})
	}
	b := &t.open[i]
	sec := p.Timestamp.Unix()
	if b.sec != sec {
		if b.sec != 0 {
			t.send(i, b)
		}
		*b = bucket{sec: sec}
	}
	n := int64(p.WireLen)
	b.packets++
	b.bytes += n
	if newFlow {
		b.flows++
	}
	switch p.Proto {
	case decode.ProtoTCP:
		b.tcp += n
	case decode.ProtoUDP:
		b.udp += n
	case decode.ProtoICMP, decode.ProtoICMPv6:
		b.icmp += n
	default:
		b.other += n
	}
}

// before emits every bucket that starts before cutoff (all, if zero).
func (t *timeseries) before(cutoff time.Time) {
	for i := range t.open {
		b := &t.open[i]
		if b.sec != 0 && (cutoff.IsZero() || b.sec < cutoff.Unix()) {
			t.send(i, b)
			*b = bucket{}
		}
	}
}

func (t *timeseries) send(i int, b *bucket) {
	t.ev = schemas.Event{Timestamp: time.Unix(b.sec, 0).UTC()}
	ev := &t.ev
	ev.ECS.Version = schemas.ECSVersion
	ev.Event.Kind = "metric"
	ev.Event.Category = categoryNetwork
	ev.Event.Type = typeInfo
	ev.Event.Dataset = schemas.DatasetTimeseries
	ev.Event.Duration = time.Second
	ev.Observer = t.cfg.Observer
	tr := &ev.Sensor.Traffic
	tr.Interface = t.cfg.interfaceName(i)
	tr.Packets, tr.Bytes, tr.Flows = b.packets, b.bytes, b.flows
	tr.BytesByProtocol = map[string]int64{}
	for name, v := range map[string]int64{"tcp": b.tcp, "udp": b.udp, "icmp": b.icmp, "other": b.other} {
		if v > 0 {
			tr.BytesByProtocol[name] = v
		}
	}
	ev.Event.ID = bucketID(t.shard, tr, b)
	t.emit(ev)
}

// bucketID is a bucket event's event.id: 128 bits of SHA-256 over the
// worker and the bucket, so a re-run of a capture with the same worker
// count gives the same ids.
func bucketID(shard int, tr *schemas.Traffic, b *bucket) string {
	h := sha256.New()
	fmt.Fprintf(h, "timeseries\x00%d\x00%q\x00%d %d %d %d %d %d %d %d",
		shard, tr.Interface, b.sec, b.packets, b.bytes, b.flows, b.tcp, b.udp, b.icmp, b.other)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

var (
	categoryNetwork = []string{"network"}
	typeInfo        = []string{"info"}
)

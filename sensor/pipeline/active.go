package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// ActiveFlow describes a connection that has not ended yet.
type ActiveFlow struct {
	CommunityID      string
	Transport        string
	SourceIP         string
	SourcePort       int
	DestinationIP    string
	DestinationPort  int
	Protocol         string // network.protocol once detected ("" before)
	Interface        string
	First, Last      time.Time
	Packets, Bytes   int64 // both directions
	SourceBytes      int64
	DestinationBytes int64
	State            string // Zeek conn_state so far
}

// ErrNotLive is returned by ActiveFlows outside live (concurrent) mode: a
// replay has no "now" to show.
var ErrNotLive = errors.New("pipeline: active flows are only available in live mode")

// query asks a worker for its active flows.
type query struct {
	reply chan []ActiveFlow
}

// ActiveFlows collects the active flows of every worker. Each worker answers
// between two batches, so the view is at most one batch old per worker.
func (p *Pipeline) ActiveFlows(ctx context.Context) ([]ActiveFlow, error) {
	if !p.concurrent || !p.cfg.Live {
		return nil, ErrNotLive
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, ErrNotLive
	}
	replies := make([]chan []ActiveFlow, len(p.in))
	for i, ch := range p.in {
		replies[i] = make(chan []ActiveFlow, 1)
		select {
		case ch <- &batch{query: &query{reply: replies[i]}}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var all []ActiveFlow
	for _, r := range replies {
		select {
		case flows := <-r:
			all = append(all, flows...)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return all, nil
}

// answer lists the worker's active flows for q.
func (w *worker) answer(q *query) {
	var out []ActiveFlow
	w.table.Each(func(f *flow.Flow) {
		o, r := f.Orig(), f.Resp()
		a := ActiveFlow{
			CommunityID: f.CommunityID(), Transport: flow.TransportName(f.Proto),
			SourceIP: o.IP.String(), SourcePort: int(o.Port),
			DestinationIP: r.IP.String(), DestinationPort: int(r.Port),
			Interface: w.cfg.interfaceName(int(f.Interface)), First: f.First(), Last: f.Last(),
			Packets:     int64(f.Packets[0] + f.Packets[1]),
			Bytes:       int64(f.Bytes[0] + f.Bytes[1]),
			SourceBytes: int64(f.Bytes[0]), DestinationBytes: int64(f.Bytes[1]),
			State: f.ConnState(),
		}
		if w.app != nil {
			a.Protocol = w.app.Protocol(f)
		}
		out = append(out, a)
	})
	q.reply <- out
}

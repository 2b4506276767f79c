package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// ErrNoPackets is returned when not a single frame could be read.
var ErrNoPackets = errors.New("no packet could be read")

// batchSize is how many packets the dispatcher hands a worker at once.
const batchSize = 256

type batch struct {
	pkts  []decode.Packet
	arena []byte // the payloads of pkts, back to back
}

// Pipeline is one run of the hot path.
type Pipeline struct {
	cfg     Config
	workers []*worker
	dec     *decode.Decoder
	filter  *source.Filter
	stats   Stats
	seenLT  map[layers.LinkType]bool
	// published copies of Frames and Bytes for the progress goroutine
	progFrames, progBytes atomic.Uint64

	// With several workers: one channel each, and a pool of empty batches.
	in      []chan *batch
	pending []*batch
	pool    chan *batch
	wg      sync.WaitGroup
}

// New checks cfg and prepares a pipeline.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	filter, err := source.NewFilter(cfg.BPF)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, dec: decode.NewDecoder(cfg.Defrag), filter: filter, seenLT: map[layers.LinkType]bool{}}
	for i := 0; i < cfg.Workers; i++ {
		p.workers = append(p.workers, newWorker(&p.cfg))
	}
	if cfg.Workers > 1 {
		p.pool = make(chan *batch, cfg.Workers*8)
		for i := 0; i < cfg.Workers*8; i++ {
			p.pool <- &batch{pkts: make([]decode.Packet, 0, batchSize), arena: make([]byte, 0, batchSize*512)}
		}
		for _, w := range p.workers {
			ch := make(chan *batch, 4)
			p.in = append(p.in, ch)
			p.pending = append(p.pending, <-p.pool)
			p.wg.Add(1)
			go p.runWorker(w, ch)
		}
	}
	return p, nil
}

func (p *Pipeline) runWorker(w *worker, in <-chan *batch) {
	defer p.wg.Done()
	for b := range in {
		for i := range b.pkts {
			w.packet(&b.pkts[i])
		}
		clear(b.pkts)
		b.pkts, b.arena = b.pkts[:0], b.arena[:0]
		p.pool <- b
	}
	w.finish()
}

// Replay reads the capture files (or directories) at paths, in order, as one
// stream, then ends every flow. A damaged file stops at the bad record with a
// message in Stats.SourceErrors; the run goes on with the next file. The
// error is non-nil only when nothing at all could be read.
func (p *Pipeline) Replay(ctx context.Context, paths []string) (Stats, error) {
	start := time.Now()
	files, err := source.Expand(paths)
	if err != nil {
		return p.stats, err
	}
	stopProgress := p.startProgress()
	for _, path := range files {
		if ctx.Err() != nil {
			break
		}
		p.stats.Files++
		src, err := source.OpenFile(path)
		if err != nil {
			p.sourceError(err)
			continue
		}
		if err := p.Feed(ctx, src); err != nil {
			p.sourceError(err)
		}
		src.Close()
	}
	stopProgress()
	p.Close()
	p.stats.Wall = time.Since(start)
	if p.stats.Frames == 0 {
		if len(p.stats.SourceErrors) > 0 {
			return p.stats, fmt.Errorf("%w: %s", ErrNoPackets, p.stats.SourceErrors[0])
		}
		return p.stats, ErrNoPackets
	}
	return p.stats, nil
}

func (p *Pipeline) sourceError(err error) {
	p.stats.FilesFailed++
	p.stats.SourceErrors = append(p.stats.SourceErrors, err.Error())
	p.cfg.Log.Warn("capture input", "err", err)
}

// Feed reads src to its end (or ctx's), dispatching every frame.
func (p *Pipeline) Feed(ctx context.Context, src source.Source) error {
	var fr source.Frame
	var pkt decode.Packet
	for n := 0; ; n++ {
		if n&1023 == 0 {
			p.progFrames.Store(p.stats.Frames)
			p.progBytes.Store(p.stats.Bytes)
			if ctx.Err() != nil {
				return nil
			}
		}
		if err := src.Next(&fr); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		p.stats.Frames++
		p.stats.Bytes += uint64(fr.WireLen)
		if !p.filter.Match(&fr) {
			p.stats.Filtered++
			continue
		}
		switch p.dec.Decode(fr.Data, fr.Timestamp, fr.WireLen, fr.LinkType, &pkt) {
		case decode.OK:
		case decode.UnknownLink:
			if !p.seenLT[fr.LinkType] {
				p.seenLT[fr.LinkType] = true
				p.cfg.Log.Warn("unsupported link type; its frames are skipped", "source", src.Name(), "linktype", int(fr.LinkType))
			}
			continue
		default:
			continue
		}
		pkt.Interface = fr.Interface
		p.stats.Packets++
		p.dispatch(&pkt)
	}
}

// dispatch hands a decoded packet to the worker that owns its flow.
func (p *Pipeline) dispatch(pkt *decode.Packet) {
	if len(p.workers) == 1 {
		p.workers[0].packet(pkt)
		return
	}
	k := flow.KeyOf(pkt)
	i := int(k.Hash() % uint64(len(p.workers)))
	b := p.pending[i]
	start := len(b.arena)
	b.arena = append(b.arena, pkt.Payload...)
	b.pkts = append(b.pkts, *pkt)
	b.pkts[len(b.pkts)-1].Payload = b.arena[start:len(b.arena):len(b.arena)]
	if len(b.pkts) == batchSize {
		p.in[i] <- b
		p.pending[i] = <-p.pool
	}
}

// Close ends every flow, waits for the workers and gathers their counters.
// Call it once, after the last Feed.
func (p *Pipeline) Close() {
	if len(p.workers) == 1 {
		p.workers[0].finish()
	} else {
		for i, ch := range p.in {
			if len(p.pending[i].pkts) > 0 {
				ch <- p.pending[i]
			}
			close(ch)
		}
		p.wg.Wait()
	}
	d := p.dec.Snapshot()
	p.stats.addDecode(&d)
	for _, w := range p.workers {
		p.stats.addFlows(w.table.Stats())
		p.stats.addEvents(w.events)
		p.stats.EncodeErrors += w.encErr
		p.stats.OutputErrors += w.outErr
	}
}

func (p *Pipeline) startProgress() (stop func()) {
	if p.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.cfg.Progress(Stats{Frames: p.progFrames.Load(), Bytes: p.progBytes.Load()})
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

package pipeline

import (
	"context"
	"errors"
	"io"
	"math"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// publishEvery is how many frames a feeder reads between publishing its
// counters for Snapshot.
const publishEvery = 4096

// flushAfter is how long a partly filled batch may wait in live capture.
const flushAfter = 100 * time.Millisecond

// Feeder reads one source: it filters, decodes and shards frames to the
// workers. One goroutine uses a Feeder.
type Feeder struct {
	p       *Pipeline
	name    string
	id      int
	dec     *decode.Decoder
	filter  *source.Filter
	seenLT  map[layers.LinkType]bool
	pending []*batch
	counts  feedCounts
	lastOut time.Time
	dated   time.Time // the time of the last frame that had one
	swept   int64     // packet time (Unix ns) of the last expiry sweep (flow.SweepDue)
	number  uint64    // of the last packet dispatched (decode.Packet.Number)
	frameAt int64     // the source offset of its frame
	// With a sequencer and a host table (hostorder.go): the last DHCP
	// packet, its worker, and per worker the last one it was told of.
	dhcp     uint64
	dhcpOf   int
	toldDHCP []uint64
	hostMsgs hostMessages                   // with a host table: the DHCP messages judged (teachesHosts)
	tap      Tap                            // of the capture file being replayed, if any
	input    interface{ BytesRead() int64 } // the capture file being read, if any
	inputAt  int64                          // InputRead before it
	live     LiveTap                        // of live capture (the packet ring), if any
	// source names the input being fed. lasting: its frames stay valid
	// until it is closed (source.Lasting), so payloads in them are handed
	// to the workers without a copy (and marked decode.Packet.Lasting, for
	// the retransmission check), and the feeder tells it (release) which
	// frames the workers are done with.
	source  string
	lasting source.Lasting
	held    [][]int64             // per worker: the first frame offset of each batch handed over and maybe not done, oldest first
	done    []atomic.Int64        // per worker: batches of lasting frames it finished
	seen    []int64               // per worker: done already taken off held
	fault   atomic.Pointer[error] // a worker's memory fault reading this feeder's frames

	mu        sync.Mutex // guards published
	published feedCounts

	siblings []*Feeder // of the first feeder of an input; guarded by p.mu
}

// faulted keeps err, a worker's memory fault reading f's frames, unless one
// is kept already. It keeps a copy made only for an error: a variable whose
// address is taken is on the heap wherever it is declared, and the worker's
// err was one allocation per batch, nil or not.
func (f *Feeder) faulted(err error) {
	if err != nil {
		kept := err
		f.fault.CompareAndSwap(nil, &kept)
	}
}

type feedCounts struct {
	InputRead                        int64 // bytes of capture files read
	Frames, Bytes, Filtered, Packets uint64
	Decode                           decode.Stats
	HostBarriers                     uint64 // DHCP packets the other workers waited for (hostorder.go)
}

func newFeeder(p *Pipeline, name string, id int) *Feeder {
	filter, _ := source.NewFilter(p.cfg.BPF) // checked by New
	f := &Feeder{p: p, name: name, id: id, dec: decode.NewDecoder(p.cfg.Defrag, p.cfg.Budget.NewAccount()), filter: filter, seenLT: map[layers.LinkType]bool{}}
	if p.concurrent {
		n := len(p.workers)
		f.pending = make([]*batch, n)
		f.held, f.done, f.seen = make([][]int64, n), make([]atomic.Int64, n), make([]int64, n)
		f.toldDHCP = make([]uint64, n)
	}
	if p.cfg.Live && p.cfg.OpenLiveTap != nil {
		f.live = p.cfg.OpenLiveTap(id)
	}
	return f
}

// NewSibling returns another feeder for f's input, for one more reading
// goroutine (an AF_PACKET fanout socket of the same interface): its
// packets carry f's interface index, and f.Stats counts them too.
func (f *Feeder) NewSibling() *Feeder {
	p := f.p
	p.mu.Lock()
	defer p.mu.Unlock()
	s := newFeeder(p, f.name, f.id)
	p.feeders = append(p.feeders, s)
	f.siblings = append(f.siblings, s)
	return s
}

// Name is the feeder's source name.
func (f *Feeder) Name() string { return f.name }

// Feed reads src until its end, a damaged record (returned), or ctx's end.
// A live source returns source.ErrTimeout when idle; partly filled batches
// are then handed over.
func (f *Feeder) Feed(ctx context.Context, src source.Source) error {
	f.source = src.Name()
	if l, ok := src.(source.Lasting); ok && l.Hold() {
		f.lasting = l
	}
	var err error
	pprof.Do(ctx, pprof.Labels("stage", "feeder"), func(ctx context.Context) { err = f.feed(ctx, src) })
	if f.lasting != nil {
		// The workers hold frames of src: the caller may close it only
		// once they are done with them (settle: each unholds them too).
		if f.p.concurrent {
			f.flush()
			f.settle()
		} else if ferr := f.p.workers[0].unhold(src.Name()); err == nil {
			err = ferr
		}
		f.lasting = nil
		for i := range f.held {
			f.held[i], f.seen[i] = f.held[i][:0], f.done[i].Load()
		}
		if fault := f.fault.Swap(nil); fault != nil && err == nil {
			err = *fault
		}
	}
	return err
}

func (f *Feeder) feed(ctx context.Context, src source.Source) (err error) {
	if in, ok := src.(interface{ BytesRead() int64 }); ok {
		f.input, f.inputAt = in, f.counts.InputRead
		defer func() { f.input = nil }() // after the last publish
	}
	defer f.publish()
	if f.live != nil {
		defer f.live.Flush()
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer source.FaultIsError(src.Name(), &err)
	var fr source.Frame
	var pkt decode.Packet
	for n := 1; ; n++ {
		if n%publishEvery == 0 {
			f.publish()
			if ctx.Err() != nil {
				return nil
			}
		}
		if err := src.Next(&fr); err != nil {
			switch {
			case errors.Is(err, io.EOF):
				return nil
			case errors.Is(err, source.ErrTimeout):
				f.flush()
				if f.live != nil {
					f.live.Flush()
				}
				f.publish()
				if ctx.Err() != nil {
					return nil
				}
				continue
			}
			return err
		}
		f.counts.Frames++
		f.counts.Bytes += uint64(fr.WireLen)
		if !f.filter.Match(&fr) {
			f.counts.Filtered++
			continue
		}
		// A pcapng simple packet block has no date: its frame happened
		// after the one before it, not in year 1 (which no flow, sweep or
		// event time can hold).
		if fr.Timestamp.IsZero() {
			fr.Timestamp = f.dated
		} else {
			f.dated = fr.Timestamp
		}
		st := f.dec.Decode(fr.Data, fr.Timestamp, fr.WireLen, fr.LinkType, &pkt)
		if f.tap != nil {
			f.tap.Frame(&fr, st, &pkt)
		} else if f.live != nil {
			f.live.Frame(&fr, st, &pkt)
		}
		switch st {
		case decode.OK:
			f.counts.Packets++
		case decode.Malformed:
			// Reported by the worker of its address pair (decode.Packet.Fault).
		case decode.UnknownLink:
			if !f.seenLT[fr.LinkType] {
				f.seenLT[fr.LinkType] = true
				f.p.cfg.Log.Warn("unsupported link type; its frames are skipped", "source", src.Name(), "linktype", int(fr.LinkType))
			}
			continue
		default:
			continue
		}
		pkt.Interface = fr.Interface
		if fr.Clamped {
			pkt.Anomalies.Add(anomaly.CapLenClamped)
		}
		if f.p.cfg.Live {
			pkt.Interface = f.id
		}
		f.dispatch(&pkt, &fr)
	}
}

// dispatch hands a decoded packet to the worker that owns its flow. Its
// payload is copied into the batch unless it lies in fr and frames last
// (f.lasting).
func (f *Feeder) dispatch(pkt *decode.Packet, fr *source.Frame) {
	p := f.p
	keep := f.lasting != nil && len(pkt.Payload) > 0 && within(pkt.Payload, fr.Data)
	pkt.Lasting = keep
	pkt.TeachesHosts = f.teachesHosts(pkt)
	f.number++
	pkt.Number, f.frameAt = f.number, fr.Offset
	if !p.concurrent {
		p.workers[0].packet(pkt)
		if f.lasting != nil {
			f.lasting.Release(fr.Offset)
		}
		return
	}
	// A malformed frame moves no flow's clock: it has no flow, and one
	// worker's table never sees it.
	if now := pkt.Timestamp.UnixNano(); pkt.Fault == decode.NoFault && flow.SweepDue(f.swept, now) {
		// Every worker sweeps here, before this packet, as one worker's
		// table would on its own clock: flows then end at the same packet
		// times (and for the same reasons) whatever the worker count.
		f.swept = now
		for i := range f.pending {
			b := f.batchFor(i, fr)
			if f.ordersHosts() {
				f.awaitDHCP(i, b, pkt.Number)
			}
			b.sweeps = append(b.sweeps, sweep{at: len(b.pkts), t: now, n: pkt.Number})
			if len(b.sweeps) == batchSize { // a worker without packets while time jumps about
				f.handOver(i, pkt.Timestamp, pkt.Number)
			}
		}
	}
	i := 0
	if len(p.workers) > 1 {
		i = workerOf(pkt, len(p.workers))
	}
	b := f.pending[i]
	if b != nil && !keep && b.arena != nil && len(b.arena)+len(pkt.Payload) > cap(b.arena) {
		f.handOver(i, pkt.Timestamp, pkt.Number) // its arena is full
	}
	b = f.batchFor(i, fr)
	if f.ordersHosts() {
		f.hostWaits(i, b, pkt)
	}
	b.pkts = append(b.pkts, *pkt)
	q := &b.pkts[len(b.pkts)-1]
	if keep || len(q.Payload) == 0 {
		q.Payload = q.Payload[:len(q.Payload):len(q.Payload)]
	} else {
		if b.arena == nil {
			b.arena = make([]byte, 0, arenaSize)
		}
		start := len(b.arena)
		b.arena = append(b.arena, pkt.Payload...)
		q.Payload = b.arena[start:len(b.arena):len(b.arena)]
	}
	if len(b.pkts) == batchSize {
		f.handOver(i, pkt.Timestamp, pkt.Number+1)
	} else if p.cfg.Live && pkt.Timestamp.Sub(f.lastOut) > flushAfter {
		f.flush()
		f.lastOut = pkt.Timestamp
	}
}

// workerOf is which of n workers owns pkt's flow: the hash of its host
// pair, so that flows between two hosts are one worker's (and a malformed
// frame goes to the worker of the addresses it holds, if any).
func workerOf(pkt *decode.Packet, n int) int {
	return int(flow.PairHash(pkt) % uint64(n))
}

// batchFor returns worker i's pending batch, taking one from the pool if
// there is none; fr is the frame being dispatched.
func (f *Feeder) batchFor(i int, fr *source.Frame) *batch {
	if b := f.pending[i]; b != nil {
		return b
	}
	return f.newBatch(i, fr.Offset)
}

// newBatch takes worker i's pending batch from the pool; first is the
// offset of its first frame (of an empty one, of the last frame read:
// release then keeps what the others hold).
func (f *Feeder) newBatch(i int, first int64) *batch {
	b := <-f.p.pool
	b.from, b.first = f, first
	if f.lasting != nil {
		b.done = &f.done[i]
	}
	f.pending[i] = b
	return b
}

// within reports whether b lies inside frame.
func within(b, frame []byte) bool {
	at, start := uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(unsafe.Pointer(unsafe.SliceData(frame)))
	return at >= start && at+uintptr(len(b)) <= start+uintptr(len(frame))
}

// handOver sends worker i its pending batch; every packet numbered below
// upTo has then been dispatched. With a sequencer, every worker is sent
// one (a round), so that each tells the sequencer it is past upTo.
func (f *Feeder) handOver(i int, now time.Time, upTo uint64) {
	if f.p.seq == nil {
		f.send(i, now)
		return
	}
	for j := range f.pending {
		b := f.pending[j]
		if b == nil {
			b = f.newBatch(j, f.frameAt)
		}
		b.upTo = upTo
		f.send(j, now)
	}
}

func (f *Feeder) send(i int, now time.Time) {
	b := f.pending[i]
	f.pending[i] = nil
	b.source = f.source
	f.lastOut = now
	if f.lasting != nil {
		f.held[i] = append(f.held[i], b.first)
		f.release()
	}
	f.p.in[i] <- b
}

// release tells the lasting source the offset before which the workers
// hold no frame: the first frame of the oldest batch not done.
func (f *Feeder) release() {
	low := int64(math.MaxInt64)
	for i := range f.held {
		n := f.done[i].Load()
		f.held[i] = f.held[i][n-f.seen[i]:]
		f.seen[i] = n
		if len(f.held[i]) > 0 {
			low = min(low, f.held[i][0])
		}
		if b := f.pending[i]; b != nil {
			low = min(low, b.first)
		}
	}
	f.lasting.Release(low)
}

// flush hands over every partly filled batch.
func (f *Feeder) flush() {
	for i, b := range f.pending {
		if b != nil && (len(b.pkts) > 0 || len(b.sweeps) > 0) {
			f.handOver(i, f.lastOut, f.number+1)
		}
	}
}

// settle waits until every worker is done with the batches handed to it.
func (f *Feeder) settle() {
	done := make(chan struct{}, len(f.p.in))
	for _, ch := range f.p.in {
		ch <- &batch{settled: done, from: f}
	}
	for range f.p.in {
		<-done
	}
}

func (f *Feeder) publish() {
	if f.input != nil {
		f.counts.InputRead = f.inputAt + f.input.BytesRead()
	}
	f.mu.Lock()
	f.published = f.counts
	f.published.Decode = f.dec.Snapshot()
	f.mu.Unlock()
}

// Stats returns this feeder's own counters (Frames, Bytes, Filtered,
// Packets, Decode), with its siblings', as last published: every few
// thousand frames and at every read timeout. Safe from any goroutine.
func (f *Feeder) Stats() Stats {
	var s Stats
	f.addTo(&s)
	f.p.mu.Lock()
	sib := f.siblings
	f.p.mu.Unlock()
	for _, o := range sib {
		o.addTo(&s)
	}
	return s
}

func (f *Feeder) addTo(s *Stats) {
	f.mu.Lock()
	c := f.published
	f.mu.Unlock()
	s.InputRead += c.InputRead
	s.Frames += c.Frames
	s.Bytes += c.Bytes
	s.Filtered += c.Filtered
	s.Packets += c.Packets
	s.HostBarriers += c.HostBarriers
	s.addDecode(&c.Decode)
}

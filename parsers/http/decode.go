package http

import (
	"bufio"
	"errors"
	"io"
	"iter"
	"runtime/debug"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// Content decoding is push-driven (the parser receives body bytes piece by
// piece) while compress/* readers pull. An inflater runs the reader in a
// coroutine (iter.Pull): when the reader runs out of input it suspends until
// the parser pushes the next piece. Nothing runs concurrently and results are
// deterministic. A finished inflater parks its coroutine and waits in the
// Conns' Pool for the next body (a new coroutine was 3.5 allocations a
// body). Decoded bytes are only counted, into a fixed scratch buffer, except
// under stacked codings ("gzip, gzip"), where each layer's output is pushed
// into the next layer's inflater.
//
// The readers are klauspost/compress's, reading through a bufio.Reader:
// its inflater reads a *bufio.Reader byte by byte without an interface
// call, about a third less CPU than compress/flate pulling bytes from the
// inflater itself (BenchmarkKeepAliveGzip).

// MaxCodings bounds the stacked content codings of one body that are
// decoded; a longer list is noted, not decoded.
const MaxCodings = 3

// DecoderFootprint is the memory one open decoding layer holds: the
// compress reader (its 32 KiB window and Huffman tables), the scratch
// buffer and the coroutine's stack. TestDecoderFootprint measures it.
const DecoderFootprint = 64 << 10

type encoding uint8

const (
	encNone encoding = iota
	encGzip
	encDeflate
)

var errStopped = errors.New("http: decoder stopped")

// decoders holds the reusable reader state (about 50 KiB each); an inflater
// takes one for the duration of one body only.
type decoders struct {
	br      *bufio.Reader
	gz      *gzip.Reader
	zl      io.ReadCloser
	fl      io.ReadCloser
	scratch [4 << 10]byte
}

var decoderPool = sync.Pool{New: func() any { return &decoders{br: bufio.NewReaderSize(nil, 4<<10)} }}

type inflater struct {
	enc   encoding
	limit int64

	in   []byte // input pushed by the parser, valid during one resume
	pre  []byte // peeked bytes to deliver again
	peek [2]byte
	eof  bool

	out      int64
	finished bool // the decoder returned (end, error, limit or stop)
	clean    bool // it returned at the end of its stream
	failed   bool
	limited  bool
	stopping bool // the body is abandoned: Read tells the decoder to stop

	inner *inflater        // next layer of stacked codings: gets this one's output
	sink  parsers.FileSink // innermost layer: gets the decoded bytes (files)
	// typed: decoding stops when this sink is TypedOnly (nothing but the
	// file needs the bytes); sated says it did.
	typed  parsers.TypedSink
	sated  bool
	acct   *budget.Account // outermost layer: holds the reservation of all
	layers int

	dec   *decoders
	yield func(struct{}) bool
	next  func() (struct{}, bool)
	stop  func()
}

func (f *inflater) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(f.pre) == 0 && len(f.in) == 0 {
		if f.eof {
			return 0, io.EOF
		}
		if f.stopping || !f.yield(struct{}{}) {
			return 0, errStopped
		}
	}
	if len(f.pre) > 0 {
		n := copy(p, f.pre)
		f.pre = f.pre[n:]
		return n, nil
	}
	n := copy(p, f.in)
	f.in = f.in[n:]
	return n, nil
}

// serve is the coroutine body: it decodes one body, then parks until the
// next body's first push (or the end: stop).
//
// The bytes it reads may be slices of a mapped capture: a file cut by
// another process faults there. Faults are panics here as on the worker
// (the setting is the goroutine's, and a coroutine has its own), so the
// fault reaches the worker through next and ends the capture with an
// error, not the process.
func (f *inflater) serve(yield func(struct{}) bool) {
	debug.SetPanicOnFault(true)
	f.yield = yield
	for {
		f.run()
		if !yield(struct{}{}) {
			return
		}
	}
}

// run decodes one body.
func (f *inflater) run() {
	var r io.Reader
	var err error
	d := f.dec
	d.br.Reset(f)
	switch f.enc {
	case encGzip:
		if d.gz == nil {
			d.gz, err = gzip.NewReader(d.br)
		} else {
			err = d.gz.Reset(d.br)
		}
		r = d.gz
	case encDeflate:
		// "deflate" should be zlib (RFC 9110), but raw deflate is common:
		// a valid zlib header decides.
		if _, err = io.ReadFull(f, f.peek[:]); err != nil {
			break
		}
		f.pre = f.peek[:]
		if f.peek[0]&0x0f == 8 && (uint16(f.peek[0])<<8|uint16(f.peek[1]))%31 == 0 {
			if d.zl == nil {
				d.zl, err = zlib.NewReader(d.br)
			} else {
				err = d.zl.(zlib.Resetter).Reset(d.br, nil)
			}
			r = d.zl
		} else {
			if d.fl == nil {
				d.fl = flate.NewReader(d.br)
			} else {
				err = d.fl.(flate.Resetter).Reset(d.br, nil)
			}
			r = d.fl
		}
	}
	for err == nil {
		var n int
		n, err = r.Read(d.scratch[:])
		f.out += int64(n)
		if f.out >= f.limit {
			n -= int(f.out - f.limit)
			f.out = f.limit
			f.limited = true
		}
		if f.inner != nil && err != errStopped {
			f.inner.push(d.scratch[:n])
			if f.inner.finished {
				break
			}
		} else if f.sink != nil && n > 0 && !f.sink.Write(d.scratch[:n]) && f.typed != nil && f.typed.TypedOnly() {
			f.sated = true
			break
		}
		if f.limited {
			break
		}
	}
	switch err {
	case nil, errStopped:
	case io.EOF:
		f.clean = true
	default:
		f.failed = true
	}
	f.finished = true
}

// newDecoder returns the decoder of a body whose codings, in decoding
// order, are layers: one inflater per layer, the outermost first, taken
// from p when it has some. It reserves DecoderFootprint per layer on acct
// and returns nil when that would open more than maxOpen layers on acct or
// the budget refuses.
func newDecoder(layers []encoding, limit int64, acct *budget.Account, maxOpen int, p *Pool) *inflater {
	need := int64(len(layers)) * DecoderFootprint
	if acct.Used(budget.Decoders)+need > int64(maxOpen)*DecoderFootprint || !acct.Reserve(budget.Decoders, need) {
		return nil
	}
	var f *inflater
	for i := len(layers) - 1; i >= 0; i-- {
		g := p.inflater()
		g.enc, g.limit, g.dec, g.inner = layers[i], limit, decoderPool.Get().(*decoders), f
		f = g
	}
	f.acct, f.layers = acct, len(layers)
	return f
}

// newInflater returns an inflater with its coroutine, not started.
func newInflater() *inflater {
	f := new(inflater)
	f.next, f.stop = iter.Pull(f.serve)
	return f
}

// feed makes the innermost layer write the decoded bytes to sink. With
// onlySink (nothing but the file needs the decoded bytes), decoding stops
// when a TypedSink needs no more of them.
func (f *inflater) feed(sink parsers.FileSink, onlySink bool) {
	for f.inner != nil {
		f = f.inner
	}
	f.sink = sink
	if t, ok := sink.(parsers.TypedSink); ok && onlySink {
		f.typed = t
	}
}

// decodeResult sums up the layers of a decoder: the innermost's count,
// whether any layer failed or hit the limit, and whether the sink had all
// it wanted.
type decodeResult struct {
	out                    int64
	failed, limited, sated bool
}

func (f *inflater) result() (r decodeResult) {
	for ; f != nil; f = f.inner {
		r = decodeResult{f.out, r.failed || f.failed, r.limited || f.limited, f.sated}
	}
	return r
}

// push feeds body bytes; the decoder consumes all of them or finishes.
func (f *inflater) push(b []byte) {
	if f.finished || len(b) == 0 {
		return
	}
	f.in = b
	f.next()
	f.in = nil
}

// finish signals the end of the body (eof=true) or abandons decoding, sums
// up the layers, then gives the layers to p (their coroutines parked), the
// reader state back and the reservation up. f is not used again.
func (f *inflater) finish(eof bool, p *Pool) decodeResult {
	f.end(eof)
	r := f.result()
	f.acct.Release(budget.Decoders, int64(f.layers)*DecoderFootprint)
	for f != nil {
		inner := f.inner
		f.release(p)
		f = inner
	}
	return r
}

// end runs each layer's decoder to its return: at the end of its input, or
// stopped. An inner layer sees the end of its input when this layer's
// stream ended cleanly.
func (f *inflater) end(eof bool) {
	if !f.finished {
		f.eof, f.stopping = eof, !eof
		f.next()
	}
	if f.inner != nil {
		f.inner.end(f.clean)
	}
}

// release gives f, finished, to p for another body, or ends its coroutine
// when p has enough.
func (f *inflater) release(p *Pool) {
	f.dec.br.Reset(nil) // holds f
	decoderPool.Put(f.dec)
	*f = inflater{yield: f.yield, next: f.next, stop: f.stop}
	if !p.keepInflater(f) {
		f.stop()
	}
}

package source

import "io"

// readAhead reads r on a goroutine of its own, up to a few chunks ahead of
// the consumer: a gzip-compressed capture is inflated on one core while
// another decodes what was inflated before. Errors (io.EOF included) come
// out in order, after the bytes read before them.
type readAhead struct {
	full    chan chunk
	free    chan []byte
	done    chan struct{} // closed by close: stop reading
	stopped chan struct{} // closed when the goroutine has returned
	cur     chunk
	off     int
}

type chunk struct {
	b   []byte
	err error
}

func newReadAhead(r io.Reader, size, chunks int) *readAhead {
	a := &readAhead{full: make(chan chunk, chunks), free: make(chan []byte, chunks),
		done: make(chan struct{}), stopped: make(chan struct{})}
	for range chunks {
		a.free <- make([]byte, size)
	}
	go a.fill(r)
	return a
}

func (a *readAhead) fill(r io.Reader) {
	defer close(a.stopped)
	for {
		var buf []byte
		select {
		case buf = <-a.free:
		case <-a.done:
			return
		}
		n, err := 0, error(nil)
		for n < len(buf) && err == nil {
			var k int
			k, err = r.Read(buf[n:])
			n += k
		}
		select {
		case a.full <- chunk{buf[:n], err}:
		case <-a.done:
			return
		}
		if err != nil {
			return
		}
	}
}

func (a *readAhead) Read(p []byte) (int, error) {
	for a.off == len(a.cur.b) {
		if a.cur.err != nil {
			return 0, a.cur.err
		}
		if a.cur.b != nil {
			a.free <- a.cur.b[:cap(a.cur.b)]
		}
		a.cur, a.off = <-a.full, 0
	}
	n := copy(p, a.cur.b[a.off:])
	a.off += n
	return n, nil
}

// close stops the goroutine and waits for it, so r may be closed next.
func (a *readAhead) close() {
	close(a.done)
	<-a.stopped
}

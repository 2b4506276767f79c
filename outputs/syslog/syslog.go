// Package syslog sends events to a syslog receiver: RFC 5424 (or RFC 3164
// for old receivers) over UDP, TCP with octet-counting framing (RFC 6587),
// or TLS (RFC 5425, optionally with a client certificate). The message is
// the event's ECS JSON, or CEF for SIEMs that want it.
//
//	outputs:
//	  - type: syslog
//	    network: tls                # udp | tcp | tls
//	    address: siem.example.org:6514
//	    format: rfc5424             # rfc5424 | rfc3164
//	    message: json               # json | cef
//	    facility: local0
//	    ca: /etc/packetsleuth/ca.pem
//	    cert: /etc/packetsleuth/client.pem   # mTLS
//	    key: /etc/packetsleuth/client-key.pem
//
// An RFC 5424 message carries the event time with microseconds, MSGID = the
// short dataset (flow, dns, ...), and structured data
// [packetsleuth@32473 dataset="..." kind="..." id="..." community_id="..."].
// Alerts get a syslog severity from event.severity; other events get
// `severity` (default info).
//
// Syslog has no acknowledgements, so over TCP and TLS a record can be
// accepted by the kernel and still be lost when the receiver dies. To stay
// at-least-once, the sink checks the connection before each batch and keeps
// what it wrote last, as many bytes as may still be unread (by default our
// socket's send buffer plus the most a Linux receiver buffers, tcp_rmem);
// after a broken connection it sends that again on the new one. The records
// sent again are counted as possible duplicates; records that had left a
// smaller window (resend_bytes, resend_window) but may still have been
// unread are counted as possibly lost, never as known delivered
// (outputs.DeliveryReporter). Close half-closes the connection and waits
// for the receiver to close its side, which proves it read everything. UDP
// is best effort.
package syslog

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
)

func init() {
	outputs.Register("syslog", func(cfg outputs.SinkConfig) (outputs.Sink, error) {
		var o Options
		if err := cfg.DecodeOptions(&o); err != nil {
			return nil, err
		}
		return New(o)
	}, Options{})
}

// Options are the syslog output's own keys.
type Options struct {
	Network  string `yaml:"network"`  // udp | tcp (default) | tls
	Address  string `yaml:"address"`  // host:port
	Format   string `yaml:"format"`   // rfc5424 (default) | rfc3164
	Message  string `yaml:"message"`  // json (default) | cef
	Framing  string `yaml:"framing"`  // tcp/tls: octet (default, RFC 6587) | lf (newline-terminated)
	AppName  string `yaml:"app_name"` // default packetsleuth
	Hostname string `yaml:"hostname"` // default the machine's name
	Facility string `yaml:"facility"` // name (local0) or number; default local0
	Severity string `yaml:"severity"` // of non-alert events: name or number; default info
	SDID     string `yaml:"sd_id"`    // structured data id, default packetsleuth@32473
	Version  string `yaml:"version"`  // CEF device version, default "1"

	CA                 string `yaml:"ca"`   // PEM CA bundle (default: system roots)
	Cert               string `yaml:"cert"` // client certificate for mTLS
	Key                string `yaml:"key"`
	ServerName         string `yaml:"server_name"` // default the address's host
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`

	MaxMessage   outputs.ByteSize `yaml:"max_message"`   // larger messages are rejected (dead-lettered); default 64KiB on UDP, 256KiB otherwise
	ResendWindow time.Duration    `yaml:"resend_window"` // also forget what was written longer ago than this; 0 (default): no age limit; negative disables resending
	ResendBytes  outputs.ByteSize `yaml:"resend_bytes"`  // cap of the resend buffer; default: as much as may be unread (send buffer + tcp_rmem max)
	DialTimeout  time.Duration    `yaml:"dial_timeout"`  // default 10s
}

var facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
	"uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "ntp": 12, "security": 13, "console": 14,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

var severities = map[string]int{
	"emerg": 0, "alert": 1, "crit": 2, "err": 3, "error": 3, "warning": 4, "warn": 4, "notice": 5, "info": 6, "debug": 7,
}

func lookup(m map[string]int, v string, def, maxV int) (int, bool) {
	if v == "" {
		return def, true
	}
	if n, err := strconv.Atoi(v); err == nil {
		return n, n >= 0 && n <= maxV
	}
	n, ok := m[strings.ToLower(v)]
	return n, ok
}

// Sink is a syslog sink. Use New.
type Sink struct {
	opts       Options
	facility   int
	evSeverity int
	hostname   string
	procID     string
	loc        *time.Location
	tlsConf    *tls.Config
	maxMsg     int

	conn net.Conn
	w    *bufio.Writer
	f    fields
	msg  []byte
	hdr  []byte

	// resend window: frames written on the current connection, oldest first
	win     []byte
	winAt   []winMark
	winMax  int    // bytes the window keeps (resend_bytes, or what may be unread)
	resend  []byte // frames to send again on the next connection
	resendN int    // and how many records they hold
	stream  bool
	checkRB [1]byte

	// unread is how many bytes written on a connection may still not have
	// been read by the receiver; written counts the bytes written on it.
	// evicted are the entries that left the window within the last unread
	// bytes: lost if the connection breaks now.
	unread  int64
	written int64
	evicted []winMark

	resent, maybeLost atomic.Uint64
}

// winMark ends a batch in the window: when it was written, where it ends
// (in win; in the connection's stream for evicted), and its records.
type winMark struct {
	at  time.Time
	end int64
	n   int
}

// New checks o and returns a Sink; it does not connect.
func New(o Options) (*Sink, error) {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("outputs.syslog: %s: "+format, append([]any{key}, a...)...))
	}
	if o.Network == "" {
		o.Network = "tcp"
	}
	if o.Format == "" {
		o.Format = "rfc5424"
	}
	if o.Message == "" {
		o.Message = "json"
	}
	if o.Framing == "" {
		o.Framing = "octet"
	}
	if o.AppName == "" {
		o.AppName = "packetsleuth"
	}
	if o.SDID == "" {
		o.SDID = "packetsleuth@32473"
	}
	if o.Version == "" {
		o.Version = "1"
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	switch o.Network {
	case "udp", "tcp", "tls":
	default:
		bad("network", "%q is not udp, tcp or tls", o.Network)
	}
	if o.Format != "rfc5424" && o.Format != "rfc3164" {
		bad("format", "%q is not rfc5424 or rfc3164", o.Format)
	}
	if o.Message != "json" && o.Message != "cef" {
		bad("message", "%q is not json or cef", o.Message)
	}
	if o.Framing != "octet" && o.Framing != "lf" {
		bad("framing", "%q is not octet or lf", o.Framing)
	}
	if _, _, err := net.SplitHostPort(o.Address); err != nil {
		bad("address", "%v", err)
	}
	if strings.ContainsAny(o.SDID, " =]\"") || !strings.Contains(o.SDID, "@") {
		bad("sd_id", "%q is not a private SD-ID (name@PEN)", o.SDID)
	}
	s := &Sink{opts: o, loc: time.Local, procID: strconv.Itoa(os.Getpid()), stream: o.Network != "udp"}
	var ok bool
	if s.facility, ok = lookup(facilities, o.Facility, 16, 23); !ok {
		bad("facility", "%q is not a syslog facility", o.Facility)
	}
	if s.evSeverity, ok = lookup(severities, o.Severity, sevInfo, 7); !ok {
		bad("severity", "%q is not a syslog severity", o.Severity)
	}
	s.hostname = o.Hostname
	if s.hostname == "" {
		s.hostname, _ = os.Hostname()
	}
	s.maxMsg = int(o.MaxMessage)
	if s.maxMsg <= 0 {
		s.maxMsg = 256 << 10
		if o.Network == "udp" {
			s.maxMsg = 64 << 10
		}
	}
	if o.Network == "tls" {
		c, err := tlsConfig(o)
		if err != nil {
			errs = append(errs, err)
		}
		s.tlsConf = c
	} else if o.CA != "" || o.Cert != "" || o.Key != "" {
		bad("network", "ca, cert and key need network: tls")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// tlsConfig maps the TLS keys onto the shared client configuration; the
// server name defaults to the address's host.
func tlsConfig(o Options) (*tls.Config, error) {
	sn := o.ServerName
	if sn == "" {
		sn, _, _ = net.SplitHostPort(o.Address)
	}
	return outputs.ClientTLS{CA: o.CA, Cert: o.Cert, Key: o.Key, ServerName: sn, InsecureSkipVerify: o.InsecureSkipVerify}.Config("outputs.syslog: ")
}

// Connect dials the receiver (and does the TLS handshake).
func (s *Sink) Connect(ctx context.Context) error {
	s.drop()
	ctx, cancel := context.WithTimeout(ctx, s.opts.DialTimeout)
	defer cancel()
	var (
		c   net.Conn
		err error
	)
	switch s.opts.Network {
	case "tls":
		d := tls.Dialer{Config: s.tlsConf}
		c, err = d.DialContext(ctx, "tcp", s.opts.Address)
	default:
		var d net.Dialer
		c, err = d.DialContext(ctx, s.opts.Network, s.opts.Address)
	}
	if err != nil {
		return err
	}
	s.conn = c
	s.unread, s.written = mayBeUnread(c), 0
	s.winMax = int(s.opts.ResendBytes)
	if s.winMax <= 0 {
		s.winMax = int(s.unread)
	}
	if s.w == nil {
		s.w = bufio.NewWriterSize(c, 64<<10)
	} else {
		s.w.Reset(c)
	}
	return nil
}

// drop forgets a broken connection, keeping its resend window; what had
// left the window but may have been unread is counted as possibly lost.
func (s *Sink) drop() {
	if s.conn == nil {
		return
	}
	s.conn.Close()
	s.conn = nil
	s.trimWindow(time.Now())
	s.resend = append(s.resend[:0], s.win...)
	s.resendN = 0
	for _, m := range s.winAt {
		s.resendN += m.n
	}
	for _, m := range s.evicted {
		s.maybeLost.Add(uint64(m.n))
	}
	s.win, s.winAt, s.evicted = s.win[:0], s.winAt[:0], s.evicted[:0]
}

// DeliveryCounts says which records counted as delivered were sent twice,
// or may not have arrived (outputs.DeliveryReporter).
func (s *Sink) DeliveryCounts() outputs.DeliveryCounts {
	return outputs.DeliveryCounts{Resent: s.resent.Load(), PossiblyLost: s.maybeLost.Load()}
}

// alive reports whether the receiver still has the connection open: it
// never sends, so a read that does not time out means EOF or a reset.
func (s *Sink) alive() bool {
	s.conn.SetReadDeadline(time.Now().Add(time.Microsecond))
	_, err := s.conn.Read(s.checkRB[:])
	s.conn.SetReadDeadline(time.Time{})
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Write sends one message per record. Messages over max_message are
// reported as permanent failures.
func (s *Sink) Write(ctx context.Context, batch []schemas.Record) error {
	if s.conn == nil {
		return outputs.ErrNotConnected
	}
	if s.stream && !s.alive() {
		s.drop()
		return fmt.Errorf("%w: the receiver closed the connection", outputs.ErrNotConnected)
	}
	if dl, ok := ctx.Deadline(); ok {
		s.conn.SetWriteDeadline(dl)
	} else {
		s.conn.SetWriteDeadline(time.Time{})
	}
	if len(s.resend) > 0 {
		if _, err := s.w.Write(s.resend); err != nil {
			// keep s.resend for the next connection
			s.conn.Close()
			s.conn = nil
			return fmt.Errorf("%w: %v", outputs.ErrNotConnected, err)
		}
		s.remember(s.resend, s.resendN)
		s.resent.Add(uint64(s.resendN))
		s.resend, s.resendN = s.resend[:0], 0
	}
	var be outputs.BatchError
	start0 := len(s.win)
	for i := range batch {
		msg := s.format(&batch[i])
		if len(msg) > s.maxMsg {
			be.Permanent = append(be.Permanent, i)
			be.Reasons = append(be.Reasons, fmt.Errorf("message of %d bytes is over max_message %d", len(msg), s.maxMsg))
			continue
		}
		if !s.stream {
			if _, err := s.conn.Write(msg); err != nil {
				return s.broken(err, i)
			}
			continue
		}
		s.hdr = s.hdr[:0]
		if s.opts.Framing == "octet" {
			s.hdr = strconv.AppendInt(s.hdr, int64(len(msg)), 10)
			s.hdr = append(s.hdr, ' ')
		}
		start := len(s.win)
		s.win = append(s.win, s.hdr...)
		s.win = append(s.win, msg...)
		if s.opts.Framing == "lf" {
			s.win = append(s.win, '\n')
		}
		if _, err := s.w.Write(s.win[start:]); err != nil {
			return s.broken(err, i)
		}
	}
	if s.stream {
		if err := s.w.Flush(); err != nil {
			return s.broken(err, len(batch))
		}
		s.written += int64(len(s.win) - start0)
		s.mark(len(batch) - len(be.Permanent))
	}
	if len(be.Permanent) > 0 {
		return &be
	}
	return nil
}

// broken handles a write error: the runner resends the batch, so only what
// earlier batches wrote is kept for the new connection. The first written
// records of the batch may have arrived: they count as sent again.
func (s *Sink) broken(err error, written int) error {
	s.resent.Add(uint64(written))
	var last int64
	if n := len(s.winAt); n > 0 {
		last = s.winAt[n-1].end
	}
	s.win = s.win[:last]
	s.drop()
	return fmt.Errorf("%w: %v", outputs.ErrNotConnected, err)
}

// remember adds already-framed bytes of n records to the window.
func (s *Sink) remember(b []byte, n int) {
	s.win = append(s.win, b...)
	s.written += int64(len(b))
	s.mark(n)
}

// mark closes the window entry for the n records just written and trims it.
func (s *Sink) mark(n int) {
	now := time.Now()
	s.winAt = append(s.winAt, winMark{at: now, end: int64(len(s.win)), n: n})
	s.trimWindow(now)
}

// trimWindow drops entries older than resend_window or over the window's
// bytes; those that may still be unread are kept in evicted.
func (s *Sink) trimWindow(now time.Time) {
	k := 0
	for k < len(s.winAt) && (s.opts.ResendWindow < 0 ||
		(s.opts.ResendWindow > 0 && now.Sub(s.winAt[k].at) > s.opts.ResendWindow) ||
		int64(len(s.win))-s.winAt[k].end > int64(s.winMax)) {
		k++
	}
	if k > 0 {
		cut := s.winAt[k-1].end
		base := s.written - int64(len(s.win)) // stream offset of win[0]
		for _, m := range s.winAt[:k] {
			s.evicted = append(s.evicted, winMark{end: base + m.end, n: m.n})
		}
		n := copy(s.win, s.win[cut:])
		s.win = s.win[:n]
		m := copy(s.winAt, s.winAt[k:])
		s.winAt = s.winAt[:m]
		for i := range s.winAt {
			s.winAt[i].end -= cut
		}
	}
	// what was written more than unread bytes ago was read
	j := 0
	for j < len(s.evicted) && s.written-s.evicted[j].end >= s.unread {
		j++
	}
	s.evicted = s.evicted[:copy(s.evicted, s.evicted[j:])]
}

// format builds one syslog message (without framing) in a reused buffer.
func (s *Sink) format(rec *schemas.Record) []byte {
	parseFields(rec, &s.f)
	b := s.msg[:0]
	if s.opts.Format == "rfc3164" {
		b = s.appendHeader3164(b, rec, &s.f)
	} else {
		b = s.appendHeader5424(b, rec, &s.f)
	}
	if s.opts.Message == "cef" {
		b = s.appendCEF(b, rec, &s.f)
	} else {
		b = appendJSON(b, rec.JSON)
	}
	s.msg = b
	return b
}

// Close flushes, half-closes the connection and waits (until ctx is done)
// for the receiver to close its side, so everything sent was read.
func (s *Sink) Close(ctx context.Context) error {
	if s.conn == nil {
		return nil
	}
	c := s.conn
	s.conn = nil
	var err error
	if s.stream {
		err = s.w.Flush()
		type closeWriter interface{ CloseWrite() error }
		if cw, ok := c.(closeWriter); ok && err == nil {
			if err = cw.CloseWrite(); err == nil {
				dl := time.Now().Add(5 * time.Second)
				if d, ok := ctx.Deadline(); ok && d.Before(dl) {
					dl = d
				}
				c.SetReadDeadline(dl)
				_, err = io.Copy(io.Discard, c)
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					err = errors.New("the receiver did not close the connection: the last records may not have been read")
				} else {
					err = nil
				}
			}
		}
	}
	if e := c.Close(); err == nil && e != nil && !errors.Is(e, net.ErrClosed) {
		err = e
	}
	if err != nil {
		return fmt.Errorf("outputs.syslog: close: %w", err)
	}
	return nil
}

// mayBeUnread is how many bytes written on c may not have been read by the
// receiver yet: our send buffer plus the most a Linux receiver buffers
// (the last field of net.ipv4.tcp_rmem), at least 1 MiB.
func mayBeUnread(c net.Conn) int64 {
	var n int64 = 6 << 20 // Linux's default tcp_rmem max
	if b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_rmem"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 3 {
			if v, err := strconv.ParseInt(f[2], 10, 64); err == nil {
				n = v
			}
		}
	}
	if sc, ok := rawConn(c); ok {
		sc.Control(func(fd uintptr) {
			if v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF); err == nil {
				n += int64(v)
			}
		})
	}
	return max(n, 1<<20)
}

// rawConn is the socket under a TCP or TLS connection.
func rawConn(c net.Conn) (syscall.RawConn, bool) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	return rc, err == nil
}

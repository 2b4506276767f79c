package source

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

// Capture engines for LiveConfig.Engine.
const (
	EngineAuto     = "auto"     // AF_PACKET on Linux (libpcap on loopback), libpcap elsewhere
	EnginePcap     = "pcap"     // libpcap
	EngineAFPacket = "afpacket" // Linux AF_PACKET TPACKET_V3 ring
)

// Defaults of LiveConfig.
const (
	DefaultSnaplen     = 262144
	DefaultBufferSize  = 32 << 20
	DefaultReadTimeout = 100 * time.Millisecond
	// MaxFanout is the most AF_PACKET sockets of one interface.
	MaxFanout = 64
)

// LiveConfig is the capture setup of one interface.
type LiveConfig struct {
	Interface string
	// Engine is EngineAuto (""), EnginePcap or EngineAFPacket.
	Engine string
	// Snaplen is the most bytes kept of each frame (default 262144).
	Snaplen int
	// Promisc puts the interface in promiscuous mode.
	Promisc bool
	// BufferSize is the kernel buffer (libpcap) or ring (AF_PACKET) size in
	// bytes (default 32 MiB). Bursts beyond it are kernel drops.
	BufferSize int
	// BPF is a tcpdump-syntax filter applied in the kernel.
	BPF string
	// ReadTimeout bounds how long Next waits before ErrTimeout (default
	// 100 ms): idle feeders still hand over partial batches and see ctx.
	ReadTimeout time.Duration
	// Fanout is how many AF_PACKET sockets share the interface's traffic
	// (a PACKET_FANOUT hash group, each socket with its own ring and the
	// BPF filter): 0 or 1 is one socket. Each socket is read by its own
	// goroutine (Live.Sockets). libpcap has one socket and ignores it.
	Fanout int
}

// WithDefaults fills zero fields.
func (c LiveConfig) WithDefaults() LiveConfig {
	if c.Engine == "" {
		c.Engine = EngineAuto
	}
	if c.Snaplen <= 0 {
		c.Snaplen = DefaultSnaplen
	}
	if c.BufferSize <= 0 {
		c.BufferSize = DefaultBufferSize
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	return c
}

// Validate checks the values that do not need the interface to exist.
func (c LiveConfig) Validate() error {
	var errs []error
	if c.Interface == "" {
		errs = append(errs, errors.New("interface name is empty"))
	}
	switch c.Engine {
	case "", EngineAuto, EnginePcap, EngineAFPacket:
	default:
		errs = append(errs, fmt.Errorf("engine %q: want auto, pcap or afpacket", c.Engine))
	}
	if c.Snaplen < 0 || c.Snaplen > 262144 {
		errs = append(errs, fmt.Errorf("snaplen %d: want 0 (default) or 1..262144", c.Snaplen))
	} else if c.Snaplen > 0 && c.Snaplen < 64 {
		errs = append(errs, fmt.Errorf("snaplen %d: below 64 bytes no header would fit", c.Snaplen))
	}
	if c.BufferSize < 0 || c.BufferSize > 1<<31-1 {
		errs = append(errs, fmt.Errorf("buffer_size %d: want 0 (default) up to 2 GiB", c.BufferSize))
	}
	if c.ReadTimeout < 0 {
		errs = append(errs, errors.New("read_timeout must not be negative"))
	}
	switch {
	case c.Fanout < 0 || c.Fanout > MaxFanout:
		errs = append(errs, fmt.Errorf("fanout %d: want 1..%d (0 = 1)", c.Fanout, MaxFanout))
	case c.Fanout > 1 && c.Engine == EnginePcap:
		errs = append(errs, fmt.Errorf("fanout %d: needs engine afpacket or auto (libpcap has one socket)", c.Fanout))
	case c.Fanout > 1 && !afpacketAvailable:
		errs = append(errs, fmt.Errorf("fanout %d: needs AF_PACKET (Linux only)", c.Fanout))
	}
	if c.BPF != "" {
		if _, err := pcap.CompileBPFFilter(layers.LinkTypeEthernet, DefaultSnaplen, c.BPF); err != nil {
			errs = append(errs, fmt.Errorf("bpf %q: %v", c.BPF, err))
		}
	}
	return errors.Join(errs...)
}

// CaptureStats are the counters of one live source. Kernel counters come
// from the capture socket; they are cumulative since Open.
type CaptureStats struct {
	Engine      string
	Frames      uint64 // frames handed to the caller
	Bytes       uint64 // their length on the wire
	Truncated   uint64 // frames cut by the snaplen
	KernelDrops uint64 // frames the kernel dropped: buffer or ring full
	IfDrops     uint64 // frames the interface or driver dropped (libpcap only)
}

// Live captures from a network interface, through one socket or, with
// LiveConfig.Fanout, several AF_PACKET sockets in one fanout group. Next
// reads the first socket; Sockets gives every socket as a Source, each for
// its own goroutine. Name, Close and Stats are the interface's: Stats sums
// every socket and may be called from any goroutine.
type Live struct {
	cfg    LiveConfig
	engine string
	link   layers.LinkType
	socks  []*liveSocket

	closed atomic.Bool

	mu              sync.Mutex // guards the sockets' stats and close, and last*
	lastDrops       []uint64   // per socket
	lastIfDrops     []uint64
	lastStatsErr    error
	handleClosedYet bool
}

// liveSocket is one capture socket of a Live.
type liveSocket struct {
	l       *Live
	read    func() ([]byte, gopacket.CaptureInfo, error)
	kstats  func() (drops, ifdrops uint64, err error)
	closeFn func()
	// skipBefore (Unix ns, 0 = none): frames stamped before the socket had
	// its BPF filter (they were neither filtered nor cut to the snaplen) or
	// before it joined its fanout group (they also went to the group) are
	// skipped.
	skipBefore int64

	frames, bytes, truncated atomic.Uint64
}

// OpenLive opens a capture on cfg.Interface, with its BPF filter set in the
// kernel. Opening needs CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous mode).
func OpenLive(cfg LiveConfig) (*Live, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("capture %s: %w", cfg.Interface, err)
	}
	engine := cfg.Engine
	if engine == EngineAuto {
		engine = EnginePcap
		// AF_PACKET sees each loopback frame twice (out and in); libpcap
		// drops the outgoing copy.
		if afpacketAvailable && !isLoopback(cfg.Interface) {
			engine = EngineAFPacket
		}
	}
	l := &Live{cfg: cfg, engine: engine}
	var err error
	switch engine {
	case EngineAFPacket:
		err = l.openAFPacket()
	default:
		err = l.openPcap()
	}
	if err != nil {
		for _, s := range l.socks {
			s.closeFn()
		}
		return nil, fmt.Errorf("capture %s (%s): %w", cfg.Interface, engine, err)
	}
	l.lastDrops, l.lastIfDrops = make([]uint64, len(l.socks)), make([]uint64, len(l.socks))
	return l, nil
}

func isLoopback(iface string) bool {
	b, err := os.ReadFile("/sys/class/net/" + iface + "/type")
	if err != nil {
		return iface == "lo"
	}
	return strings.TrimSpace(string(b)) == "772" // ARPHRD_LOOPBACK
}

func (l *Live) openPcap() error {
	in, err := pcap.NewInactiveHandle(l.cfg.Interface)
	if err != nil {
		return err
	}
	defer in.CleanUp()
	for _, set := range []error{
		in.SetSnapLen(l.cfg.Snaplen), in.SetPromisc(l.cfg.Promisc), in.SetTimeout(l.cfg.ReadTimeout),
		in.SetBufferSize(l.cfg.BufferSize),
	} {
		if set != nil {
			return set
		}
	}
	h, err := in.Activate()
	if err != nil {
		return err
	}
	if l.cfg.BPF != "" {
		if err := h.SetBPFFilter(l.cfg.BPF); err != nil {
			h.Close()
			return fmt.Errorf("bpf %q: %w", l.cfg.BPF, err)
		}
	}
	l.link = h.LinkType()
	l.socks = append(l.socks, &liveSocket{l: l, read: h.ZeroCopyReadPacketData, closeFn: h.Close,
		kstats: func() (uint64, uint64, error) {
			st, err := h.Stats()
			if err != nil {
				return 0, 0, err
			}
			return uint64(uint32(st.PacketsDropped)), uint64(uint32(st.PacketsIfDropped)), nil
		}})
	return nil
}

// Name returns the interface name.
func (l *Live) Name() string { return l.cfg.Interface }

// Engine says which capture engine is in use (pcap or afpacket).
func (l *Live) Engine() string { return l.engine }

// LinkType is the link type of every frame.
func (l *Live) LinkType() layers.LinkType { return l.link }

// Fanout is how many sockets capture: LiveConfig.Fanout with AF_PACKET,
// else 1.
func (l *Live) Fanout() int { return len(l.socks) }

// Sockets returns every capture socket as a Source, for one reading
// goroutine each (the first is the socket Next reads: read it or l, not
// both). Their Name is the interface's; their Close does nothing, as
// Live.Close closes them all.
func (l *Live) Sockets() []Source {
	out := make([]Source, len(l.socks))
	for i, s := range l.socks {
		out[i] = s
	}
	return out
}

// Next waits for the next frame on the first socket, at most the read
// timeout: then it returns ErrTimeout. After Close it returns io.EOF.
func (l *Live) Next(fr *Frame) error { return l.socks[0].Next(fr) }

// Name returns the interface name.
func (s *liveSocket) Name() string { return s.l.cfg.Interface }

// Close does nothing: the Live closes its sockets.
func (s *liveSocket) Close() error { return nil }

// Next is Live.Next on this socket.
func (s *liveSocket) Next(fr *Frame) error {
	for {
		data, ci, err := s.read()
		if err != nil {
			if s.l.closed.Load() {
				return io.EOF
			}
			if isTimeout(err) {
				return ErrTimeout
			}
			return fmt.Errorf("capture %s: %w", s.l.cfg.Interface, err)
		}
		if len(data) == 0 {
			continue
		}
		if s.skipBefore != 0 {
			if ci.Timestamp.UnixNano() < s.skipBefore {
				continue
			}
			s.skipBefore = 0 // the ring is in arrival order
		}
		fr.Data, fr.Timestamp, fr.WireLen, fr.LinkType, fr.Interface = data, ci.Timestamp, ci.Length, s.l.link, 0
		if fr.WireLen < len(data) {
			fr.WireLen = len(data)
		}
		s.frames.Add(1)
		s.bytes.Add(uint64(fr.WireLen))
		if len(data) < fr.WireLen {
			s.truncated.Add(1)
		}
		return nil
	}
}

// Stats returns the counters, summed over the sockets, asking the kernel
// for its drop counts (after Close: the last counts read, at Close).
func (l *Live) Stats() (CaptureStats, error) {
	st := CaptureStats{Engine: l.engine}
	for _, s := range l.socks {
		st.Frames += s.frames.Load()
		st.Bytes += s.bytes.Load()
		st.Truncated += s.truncated.Load()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.handleClosedYet {
		l.refreshLocked()
	}
	for i := range l.socks {
		st.KernelDrops += l.lastDrops[i]
		st.IfDrops += l.lastIfDrops[i]
	}
	return st, l.lastStatsErr
}

func (l *Live) refreshLocked() {
	l.lastStatsErr = nil
	for i, s := range l.socks {
		d, ifd, err := s.kstats()
		if err != nil {
			l.lastStatsErr = err
			continue
		}
		l.lastDrops[i], l.lastIfDrops[i] = d, ifd
	}
}

// Close reads the kernel counters a last time and stops the capture on
// every socket. Call it after the readers have returned from Next (a
// reader sees the end of its context at its next read timeout).
func (l *Live) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.handleClosedYet {
		return nil
	}
	l.refreshLocked()
	l.closed.Store(true)
	l.handleClosedYet = true
	for _, s := range l.socks {
		s.closeFn()
	}
	return nil
}

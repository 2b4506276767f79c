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

// Live captures from a network interface. Next, Name and Close are for the
// one goroutine that reads; Stats may be called from any goroutine.
type Live struct {
	cfg     LiveConfig
	engine  string
	link    layers.LinkType
	read    func() ([]byte, gopacket.CaptureInfo, error)
	kstats  func() (drops, ifdrops uint64, err error)
	closeFn func()

	frames, bytes, truncated atomic.Uint64
	closed                   atomic.Bool

	mu              sync.Mutex // guards the handle's stats and close, and last*
	lastDrops       uint64
	lastIfDrops     uint64
	lastStatsErr    error
	handleClosedYet bool
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
		return nil, fmt.Errorf("capture %s (%s): %w", cfg.Interface, engine, err)
	}
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
	l.read = h.ZeroCopyReadPacketData
	l.kstats = func() (uint64, uint64, error) {
		st, err := h.Stats()
		if err != nil {
			return 0, 0, err
		}
		return uint64(uint32(st.PacketsDropped)), uint64(uint32(st.PacketsIfDropped)), nil
	}
	l.closeFn = h.Close
	return nil
}

// Name returns the interface name.
func (l *Live) Name() string { return l.cfg.Interface }

// Engine says which capture engine is in use (pcap or afpacket).
func (l *Live) Engine() string { return l.engine }

// LinkType is the link type of every frame.
func (l *Live) LinkType() layers.LinkType { return l.link }

// Next waits for the next frame, at most the read timeout: then it returns
// ErrTimeout. After Close it returns io.EOF.
func (l *Live) Next(fr *Frame) error {
	for {
		data, ci, err := l.read()
		if err != nil {
			if l.closed.Load() {
				return io.EOF
			}
			if isTimeout(err) {
				return ErrTimeout
			}
			return fmt.Errorf("capture %s: %w", l.cfg.Interface, err)
		}
		if len(data) == 0 {
			continue
		}
		fr.Data, fr.Timestamp, fr.WireLen, fr.LinkType, fr.Interface = data, ci.Timestamp, ci.Length, l.link, 0
		if fr.WireLen < len(data) {
			fr.WireLen = len(data)
		}
		l.frames.Add(1)
		l.bytes.Add(uint64(fr.WireLen))
		if len(data) < fr.WireLen {
			l.truncated.Add(1)
		}
		return nil
	}
}

// Stats returns the counters, asking the kernel for its drop counts (after
// Close: the last counts read, at Close).
func (l *Live) Stats() (CaptureStats, error) {
	st := CaptureStats{Engine: l.engine, Frames: l.frames.Load(), Bytes: l.bytes.Load(), Truncated: l.truncated.Load()}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.handleClosedYet {
		l.refreshLocked()
	}
	st.KernelDrops, st.IfDrops = l.lastDrops, l.lastIfDrops
	return st, l.lastStatsErr
}

func (l *Live) refreshLocked() {
	d, ifd, err := l.kstats()
	l.lastStatsErr = err
	if err == nil {
		l.lastDrops, l.lastIfDrops = d, ifd
	}
}

// Close reads the kernel counters a last time and stops the capture. Call
// it after the reader has returned from Next (a reader sees the end of its
// context at its next read timeout).
func (l *Live) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.handleClosedYet {
		return nil
	}
	l.refreshLocked()
	l.closed.Store(true)
	l.handleClosedYet = true
	l.closeFn()
	return nil
}

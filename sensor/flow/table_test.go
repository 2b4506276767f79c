package flow

import (
	"crypto/sha1"
	"encoding/base64"
	"net/netip"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

func decoded(t testing.TB) []decode.Packet {
	t.Helper()
	frames := pcapgen.Frames(pcapgen.HTTPSession(netip.MustParseAddrPort("10.0.0.1:1234"), netip.MustParseAddrPort("10.0.0.2:80"), pcapgen.Epoch), pcapgen.Ethernet)
	d := decode.NewDecoder(decode.DefragConfig{}, nil)
	out := make([]decode.Packet, len(frames))
	for i, fr := range frames {
		if d.Decode(fr.Data, fr.Time, len(fr.Data), layers.LinkTypeEthernet, &out[i]) != decode.OK {
			t.Fatal("decode")
		}
		out[i].Payload = append([]byte(nil), out[i].Payload...)
	}
	return out
}

// The hot path — updating a known flow — must not allocate.
func TestUpdateKnownFlowDoesNotAllocate(t *testing.T) {
	pkts := decoded(t)
	tab := NewTable(Config{}, func(*Flow) {})
	tab.Update(&pkts[0])
	mid := pkts[3:7] // data and ACKs of an established flow
	allocs := testing.AllocsPerRun(200, func() {
		for i := range mid {
			tab.Update(&mid[i])
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per update round, want 0", allocs)
	}
}

// endAll feeds pkts to a new table, flushes it, and returns the flows that
// ended, in order.
func endAll(pkts []decode.Packet) []*Flow {
	var ended []*Flow
	tab := NewTable(Config{}, func(f *Flow) { c := *f; ended = append(ended, &c) })
	for i := range pkts {
		tab.Update(&pkts[i])
	}
	tab.Flush()
	return ended
}

func TestSessionEndsOnceWithZeekState(t *testing.T) {
	ended := endAll(decoded(t))
	if len(ended) != 1 {
		t.Fatalf("%d flows ended", len(ended))
	}
	f := ended[0]
	if f.ConnState() != "SF" || f.History() != "ShADadFf" || f.EndReason != EndFIN || f.Packets[FromOrig] != 6 || f.Packets[FromResp] != 4 {
		t.Errorf("state=%s history=%s reason=%v pkts=%v", f.ConnState(), f.History(), f.EndReason, f.Packets)
	}
}

func TestMaxFlowsEvictsLeastRecent(t *testing.T) {
	var reasons []EndReason
	tab := NewTable(Config{MaxFlows: 2}, func(f *Flow) { reasons = append(reasons, f.EndReason) })
	p := decoded(t)[0]
	for port := uint16(1); port <= 3; port++ {
		q := p
		q.SrcPort = port
		q.Timestamp = q.Timestamp.Add(timeDur(port))
		tab.Update(&q)
	}
	if len(reasons) != 1 || reasons[0] != EndEvicted || tab.Stats().Active != 2 {
		t.Errorf("reasons=%v active=%d", reasons, tab.Stats().Active)
	}
}

func TestCommunityIDSpecExamples(t *testing.T) {
	// From the spec's README: both directions give one id.
	a := CommunityID(0, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("127.0.0.1"), 1234, 80, 6, false)
	b := CommunityID(0, netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.0.0.1"), 80, 1234, 6, false)
	if a != b || len(a) != 30 {
		t.Errorf("%s vs %s", a, b)
	}
	// cid-tcp.pcap's baseline value.
	if got := CommunityID(0, netip.MustParseAddr("128.232.110.120"), netip.MustParseAddr("66.35.250.204"), 34855, 80, 6, false); got != "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" {
		t.Errorf("got %s", got)
	}
}

func timeDur(s uint16) time.Duration { return time.Duration(s) * time.Second }

// A Flow fits the 256-byte size class: with its index slot (at most 32
// bytes), a flow that never carried payload costs less than 300 bytes.
func TestFlowSize(t *testing.T) {
	if s := unsafe.Sizeof(Flow{}); s > 256 || FlowBytes != int64(s) {
		t.Errorf("Flow is %d bytes, the budget counts %d, want <= 256", s, FlowBytes)
	}
}

// Under pressure the least valuable flows go first: handshakes that never
// carried data before an older established flow with data, oldest first.
func TestEvictionSparesEstablishedFlows(t *testing.T) {
	var evicted []uint16
	tab := NewTable(Config{MaxFlows: 3}, func(f *Flow) {
		if f.EndReason == EndEvicted {
			evicted = append(evicted, f.Orig().Port)
		}
	})
	pkts := decoded(t)
	for i := range pkts[:5] { // handshake and data: established, port 1234
		tab.Update(&pkts[i])
	}
	syn := pkts[0]
	for port := uint16(1); port <= 4; port++ {
		q := syn
		q.SrcPort = port
		q.Timestamp = q.Timestamp.Add(timeDur(port))
		tab.Update(&q)
	}
	if len(evicted) != 2 || evicted[0] != 1 || evicted[1] != 2 {
		t.Errorf("evicted %v, want the two oldest SYN-only flows [1 2]", evicted)
	}
	if s := tab.Stats(); s.EvictedMaxFlows != 2 || s.EvictedMemory != 0 || s.Ended[EndEvicted] != 2 {
		t.Errorf("stats %+v", s)
	}
}

// A table on a budget holds what the budget pays for (tunnelled flows
// included), evicts for the rest, and gives every byte back when flushed.
func TestBudgetBoundsTheTable(t *testing.T) {
	b := budget.New(1 << 20)
	var ended, forMemory int
	tab := NewTable(Config{}, func(f *Flow) {
		ended++
		if f.EvictedForMemory() {
			forMemory++
		}
	})
	tab.UseBudget(b.NewAccount())
	syn := decoded(t)[0]
	const n = 20000
	for i := range n {
		q := syn
		q.Src = netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		if i%2 == 1 {
			q.Tunnel = decode.Tunnel{Type: decode.GRE, Src: q.Dst, Dst: q.Src} // costs more
		}
		tab.Update(&q)
		if used := b.Stats().Pools[budget.Flows].Used; used > 1<<20 {
			t.Fatalf("flows hold %d bytes of a 1 MiB budget", used)
		}
	}
	s := tab.Stats()
	if s.Active > (1<<20)/int(FlowBytes) || s.Active < (1<<20)/int(FlowBytes)/2 || forMemory != n-s.Active || s.EvictedMemory != uint64(forMemory) {
		t.Errorf("active %d, evicted for memory %d, stats %+v", s.Active, forMemory, s)
	}
	tab.Flush()
	if ended != n {
		t.Errorf("%d flows ended of %d", ended, n)
	}
	if used := b.Stats().Pools[budget.Flows].Used; used != 0 {
		t.Errorf("flows hold %d bytes after the flush", used)
	}
}

// A packet stamped years before the flow's others (as in a damaged capture)
// leaves the flow whole: one flow, ending at its latest packet.
func TestBackwardTimestampDoesNotSplitFlow(t *testing.T) {
	pkts := decoded(t)
	pkts[1].Timestamp = pkts[1].Timestamp.AddDate(-21, 0, 0) // the SYN-ACK
	ended := endAll(pkts)
	if len(ended) != 1 {
		t.Fatalf("%d flows ended, want 1", len(ended))
	}
	f := ended[0]
	if want := pkts[len(pkts)-1].Timestamp; !f.Last().Equal(want) || f.Duration() < 0 {
		t.Errorf("last=%v duration=%v, want last %v", f.Last(), f.Duration(), want)
	}
	if f.Packets[FromOrig]+f.Packets[FromResp] != uint64(len(pkts)) {
		t.Errorf("packets %v, want %d", f.Packets, len(pkts))
	}
}

// Prefetch is a hint: of a table without an index yet, of a faulty
// packet, of packets of flows held and not held, it neither panics nor
// changes the index or the counters, and what Update makes after it is
// what it makes without.
func TestTablePrefetchOnlyHints(t *testing.T) {
	pkts := decoded(t)
	tab, plain := NewTable(Config{}, func(*Flow) {}), NewTable(Config{}, func(*Flow) {})
	tab.Prefetch(&pkts[0]) // no index yet
	// Slots are hinted in a large index only: both tables hold a flood's
	// flows first (of other hosts, at the session's time).
	q := pkts[0]
	for i := 0; len(tab.idx.flows) < prefetchSlots; i++ {
		q.Src = netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)})
		q.SrcPort = uint16(1024 + i>>16)
		tab.Update(&q)
		plain.Update(&q)
	}
	other := pkts[0]
	other.SrcPort++ // a flow the table does not hold
	faulty := pkts[1]
	faulty.Fault = decode.TCPTruncated
	for i := range pkts {
		hashes, flows, st := slices.Clone(tab.idx.hashes), slices.Clone(tab.idx.flows), tab.Stats()
		for _, p := range []*decode.Packet{&pkts[i], &pkts[len(pkts)-1-i], &other, &faulty} {
			tab.Prefetch(p)
		}
		if !slices.Equal(hashes, tab.idx.hashes) || !slices.Equal(flows, tab.idx.flows) || tab.Stats() != st {
			t.Fatalf("packet %d: Prefetch changed the table", i)
		}
		f, d := tab.Update(&pkts[i])
		g, e := plain.Update(&pkts[i])
		if d != e || f.Packets != g.Packets || f.Bytes != g.Bytes || f.History() != g.History() {
			t.Fatalf("packet %d: %v %v %s after Prefetch, %v %v %s without", i, d, f.Packets, f.History(), e, g.Packets, g.History())
		}
	}
}

// Prefetch hints the slot where Update then looks for the packet's flow
// first: the flow's own hash, a new flow's or a known one's (unless the
// index grows meanwhile).
func TestPrefetchHintsTheHomeSlot(t *testing.T) {
	tab := NewTable(Config{}, func(*Flow) {})
	p := decoded(t)[0]
	for i := range 3000 {
		p.Src = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		p.SrcPort = uint16(1024 + i%7)
		for range 2 { // new, then known
			home, ok := tab.homeOf(&p)
			slots := len(tab.idx.flows)
			f, _ := tab.Update(&p)
			if ok && slots == len(tab.idx.flows) && home != tab.idx.home(f.hash) { // a grown index moves it
				t.Fatalf("flow %d: hinted slot %d, its home is %d", i, home, tab.idx.home(f.hash))
			}
		}
	}
	if _, ok := tab.homeOf(&p); !ok {
		t.Fatal("no slot hinted with an index")
	}
}

// CommunityID agrees with the spec's definition, worked out here with
// netip's order and the standard library, for IPv4 pairs in both orders
// (equal addresses ordered by port), one-way, and protocols without ports,
// and for IPv6 and IPv4-mapped addresses.
func TestCommunityIDMatchesSpec(t *testing.T) {
	ref := func(seed uint16, src, dst netip.Addr, sport, dport uint16, proto uint8, oneWay bool) string {
		if c := src.Compare(dst); !oneWay && (c > 0 || c == 0 && sport > dport) {
			src, dst, sport, dport = dst, src, dport, sport
		}
		b := []byte{byte(seed >> 8), byte(seed)}
		for _, a := range []netip.Addr{src, dst} {
			if a.Is4() {
				v := a.As4()
				b = append(b, v[:]...)
			} else {
				v := a.As16()
				b = append(b, v[:]...)
			}
		}
		b = append(b, proto, 0)
		if hasPorts(proto) {
			b = append(b, byte(sport>>8), byte(sport), byte(dport>>8), byte(dport))
		}
		sum := sha1.Sum(b)
		return "1:" + base64.StdEncoding.EncodeToString(sum[:])
	}
	addrs := []string{"10.0.0.1", "10.0.0.2", "9.255.255.255", "192.0.2.80", "255.255.255.255", "0.0.0.0", "2001:db8::1", "::ffff:10.0.0.1"}
	for _, seed := range []uint16{0, 0x1234} {
		for _, a := range addrs {
			for _, b := range addrs {
				src, dst := netip.MustParseAddr(a), netip.MustParseAddr(b)
				for _, proto := range []uint8{6, 17, 1, 47} {
					for _, ports := range [][2]uint16{{40000, 80}, {80, 40000}, {53, 53}} {
						for _, oneWay := range []bool{false, true} {
							want := ref(seed, src, dst, ports[0], ports[1], proto, oneWay)
							if got := CommunityID(seed, src, dst, ports[0], ports[1], proto, oneWay); got != want {
								t.Fatalf("%d %s:%d %s:%d %d %v: %s, want %s", seed, a, ports[0], b, ports[1], proto, oneWay, got, want)
							}
						}
					}
				}
			}
		}
	}
}

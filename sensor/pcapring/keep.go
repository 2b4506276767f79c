package pcapring

import (
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/pcapindex"
)

// Memory drawn from the budget (pool packets) besides the frames' bytes.
const (
	flowStateCost = 120 // a flow's depth counter, alert mark and held list, with its ID
	heldCost      = 136 // a frame held in the look-back (and in its flow's list) or for its datagram
)

// flowState is what the ring knows of one flow.
type flowState struct {
	bytes   int64 // frame bytes written
	alerted bool
	last    int64 // packet time
	// held are the flow's frames in the look-back, oldest first (some may
	// have left it: data nil): an alert writes them without a walk of the
	// whole look-back, which an attacker raising alerts on many flows
	// would turn into writer lag.
	held []*heldFrame
}

// heldFrame is a frame copied out of its batch: a fragment waiting for
// its datagram, or a frame in the look-back.
type heldFrame struct {
	flow  *flowState // in the look-back: the flow whose list holds it
	iface int32
	wire  int
	ts    int64
	data  []byte // nil once written or dropped
}

// keeper decides which frames are written: the flow's depth, and with
// keep: alerts whether the flow raised an alert (else the frame waits in
// the look-back).
type keeper struct {
	w       *writer
	flows   map[string]*flowState
	pending map[int64]*heldFrame // fragments by sequence number
	look    []*heldFrame         // look-back, oldest first
	lookAt  int                  // first live entry of look
	lookMem int64
	warned  bool // warnBudget said it
}

func (k *keeper) init(w *writer) {
	k.w = w
	k.flows = map[string]*flowState{}
	k.pending = map[int64]*heldFrame{}
}

// frame takes one frame from a batch.
func (w *writer) frame(q *qframe, data []byte) {
	w.seq++
	seq := w.seq
	w.now = max(w.now, q.ts)
	emitted := false
	w.assign.Assign(q.st, &q.pkt, pcapindex.Ref{Offset: seq, TS: q.ts, Len: int(q.wire)}, func(cid string, r pcapindex.Ref) {
		if r.Offset == seq {
			emitted = true
			w.keep.flowFrame(cid, q.iface, q.ts, int(q.wire), data)
			return
		}
		if h := w.keep.pending[r.Offset]; h != nil {
			delete(w.keep.pending, r.Offset)
			w.keep.flowFrame(cid, h.iface, h.ts, h.wire, h.data)
			w.keep.release(h)
		}
	})
	switch {
	case emitted:
	case q.st == decode.Held && q.pkt.Fragment:
		if h := w.keep.hold(nil, q.iface, q.ts, int(q.wire), data); h != nil {
			w.keep.pending[seq] = h
		} else if w.cfg.Keep == KeepAll {
			w.write("", q.iface, q.ts, int(q.wire), data)
		}
	case w.cfg.Keep == KeepAll:
		// No flow (not IP, undecodable, a fragment never completed): kept,
		// not indexed.
		w.write("", q.iface, q.ts, int(q.wire), data)
	}
}

// hold copies a frame out of its batch, if the budget has room.
func (k *keeper) hold(fs *flowState, iface int32, ts int64, wire int, data []byte) *heldFrame {
	if !k.w.acct.Reserve(budget.Packets, heldCost+int64(len(data))) {
		return nil
	}
	k.lookMem += heldCost + int64(len(data))
	return &heldFrame{flow: fs, iface: iface, ts: ts, wire: wire, data: append([]byte(nil), data...)}
}

func (k *keeper) release(h *heldFrame) {
	if h.data == nil {
		return
	}
	n := heldCost + int64(len(h.data))
	k.w.acct.Release(budget.Packets, n)
	k.lookMem -= n
	h.data = nil
}

// state returns cid's state, made if the budget has room (else nil).
func (k *keeper) state(cid string, ts int64) *flowState {
	st := k.flows[cid]
	if st == nil {
		if !k.w.acct.Reserve(budget.Packets, flowStateCost+int64(len(cid))) {
			return nil
		}
		st = &flowState{}
		k.flows[cid] = st
	}
	st.last = max(st.last, ts)
	return st
}

// refused counts a frame whose flow state the budget refused.
func (k *keeper) refused() {
	k.w.r.c.untracked.Add(1)
	k.budgetRefused(refusedState)
}

// The details of a limit.pcap_ring anomaly: constants, so that a refusal
// on every frame of a flood builds no string.
const (
	refusedState    = "memory budget spent: the pcap ring was refused a flow's state"
	refusedLookback = "memory budget spent: the pcap ring was refused look-back room"
)

// budgetRefused reports that the memory budget refused the ring room: a
// limit.pcap_ring anomaly (rate-limited) with detail, and a log line once
// (the frames it concerns are counted on /metrics and in the run summary).
func (k *keeper) budgetRefused(detail string) {
	w := k.w
	if !k.warned {
		k.warned = true
		w.r.log.Warn("pcap ring: the memory budget (limits.memory, pool packets) refused flow state or look-back room; frames are written without depth, or leave the look-back early, and are counted")
	}
	w.anom.Report(anomaly.PcapRingLimit, nil, time.Unix(0, w.now), detail)
	w.r.anomMu.Lock()
	w.r.anomalies = w.anom.Counts()
	w.r.anomMu.Unlock()
}

// flowFrame decides on a frame of flow cid.
func (k *keeper) flowFrame(cid string, iface int32, ts int64, wire int, data []byte) {
	w := k.w
	needState := w.cfg.MaxBytesPerFlow > 0 || w.cfg.Keep == KeepAlerts
	var st *flowState
	if needState {
		if st = k.state(cid, ts); st == nil {
			k.refused()
		}
	}
	if w.cfg.Keep == KeepAlerts && st == nil {
		w.r.c.evicted.Add(1) // not held: an alert could not find it
		return
	}
	if w.cfg.Keep == KeepAlerts && !st.alerted {
		k.lookback(st, iface, ts, wire, data)
		return
	}
	k.written(st, cid, iface, ts, wire, data)
}

// written writes a frame of a kept flow within its depth.
func (k *keeper) written(st *flowState, cid string, iface int32, ts int64, wire int, data []byte) {
	if d := k.w.cfg.MaxBytesPerFlow; d > 0 && st != nil {
		if st.bytes >= d {
			k.w.r.c.depthSkipped.Add(1)
			return
		}
		st.bytes += int64(len(data))
	}
	k.w.write(cid, iface, ts, wire, data)
}

// lookback holds a frame of flow st, without an alert yet, within the
// look-back's age and bytes.
func (k *keeper) lookback(st *flowState, iface int32, ts int64, wire int, data []byte) {
	k.age(ts)
	for k.lookMem+heldCost+int64(len(data)) > k.w.cfg.LookbackBytes && k.lookAt < len(k.look) {
		k.pop(&k.w.r.c.evicted)
	}
	h := k.hold(st, iface, ts, wire, data)
	if h == nil {
		k.budgetRefused(refusedLookback)
	}
	for h == nil && k.lookAt < len(k.look) { // the budget refused: make room
		k.pop(&k.w.r.c.evicted)
		h = k.hold(st, iface, ts, wire, data)
	}
	if h == nil {
		k.w.r.c.evicted.Add(1)
		return
	}
	k.look = append(k.look, h)
	st.held = append(st.held, h)
}

// age drops the look-back frames older than the look-back before now.
func (k *keeper) age(now int64) {
	limit := now - int64(k.w.cfg.Lookback)
	for k.lookAt < len(k.look) && k.look[k.lookAt].ts < limit {
		k.pop(&k.w.r.c.notKept)
	}
}

// pop drops the oldest look-back entry, counting it in c if it still held
// a frame.
func (k *keeper) pop(c interface{ Add(uint64) uint64 }) {
	h := k.look[k.lookAt]
	k.look[k.lookAt] = nil
	k.lookAt++
	// The look-back and each flow's list are oldest first: h is the first
	// of its flow's, unless an alert took them all.
	if fs := h.flow; len(fs.held) > 0 && fs.held[0] == h {
		fs.held[0] = nil
		fs.held = fs.held[1:]
	}
	if h.data != nil {
		c.Add(1)
		k.release(h)
	}
	if k.lookAt > 1024 && k.lookAt*2 > len(k.look) {
		k.look = append(k.look[:0], k.look[k.lookAt:]...)
		k.lookAt = 0
	}
}

// alert marks cid as kept and writes its frames in the look-back.
func (w *writer) alert(cid string) {
	k := &w.keep
	st := k.state(cid, w.now)
	if st == nil {
		k.refused() // and none of its frames was held
		return
	}
	if st.alerted {
		return
	}
	st.alerted = true
	for _, h := range st.held { // the flow's frames only: O(its frames)
		if h.data != nil {
			k.written(st, cid, h.iface, h.ts, h.wire, h.data)
			k.release(h)
		}
	}
	st.held = nil
}

// expire forgets idle flows and fragments whose datagram never came.
func (k *keeper) expire() {
	now := k.w.now
	k.age(now)
	for cid, st := range k.flows {
		if now-st.last > int64(k.w.cfg.FlowIdle) && len(st.held) == 0 { // its held frames need it
			delete(k.flows, cid)
			k.w.acct.Release(budget.Packets, flowStateCost+int64(len(cid)))
		}
	}
	timeout := int64(max(k.w.cfg.Defrag.Timeout, decode.DefaultDefragConfig.Timeout) + time.Second)
	for seq, h := range k.pending {
		if now-h.ts > timeout {
			delete(k.pending, seq)
			if k.w.cfg.Keep == KeepAll {
				k.w.write("", h.iface, h.ts, h.wire, h.data)
			}
			k.release(h)
		}
	}
}

// close gives every held frame's memory back; look-back frames are not
// kept (no alert came for them).
func (k *keeper) close() {
	for k.lookAt < len(k.look) {
		k.pop(&k.w.r.c.notKept)
	}
	for seq, h := range k.pending {
		delete(k.pending, seq)
		k.release(h)
	}
	for cid := range k.flows {
		k.w.acct.Release(budget.Packets, flowStateCost+int64(len(cid)))
	}
	k.flows = nil
}

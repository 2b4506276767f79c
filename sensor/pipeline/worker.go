package pipeline

import (
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/app"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
	"github.com/packetsleuth/packetsleuth/sensor/hosts"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// recordBatch is how many encoded events a worker collects before it hands
// them to the output.
const recordBatch = 256

// worker owns a shard of the flows and everything derived from them: flow
// table, application layer, enrichment and rule state. Only its own
// goroutine touches it, except the published counters.
type worker struct {
	cfg      *Config
	table    *flow.Table
	enricher Enricher
	addrs    []AddrReader // the enricher and the detector, those that are one
	detector Detector
	alert    func(*schemas.Event) // queueAlert, made once: a method value passed per event would allocate per event
	app      *app.Analyzer        // nil with FlowsOnly
	acct     *budget.Account      // this worker's share of cfg.Budget (nil: unlimited)
	anom     *anomaly.Reporter
	series   timeseries
	// obs is the observer of the events being made: in live capture its
	// ingress interface is set to the flow's before the flow's events.
	obs schemas.Observer

	ev    schemas.Event
	texts flow.Texts // the address strings of the events
	// evObs says ev holds obs as its observer still: flow events keep it
	// (clearEvent leaves the group) instead of clearing and copying it
	// each. Only with flowGroups known: no writer of ev touches it then.
	evObs  bool
	fired  []string            // rule ids of the alerts of the event emitted last
	out    *outBatch           // the events encoded since the last flush
	dlv    *delivery           // delivers out on its own goroutine; nil: flush does
	ids    schemas.IDFiller    // fills out's ids at flush, without a delivery
	enc    schemas.EncodeCache // the sensor's observer and agent, encoded once
	counts workerCounts
	// run counts the events of dataset run queued since it was last added
	// to counts.Events (countEvent): a flood's flow events one after
	// another hash the same key into the map no more.
	run     uint64
	runOf   string
	packets int
	wake    chan struct{} // another worker asks this one to give memory back (budget.Account.Fair)

	// refused is cfg.Output's count of records the budget refused room
	// (BudgetRefusals) seen last, and refusedNew says it grew: the next
	// packet reports it.
	refused    uint64
	refusedNew bool

	// flowGroups are the groups a flow event can hold, from what writes
	// into it (flow table, application layer, host table, enricher,
	// identity): its encoder looks at no other (0: an enricher that does
	// not say which it writes). evGroups is flowGroups while ev is
	// emitted as a flow event, else 0. adds are the groups the host
	// table, enricher and identity may add to any event (0: unknown).
	flowGroups, evGroups, adds schemas.Groups

	// With several workers replaying, the uses of state spanning host
	// pairs go to seq in order (sequencer): at is the order of what the
	// worker does now, later what it handed over since its last batch.
	seq    *sequencer
	seqID  int
	at     order
	later  []deferred
	number uint64 // of the last packet
	// deferred: the rules handed over uses of the event emitted last, so
	// its alerts are not all known yet.
	deferred bool
	// teaches: the packet being read is a DHCP message the host table
	// learns from (decode.Packet.TeachesHosts); no other packet's event
	// teaches it.
	teaches bool
	sender  netip.Addr // the packet's sender: Learn judges an answer's server by it
	// handed is the last mark handed to the sequencer; atMark: what the
	// worker ends is ordered at it (giveBackBetween)
	handed order
	atMark bool
	// passed tells the other workers how far this one is, and peers are
	// they all, for the host table's order (hostorder.go).
	passed atomic.Uint64
	peers  []*worker

	mu        sync.Mutex // guards published
	published workerCounts
}

type workerCounts struct {
	App    app.Stats
	Flows  flow.Stats
	Events map[string]uint64
	EncErr uint64
	OutErr uint64
}

func newWorker(cfg *Config) *worker {
	w := &worker{cfg: cfg, counts: workerCounts{Events: map[string]uint64{}}, obs: cfg.Observer, out: &outBatch{}}
	w.acct = cfg.Budget.NewAccount()
	w.table = flow.NewTable(cfg.Flow, w.flowEnded)
	w.table.UseBudget(w.acct)
	w.table.OnInterim(w.flowInterim)
	w.anom = anomaly.New(w.emit, &w.obs, cfg.AnomaliesPerSecond)
	if !cfg.FlowsOnly {
		w.app = app.New(cfg.App, &w.obs, w.emit, w.anom)
		w.app.UseBudget(w.acct)
		w.app.UseAlerts(func() []string { return w.fired })
		w.app.UseTexts(&w.texts)
	}
	if cfg.NewEnricher != nil {
		w.enricher = cfg.NewEnricher()
	}
	if cfg.NewDetector != nil {
		w.detector = cfg.NewDetector()
		w.alert = w.queueAlert
	}
	for _, u := range []any{w.enricher, w.detector} {
		if bu, ok := u.(BudgetUser); ok {
			bu.UseBudget(w.acct)
		}
		if ar, ok := u.(AddrReader); ok {
			w.addrs = append(w.addrs, ar)
		}
	}
	w.series.init(cfg, w.queue)
	w.adds = addedGroups(w)
	w.flowGroups = flowGroups(w)
	return w
}

// flowGroups returns the groups of Event w's flow events can hold.
func flowGroups(w *worker) schemas.Groups {
	if w.adds == 0 {
		return 0
	}
	g := flow.EventGroups | w.adds
	if w.app != nil {
		g |= app.FlowEndedGroups
	}
	return g
}

// addedGroups returns the groups w's host table, enricher and identity
// may write into any event it emits, or 0 for an enricher that does not
// say which it writes.
func addedGroups(w *worker) schemas.Groups {
	g := schemas.GroupAgent // Identity.Stamp
	if w.cfg.Hosts != nil {
		g |= hosts.EnrichGroups
	}
	if w.enricher != nil {
		e, ok := w.enricher.(interface{ Writes() schemas.Groups })
		if !ok {
			return 0
		}
		g |= e.Writes()
	}
	return g
}

// packet accounts one decoded packet, or reports a malformed frame.
func (w *worker) packet(p *decode.Packet) {
	if p.Fault != decode.NoFault {
		w.malformed(p)
		return
	}
	if w.acct.Owes() {
		w.giveBack()
	}
	if w.refusedNew {
		w.refusedNew = false
		w.anom.Report(anomaly.MemoryLimit, nil, p.Timestamp, outputsRefused)
	}
	f, d := w.table.Update(p)
	if p.Anomalies != 0 {
		w.packetAnomalies(f, p)
	}
	if w.app != nil {
		w.setIngress(f)
		w.teaches, w.sender = p.TeachesHosts, p.Src
		w.app.Packet(f, d, p)
		w.teaches = false
	}
	if w.cfg.Timeseries {
		w.series.add(p, f.Packets[0]+f.Packets[1] == 1)
	}
	if w.packets++; w.packets%publishEvery == 0 {
		w.publish()
	}
}

// unhold lets go of the payloads of the lasting source named name, which
// is about to close (app.Analyzer.Unhold). A memory fault reading them (the
// file was cut meanwhile) is returned, and the rest are still let go.
func (w *worker) unhold(name string) (err error) {
	if w.app == nil {
		return nil
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	for {
		fault := tryUnhold(w.app, name)
		if fault == nil {
			return err
		}
		if err == nil {
			err = fault
		}
	}
}

func tryUnhold(a *app.Analyzer, name string) (err error) {
	defer source.FaultIsError(name, &err)
	a.Unhold()
	return nil
}

// sweep expires the flows idle at packet time t (Unix ns), as the feeder
// says for all workers at once.
func (w *worker) sweep(t int64) {
	w.table.Expire(time.Unix(0, t))
}

// handLater hands the sequencer the uses since the last hand; the worker
// will hand nothing more before mark. With wait, it may wait there for
// the others (sequencer.hand).
func (w *worker) handLater(mark order, wait bool) {
	w.seq.hand(w.seqID, w.acct, w.later, mark, wait)
	w.handed = mark
	clear(w.later)
	w.later = w.later[:0]
}

// handChunk is how many uses a worker ending many flows at once (a sweep,
// the end of input) gathers before it hands them over: the sequencer then
// makes them as the others pass them, instead of holding them all.
const handChunk = 256

// handChunkFull hands the uses gathered so far if they make a chunk; the
// worker is about to end a flow at w.at, in a sweep or the end-of-input
// flush (phase 0: a packet ends few flows, and a give-back runs between
// batches, at no order of its own). It waits for the others only where
// none of them can be waiting for it: at the end of input (it has passed
// every packet), or without the host table's order (hostWait).
func (w *worker) handChunkFull() {
	if w.at.phase == 0 && len(w.later) >= handChunk {
		w.handLater(w.at, w.at.n == endOfInput || w.cfg.Hosts == nil)
	}
}

// giveBackBetween gives back between batches (giveBack). What it ends is
// handed at the last mark handed, not at the order the last batch left
// (a sweep's, below that mark): a worker's marks never go back, and its
// uses come in order.
func (w *worker) giveBackBetween() {
	if w.seq == nil {
		w.giveBack()
		return
	}
	w.at, w.atMark = w.handed, true
	w.giveBack()
	w.atMark = false
}

// giveBack sheds flows while this worker holds more than its fair share
// of the budget, for another worker that starves (budget.Account.Fair).
func (w *worker) giveBack() {
	if w.acct.Owes() {
		evict := func() { w.table.Shed(w.acct.OverShare) }
		if w.app == nil {
			evict()
		} else {
			w.app.Shed(w.acct.OverShare, evict)
		}
		w.acct.Paid()
	}
}

// tick expires what is idle at wall time now (live capture).
func (w *worker) tick(now time.Time) {
	w.table.Expire(now)
	if w.app != nil {
		w.app.Tick(now)
	}
	if w.cfg.Timeseries {
		w.series.before(now.Add(-time.Second))
	}
	w.flush()
	w.publish()
}

// finish ends every flow still open and delivers what is pending.
func (w *worker) finish() {
	w.at = order{n: endOfInput}
	w.passed.Store(endOfInput) // no other worker waits for its flush (hostWait)
	w.table.Flush()
	if w.app != nil {
		w.at.phase = 1
		w.app.Close()
	}
	if w.seq != nil {
		w.handLater(allHanded, false)
	}
	w.acct.Close()
	w.series.before(time.Time{})
	w.flush()
	if w.dlv != nil {
		w.counts.OutErr += w.dlv.close()
	}
	w.publish()
}

// setIngress names the interface of f's events (live capture: the feeder
// that read the flow's first packet).
func (w *worker) setIngress(f *flow.Flow) { w.setInterface(int(f.Interface)) }

func (w *worker) setInterface(i int) {
	if w.cfg.Live {
		w.obs.Ingress.Interface.Name = w.cfg.interfaceName(i)
		w.evObs = false
	}
}

// malformed reports a frame the decoder refused, with what was read of it.
// It has no flow: its reports are limited per address pair instead.
func (w *worker) malformed(p *decode.Packet) {
	w.setInterface(p.Interface)
	var pair uint64
	if p.IPVersion != 0 {
		pair = flow.PairHash(p)
	}
	w.anom.ReportFrame(p.Fault.Kind(), (*flow.Frame)(p), pair, p.Timestamp, p.Fault.Detail())
}

// packetAnomalies reports what the decoder noted on p, now that it has a flow.
func (w *worker) packetAnomalies(f *flow.Flow, p *decode.Packet) {
	w.setIngress(f)
	for k := range anomaly.NumKinds {
		if !p.Anomalies.Has(k) {
			continue
		}
		detail := ""
		switch {
		case k == anomaly.RSTIgnored && !f.Reported(k): // written only for an event that may go out
			detail = w.table.IgnoredRST()
		case k == anomaly.HostLimit: // the feeder's learning rate (hostorder.go)
			detail = learnRateDetail
		}
		w.anom.Report(k, f, p.Timestamp, detail)
	}
}

func (w *worker) flowEnded(f *flow.Flow) {
	w.setIngress(f)
	if w.seq != nil {
		w.orderEnd(f)
		w.handChunkFull()
	}
	switch {
	case f.EndReason != flow.EndEvicted:
	case f.EvictedForMemory():
		w.anom.Report(anomaly.MemoryLimit, f, f.Last(), "memory budget spent: least valuable flow evicted")
	default:
		w.anom.Report(anomaly.FlowLimit, f, f.Last(), "flow table full: least valuable flow evicted")
	}
	w.clearEvent()
	var addrs flow.Addrs
	if w.app != nil {
		// First: it emits the protocol events the flow still holds, and
		// the content deciding at the end may reverse the flow's sides.
		addrs = w.app.FlowEnded(f, &w.ev)
	}
	obs := &w.obs
	if w.evObs {
		obs = nil // w.ev holds it
	}
	src, dst := f.FillEventFrom(&w.ev, obs, &addrs, &w.texts)
	w.evObs = w.flowGroups != 0 && w.adds&schemas.GroupObserver == 0
	for _, ar := range w.addrs {
		ar.AddrsPrinted(src, dst, w.ev.Source.IP, w.ev.Destination.IP)
	}
	w.evGroups = w.flowGroups
	w.emit(&w.ev)
	w.evGroups = 0
}

// clearEvent empties w.ev for the next flow event, keeping the backing
// array of related.ip, and the observer while it is w.obs (evObs). Only
// flow events are made in w.ev, so only the groups they can hold are
// cleared (all of it when those are unknown), not the whole event.
func (w *worker) clearEvent() {
	ip := w.ev.Related.IP[:0]
	groups := w.flowGroups
	if groups == 0 {
		groups = ^schemas.Groups(0)
	}
	if w.evObs {
		groups &^= schemas.GroupObserver
	}
	w.ev.ClearGroups(groups)
	w.ev.Related.IP = ip
}

// orderEnd sets the order of what the end of f hands the sequencer: one
// worker's table ends the flows of a sweep class by class, the least
// recently active first, and those of the end of input by their last
// packet's time (then class and activity).
func (w *worker) orderEnd(f *flow.Flow) {
	switch {
	case w.atMark: // a give-back between batches (giveBackBetween)
	case w.at.n == endOfInput && w.at.phase == 0:
		w.at.a, w.at.b, w.at.c = f.Last().UnixNano(), int64(f.Class()), f.LastNumber(w.number)
	case w.at.phase == 0:
		w.at.a, w.at.c = int64(f.Class()), f.LastNumber(w.at.n)
	}
}

// interimClass orders a sweep's interim reports after the flows it ended.
const interimClass = 1 << 16

// flowInterim emits a long-lived flow's counters so far (flow.Config.Interim).
func (w *worker) flowInterim(f *flow.Flow) {
	w.setIngress(f)
	if w.seq != nil && w.at.phase == 0 {
		w.at.a, w.at.c = interimClass, f.LastNumber(w.at.n) // after the sweep's ended flows
	}
	w.clearEvent()
	f.FillInterimEvent(&w.ev, &w.obs)
	w.emit(&w.ev)
}

// emit enriches ev, runs the rules on it, and queues it and its alerts.
func (w *worker) emit(ev *schemas.Event) {
	if h := w.cfg.Hosts; h != nil {
		if !h.Learn(ev, w.sender, w.teaches) {
			w.anom.Report(anomaly.HostLimit, nil, ev.Timestamp, "host table full (hosts.max_entries) or memory budget spent: what the DHCP "+ev.Sensor.DHCP.MessageType+" gave is not kept")
		}
		h.Enrich(ev)
	}
	if w.enricher != nil {
		w.enricher.Enrich(ev)
	}
	w.queue(ev)
	w.fired = w.fired[:0]
	if w.detector != nil {
		uses := len(w.later)
		w.detector.Eval(ev, w.alert)
		if w.deferred = len(w.later) > uses; w.deferred {
			w.later[uses].fresh = true
		}
	}
}

func (w *worker) queueAlert(a *schemas.Event) {
	w.fired = append(w.fired, a.Rule.ID)
	w.queue(a)
}

func (w *worker) queue(ev *schemas.Event) {
	b := w.out
	start := len(b.arena)
	w.cfg.Identity.Stamp(ev)
	var id schemas.PendingID
	var err error
	if ev == &w.ev && w.evGroups != 0 {
		b.arena, id, err = w.enc.EncodeGroupsPending(b.arena, ev, w.evGroups)
	} else if g := w.appGroups(ev); g != 0 {
		b.arena, id, err = w.enc.EncodeGroupsPending(b.arena, ev, g)
	} else {
		b.arena, id, err = w.enc.EncodePending(b.arena, ev) // same capture, same ids
	}
	if err != nil {
		w.counts.EncErr++
		b.arena = b.arena[:start]
		return
	}
	w.countEvent(ev.Event.Dataset)
	doc := b.arena[start:len(b.arena):len(b.arena)]
	b.recs = append(b.recs, schemas.RecordOf(ev, doc))
	b.ids = append(b.ids, id)
	if len(b.recs) >= recordBatch {
		w.flush()
	}
}

// appGroups returns the groups ev can hold when it is the application
// layer's event and its writer said which groups it wrote, else 0.
func (w *worker) appGroups(ev *schemas.Event) schemas.Groups {
	if w.app == nil || w.adds == 0 {
		return 0
	}
	if g := w.app.EmitGroups(ev); g != 0 {
		return g | w.adds
	}
	return 0
}

// outputsRefused is the detail of the limit.memory anomaly of an output
// refused room: reported at the next packet, where the anomaly has its
// place in packet order (a flush also runs at the end of the input).
const outputsRefused = "memory budget spent: outputs refused queue room (records waited, were spooled or dropped as on_full says)"

func (w *worker) flush() {
	if len(w.out.recs) == 0 {
		return
	}
	if w.dlv != nil {
		// the batch back is the one handed two before: a fixed lag,
		// whatever the delivery's timing
		w.out = w.dlv.hand(w.out)
	} else {
		w.out.deliver(w.cfg.Output, w.cfg.Log, &w.ids)
	}
	w.counts.OutErr += w.out.errs
	w.out.errs = 0
	if w.out.refused > w.refused {
		w.refused, w.refusedNew = w.out.refused, true
	}
}

// countEvent counts an event of dataset ds: in run while the events are
// of one dataset, added to counts.Events when another comes and when the
// counts are published.
func (w *worker) countEvent(ds string) {
	if w.run > 0 && ds == w.runOf {
		w.run++
		return
	}
	w.addRun()
	w.run, w.runOf = 1, ds
}

// addRun adds the events counted in run to counts.Events.
func (w *worker) addRun() {
	if w.run > 0 {
		w.counts.Events[w.runOf] += w.run
		w.run = 0
	}
}

func (w *worker) publish() {
	w.addRun()
	if sp, ok := w.detector.(StatsPublisher); ok {
		sp.Publish()
	}
	if sp, ok := w.enricher.(StatsPublisher); ok {
		sp.Publish()
	}
	w.mu.Lock()
	// the maps published last time are refilled: addTo only sums them
	events, st := w.published.Events, w.published.App
	w.published = w.counts
	w.published.Events = app.Refill(events, w.counts.Events)
	w.published.Flows = w.table.Stats()
	if w.app != nil {
		w.published.App = st
		w.app.StatsTo(&w.published.App)
	}
	w.published.App.Anomalies = w.anom.Counts()
	w.mu.Unlock()
}

func (w *worker) addTo(s *Stats) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := &w.published
	s.addFlows(c.Flows)
	s.App.Add(c.App)
	s.addEvents(c.Events)
	s.EncodeErrors += c.EncErr
	s.OutputErrors += c.OutErr
}

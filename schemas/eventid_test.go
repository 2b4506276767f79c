package schemas

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

func encodeWithID(t *testing.T, ev *Event) (Event, string) {
	t.Helper()
	pre := []byte("garbage before")
	b, err := EncodeWithID(pre, ev)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:len(pre)]) != "garbage before" {
		t.Fatal("EncodeWithID changed bytes before buf's length")
	}
	if ev.Event.ID != "" {
		t.Fatal("EncodeWithID left an id on the event")
	}
	// the very bytes of the first implementation (a search for the
	// observer after encoding, the id inserted): ids stay what they were
	ref, err := Encode(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	if ref = addEventIDReference(ref); !bytes.Equal(ref, b[len(pre):]) {
		t.Fatalf("EncodeWithID wrote\n%s\nthe reference\n%s", b[len(pre):], ref)
	}
	var got Event
	if err := json.Unmarshal(b[len(pre):], &got); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b[len(pre):])
	}
	return got, string(b[len(pre):])
}

// addEventIDReference is the first event.id: encoded event in, the id
// inserted first in its event object (the observer and agent left out).
func addEventIDReference(doc []byte) []byte {
	i := bytes.Index(doc, []byte(`"event":{`))
	h := sha256.New()
	rest := doc
	for _, key := range []string{`"observer":`, `"agent":`} {
		o := bytes.Index(rest, []byte(key+"{"))
		if o <= 0 {
			continue
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(rest[o+len(key):]))
		if err := d.Decode(&v); err != nil {
			panic(err)
		}
		end := o + len(key) + int(d.InputOffset())
		if rest[o-1] == ',' {
			o--
		} else if end < len(rest) && rest[end] == ',' {
			end++
		}
		h.Write(rest[:o])
		rest = rest[end:]
	}
	h.Write(rest)
	id := `"id":"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
	p := i + len(`"event":{`)
	if doc[p] != '}' {
		id += ","
	}
	return append(doc[:p:p], append([]byte(id), doc[p:]...)...)
}

func TestEventID(t *testing.T) {
	ev := Event{}
	ev.Event.Kind, ev.Event.Dataset = "event", DatasetFlow
	ev.Network.CommunityID = "1:abc="
	ev.Source.IP, ev.Source.Port = "192.0.2.1", 1234
	ev.Observer.Hostname = "a"
	// a captured string that looks like the keys must not confuse it
	ev.Sensor.Notes = []string{`"event":{"observer":{}}`}
	a, doc := encodeWithID(t, &ev)
	if len(a.Event.ID) != 32 || a.Event.Kind != "event" || a.Sensor.Notes[0] != ev.Sensor.Notes[0] {
		t.Fatalf("event with its id: %s", doc)
	}
	// another host or version: the same id
	ev.Observer.Hostname, ev.Observer.Version = "b", "9.9"
	if b, _ := encodeWithID(t, &ev); b.Event.ID != a.Event.ID {
		t.Errorf("the id depends on the observer: %s vs %s", b.Event.ID, a.Event.ID)
	}
	// another sensor identity (name, site, agent): the same id
	ev.Observer.Name, ev.Observer.Geo.Name = "edge-1", "paris"
	ev.Agent = Agent{ID: "8a4f500d-6f4d-4c32-a5c4-8d0e2c0c7f1e", Name: "edge-1", Type: "packetsleuth"}
	if b, doc := encodeWithID(t, &ev); b.Event.ID != a.Event.ID || b.Agent.ID != ev.Agent.ID {
		t.Errorf("the id depends on the sensor identity: %s", doc)
	}
	// an agent without an observer: the same id
	ev.Observer = Observer{}
	if b, doc := encodeWithID(t, &ev); b.Event.ID != a.Event.ID {
		t.Errorf("the id depends on the agent: %s", doc)
	}
	ev.Agent = Agent{}
	// no observer at all (as without hostname): the same id
	ev.Observer = Observer{}
	if b, doc := encodeWithID(t, &ev); b.Event.ID != a.Event.ID {
		t.Errorf("the id depends on whether there is an observer: %s", doc)
	}
	if got := EventIDOf([]byte(doc)); string(got) != a.Event.ID {
		t.Errorf("EventIDOf = %q, want %q", got, a.Event.ID)
	}
	if got := EventIDOf([]byte(`{"dns":{"id":"x"},"event":{"kind":"event"}}`)); got != nil {
		t.Errorf("EventIDOf without an event.id = %q", got)
	}
	// any other difference: another id
	ev.Source.Port = 1235
	if c, _ := encodeWithID(t, &ev); c.Event.ID == a.Event.ID {
		t.Error("two different events share an id")
	}
}

func BenchmarkEncodeWithID(b *testing.B) {
	ev := Event{}
	ev.Event.Kind, ev.Event.Dataset = "event", DatasetFlow
	ev.Network.CommunityID = "1:e0H8FXGKa3iNVFPGza+GE3x1Op8="
	ev.Source.IP, ev.Source.Port = "10.1.0.10", 49152
	ev.Destination.IP, ev.Destination.Port = "192.0.2.80", 80
	ev.Observer.Hostname, ev.Observer.Product = "sensor", "PacketSleuth"
	buf, _ := EncodeWithID(nil, &ev)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf, _ = EncodeWithID(buf[:0], &ev)
	}
}

// BenchmarkEncodeWithIDCached is a sensor's flow event, observer and agent
// stamped, encoded with and without an EncodeCache.
func BenchmarkEncodeWithIDCached(b *testing.B) {
	ev := typicalEvents[0].ev()
	ev.Observer = Observer{Name: "edge-paris-1", Hostname: "sensor-1", Type: "sensor", Vendor: "PacketSleuth",
		Product: "PacketSleuth", Version: "0.9.0", Geo: ObserverGeo{Name: "paris-dc"}}
	ev.Observer.Ingress.Interface.Name = "eth0"
	ev.Agent = Agent{ID: "8a4f500d-6f4d-4c32-a5c4-8d0e2c0c7f1e", Name: "edge-paris-1", Type: "packetsleuth", Version: "0.9.0"}
	for _, cached := range []bool{false, true} {
		b.Run(fmt.Sprintf("cache=%v", cached), func(b *testing.B) {
			var c *EncodeCache
			if cached {
				c = new(EncodeCache)
			}
			buf, _ := c.EncodeWithID(nil, ev)
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				buf, _ = c.EncodeWithID(buf[:0], ev)
			}
		})
	}
}

// On random events (observer or none, every field filled or not, hostile
// strings), the one-pass id is the reference's.
func TestEncodeWithIDOnRandomEvents(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2026, 12))
	n := 0
	for range 3000 {
		ev := (&source{rnd: rnd}).event()
		ev.Event.ID = ""
		if _, err := Encode(nil, ev); err != nil {
			continue // refused by both (NaN, a year past 9999)
		}
		encodeWithID(t, ev)
		n++
	}
	if n < 1000 {
		t.Fatalf("only %d random events encoded", n)
	}
}

// Through an EncodeCache, events encode byte for byte as without: random
// events (with and without an id of their own) stamped with observers and
// agents drawn from a few, some changed in place between events, half of
// them at a UTC time in the second of the event before (the cache's
// formatted second) or the next, so that the cache both hits and misses.
func TestEncodeCacheAsUncached(t *testing.T) {
	rnd := rand.New(rand.NewPCG(12, 7))
	var c EncodeCache
	obs := []Observer{{}, {Name: "edge-1", Hostname: "h1", Type: "sensor", Vendor: "PacketSleuth", Product: "PacketSleuth", Version: "1.0"},
		{Name: "edge-<2>", Hostname: "h2", Geo: ObserverGeo{Name: "paris"}}}
	agents := []Agent{{}, {ID: "8a4f500d", Name: "edge-1", Type: "packetsleuth", Version: "1.0"}, {ID: "x\u2028y"}}
	hits, n := 0, 0
	var prev time.Time
	for i := range 3000 {
		ev := (&source{rnd: rnd}).event()
		if rnd.IntN(4) > 0 {
			ev.Event.ID = ""
		}
		ev.Observer, ev.Agent = obs[rnd.IntN(len(obs))], agents[rnd.IntN(len(agents))]
		if !prev.IsZero() && rnd.IntN(2) == 0 { // UTC, the second before's or the next
			ev.Timestamp = prev.UTC().Truncate(time.Second).Add(time.Duration(rnd.IntN(2))*time.Second + time.Duration(rnd.IntN(1e9)))
		}
		prev = ev.Timestamp
		if rnd.IntN(5) == 0 {
			ev.Observer.Ingress.Interface.Name = fmt.Sprint("eth", i%3)
		}
		want, errWant := EncodeWithID(nil, ev)
		before := string(c.observer.json) + string(c.agent.json)
		got, err := c.EncodeWithID(nil, ev)
		if (err != nil) != (errWant != nil) || !bytes.Equal(got, want) {
			t.Fatalf("event %d: through the cache\n%s (%v)\nwithout\n%s (%v)", i, got, err, want, errWant)
		}
		if err == nil {
			n++
			if before == string(c.observer.json)+string(c.agent.json) && before != "" {
				hits++
			}
		}
	}
	if n < 1000 || hits < n/10 {
		t.Fatalf("%d events encoded, %d with both groups from the cache", n, hits)
	}
}

// An id left pending (EncodePending) and filled later, after more events
// were appended to the buffer and it moved, is EncodeWithID's; an event
// with an id of its own has nothing pending.
func TestEncodePendingFilledLater(t *testing.T) {
	rnd := rand.New(rand.NewPCG(12, 9))
	var c EncodeCache
	var buf []byte
	type pending struct {
		from, to int
		id       PendingID
		want     []byte
	}
	var all []pending
	for range 3000 {
		ev := (&source{rnd: rnd}).event()
		if rnd.IntN(4) > 0 {
			ev.Event.ID = ""
		}
		own := ev.Event.ID != ""
		want, errWant := EncodeWithID(nil, ev)
		start := len(buf)
		out, id, err := c.EncodePending(buf, ev)
		if (err != nil) != (errWant != nil) {
			t.Fatalf("EncodePending: %v, EncodeWithID: %v", err, errWant)
		}
		if err != nil {
			continue
		}
		if own != (id == PendingID{}) {
			t.Fatalf("id %q of its own, pending %+v", ev.Event.ID, id)
		}
		buf = out
		all = append(all, pending{start, len(buf), id, want})
	}
	if len(all) < 1000 {
		t.Fatalf("only %d random events encoded", len(all))
	}
	buf = bytes.Clone(buf)
	for i, p := range all {
		doc := buf[p.from:p.to]
		p.id.Fill(doc)
		if !bytes.Equal(doc, p.want) {
			t.Fatalf("event %d filled later:\n%s\nwant\n%s", i, doc, p.want)
		}
	}
}

// An IDFiller fills a batch's pending ids two at a time as Fill does
// each: batches of random sizes (odd ones leave one alone), with events
// that have ids of their own between, give EncodeWithID's documents.
func TestIDFillerFillsAsEncodeWithID(t *testing.T) {
	rnd := rand.New(rand.NewPCG(12, 10))
	var c EncodeCache
	var f IDFiller
	n := 0
	for batch := 0; n < 3000; batch++ {
		var recs []Record
		var ids []PendingID
		var wants [][]byte
		for range 1 + rnd.IntN(7) {
			ev := (&source{rnd: rnd}).event()
			if rnd.IntN(4) > 0 {
				ev.Event.ID = ""
			}
			want, errWant := EncodeWithID(nil, ev)
			doc, id, err := c.EncodePending(nil, ev)
			if (err != nil) != (errWant != nil) {
				t.Fatalf("EncodePending: %v, EncodeWithID: %v", err, errWant)
			}
			if err != nil {
				continue
			}
			recs, ids, wants = append(recs, Record{JSON: doc}), append(ids, id), append(wants, want)
		}
		f.Fill(ids, recs)
		for i := range recs {
			if !bytes.Equal(recs[i].JSON, wants[i]) {
				t.Fatalf("batch %d, event %d of %d:\n%s\nwant\n%s", batch, i, len(recs), recs[i].JSON, wants[i])
			}
		}
		n += len(recs)
	}
}

// groupFields are the fields the Groups bits stand for, in bit order: the
// omitzero groups of Event, then those of its packetsleuth object.
func groupFields(t *testing.T) [][]int {
	isGroup := func(f reflect.StructField) bool {
		return strings.HasSuffix(f.Tag.Get("json"), ",omitzero") && f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Time]()
	}
	var root, sensor [][]int
	et := reflect.TypeFor[Event]()
	for i := range et.NumField() {
		f := et.Field(i)
		if !isGroup(f) {
			continue
		}
		root = append(root, []int{i})
		if f.Type == reflect.TypeFor[Custom]() {
			for j := range f.Type.NumField() {
				if isGroup(f.Type.Field(j)) {
					sensor = append(sensor, []int{i, j})
				}
			}
		}
	}
	all := append(root, sensor...)
	if GroupSensorDCERPC != 1<<(len(all)-1) || GroupSensor != 1<<(len(root)-1) {
		t.Fatalf("%d groups, %d of Event: the Groups constants do not match", len(all), len(root))
	}
	return all
}

// Told which groups were written, the encoder leaves out the others
// without looking: random events encode as the same events with every
// group outside the set zeroed, and with every group in it as they are.
func TestEncodeGroupsLeavesOutTheOthers(t *testing.T) {
	defer func(was func() bool) { checkGroups = was }(checkGroups)
	checkGroups = func() bool { return false } // the groups left out are set on purpose here
	fields := groupFields(t)
	rnd := rand.New(rand.NewPCG(12, 8))
	var c EncodeCache
	n := 0
	for i := range 3000 {
		ev := (&source{rnd: rnd}).event()
		ev.Event.ID = ""
		groups := Groups(rnd.Uint64())
		if i%3 == 0 {
			groups = ^Groups(0)
		}
		want := *ev
		wv := reflect.ValueOf(&want).Elem()
		for bit, index := range fields {
			if groups&(1<<bit) == 0 {
				f := wv.FieldByIndex(index)
				f.Set(reflect.Zero(f.Type()))
			}
		}
		wantJSON, errWant := EncodeWithID(nil, &want)
		got, err := c.EncodeGroupsWithID(nil, ev, groups)
		if (err != nil) != (errWant != nil) || !bytes.Equal(got, wantJSON) {
			t.Fatalf("event %d, groups %#x:\n%s (%v)\nwant\n%s (%v)", i, groups, got, err, wantJSON, errWant)
		}
		if err == nil {
			n++
		}
	}
	if n < 1000 {
		t.Fatalf("only %d random events encoded", n)
	}
}

// ClearGroups zeroes the fields that are no group and the groups named
// (those of the packetsleuth object when it is named too), and leaves the
// others as they are: named every group, it makes the event Event{}.
func TestClearGroupsZeroesTheGroupsNamed(t *testing.T) {
	fields := groupFields(t)
	bitOf := map[string]int{}
	for bit, index := range fields {
		bitOf[fmt.Sprint(index)] = bit
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		groups := Groups(rnd.Uint64())
		if i == 0 {
			groups = ^Groups(0)
		}
		var ev Event
		fillFull(reflect.ValueOf(&ev).Elem())
		want := ev
		wv := reflect.ValueOf(&want).Elem()
		zero := func(index ...int) {
			f := wv.FieldByIndex(index)
			f.Set(reflect.Zero(f.Type()))
		}
		sensor := reflect.TypeFor[Event]().NumField() - 1 // Event.Sensor is last
		for i := range wv.NumField() {
			bit, isGroup := bitOf[fmt.Sprint([]int{i})]
			switch {
			case i == sensor && groups&GroupSensor != 0:
				for j := range wv.Field(i).NumField() {
					if bit, isGroup := bitOf[fmt.Sprint([]int{i, j})]; !isGroup || groups&(1<<bit) != 0 {
						zero(i, j)
					}
				}
			case i == sensor:
			case !isGroup || groups&(1<<bit) != 0:
				zero(i)
			}
		}
		ev.ClearGroups(groups)
		if !reflect.DeepEqual(ev, want) {
			t.Fatalf("groups %#x: ClearGroups did not zero what it names, or zeroed more", groups)
		}
		if groups == ^Groups(0) && !reflect.DeepEqual(ev, Event{}) {
			t.Fatal("every group cleared: not Event{}")
		}
	}
}

// In a test binary a set group left out is a panic, not a field lost
// unseen: a writer whose declared groups fall behind fails its tests.
func TestEncodeGroupsPanicsOnASetGroupLeftOut(t *testing.T) {
	ev := Event{Timestamp: time.Unix(1, 0).UTC()}
	ev.Network.Transport = "tcp"
	ev.DNS.Type = "query"
	var c EncodeCache
	if _, err := c.EncodeGroupsWithID(nil, &ev, GroupNetwork|GroupDNS); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("the DNS group left out while set: no panic")
		}
	}()
	c.EncodeGroupsWithID(nil, &ev, GroupNetwork)
}

// A memo field's lists (tls.client.supported_ciphers) encode through an
// EncodeCache as without: a list met again is copied from the memo, one
// written into the backing array of the list before is not taken for it,
// a list too long to keep is encoded each time, and the memo keeps the
// last 8 lists.
func TestMemoListsAsUncached(t *testing.T) {
	names := []string{"TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "0x1301", "a<b"}
	var c EncodeCache
	// kept encodes l through c and without, and says whether c kept it anew.
	kept := func(l []string) bool {
		t.Helper()
		ev := &Event{Timestamp: time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC), ECS: ECS{Version: ECSVersion}}
		ev.TLS.Client.SupportedCiphers = l
		next := c.lists.next
		sameThroughCache(t, &c, ev, fmt.Sprintf("%q", l))
		return c.lists.next != next
	}
	backing := make([]string, 2)
	copy(backing, names[:2])
	if !kept(backing) {
		t.Error("a first list not kept")
	}
	if backing[0], backing[1] = names[1], names[0]; !kept(backing) {
		t.Error("a list written over the one before taken for it")
	}
	if kept([]string{names[0], names[1]}) || kept(backing) {
		t.Error("a list met again kept anew")
	}
	var long []string
	for len(long)*len(names[2]) <= memoListBytes {
		long = append(long, names[2])
	}
	for range 2 {
		if kept(long) {
			t.Error("a list past memoListBytes kept")
		}
	}
	for _, l := range [][]string{names[0:1], names[1:2], names[2:3], names[3:4], names[4:5], names[0:3], names[1:4], names[2:5]} {
		if !kept(l) {
			t.Errorf("%q: a new list not kept", l)
		}
	}
	if !kept(names[:2]) {
		t.Error("a list 8 lists back not replaced")
	}
}

// The runs of fields tagged encode:"run" (event.kind to event.reason,
// network.transport to network.direction, a flow's state to its end
// reason, ecs.version) encode through an EncodeCache as without, over
// events that take their values from small sets, so that most runs are
// met again: a list written over in place in the array it was kept from
// is not taken for the one before, nil and empty lists (null and [] for
// event.category) are told apart, and values that need escaping or
// drop a field (omitempty) are kept as written. Some events' runs are all
// copied from the memo (none kept anew), and some are kept.
func TestRunMemosAsUncached(t *testing.T) {
	rnd := rand.New(rand.NewPCG(21, 8))
	pick := func(s ...string) string { return s[rnd.IntN(len(s))] }
	lists := [][]string{nil, {}, {"network"}, {"network", "intrusion_detection"}, {"a<b", "\u2028"}}
	inPlace := []string{"connection", "end"} // written over between events
	var c EncodeCache
	hits, kept := 0, 0
	var prev *Event
	for i := range 4000 {
		ev := &Event{Timestamp: time.Date(2026, 12, 7, 23, 0, 0, i, time.UTC), ECS: ECS{Version: pick(ECSVersion, "8.17.0")}}
		if prev != nil && rnd.IntN(2) == 0 { // the runs of the event before
			ev.ECS, ev.Event, ev.Network, ev.Sensor.Flow = prev.ECS, prev.Event, prev.Network, prev.Sensor.Flow
			if rnd.IntN(4) == 0 {
				inPlace[rnd.IntN(2)] = pick("connection", "end", "start", "denied")
			}
		} else {
			randomRuns(rnd, pick, ev, lists, inPlace)
		}
		prev = ev
		next := c.runs.next
		sameThroughCache(t, &c, ev, fmt.Sprint("event ", i))
		if c.runs.next == next {
			hits++
		} else {
			kept++
		}
	}
	if hits < 100 || kept < 100 {
		t.Fatalf("%d events' runs all from the memo, %d with some kept", hits, kept)
	}
}

// sameThroughCache encodes ev with an id through c and without a cache,
// and fails t, naming the event what, where the two differ.
func sameThroughCache(t *testing.T, c *EncodeCache, ev *Event, what string) {
	t.Helper()
	want, err := EncodeWithID(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.EncodeWithID(nil, ev); !bytes.Equal(got, want) {
		t.Fatalf("%s: through the cache\n%s\nwithout\n%s", what, got, want)
	}
}

// randomRuns sets the fields of ev's runs to values of small sets.
func randomRuns(rnd *rand.Rand, pick func(...string) string, ev *Event, lists [][]string, inPlace []string) {
	m := &ev.Event
	m.Kind, m.Dataset, m.Action = pick("event", "alert"), pick(DatasetFlow, DatasetDNS, "x\"y"), pick("", "network_flow", "PS-NET-001")
	if rnd.IntN(3) == 0 { // the same text at another address
		m.Kind = strings.Clone(m.Kind)
	}
	m.Module, m.Outcome, m.Reason = pick("", "packetsleuth"), pick("", "success"), pick("", "TCP SYN flood <against> one host", "\xff")
	m.Category = lists[rnd.IntN(len(lists))]
	if m.Type = lists[rnd.IntN(len(lists))]; rnd.IntN(3) == 0 {
		m.Type = inPlace
	}
	if rnd.IntN(4) == 0 {
		inPlace[rnd.IntN(2)] = pick("connection", "end", "start", "denied")
	}
	n := &ev.Network
	n.Transport, n.Type, n.IANANumber = pick("tcp", "udp", ""), pick("ipv4", "ipv6"), pick("6", "17", "")
	n.Protocol, n.Direction, n.Bytes = pick("", "dns", "h&m"), pick("", "outbound", "inbound"), int64(rnd.IntN(3))
	f := &ev.Sensor.Flow
	f.State, f.History, f.EndReason = pick("S0", "SF", ""), pick("S", "ShADadFf", ""), pick("eof", "fin")
	f.TCPFlagsOrig, f.TCPFlagsResp = pick("S", "FSPA", ""), pick("", "SA")
}

// A run's memo keeps its own copy of the strings: a value that views a
// buffer its producer writes again (a parser's arena) is not taken for
// the value the memo saw before, whose bytes were the buffer's then.
func TestRunMemoKeepsItsOwnBytes(t *testing.T) {
	state, reason := []byte("SF"), []byte("first reason")
	ev := &Event{Timestamp: time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC), ECS: ECS{Version: ECSVersion}}
	ev.Event.Kind, ev.Event.Dataset = "event", DatasetFlow
	ev.Event.Reason = unsafe.String(&reason[0], len(reason))
	ev.Event.Category = []string{unsafe.String(&state[0], 1)}
	ev.Sensor.Flow.State = unsafe.String(&state[0], len(state))
	var c EncodeCache
	sameThroughCache(t, &c, ev, "first")
	copy(state, "S0")
	copy(reason, "other reason")
	sameThroughCache(t, &c, ev, "after the buffers were written again")
}

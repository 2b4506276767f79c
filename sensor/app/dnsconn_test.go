package app

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/parsers/dns"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/flow"
)

// A UDP DNS flow holds a Conn only while a query waits: the answered
// transaction leaves the flow without one (the Conn waits for the next
// DNS flows), a lone query takes one until the flow ends, and the events
// are those of a Conn held all along: the pair, then the query closed
// unanswered with its note.
func TestDNSFlowHoldsConnOnlyWhileQueriesWait(t *testing.T) {
	client, server := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.53:53")
	lone := slices.Clone(pcapgen.DNSQuery)
	lone[0], lone[1] = 0x56, 0x78 // another ID: nothing answers it
	pkts := pcapgen.UDPExchange(client, server, pcapgen.Epoch, pcapgen.DNSQuery, pcapgen.DNSResponse)
	pkts = append(pkts, pcapgen.UDPExchange(client, server, pcapgen.Epoch.Add(time.Second), lone, nil)[0])

	var events []schemas.Event
	a := New(Config{}, nil, func(ev *schemas.Event) { events = append(events, *ev) }, nil)
	tab := flow.NewTable(flow.Config{}, func(f *flow.Flow) { a.FlowEnded(f, &schemas.Event{}) })
	dec := decode.NewDecoder(decode.DefragConfig{}, nil)
	var p decode.Packet
	held := func(f *flow.Flow) *dns.Conn { return f.App.(*state).dns }
	for i, fr := range pcapgen.Frames(pkts, pcapgen.Ethernet) {
		if dec.Decode(fr.Data, fr.Time, len(fr.Data), layers.LinkTypeEthernet, &p) != decode.OK {
			t.Fatal("decode")
		}
		f, d := tab.Update(&p)
		a.Packet(f, d, &p)
		switch c := held(f); {
		case i == 0 && c == nil:
			t.Fatal("the query waits, but its flow holds no Conn")
		case i == 1 && (c != nil || a.dnsConns.Len() != 1):
			t.Fatalf("answered: the flow holds %p, %d Conns wait for the next flows", c, a.dnsConns.Len())
		case i == 2 && c == nil:
			t.Fatal("the lone query waits, but its flow holds no Conn")
		}
	}
	tab.Flush()
	if len(events) != 2 {
		t.Fatalf("%d events, want the transaction and the unanswered query", len(events))
	}
	if d := events[0].DNS; d.Type != "answer" || d.ID != "4660" || len(d.ResolvedIP) != 1 || d.ResolvedIP[0] != "93.184.216.34" {
		t.Errorf("first event: %+v", d)
	}
	if d, notes := events[1].DNS, events[1].Sensor.Notes; d.Type != "query" || d.ID != "22136" || !slices.Equal(notes, []string{dns.NoteNoResponse}) {
		t.Errorf("second event: %+v, notes %q", d, notes)
	}
	if a.dnsConns.Len() != 1 {
		t.Errorf("%d Conns kept after the flow ended, want the one both transactions used", a.dnsConns.Len())
	}
}

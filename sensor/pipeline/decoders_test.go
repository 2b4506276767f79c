package pipeline

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	phttp "github.com/packetsleuth/packetsleuth/parsers/http"
	"github.com/packetsleuth/packetsleuth/sensor/app"
)

// 20,000 compressed responses open at once, with decoding on, stay within
// a small budget for decoders: each body is decoded or, once the budget is
// spent, counted on the wire and noted, with limit.decoders anomalies; no
// response is lost and every reservation is given back.
func TestConcurrentCompressedResponsesWithinBudget(t *testing.T) {
	const n, plain = 20000, 20000
	body := pcapgen.GzipBody(plain)
	capture := writePackets(t, pcapgen.ConcurrentGzip(n, netip.MustParseAddrPort("192.0.2.80:80"), pcapgen.Epoch, body))

	// What the rest of the pipeline draws on the budget for this traffic.
	base := budget.New(0)
	replay(t, Config{Budget: base}, capture)
	const decoders = 16 // 1 MiB
	b := budget.New(base.Stats().Peak + decoders*phttp.DecoderFootprint)
	cfg := Config{Budget: b, App: app.Config{HTTP: phttp.Config{DecodeBodies: phttp.On, MaxDecoders: decoders}}}
	out, _ := replay(t, cfg, capture)

	var decoded, limited int
	for _, ev := range out.dataset("packetsleuth.http") {
		notes, _ := field(ev, "packetsleuth.notes").([]any)
		switch {
		case num(ev, "http.response.body.bytes") != int64(len(body)):
			t.Fatalf("body not counted on the wire: %v", field(ev, "http"))
		case num(ev, "packetsleuth.http.response_body_decoded_bytes") == plain && len(notes) == 0:
			decoded++
		case slices.Contains(notes, any(phttp.NoteDecoderLimit)):
			limited++
		default:
			t.Fatalf("neither decoded nor noted: %v %v", field(ev, "packetsleuth"), field(ev, "http"))
		}
	}
	anomalies := 0
	for _, ev := range out.dataset("packetsleuth.anomaly") {
		if str(ev, "packetsleuth.anomaly.kind") == "limit.decoders" {
			anomalies++
		}
	}
	st := b.Stats()
	t.Logf("%d responses: %d decoded, %d counted only; %d limit.decoders events; budget peak %d KiB (without decoders %d KiB)",
		n, decoded, limited, anomalies, st.Peak>>10, base.Stats().Peak>>10)
	if decoded+limited != n || decoded == 0 || decoded > decoders || limited == 0 || anomalies == 0 {
		t.Errorf("%d decoded, %d limited, %d anomalies", decoded, limited, anomalies)
	}
	if got := st.Pools[budget.Decoders]; got.Used != 0 {
		t.Errorf("decoders pool after the replay: %+v", got)
	}
	if st.Pools[budget.Flows].Denied != 0 {
		t.Errorf("decoders took the flows' room: %+v", st.Pools[budget.Flows])
	}
}

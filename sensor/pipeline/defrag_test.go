package pipeline

import (
	"path/filepath"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/budget"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/sensor/anomaly"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
)

// The hostile fragment captures end as anomaly events on the attacker's
// flows: a fragment resent with other bytes (ip.fragment_overlap, and the
// DNS query of the first copy), and a tiny-fragment flood past the bounds
// (limit.fragments), with every drop counted.
func TestHostileFragmentsBecomeAnomalies(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, c := range pcapgen.HostileFragCaptures(2000) {
		p := filepath.Join(dir, c.Name)
		if err := pcapgen.Write(p, c); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	b := budget.New(0)
	out, st := replay(t, Config{Budget: b, Defrag: decode.DefragConfig{MaxDatagrams: 500}}, paths...)
	if b.Stats().Pools[budget.Fragments].Used == 0 {
		t.Error("the incomplete datagrams held at the end drew nothing on the budget")
	}
	kinds := map[string]string{}
	for _, ev := range out.dataset("packetsleuth.anomaly") {
		kinds[str(ev, "packetsleuth.anomaly.kind")] = str(ev, "source.ip")
	}
	if kinds["ip.fragment_overlap"] != "198.51.100.66" || kinds["limit.fragments"] == "" {
		t.Errorf("anomalies (kind: source) %v", kinds)
	}
	// 2000 tiny fragments over 500 datagrams; 8191 fragments over 256 a
	// datagram (and the tiny ones still held make room for the later files').
	if st.Decode.FragLimited < 1500+pcapgen.MaxFragments/257 || st.Decode.FragConflict != 1 || st.Decode.Reassembled != 2001 {
		t.Errorf("limited %d, conflicts %d, reassembled %d", st.Decode.FragLimited, st.Decode.FragConflict, st.Decode.Reassembled)
	}
	var query string
	for _, ev := range out.dataset("packetsleuth.dns") {
		if num(ev, "source.port") == 40001 {
			query = str(ev, "dns.question.name")
		}
	}
	if query != "www.example.com" {
		t.Errorf("DNS query of the overlapped datagram %q, want the first copy's", query)
	}
	if st.App.Anomalies.Seen[anomaly.FragmentLimit] != st.Decode.FragLimited {
		t.Errorf("limit.fragments seen %v, drops %d", st.App.Anomalies.Seen, st.Decode.FragLimited)
	}
}

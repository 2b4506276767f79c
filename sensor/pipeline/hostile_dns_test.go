package pipeline

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// Every hostile DNS exchange gives its DNS event: names reached by forward
// or chained pointers are decoded as tshark decodes them, and a message
// that really is malformed (loops, a chain over the cap, a cut answer)
// still gives an event, with what was decoded and a note; each bad message
// is counted as a DNS parser error and reported as an anomaly.
func TestHostileDNSGivesEvents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dns-hostile.pcap")
	if err := pcapgen.Write(path, pcapgen.HostileDNS()); err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		out, st := replay(t, Config{Workers: workers}, path)
		events := map[string]map[string]any{}
		for _, ev := range out.dataset("packetsleuth.dns") {
			events[str(ev, "dns.id")] = ev
		}
		for _, c := range pcapgen.HostileDNSCases() {
			ev := events[strconv.Itoa(int(c.ID))]
			if ev == nil {
				t.Errorf("workers=%d %s: no DNS event", workers, c.Name)
				continue
			}
			if got := str(ev, "dns.question.name"); got != c.QName {
				t.Errorf("workers=%d %s: question name %q, want %q", workers, c.Name, got, c.QName)
			}
			var ips []string
			resolved, _ := field(ev, "dns.resolved_ip").([]any)
			for _, ip := range resolved {
				ips = append(ips, ip.(string))
			}
			if strings.Join(ips, ",") != strings.Join(c.Answers, ",") {
				t.Errorf("workers=%d %s: resolved IPs %q, want %q", workers, c.Name, ips, c.Answers)
			}
			if str(ev, "dns.type") != "answer" {
				t.Errorf("workers=%d %s: query and response not paired: %v", workers, c.Name, field(ev, "dns"))
			}
			notes, _ := field(ev, "packetsleuth.notes").([]any)
			var joined []string
			for _, n := range notes {
				joined = append(joined, n.(string))
			}
			all := strings.Join(joined, "; ")
			for _, w := range []struct {
				bad  bool
				note string
			}{{c.BadQuery, "malformed query: "}, {c.BadResponse, "malformed response: "}} {
				if strings.Contains(all, w.note) != w.bad {
					t.Errorf("workers=%d %s: notes %q; want %q: %v", workers, c.Name, all, w.note, w.bad)
				}
			}
			if c.Name == "truncated-answer" && !strings.Contains(all, "malformed response: answer at offset 33: message truncated") {
				t.Errorf("truncated-answer: notes %q", all)
			}
		}
		if got, want := st.App.ParserErrors["dns"], uint64(pcapgen.HostileDNSBadMessages()); got != want {
			t.Errorf("workers=%d: %d DNS parser errors counted, want %d", workers, got, want)
		}
		anomalies, badFlows := 0, 0
		for _, c := range pcapgen.HostileDNSCases() {
			if c.BadQuery || c.BadResponse {
				badFlows++
			}
		}
		for _, ev := range out.dataset("packetsleuth.anomaly") {
			if str(ev, "event.action") == "app.parser_error" && num(ev, "destination.port") == 53 {
				anomalies++
			}
		}
		if anomalies != badFlows { // one per flow with a bad message
			t.Errorf("workers=%d: %d parser_error anomaly events, want %d", workers, anomalies, badFlows)
		}
	}
}

package pipeline

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

var krbTypes = map[string]string{"AS-REQ": "10", "AS-REP": "11", "TGS-REQ": "12", "TGS-REP": "13", "KRB-ERROR": "30"}

// Every Kerberos KDC message tshark decodes on the shared captures agrees
// with the sensor's packetsleuth.kerberos events: the i-th request (or
// answer) tshark shows on a flow is the request (or answer) of the
// sensor's i-th event with one on that flow. Compared: the message type,
// the error code, the client name and realm, the realm, the service name
// (tshark lists every sname of the frame, the AP-REQ ticket's of a
// TGS-REQ first, so the event's must end the cell), the requested etypes,
// and for AS-REP/TGS-REP the ticket's and the enc-part's etypes (the last
// two of tshark's list, which starts with the pre-auth hints).
//
// Differences, explained: client names are compared without case (AD
// answers "Administrator" to a request for "administrator"; the event
// keeps the request's spelling, the realm the KDC's). Not compared: AP-REQ
// and AP-REP rows (14, 15) inside SMB session setups, which are not KDC
// exchanges, and the etypes of pre-authentication data and KRB-ERROR
// e-data hints, which the sensor does not report.
func TestKerberosAgreesWithTshark(t *testing.T) {
	needShared(t)
	truths, _ := filepath.Glob(filepath.Join(sharedPcaps, "truth", "*.kerberos.tsv"))
	if len(truths) == 0 {
		t.Fatal("no Kerberos truth tables")
	}
	total, agree, skipped := 0, 0, 0
	for _, truthPath := range truths {
		capture := strings.TrimSuffix(filepath.Base(truthPath), ".kerberos.tsv")
		out, _ := replay(t, Config{}, filepath.Join(sharedPcaps, capture))
		// Events by flow, in order, separately for requests and answers.
		reqs, reps := map[string][]map[string]any{}, map[string][]map[string]any{}
		for _, ev := range out.dataset("packetsleuth.kerberos") {
			k := endpointPair(str(ev, "network.transport"), str(ev, "source.ip"), fmt.Sprint(num(ev, "source.port")),
				str(ev, "destination.ip"), fmt.Sprint(num(ev, "destination.port")))
			if str(ev, "packetsleuth.kerberos.request") != "" {
				reqs[k] = append(reqs[k], ev)
			}
			if str(ev, "packetsleuth.kerberos.response") != "" {
				reps[k] = append(reps[k], ev)
			}
		}
		seen := map[string]int{}
		for _, row := range readTSV(t, truthPath) {
			typ, _, _ := strings.Cut(row["kerberos.msg_type"], ",")
			if typ == "14" || typ == "15" {
				skipped++
				continue
			}
			transport, sp, dp := "tcp", row["tcp.srcport"], row["tcp.dstport"]
			if sp == "" {
				transport, sp, dp = "udp", row["udp.srcport"], row["udp.dstport"]
			}
			k := endpointPair(transport, last(row["ip.src"]), sp, last(row["ip.dst"]), dp)
			isReq := typ == "10" || typ == "12"
			list, role := reps, "response"
			if isReq {
				list, role = reqs, "request"
			}
			i := seen[role+k]
			seen[role+k]++
			var ev map[string]any
			if i < len(list[k]) {
				ev = list[k][i]
			}
			g := func(f string) string { return fmt.Sprint(field(ev, "packetsleuth.kerberos."+f)) }
			check := func(col, want, got string, ok bool) {
				if want == "" {
					return
				}
				total++
				if ok {
					agree++
					return
				}
				t.Errorf("%s frame %s %s: tshark %q, sensor %q", capture, row["frame.number"], col, want, got)
			}
			gotType := krbTypes[str(ev, "packetsleuth.kerberos."+role)]
			check("kerberos.msg_type", typ, gotType, gotType == typ)
			if ev == nil {
				continue
			}
			ec := ""
			if field(ev, "packetsleuth.kerberos.error_code") != nil {
				ec = g("error_code")
			}
			check("kerberos.error_code", row["kerberos.error_code"], ec, ec == row["kerberos.error_code"])
			cn := strings.ReplaceAll(str(ev, "packetsleuth.kerberos.client_name"), "/", ",")
			check("kerberos.CNameString", row["kerberos.CNameString"], cn, strings.EqualFold(cn, row["kerberos.CNameString"]))
			cr := str(ev, "packetsleuth.kerberos.client_realm")
			check("kerberos.crealm", row["kerberos.crealm"], cr, cr == row["kerberos.crealm"])
			realm, _, _ := strings.Cut(row["kerberos.realm"], ",")
			r := str(ev, "packetsleuth.kerberos.realm")
			check("kerberos.realm", realm, r, r == realm)
			sn := strings.ReplaceAll(str(ev, "packetsleuth.kerberos.service"), "/", ",")
			check("kerberos.SNameString", row["kerberos.SNameString"], sn, sn != "" && strings.HasSuffix(row["kerberos.SNameString"], sn))
			if isReq {
				et := ints(field(ev, "packetsleuth.kerberos.requested_etypes"))
				check("kerberos.ENCTYPE", row["kerberos.ENCTYPE"], et, et == row["kerberos.ENCTYPE"])
			} else if typ == "11" || typ == "13" {
				cell := strings.Split(row["kerberos.etype"], ",")
				want := strings.Join(cell[max(0, len(cell)-2):], ",")
				got := g("ticket_etype") + "," + g("reply_etype")
				check("kerberos.etype", want, got, got == want)
			}
		}
	}
	t.Logf("Kerberos: %d of %d tshark cells agree (%.2f%%); %d AP-REQ/AP-REP rows not KDC exchanges", agree, total, 100*float64(agree)/float64(total), skipped)
	if total < 500 {
		t.Errorf("only %d cells compared", total)
	}
	if float64(agree) < 0.99*float64(total) {
		t.Errorf("agreement below 99%%")
	}
}

// ints joins a decoded JSON number list with commas.
func ints(v any) string {
	l, _ := v.([]any)
	s := make([]string, len(l))
	for i, x := range l {
		s[i] = fmt.Sprint(int64(x.(float64)))
	}
	return strings.Join(s, ",")
}

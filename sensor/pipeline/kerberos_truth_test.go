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
// keeps the request's spelling, the realm the KDC's). Not compared here:
// AP-REQ and AP-REP rows (14, 15) inside SMB session setups, which are not
// KDC exchanges (TestKerberosAPAgreesWithTshark compares them), and the etypes of pre-authentication data and KRB-ERROR
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
	t.Logf("Kerberos: %d of %d tshark cells agree (%.2f%%); %d AP-REQ/AP-REP rows compared by TestKerberosAPAgreesWithTshark", agree, total, 100*float64(agree)/float64(total), skipped)
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

// Every Kerberos AP-REQ tshark decodes inside an SMB session setup or a
// DCE/RPC auth trailer, and the server's AP-REP to it, agrees with the
// sensor: the session_setup event of that SMB connection, or the
// DCE/RPC events of that connection, carry the ticket's realm, service
// principal, ticket and authenticator encryption types
// (packetsleuth.{smb,dcerpc}.kerberos.*) and the answer. tshark's rows
// come from the shared Kerberos tables and, for the captures that have
// none, from testdata/truth (same recipe, see its README). Counted
// apart, not compared: the client's own AP-REP that DCE-style mutual
// authentication sends after the server's (dcerpc-drsuapi-kerberos frame
// 9), which answers nothing. tshark shows no client name for an AP-REQ
// either: it is in the encrypted authenticator.
func TestKerberosAPAgreesWithTshark(t *testing.T) {
	needShared(t)
	shared, _ := filepath.Glob(filepath.Join(sharedPcaps, "truth", "*.kerberos.tsv"))
	local, _ := filepath.Glob(filepath.Join("testdata", "truth", "*.kerberos.tsv"))
	total, agree, clientRep := 0, 0, 0
	for _, truthPath := range append(shared, local...) {
		var rows []map[string]string
		for _, row := range readTSV(t, truthPath) {
			if typ, _, _ := strings.Cut(row["kerberos.msg_type"], ","); typ == "14" || typ == "15" {
				rows = append(rows, row)
			}
		}
		if len(rows) == 0 {
			continue
		}
		capture := strings.TrimSuffix(filepath.Base(truthPath), ".kerberos.tsv")
		out, _ := replay(t, Config{}, filepath.Join(sharedPcaps, capture))
		// The sensor's AP facts per connection: one per SMB session setup,
		// one per DCE/RPC connection (every call repeats it).
		got := map[string]map[string]int{}
		seen := map[string]bool{}
		for _, ev := range append(out.dataset("packetsleuth.smb"), out.dataset("packetsleuth.dcerpc")...) {
			ds := strings.TrimPrefix(str(ev, "event.dataset"), "packetsleuth.")
			x := "packetsleuth." + ds + ".kerberos."
			if field(ev, x+"service") == nil || ds == "smb" && str(ev, "packetsleuth.smb.action") != "session_setup" {
				continue
			}
			conn := pairKey(fmt.Sprintf("%s:%d", str(ev, "source.ip"), num(ev, "source.port")),
				fmt.Sprintf("%s:%d", str(ev, "destination.ip"), num(ev, "destination.port")))
			facts := []string{
				fmt.Sprintf("AP-REQ %s %s %d,%d", str(ev, x+"realm"), strings.ReplaceAll(str(ev, x+"service"), "/", ","),
					num(ev, x+"ticket_etype"), num(ev, x+"authenticator_etype")),
				"answer " + str(ev, x+"response"),
			}
			if ds == "dcerpc" {
				if seen[conn] {
					continue
				}
				seen[conn] = true
			}
			if got[conn] == nil {
				got[conn] = map[string]int{}
			}
			for _, f := range facts {
				got[conn][f]++
			}
		}
		want := map[string]map[string]int{}
		server := map[string]string{} // connection → the endpoint an AP-REQ went to
		for _, row := range rows {
			src := last(row["ip.src"]) + ":" + row["tcp.srcport"]
			dst := last(row["ip.dst"]) + ":" + row["tcp.dstport"]
			conn := pairKey(src, dst)
			if want[conn] == nil {
				want[conn] = map[string]int{}
			}
			typ, _, _ := strings.Cut(row["kerberos.msg_type"], ",")
			if typ == "14" {
				server[conn] = dst
				want[conn][fmt.Sprintf("AP-REQ %s %s %s", row["kerberos.realm"], row["kerberos.SNameString"], row["kerberos.etype"])]++
				continue
			}
			if src != server[conn] {
				clientRep++
				continue
			}
			want[conn]["answer AP-REP"]++
		}
		for conn, facts := range want {
			for f, n := range facts {
				total += n
				k := min(n, got[conn][f])
				agree += k
				if k < n {
					t.Errorf("%s %s: %q tshark %d, sensor %d (sensor has %v)", capture, conn, f, n, got[conn][f], got[conn])
				}
			}
		}
	}
	t.Logf("Kerberos AP exchanges in SMB and DCE/RPC: %d of %d tshark facts agree; %d client AP-REPs (DCE-style third leg) not compared", agree, total, clientRep)
	if total < 10 {
		t.Errorf("only %d facts compared", total)
	}
}

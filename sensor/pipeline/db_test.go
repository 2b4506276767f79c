package pipeline

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// loginEvents replays a capture and keys its login events of dataset by
// the connection's endpoints.
func loginEvents(t *testing.T, capture, dataset string) map[string]map[string]any {
	return dbEvents(t, capture, dataset, "")
}

// dbEvents keys the events of dataset whose event.action is action by the
// connection's endpoints.
func dbEvents(t *testing.T, capture, dataset, action string) map[string]map[string]any {
	out, _ := replay(t, Config{}, filepath.Join(sharedPcaps, capture))
	evs := map[string]map[string]any{}
	for _, ev := range out.dataset(dataset) {
		if str(ev, "event.action") != action {
			continue
		}
		evs[pairKey(fmt.Sprintf("%s:%d", str(ev, "source.ip"), num(ev, "source.port")), fmt.Sprintf("%s:%d", str(ev, "destination.ip"), num(ev, "destination.port")))] = ev
	}
	return evs
}

// compareLogins runs check over the rows of every truth table of proto
// and reports the agreement.
func compareLogins(t *testing.T, proto string, min int, check func(capture string, row map[string]string, ev map[string]any, seen map[string]bool) (total, agree int)) {
	t.Helper()
	needShared(t)
	truths, _ := filepath.Glob(filepath.Join(sharedPcaps, "truth", "*."+proto+".tsv"))
	total, agree := 0, 0
	for _, truthPath := range truths {
		capture := strings.TrimSuffix(filepath.Base(truthPath), "."+proto+".tsv")
		evs := loginEvents(t, capture, "packetsleuth."+proto)
		seen := map[string]bool{}
		for _, row := range readTSV(t, truthPath) {
			key := pairKey(row["ip.src"]+":"+row["tcp.srcport"], row["ip.dst"]+":"+row["tcp.dstport"])
			n, a := check(capture, row, evs[key], seen)
			total, agree = total+n, agree+a
		}
	}
	t.Logf("%s: %d of %d tshark login cells agree (%.2f%%)", proto, agree, total, 100*float64(agree)/float64(total))
	if total < min {
		t.Errorf("only %d cells compared", total)
	}
}

func cell(t *testing.T, capture string, row map[string]string, col, want, got string) (int, int) {
	t.Helper()
	if got == want {
		return 1, 1
	}
	t.Errorf("%s frame %s %s: tshark %q, sensor %q", capture, row["frame.number"], col, want, got)
	return 1, 0
}

// Every MySQL login cell tshark fills agrees with the sensor's
// packetsleuth.mysql event of the connection: the greeting's version, the
// user and schema of the handshake response, and the login verdict (the
// first OK or ERR of the connection: 0x00 success, 0xff failure with its
// error code). Rows after the login (commands, queries, their answers)
// are compared by TestStatementVerbsAgreeWithTshark.
func TestMySQLAgreesWithTshark(t *testing.T) {
	compareLogins(t, "mysql", 20, func(capture string, row map[string]string, ev map[string]any, seen map[string]bool) (total, agree int) {
		add := func(col, want, got string) {
			if want != "" {
				n, a := cell(t, capture, row, col, want, got)
				total, agree = total+n, agree+a
			}
		}
		f := func(name string) string { return str(ev, "packetsleuth.mysql."+name) }
		add("mysql.version", row["mysql.version"], f("server_version"))
		add("mysql.user", row["mysql.user"], f("user"))
		add("mysql.schema", row["mysql.schema"], f("database"))
		key := str(ev, "network.community_id")
		if rc := row["mysql.response_code"]; (rc == "0x00" || rc == "0xff") && !seen[key] {
			seen[key] = true
			add("mysql.response_code", map[string]string{"0x00": "success", "0xff": "failure"}[rc], f("login_result"))
			add("mysql.error_code", row["mysql.error_code"], f("error_code"))
		}
		return total, agree
	})
}

// Every PostgreSQL start-up cell tshark fills agrees with the sensor's
// packetsleuth.pgsql event: user, database and application_name of the
// StartupMessage, the authentication method requested (5 md5, 10-12
// SASL, 3 cleartext; 0 is the login's success), server_version among the
// ParameterStatus values, and the SQLSTATE of an error. Rows of the
// client's password and SASL messages, and of queries, have no login
// cell and are not compared.
func TestPgSQLAgreesWithTshark(t *testing.T) {
	compareLogins(t, "pgsql", 20, func(capture string, row map[string]string, ev map[string]any, seen map[string]bool) (total, agree int) {
		add := func(col, want, got string) {
			n, a := cell(t, capture, row, col, want, got)
			total, agree = total+n, agree+a
		}
		f := func(name string) string { return str(ev, "packetsleuth.pgsql."+name) }
		if strings.HasPrefix(row["pgsql.type"], "Startup message") {
			names, values := strings.Split(row["pgsql.parameter_name"], ","), strings.Split(row["pgsql.parameter_value"], ",")
			for i, n := range names {
				if field := map[string]string{"user": "user", "database": "database", "application_name": "client"}[n]; field != "" {
					add("pgsql.parameter_value "+n, values[i], f(field))
				}
			}
		}
		if strings.Contains(row["pgsql.parameter_name"], "server_version") {
			v := f("server_version")
			ok := v != "" && strings.Contains(","+row["pgsql.parameter_value"]+",", ","+v+",")
			add("pgsql.parameter_value server_version", "present", map[bool]string{true: "present", false: v}[ok])
		}
		for _, at := range strings.Split(row["pgsql.authtype"], ",") {
			switch at {
			case "":
			case "0":
				add("pgsql.authtype 0", "success", f("login_result"))
			case "5":
				add("pgsql.authtype 5", "md5", f("auth_method"))
			case "3":
				add("pgsql.authtype 3", "cleartext", f("auth_method"))
			case "10", "11", "12":
				add("pgsql.authtype "+at, "SCRAM-SHA-256", f("auth_method"))
			default:
				add("pgsql.authtype", at, f("auth_method"))
			}
		}
		if c := row["pgsql.code"]; c != "" {
			add("pgsql.code", c, f("error_code"))
		}
		return total, agree
	})
}

// Databases on other ports are found by content; login failures and
// successes are told apart; a PostgreSQL SSL refusal then start-up is
// read; events never carry the password.
func TestGeneratedDatabaseLogins(t *testing.T) {
	var pkts []pcapgen.Packet
	srv := netip.MustParseAddrPort("10.3.0.5:13306")
	pg := netip.MustParseAddrPort("10.3.0.6:15432")
	for i, ok := range []bool{false, false, true} {
		cl := netip.AddrPortFrom(netip.MustParseAddr("198.51.100.7"), uint16(40000+i))
		pkts = append(pkts, pcapgen.MySQLLogin(cl, srv, pcapgen.Epoch.Add(time.Duration(i)*time.Second), "root", ok)...)
		pkts = append(pkts, pcapgen.PgLogin(netip.AddrPortFrom(cl.Addr(), uint16(41000+i)), pg, pcapgen.Epoch.Add(time.Duration(i)*time.Second), "postgres", ok)...)
	}
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, "db.pcap", layers.LinkTypeEthernet, pcapgen.Frames(pkts, pcapgen.Ethernet)))
	for _, ds := range []string{"packetsleuth.mysql", "packetsleuth.pgsql"} {
		evs := out.dataset(ds)
		if len(evs) != 3 {
			t.Fatalf("%s: %d events", ds, len(evs))
		}
		var outcomes []string
		for _, ev := range evs {
			outcomes = append(outcomes, str(ev, "event.outcome"))
			p := strings.TrimPrefix(ds, "packetsleuth.")
			if str(ev, "packetsleuth."+p+".database") != "shop" || str(ev, "packetsleuth."+p+".client") != "pcapgen" {
				t.Errorf("%s: %v", ds, ev["packetsleuth"])
			}
		}
		slices.Sort(outcomes)
		if !slices.Equal(outcomes, []string{"failure", "failure", "success"}) {
			t.Errorf("%s outcomes %v", ds, outcomes)
		}
	}
	for _, raw := range out.raw {
		if strings.Contains(string(raw), "c0ffee") {
			t.Errorf("password in an event: %s", raw)
		}
	}
}

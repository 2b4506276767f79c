package pipeline

import (
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/gopacket/gopacket/layers"
	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
)

// tsharkVerb is the first keyword of a query tshark printed: its first
// run of letters, upper-cased (the shared captures' queries have no
// leading comment).
func tsharkVerb(q string) string {
	q = strings.TrimLeft(q, " \t\r\n(")
	i := strings.IndexFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && r != '_' })
	if i < 0 {
		i = len(q)
	}
	return strings.ToUpper(q[:i])
}

// The statement verbs of every MySQL and PostgreSQL connection agree with
// tshark's: per connection, the first keyword of each mysql.query of a
// COM_QUERY (3) or COM_STMT_PREPARE (22) row, or of each pgsql.query of a
// Simple query or Parse row, counted per verb, against the
// statement_counts of the connection's event.action "statements" event.
// tshark's command column also names packets of the login exchange (auth
// switch responses decoded as commands 202, 125); they carry no query and
// are not statements. Connections with no statement have no statements
// event, and tshark no query row.
func TestStatementVerbsAgreeWithTshark(t *testing.T) {
	needShared(t)
	total, agree := 0, 0
	for _, proto := range []string{"mysql", "pgsql"} {
		truths, _ := filepath.Glob(filepath.Join(sharedPcaps, "truth", "*."+proto+".tsv"))
		for _, truthPath := range truths {
			capture := strings.TrimSuffix(filepath.Base(truthPath), "."+proto+".tsv")
			want := map[string]map[string]int{}
			for _, row := range readTSV(t, truthPath) {
				q := row[proto+".query"]
				isStmt := q != "" && (row["mysql.command"] == "3" || row["mysql.command"] == "22" ||
					strings.Contains(row["pgsql.type"], "Simple query") || strings.Contains(row["pgsql.type"], "Parse"))
				if !isStmt {
					continue
				}
				key := pairKey(row["ip.src"]+":"+row["tcp.srcport"], row["ip.dst"]+":"+row["tcp.dstport"])
				if want[key] == nil {
					want[key] = map[string]int{}
				}
				want[key][tsharkVerb(q)]++
			}
			evs := dbEvents(t, capture, "packetsleuth."+proto, "statements")
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range want {
					if !yield(k) {
						return
					}
				}
				for k := range evs {
					if want[k] == nil && !yield(k) {
						return
					}
				}
			})
			for _, k := range keys {
				got := map[string]int{}
				for _, c := range objs(evs[k], "packetsleuth."+proto+".statement_counts") {
					got[str(c, "verb")] = int(num(c, "count"))
				}
				n := 0
				for v, c := range want[k] {
					n += c
					total++
					if got[v] == c {
						agree++
					} else {
						t.Errorf("%s %s: tshark %d %s, sensor %d", capture, k, c, v, got[v])
					}
				}
				if gotN := int(num(evs[k], "packetsleuth."+proto+".statements")); gotN != n {
					t.Errorf("%s %s: tshark %d statements, sensor %d (%v)", capture, k, n, gotN, got)
				}
			}
		}
	}
	t.Logf("statement verbs: %d of %d tshark (connection, verb) counts agree", agree, total)
	if total < 5 {
		t.Errorf("only %d counts compared", total)
	}
}

// tsharkVerb itself: what the comparison rests on.
func TestTsharkVerb(t *testing.T) {
	for q, want := range map[string]string{"select now()": "SELECT", "show databases": "SHOW", " (select 1)": "SELECT", "": ""} {
		if got := tsharkVerb(q); got != want {
			t.Errorf("%q: %q", q, got)
		}
	}
}

// A MySQL session on another port, its commands cut into 7-byte
// segments, a verb hidden behind comments and in an executable comment,
// a statement larger than what the parser holds: the statements event
// counts them by verb, and no statement text reaches any event.
func TestGeneratedStatements(t *testing.T) {
	cl, srv := netip.MustParseAddrPort("10.3.0.9:40100"), netip.MustParseAddrPort("10.3.0.5:23306")
	big := "INSERT INTO t VALUES ('" + strings.Repeat("topsecret", 2000) + "')"
	pkts := pcapgen.MySQLSession(cl, srv, pcapgen.Epoch, 7,
		pcapgen.MySQLCommand(3, "/* harmless */ -- really\n DROP TABLE topsecret_audit"),
		pcapgen.MySQLCommand(3, "/*!40000 GRANT ALL ON *.* TO 'topsecret'@'%' */"),
		pcapgen.MySQLCommand(3, big),
		pcapgen.MySQLCommand(0x16, "select * from topsecret where id = ?"),
		pcapgen.MySQLCommand(2, "payroll"))
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, "dbstmt.pcap", layers.LinkTypeEthernet, pcapgen.Frames(pkts, pcapgen.Ethernet)))
	var stmts []map[string]any
	for _, ev := range out.dataset("packetsleuth.mysql") {
		if str(ev, "event.action") == "statements" {
			stmts = append(stmts, ev)
		}
	}
	if len(stmts) != 1 {
		t.Fatalf("%d statements events", len(stmts))
	}
	ev := stmts[0]
	if got := strings.Join(strs(ev, "packetsleuth.mysql.statement_verbs"), ","); got != "DROP,GRANT,INSERT,SELECT" ||
		num(ev, "packetsleuth.mysql.statements") != 4 || str(ev, "packetsleuth.mysql.user") != "app" ||
		strings.Join(strs(ev, "packetsleuth.mysql.databases_used"), ",") != "payroll" || str(ev, "packetsleuth.mysql.login_result") != "" {
		t.Errorf("%v", ev["packetsleuth"])
	}
	for _, raw := range out.raw {
		if strings.Contains(string(raw), "topsecret") {
			t.Errorf("statement text in an event: %.300s", raw)
		}
	}
}

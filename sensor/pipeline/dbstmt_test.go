package pipeline

import (
	"fmt"
	"maps"
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
// run of letters after white space, parentheses and comments (/* */, --
// and # to the end of the line), upper-cased.
func tsharkVerb(q string) string {
	q = strings.ReplaceAll(q, `\n`, "\n") // tshark writes a newline as \n
	for {
		q = strings.TrimLeft(q, " \t\r\n(")
		switch {
		case strings.HasPrefix(q, "/*"):
			_, q, _ = strings.Cut(q[2:], "*/")
		case strings.HasPrefix(q, "--"), strings.HasPrefix(q, "#"):
			_, q, _ = strings.Cut(q, "\n")
		default:
			i := strings.IndexFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && r != '_' })
			if i < 0 {
				i = len(q)
			}
			return strings.ToUpper(q[:i])
		}
	}
}

// The statement verbs of every MySQL and PostgreSQL connection agree with
// tshark's (compareStatements) on the shared captures.
func TestStatementVerbsAgreeWithTshark(t *testing.T) {
	needShared(t)
	total, agree := 0, 0
	for _, proto := range []string{"mysql", "pgsql"} {
		truths, _ := filepath.Glob(filepath.Join(sharedPcaps, "truth", "*."+proto+".tsv"))
		for _, truthPath := range truths {
			capture := strings.TrimSuffix(filepath.Base(truthPath), "."+proto+".tsv")
			out, _ := replay(t, Config{}, filepath.Join(sharedPcaps, capture))
			n, a := compareStatements(t, capture, proto, readTSV(t, truthPath), out, nil)
			total, agree = total+n, agree+a
		}
	}
	t.Logf("statement verbs: %d of %d tshark (connection, verb) counts agree", agree, total)
	if total < 5 {
		t.Errorf("only %d counts compared", total)
	}
}

// compareStatements checks the statements events of proto in out against
// tshark's rows: per connection, the first keyword of each mysql.query of
// a COM_QUERY (3) or COM_STMT_PREPARE (22) row, or of each pgsql.query of
// a Simple query or Parse row, counted per verb, against the
// statement_counts of the connection's event.action "statements" event.
// tshark's command column also names packets of the login exchange (auth
// switch responses decoded as commands 202, 125); they carry no query and
// are not statements. A connection with no statement has no statements
// event, and tshark no query row. It returns the counts compared and agreed.
func compareStatements(t *testing.T, capture, proto string, rows []map[string]string, out *collector, only func(key string) bool) (total, agree int) {
	t.Helper()
	if only == nil {
		only = func(string) bool { return true }
	}
	want := map[string]map[string]int{}
	for _, row := range rows {
		q := row[proto+".query"]
		isStmt := q != "" && (row["mysql.command"] == "3" || row["mysql.command"] == "22" ||
			strings.Contains(row["pgsql.type"], "Simple query") || strings.Contains(row["pgsql.type"], "Parse"))
		if !isStmt {
			continue
		}
		key := pairKey(row["ip.src"]+":"+row["tcp.srcport"], row["ip.dst"]+":"+row["tcp.dstport"])
		if !only(key) {
			continue
		}
		if want[key] == nil {
			want[key] = map[string]int{}
		}
		// A Parse row may hold several messages (pipelined): their queries
		// are comma-joined by tshark. A query may hold several statements.
		for _, one := range splitQueries(q, row["pgsql.type"]) {
			for _, stmt := range splitStatements(one) {
				want[key][tsharkVerb(stmt)]++
			}
		}
	}
	evs := map[string]map[string]any{}
	for _, ev := range out.dataset("packetsleuth." + proto) {
		key := pairKey(fmt.Sprintf("%s:%d", str(ev, "source.ip"), num(ev, "source.port")), fmt.Sprintf("%s:%d", str(ev, "destination.ip"), num(ev, "destination.port")))
		if str(ev, "event.action") == "statements" && only(key) {
			evs[key] = ev
		}
	}
	keys := slices.Sorted(maps.Keys(want))
	for k := range evs {
		if want[k] == nil {
			keys = append(keys, k)
		}
	}
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
	return total, agree
}

// splitQueries splits a row's query column into its messages' queries:
// one per Simple query or Parse message the row's type lists (tshark
// joins several with commas, which a query may hold too: only a row of
// one message is kept whole).
func splitQueries(q, types string) []string {
	n := strings.Count(types, "Parse") + strings.Count(types, "Simple query")
	if n <= 1 {
		return []string{q}
	}
	parts := strings.Split(q, ",")
	if len(parts) != n {
		return []string{q} // commas inside the queries: one count, and the comparison fails loudly
	}
	return parts
}

// splitStatements cuts a query at its semicolons outside '…' strings
// (enough for the queries compared: no comments or other quotes hold
// one), dropping empty statements.
func splitStatements(q string) []string {
	var out []string
	in, start := false, 0
	for i := 0; i <= len(q); i++ {
		switch {
		case i < len(q) && q[i] == '\'':
			in = !in
		case i == len(q) || q[i] == ';' && !in:
			if s := strings.TrimSpace(q[start:i]); s != "" || len(out) == 0 {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	return out
}

// tsharkVerb and splitStatements themselves: what the comparison rests on.
func TestTsharkVerb(t *testing.T) {
	for q, want := range map[string]string{"select now()": "SELECT", "show databases": "SHOW", " (select 1)": "SELECT", "": "",
		"/* a */ -- b\n# c\ndelete x": "DELETE", `# as tshark writes it\nselect 1`: "SELECT"} {
		if got := tsharkVerb(q); got != want {
			t.Errorf("%q: %q", q, got)
		}
	}
	for q, want := range map[string]string{"select 1;": "select 1", "": "", "begin; update t set a = 'x;y' ;commit": "begin|update t set a = 'x;y'|commit"} {
		if got := strings.Join(splitStatements(q), "|"); got != want {
			t.Errorf("%q: %q", q, got)
		}
	}
}

// A query of several statements counts every one (an attacker cannot
// hide a DROP behind a BEGIN), split where MySQL splits it, and a query
// longer than the bytes held is said to be unsplit: a statement may follow
// out of sight.
func TestGeneratedMultiStatements(t *testing.T) {
	cl, srv := netip.MustParseAddrPort("10.3.0.9:40101"), netip.MustParseAddrPort("10.3.0.5:23306")
	pkts := pcapgen.MySQLSession(cl, srv, pcapgen.Epoch, 5,
		pcapgen.MySQLCommand(3, "BEGIN; DROP TABLE topsecret_audit; COMMIT"),
		pcapgen.MySQLCommand(3, "SELECT 'a;b' /* ; */ FROM t; /*!40000 GRANT ALL ON *.* TO 'topsecret'@'%' */"),
		pcapgen.MySQLCommand(3, "SELECT '"+strings.Repeat("topsecret", 100)+"'; DROP TABLE unseen"))
	ev, out := replayStatements(t, "dbmulti.pcap", pkts)
	counts := map[string]int{}
	for _, c := range objs(ev, "packetsleuth.mysql.statement_counts") {
		counts[str(c, "verb")] = int(num(c, "count"))
	}
	if got := strings.Join(strs(ev, "packetsleuth.mysql.statement_verbs"), ","); got != "BEGIN,DROP,COMMIT,SELECT,GRANT" ||
		num(ev, "packetsleuth.mysql.statements") != 6 || counts["SELECT"] != 2 || counts["DROP"] != 1 ||
		num(ev, "packetsleuth.mysql.statements_unsplit") != 1 || ev["packetsleuth"].(map[string]any)["mysql"].(map[string]any)["statements_incomplete"] != true {
		t.Errorf("%v", ev["packetsleuth"])
	}
	for _, raw := range out.raw {
		if strings.Contains(string(raw), "topsecret") {
			t.Errorf("statement text in an event: %.300s", raw)
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
	ev, out := replayStatements(t, "dbstmt.pcap", pkts)
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

// replayStatements replays generated MySQL packets and returns the one
// statements event they give.
func replayStatements(t *testing.T, name string, pkts []pcapgen.Packet) (map[string]any, *collector) {
	t.Helper()
	out, _ := replay(t, Config{Workers: 1}, writeFrames(t, name, layers.LinkTypeEthernet, pcapgen.Frames(pkts, pcapgen.Ethernet)))
	var stmts []map[string]any
	for _, ev := range out.dataset("packetsleuth.mysql") {
		if str(ev, "event.action") == "statements" {
			stmts = append(stmts, ev)
		}
	}
	if len(stmts) != 1 {
		t.Fatalf("%d statements events", len(stmts))
	}
	return stmts[0], out
}

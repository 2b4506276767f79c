package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/jackc/pgx/v5"
	"github.com/packetsleuth/packetsleuth/sensor/source"
)

// captureLo records loopback traffic matching bpf into a pcap file while
// run runs, and returns the file.
func captureLo(t *testing.T, bpf string, run func()) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CAP_NET_RAW)")
	}
	l, err := source.OpenLive(source.LiveConfig{Interface: "lo", BPF: bpf, ReadTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	path := filepath.Join(t.TempDir(), "lo.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(262144, l.LinkType()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		var fr source.Frame
		idle := 0
		for {
			err := l.Next(&fr)
			switch {
			case errors.Is(err, source.ErrTimeout):
				select {
				case <-done:
					if idle++; idle > 5 { // what was sent before done is in
						return
					}
				default:
				}
				continue
			case err != nil:
				t.Error(err)
				return
			}
			idle = 0
			ci := gopacket.CaptureInfo{Timestamp: fr.Timestamp, CaptureLength: len(fr.Data), Length: fr.WireLen}
			if err := w.WritePacket(ci, fr.Data); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	run()
	close(done)
	wg.Wait()
	return path
}

// tsharkRows decodes a capture's proto messages with tshark, the servers'
// ports decoded as proto.
func tsharkRows(t *testing.T, path, proto string, fields ...string) []map[string]string {
	t.Helper()
	args := []string{"-r", path, "-n", "-d", "tcp.port==15432,pgsql", "-d", "tcp.port==13306,mysql", "-Y", proto,
		"-T", "fields", "-E", "header=y", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,", "-E", "quote=n",
		"-e", "frame.number", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.srcport", "-e", "tcp.dstport"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	b, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	tsv := filepath.Join(t.TempDir(), proto+".tsv")
	if err := os.WriteFile(tsv, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return readTSV(t, tsv)
}

// Real clients against the real servers (the loopback PostgreSQL and
// MariaDB of the test services), captured on lo: pgx sends statements
// without arguments as simple Query messages and those with arguments as
// Parse messages (once per distinct text: it caches prepared statements);
// go-sql-driver sends COM_QUERY, and COM_STMT_PREPARE for statements with
// arguments. The sensor's verbs per connection agree with tshark's
// decoding of the same capture, and no statement value reaches an event.
func TestLiveDatabaseStatements(t *testing.T) {
	pgDSN, myDSN := os.Getenv("PS_TEST_PG"), os.Getenv("PS_TEST_MARIADB")
	if pgDSN == "" || myDSN == "" {
		t.Skip(`PS_TEST_PG or PS_TEST_MARIADB is not set (eval "$(../../shared/services/start-all.sh postgres mariadb)")`)
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: its decoding is the truth here")
	}
	if !strings.Contains(pgDSN, "sslmode=disable") {
		t.Skip("PS_TEST_PG uses TLS: statements are not visible")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Other tests use the same servers meanwhile: only this test's own
	// connections (by their client address) are compared.
	var mu sync.Mutex
	mine := map[string]bool{}
	own := func(c net.Conn) net.Conn {
		mu.Lock()
		defer mu.Unlock()
		mine[c.LocalAddr().String()] = true
		return c
	}
	mysql.RegisterDialContext("pstest", func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return own(c), nil
	})
	path := captureLo(t, "tcp port 15432 or tcp port 13306", func() {
		pgCfg, err := pgx.ParseConfig(pgDSN)
		if err != nil {
			t.Fatal(err)
		}
		dial := pgCfg.DialFunc
		pgCfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return own(c), nil
		}
		pg, err := pgx.ConnectConfig(ctx, pgCfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"CREATE TEMP TABLE ps_stmt (id int, v text)", nil},
			{"INSERT INTO ps_stmt VALUES ($1, $2)", []any{1, "liveSECRET"}},
			{"INSERT INTO ps_stmt VALUES ($1, $2)", []any{2, "liveSECRET"}},
			{"/* report */ SELECT count(*) FROM ps_stmt WHERE v = $1", []any{"liveSECRET"}},
			{"DELETE FROM ps_stmt WHERE id = $1", []any{1}},
			{"BEGIN; DELETE FROM ps_stmt WHERE v = 'liveSECRET;'; COMMIT", nil}, // several statements in one Query
			{"DROP TABLE ps_stmt", nil},
		} {
			if _, err := pg.Exec(ctx, q.sql, q.args...); err != nil {
				t.Fatalf("%s: %v", q.sql, err)
			}
		}
		pg.Close(ctx)
		myCfg, err := mysql.ParseDSN(strings.Replace(myDSN, "@tcp(", "@pstest(", 1))
		if err != nil {
			t.Fatal(err)
		}
		myCfg.MultiStatements = true
		my, err := sql.Open("mysql", myCfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer my.Close()
		my.SetMaxOpenConns(1)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"CREATE TEMPORARY TABLE ps_stmt (id int, v text)", nil},
			{"INSERT INTO ps_stmt VALUES (?, ?)", []any{1, "liveSECRET"}},
			{"# report\nSELECT COUNT(*) FROM ps_stmt", nil},
			{"UPDATE ps_stmt SET v = ? WHERE id = ?", []any{"liveSECRET2", 1}},
			{"BEGIN; DELETE FROM ps_stmt WHERE v = 'liveSECRET;'; COMMIT", nil},
			{"DROP TEMPORARY TABLE ps_stmt", nil},
		} {
			if _, err := my.ExecContext(ctx, q.sql, q.args...); err != nil {
				t.Fatalf("%s: %v", q.sql, err)
			}
		}
	})
	out, _ := replay(t, Config{Workers: 1}, path)
	for _, c := range []struct {
		proto  string
		fields []string
		min    int
	}{
		{"pgsql", []string{"pgsql.type", "pgsql.query"}, 7},
		{"mysql", []string{"mysql.command", "mysql.query"}, 6},
	} {
		total, agree := compareStatements(t, "live "+c.proto, c.proto, tsharkRows(t, path, c.proto, c.fields...), out, func(key string) bool {
			a, b, _ := strings.Cut(key, " ")
			return mine[a] || mine[b]
		})
		t.Logf("%s: %d of %d (connection, verb) counts agree with tshark", c.proto, agree, total)
		if total < c.min {
			t.Errorf("%s: only %d counts compared", c.proto, total)
		}
	}
	for _, raw := range out.raw {
		if strings.Contains(string(raw), "liveSECRET") || strings.Contains(string(raw), "ps_stmt") {
			t.Errorf("statement text in an event: %.300s", raw)
		}
	}
}

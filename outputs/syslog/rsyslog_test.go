package syslog

// Tests against the real rsyslog of ../../../shared/services/start-rsyslog.sh.
// They skip unless PS_TEST_SYSLOG_* is set:
//
//	eval "$(../../../shared/services/start-rsyslog.sh)"; go test ./outputs/syslog

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/outputs/outputstest"
	"github.com/packetsleuth/packetsleuth/schemas"
)

const servicesDir = "../../../shared/services"

func env(t *testing.T, names ...string) []string {
	t.Helper()
	var out []string
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			t.Skipf("%s is not set: start rsyslog with eval \"$(%s/start-rsyslog.sh)\"", n, servicesDir)
		}
		out = append(out, v)
	}
	return out
}

// received is one line of rsyslog's messages.jsonl.
type received struct {
	Input          string `json:"input"`
	Facility       string `json:"facility"`
	Severity       string `json:"severity"`
	Version        string `json:"version"`
	Timestamp      string `json:"timestamp"`
	Hostname       string `json:"hostname"`
	AppName        string `json:"app_name"`
	MsgID          string `json:"msgid"`
	StructuredData string `json:"structured_data"`
	Msg            string `json:"msg"`
	RawMsg         string `json:"rawmsg"`
}

// readBack polls the rsyslog file until want messages containing marker
// arrived (or the deadline), and returns those.
func readBack(t *testing.T, marker string, want int, wait time.Duration) []received {
	t.Helper()
	path := os.Getenv("PS_TEST_SYSLOG_FILE")
	deadline := time.Now().Add(wait)
	for {
		var got []received
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if !strings.Contains(sc.Text(), marker) {
				continue
			}
			var r received
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("rsyslog line %q: %v", sc.Text(), err)
			}
			got = append(got, r)
		}
		f.Close()
		if len(got) >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// events makes n ECS records whose event.id is marker-i.
func events(marker string, from, to int) []schemas.Record {
	var out []schemas.Record
	for i := from; i < to; i++ {
		ev := schemas.Event{Timestamp: time.Now().UTC()}
		ev.Event.ID = fmt.Sprintf("%s-%d", marker, i)
		ev.Event.Kind = "event"
		ev.Event.Dataset = schemas.DatasetFlow
		ev.Source.IP, ev.Source.Port = "192.0.2.1", 1000+i
		ev.Network.Transport = "udp"
		rec, _ := schemas.NewRecord(&ev)
		out = append(out, rec)
	}
	return out
}

func runAndClose(t *testing.T, o Options, recs []schemas.Record) outputs.Stats {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r, err := outputs.NewRunner(s, outputs.SinkConfig{Type: "syslog", BatchSize: 50, FlushInterval: time.Millisecond, RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond},
		outputs.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Enqueue(recs); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return r.Stats()
}

func marker(t *testing.T) string {
	return fmt.Sprintf("%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
}

// checkIDs checks that every id marker-0..n-1 arrived at least once (and
// exactly once when exact), and returns how many arrived more than once.
func checkIDs(t *testing.T, got []received, m string, n int, exact bool) (dups int) {
	t.Helper()
	count := map[string]int{}
	for _, r := range got {
		i := strings.Index(r.StructuredData, `id="`)
		if i < 0 {
			t.Fatalf("no id in structured data %q", r.StructuredData)
		}
		id := r.StructuredData[i+4:]
		id = id[:strings.IndexByte(id, '"')]
		count[id]++
	}
	missing, dup := 0, 0
	for i := range n {
		c := count[fmt.Sprintf("%s-%d", m, i)]
		if c == 0 {
			missing++
			if missing <= 5 {
				t.Errorf("event %d never arrived", i)
			}
		}
		if c > 1 {
			dup++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d events lost", missing, n)
	}
	if exact && dup > 0 {
		t.Errorf("%d events arrived twice", dup)
	}
	t.Logf("%d events, %d messages received, %d duplicated", n, len(got), dup)
	return dup
}

func TestRsyslogTransports(t *testing.T) {
	addrs := env(t, "PS_TEST_SYSLOG_UDP", "PS_TEST_SYSLOG_TCP", "PS_TEST_SYSLOG_TLS", "PS_TEST_SYSLOG_MTLS", "PS_TEST_SYSLOG_FILE", "PS_TEST_CA", "PS_TEST_CLIENT_CERT", "PS_TEST_CLIENT_KEY")
	ca, cert, key := addrs[5], addrs[6], addrs[7]
	for _, tc := range []struct {
		name  string
		input string
		opts  Options
	}{
		{"udp", "udp", Options{Network: "udp", Address: addrs[0]}},
		{"tcp", "tcp", Options{Network: "tcp", Address: addrs[1]}},
		{"tcp-lf", "tcp", Options{Network: "tcp", Address: addrs[1], Framing: "lf"}},
		{"tls", "tls", Options{Network: "tls", Address: addrs[2], CA: ca}},
		{"mtls", "mtls", Options{Network: "tls", Address: addrs[3], CA: ca, Cert: cert, Key: key}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := marker(t)
			tc.opts.Hostname = "ps-test"
			tc.opts.Facility = "local3"
			n := 200
			if tc.input == "udp" {
				n = 50 // loopback UDP drops under bursts; at-least-once is for streams
			}
			runAndClose(t, tc.opts, events(m, 0, n))
			got := readBack(t, m, n, 10*time.Second)
			checkIDs(t, got, m, n, true)
			r := got[0]
			if r.Input != tc.input || r.Version != "1" || r.Hostname != "ps-test" || r.AppName != "packetsleuth" ||
				r.MsgID != "flow" || r.Facility != "19" || r.Severity != "6" {
				t.Errorf("parsed header %+v", r)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(r.Msg)), &doc); err != nil {
				t.Errorf("message is not the ECS JSON: %q: %v", r.Msg, err)
			}
			// microseconds, as sent, in the raw message
			if !strings.Contains(r.RawMsg, ".") || strings.Count(strings.Fields(r.RawMsg)[1], "")-1 != len("2026-11-24T10:00:00.123456Z") {
				t.Errorf("timestamp in %q is not RFC 3339 with microseconds", strings.Fields(r.RawMsg)[1])
			}
		})
	}
	t.Run("mtls-without-cert-is-refused", func(t *testing.T) {
		s, err := New(Options{Network: "tls", Address: addrs[3], CA: ca})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = s.Connect(ctx)
		if err == nil {
			// TLS 1.3 reports a missing client certificate on first use
			err = s.Write(ctx, events(marker(t), 0, 1))
			if err == nil {
				time.Sleep(100 * time.Millisecond)
				err = s.Write(ctx, events(marker(t), 1, 2))
			}
		}
		if err == nil {
			t.Error("mTLS without a client certificate was accepted")
		}
		s.Close(ctx)
	})
}

// The outputs' Fanout uses its copies of the records again once every
// output is done with them: each message must still carry its own event.
func TestRsyslogSharedCopies(t *testing.T) {
	addr := env(t, "PS_TEST_SYSLOG_TCP", "PS_TEST_SYSLOG_FILE")[0]
	s, err := New(Options{Network: "tcp", Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	m := marker(t)
	recs := events(m, 0, 3000)
	if sum := outputstest.WriteShared(t, s, outputs.SinkConfig{Name: "syslog", Type: "syslog"}, recs, 64); sum.Sent != uint64(len(recs)) {
		t.Fatalf("summary %v", sum)
	}
	got := readBack(t, m, len(recs), 20*time.Second)
	checkIDs(t, got, m, len(recs), true)
	want := map[string]string{}
	for _, r := range recs {
		want[string(schemas.EventIDOf(r.JSON))] = string(r.JSON)
	}
	for _, r := range got {
		var ev schemas.Event
		msg := strings.TrimSpace(r.Msg)
		if err := json.Unmarshal([]byte(msg), &ev); err != nil || msg != want[ev.Event.ID] {
			t.Fatalf("message %.100q is not the event written (%v)", msg, err)
		}
	}
}

func TestRsyslogRFC3164AndCEF(t *testing.T) {
	addr := env(t, "PS_TEST_SYSLOG_TCP", "PS_TEST_SYSLOG_FILE")[0]
	m := marker(t)
	recs := events(m, 0, 1)
	al := alertRecord(80)
	al.JSON = []byte(strings.Replace(string(al.JSON), `"id":"a\"b]c\\d"`, `"id":"`+m+`-cef"`, 1))
	runAndClose(t, Options{Network: "tcp", Address: addr, Format: "rfc3164", Hostname: "old-host"}, recs)
	runAndClose(t, Options{Network: "tcp", Address: addr, Message: "cef"}, []schemas.Record{al})
	got := readBack(t, m, 2, 10*time.Second)
	if len(got) != 2 {
		t.Fatalf("got %d messages", len(got))
	}
	old := got[0]
	if old.Hostname != "old-host" || old.AppName != "packetsleuth" || old.Severity != "6" || !strings.Contains(old.Msg, m+"-0") {
		t.Errorf("RFC 3164 message parsed as %+v", old)
	}
	cef := got[1]
	if !strings.HasPrefix(cef.Msg, "CEF:0|PacketSleuth|PacketSleuth|1|PS-0001|Port scan \\| horizontal|8|") || cef.Severity != "3" {
		t.Errorf("CEF message %+v", cef)
	}
	hdr, ext := splitCEF(t, cef.Msg)
	if len(hdr) != 7 || ext["externalId"] != m+"-cef" || ext["dpt"] != "22" {
		t.Errorf("CEF read back: %q %v", hdr, ext)
	}
}

func script(t *testing.T, name string) {
	t.Helper()
	cmd := exec.Command("bash", servicesDir+"/"+name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// TestRsyslogRestartLosesNothing stops rsyslog in the middle of a steady
// stream over TCP and TLS and starts it again: every event must arrive at
// least once.
func TestRsyslogRestartLosesNothing(t *testing.T) {
	addrs := env(t, "PS_TEST_SYSLOG_TCP", "PS_TEST_SYSLOG_TLS", "PS_TEST_SYSLOG_FILE", "PS_TEST_CA")
	if _, err := os.Stat(servicesDir + "/stop-rsyslog.sh"); err != nil {
		t.Skipf("service scripts not found: %v", err)
	}
	type stream struct {
		name string
		opts Options
		m    string
		r    *outputs.Runner
		dir  string
	}
	streams := []*stream{
		{name: "tcp", opts: Options{Network: "tcp", Address: addrs[0]}},
		{name: "tls", opts: Options{Network: "tls", Address: addrs[1], CA: addrs[3]}},
	}
	const n = 1500
	for _, st := range streams {
		st.m = marker(t) + "-" + st.name
		s, err := New(st.opts)
		if err != nil {
			t.Fatal(err)
		}
		st.dir = t.TempDir()
		st.r, err = outputs.NewRunner(s, outputs.SinkConfig{Type: "syslog", Name: st.name, BatchSize: 20, FlushInterval: 2 * time.Millisecond,
			RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond, SpoolAfter: 500 * time.Millisecond, SpoolDir: st.dir, OnFull: outputs.PolicySpool},
			outputs.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, st := range streams {
		wg.Go(func() {
			for i := range n {
				st.r.Enqueue(events(st.m, i, i+1))
				time.Sleep(time.Millisecond)
			}
		})
	}
	time.Sleep(400 * time.Millisecond)
	script(t, "stop-rsyslog.sh")
	time.Sleep(1500 * time.Millisecond)
	t.Cleanup(func() { exec.Command("bash", servicesDir+"/start-rsyslog.sh").Run() })
	script(t, "start-rsyslog.sh")
	wg.Wait()
	for _, st := range streams {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		sum, err := st.r.Close(ctx)
		cancel()
		if err != nil {
			t.Errorf("%s: Close: %v (%+v)", st.name, err, sum)
		}
		stats := st.r.Stats()
		t.Logf("%s: sent %d, retried %d, errors %d, reconnects %d, spooled %d", st.name, stats.Sent, stats.Retried, stats.Errors, stats.Reconnects, stats.Spooled)
		if stats.Errors == 0 {
			t.Errorf("%s: the outage was not noticed", st.name)
		}
	}
	for _, st := range streams {
		t.Run(st.name, func(t *testing.T) {
			dups := checkIDs(t, readBack(t, st.m, n, 20*time.Second), st.m, n, false)
			// duplicates are reported as possible duplicates, and nothing
			// is claimed delivered that may be lost
			if stats := st.r.Stats(); uint64(dups) > stats.Resent || stats.PossiblyLost != 0 {
				t.Errorf("%d duplicates at the receiver, %d reported resent, %d possibly lost", dups, stats.Resent, stats.PossiblyLost)
			}
		})
	}
}

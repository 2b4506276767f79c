package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store"
)

// browser returns a chromedp context: our own headless Chromium when
// PS_TEST_CHROMIUM is set (always behind the dead loopback proxy, so
// nothing leaves the machine), else the shared one at PS_TEST_CDP.
func browser(t *testing.T) context.Context {
	t.Helper()
	var actx context.Context
	var cancel context.CancelFunc
	switch {
	case os.Getenv("PS_TEST_CHROMIUM") != "":
		// The profile is removed after the browser is gone (cleanups run
		// last-in first-out); Chromium's helpers may still write to it for a
		// moment, so this is not t.TempDir, whose removal must succeed.
		profile, err := os.MkdirTemp("", "ps-chromedp-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if os.RemoveAll(profile) != nil {
				time.Sleep(500 * time.Millisecond)
				os.RemoveAll(profile)
			}
		})
		opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(os.Getenv("PS_TEST_CHROMIUM")), chromedp.UserDataDir(profile),
			chromedp.WindowSize(1400, 1000)}
		proxy := false
		for _, f := range strings.Fields(os.Getenv("PS_TEST_CHROMIUM_FLAGS")) {
			k, v, ok := strings.Cut(strings.TrimPrefix(f, "--"), "=")
			if k == "proxy-server" {
				proxy = true
			}
			if ok {
				opts = append(opts, chromedp.Flag(k, v))
			} else {
				opts = append(opts, chromedp.Flag(k, true))
			}
		}
		if !proxy {
			opts = append(opts, chromedp.Flag("headless", true), chromedp.Flag("proxy-server", "http://127.0.0.1:9"))
		}
		actx, cancel = chromedp.NewExecAllocator(context.Background(), opts...)
	case os.Getenv("PS_TEST_CDP") != "":
		actx, cancel = chromedp.NewRemoteAllocator(context.Background(), strings.Replace(os.Getenv("PS_TEST_CDP"), "http://", "ws://", 1))
	default:
		t.Skip("no headless Chromium: set PS_TEST_CHROMIUM (and PS_TEST_CHROMIUM_FLAGS) or PS_TEST_CDP, see ../../shared/services/start-chromium.sh")
	}
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(1400, 1000)); err != nil {
		t.Fatalf("start the browser: %v", err)
	}
	return ctx
}

// addTraffic stores two hours of one-minute traffic buckets ending at end,
// with a burst near the end, so the chart has a peak to mark.
func addTraffic(t *testing.T, st *store.Store, end time.Time) {
	var evs []*schemas.Event
	start := end.Truncate(time.Minute).Add(-2 * time.Hour)
	for i := range 120 {
		ev := schemas.Event{Timestamp: start.Add(time.Duration(i) * time.Minute)}
		ev.Event.Kind, ev.Event.Dataset = "metric", schemas.DatasetTimeseries
		b := int64(40_000 + 5_000*(i%7))
		if i == 100 {
			b = 900_000
		}
		ev.Sensor.Traffic = schemas.Traffic{Interface: "eth0", Bytes: b, Packets: b / 500, Flows: 10 + int64(i%5),
			BytesByProtocol: map[string]int64{"tcp": b * 3 / 4, "udp": b / 4}}
		evs = append(evs, &ev)
	}
	insertEvents(t, st, evs...)
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", p, len(png))
}

// uiLogin logs in as admin / s3cret-pass through the login form and
// waits for the dashboard.
func uiLogin(t *testing.T, ctx context.Context, hs *httptest.Server) {
	t.Helper()
	err := chromedp.Run(ctx,
		chromedp.Navigate(hs.URL+"/"),
		chromedp.WaitVisible("#login-form", chromedp.ByQuery),
		chromedp.SendKeys("#login-user", "admin", chromedp.ByQuery),
		chromedp.SendKeys("#login-password", "s3cret-pass", chromedp.ByQuery),
		chromedp.Click(`#login-form button[type="submit"]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitView(t, ctx, "dashboard")
}

func waitView(t *testing.T, ctx context.Context, view string) {
	t.Helper()
	if err := chromedp.Run(ctx, chromedp.WaitVisible(`body[data-ready="`+view+`"]`, chromedp.ByQuery)); err != nil {
		var msg string
		chromedp.Run(ctx, chromedp.Text("#main", &msg, chromedp.ByQuery))
		t.Fatalf("view %s did not render: %v (page says %q)", view, err, msg)
	}
}

func attrInt(t *testing.T, ctx context.Context, sel, attr string) int64 {
	t.Helper()
	var v string
	var ok bool
	if err := chromedp.Run(ctx, chromedp.AttributeValue(sel, attr, &v, &ok, chromedp.ByQuery)); err != nil || !ok {
		t.Fatalf("%s[%s]: %v", sel, attr, err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s[%s] = %q", sel, attr, v)
	}
	return n
}

func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	var n int
	if err := chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf("document.querySelectorAll(%q).length", sel), &n)); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUIEndToEnd logs in through the form, checks the dashboard's numbers
// against the API, marks peaks, clicks from the flows list to a flow's
// detail page, watches live connections and acknowledges an alert.
func TestUIEndToEnd(t *testing.T) {
	ctx := browser(t)
	st, _, set := replayStore(t)
	_, newest, err := st.Bounds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	addTraffic(t, st, newest)
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret-pass"), bcrypt.MinCost)
	_, hs := testServer(t, Config{Store: st, Rules: set, Live: newFakeLive(), Version: "e2e",
		Auth: Auth{Token: outputs.Secret(testToken), User: "admin", PasswordHash: outputs.Secret(hash)}})

	uiLogin(t, ctx, hs) // through the form

	// The dashboard's totals are the API's.
	var top TopAnswer
	get(t, hs, "/api/v1/top", &top)
	var sum struct{ Rules []AlertSummary }
	get(t, hs, "/api/v1/alerts/summary", &sum)
	var alerts int64
	for _, r := range sum.Rules {
		alerts += r.Count
	}
	if top.Totals.Flows == 0 || alerts == 0 {
		t.Fatalf("empty store: %+v, %d alerts", top.Totals, alerts)
	}
	for sel, want := range map[string]int64{"#total-bytes": top.Totals.Bytes, "#total-packets": top.Totals.Packets,
		"#total-flows": top.Totals.Flows, "#alert-count": alerts} {
		if got := attrInt(t, ctx, sel, "data-value"); got != want {
			t.Errorf("dashboard %s = %d, API says %d", sel, got, want)
		}
	}
	var flowsText string
	chromedp.Run(ctx, chromedp.Text("#total-flows", &flowsText, chromedp.ByQuery))
	if flowsText != strconv.FormatInt(top.Totals.Flows, 10) && strings.ReplaceAll(flowsText, ",", "") != strconv.FormatInt(top.Totals.Flows, 10) {
		t.Errorf("flows card shows %q, want %d", flowsText, top.Totals.Flows)
	}
	var protoBars int
	chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll('#proto-chart rect.bar').length`, &protoBars))
	var protos TopAnswer
	get(t, hs, "/api/v1/top?group=network.protocol&limit=8", &protos)
	if protoBars != len(protos.Rows) {
		t.Errorf("protocol chart has %d bars, API %d protocols", protoBars, len(protos.Rows))
	}

	// Last day of data: the chart marks the API's peaks (the burst is one).
	err = chromedp.Run(ctx, chromedp.Evaluate(`(() => { const s = document.getElementById('range'); s.value = '24h'; s.dispatchEvent(new Event('change')); })()`, nil))
	if err != nil {
		t.Fatal(err)
	}
	waitView(t, ctx, "dashboard")
	until := newest.Add(time.Second)
	var ser SeriesAnswer
	get(t, hs, "/api/v1/series?points=240&since="+url.QueryEscape(until.Add(-24*time.Hour).Format(time.RFC3339Nano))+
		"&until="+url.QueryEscape(until.Format(time.RFC3339Nano)), &ser)
	if len(ser.Peaks) == 0 {
		t.Fatal("the API finds no peak in the last day of data")
	}
	if n := count(t, ctx, "#traffic-chart circle.peak"); n != len(ser.Peaks) {
		t.Errorf("chart marks %d peaks, API reports %d", n, len(ser.Peaks))
	}
	screenshot(t, ctx, "dashboard.png")

	// Flows list -> click a DNS flow -> its detail page pivots on the
	// community id to the DNS events.
	if err := chromedp.Run(ctx, chromedp.Navigate(hs.URL+"/#/flows?protocol=dns")); err != nil {
		t.Fatal(err)
	}
	chromedp.Run(ctx, chromedp.Evaluate(`(() => { const s = document.getElementById('range'); s.value = 'all'; })()`, nil))
	waitView(t, ctx, "flows")
	var href string
	var ok bool
	if err := chromedp.Run(ctx, chromedp.AttributeValue("#flows-table a.flow-link", "href", &href, &ok, chromedp.ByQuery)); err != nil || !ok {
		t.Fatalf("no flow link: %v", err)
	}
	cid, _ := url.PathUnescape(strings.TrimPrefix(href, "#/flow/"))
	if err := chromedp.Run(ctx, chromedp.Click("#flows-table a.flow-link", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitView(t, ctx, "flow")
	var shown string
	chromedp.Run(ctx, chromedp.Text("#flow-cid", &shown, chromedp.ByQuery))
	if shown != cid || cid == "" {
		t.Fatalf("flow page shows %q, link was to %q", shown, cid)
	}
	var dns, flows ListPage
	get(t, hs, "/api/v1/events?dataset=dns&limit=200&community_id="+url.QueryEscape(cid), &dns)
	get(t, hs, "/api/v1/flows?limit=200&community_id="+url.QueryEscape(cid), &flows)
	if len(dns.Items) == 0 {
		t.Fatalf("API has no DNS events for %s", cid)
	}
	if n := count(t, ctx, "#flow-dns tbody tr"); n != len(dns.Items) {
		t.Errorf("flow page lists %d DNS events, API %d", n, len(dns.Items))
	}
	if n := count(t, ctx, "#flow-flows tbody tr"); n != len(flows.Items) {
		t.Errorf("flow page lists %d connection records, API %d", n, len(flows.Items))
	}
	screenshot(t, ctx, "flow.png")

	// Live connections, then filtered by port.
	if err := chromedp.Run(ctx, chromedp.Navigate(hs.URL+"/#/connections"), chromedp.WaitVisible("#conn-table", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if n := count(t, ctx, "#conn-table tbody tr"); n != 5 {
		t.Errorf("%d live connections shown, want 5", n)
	}
	screenshot(t, ctx, "connections.png")
	err = chromedp.Run(ctx,
		chromedp.SendKeys("#conn-port", "53", chromedp.ByQuery),
		chromedp.Click(`#main form.filters button[type="submit"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelectorAll('#conn-table tbody tr').length === 1`, nil, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatalf("port filter: %v", err)
	}

	// Alerts: acknowledge the first one through the UI (POST with the CSRF
	// header and the session cookie).
	var before ListPage
	get(t, hs, "/api/v1/alerts?unacked=true&limit=1000", &before)
	if err := chromedp.Run(ctx, chromedp.Navigate(hs.URL+"/#/alerts")); err != nil {
		t.Fatal(err)
	}
	waitView(t, ctx, "alerts")
	// The port scan's alert explains itself: its rule's message and the
	// ports it counted.
	err = chromedp.Run(ctx, chromedp.Poll(`[...document.querySelectorAll('#alerts-table .why')].some(w =>
		/probed \d+ ports of/.test(w.textContent) && /counted \(\d+\): \d+/.test(w.textContent))`, nil, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("alert explanation: %v", err)
	}
	err = chromedp.Run(ctx,
		chromedp.Click("#alerts-table button.ack", chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#alerts-table button.ack').textContent === 'Unacknowledge'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatalf("acknowledge: %v", err)
	}
	var after ListPage
	get(t, hs, "/api/v1/alerts?unacked=true&limit=1000", &after)
	if len(after.Items) != len(before.Items)-1 {
		t.Errorf("unacknowledged alerts %d -> %d, want one fewer", len(before.Items), len(after.Items))
	}
	screenshot(t, ctx, "alerts.png")

	// The remaining views render what the API says.
	var rl struct{ Rules []RuleInfo }
	get(t, hs, "/api/v1/rules", &rl)
	var talk TopAnswer
	get(t, hs, "/api/v1/top?group=destination.port&by=flows&limit=25", &talk)
	for _, v := range []struct {
		hash, view, rows string
		want             int
	}{
		{"#/rules", "rules", "#rules-table tbody tr", len(rl.Rules)},
		{"#/talkers?group=destination.port&by=flows", "talkers", "#talkers-table tbody tr", len(talk.Rows)},
		{"#/status", "status", "#st-outputs tbody tr", 1}, // the "no outputs" row
	} {
		if err := chromedp.Run(ctx, chromedp.Navigate(hs.URL+"/"+v.hash)); err != nil {
			t.Fatal(err)
		}
		waitView(t, ctx, v.view)
		if n := count(t, ctx, v.rows); n != v.want {
			t.Errorf("%s: %d rows, want %d", v.hash, n, v.want)
		}
	}
	var mode string
	chromedp.Run(ctx, chromedp.Text("#st-mode", &mode, chromedp.ByQuery))
	if mode != "live" {
		t.Errorf("status page shows mode %q, want live", mode)
	}

	// Logging out ends the session: the API refuses the old cookie.
	if err := chromedp.Run(ctx, chromedp.Click("#logout", chromedp.ByQuery), chromedp.WaitVisible("#login-form", chromedp.ByQuery)); err != nil {
		t.Fatalf("logout: %v", err)
	}
}

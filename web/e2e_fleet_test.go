package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store/storetest"
)

// TestUIFleet drives the central view of three reporting sensors and one
// silent for an hour (storetest.Fleet plus edge-old): the Sensors page
// lists them with site, version, heartbeat, packets, drops and collector
// lag, edge-old marked stale; a sensor's name narrows the dashboard to it,
// and the sensor menu narrows alerts and top talkers to one sensor or
// shows the whole fleet's.
func TestUIFleet(t *testing.T) {
	ctx := browser(t)
	st := openStore(t)
	now := time.Now().UTC()
	recs := storetest.Fleet(t, now.Add(-time.Minute).Truncate(time.Second))
	old := &schemas.Event{Timestamp: now.Add(-time.Hour)}
	old.ECS.Version = schemas.ECSVersion
	old.Event = schemas.EventMeta{ID: "edge-old-stats", Kind: "metric", Dataset: schemas.DatasetStats}
	old.Observer.Name = "edge-old"
	old.Sensor.Stats.Packets = 5
	old.Sensor.Stats.ConfigVersion = "0123456789abcdef0123"
	old.Sensor.Stats.ConfigError = `fleet set refused: rules: r.yaml:3:14: unknown field "dns.nme"`
	rec, err := schemas.NewRecord(old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Insert(context.Background(), append(recs, rec)); err != nil {
		t.Fatal(err)
	}
	_, hs := testServer(t, Config{Store: st})
	if err := chromedp.Run(ctx,
		chromedp.Navigate(hs.URL+"/#/sensors"),
		chromedp.WaitVisible("#login-form", chromedp.ByQuery),
		chromedp.SendKeys("#login-password", testToken, chromedp.ByQuery),
		chromedp.Click(`#login-form button[type="submit"]`, chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	waitView(t, ctx, "sensors")
	rows := func(sel string) []string {
		t.Helper()
		var out []string
		if err := chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll(`+"`"+sel+"`"+`)].map(tr => [...tr.children].map(td => td.textContent).join('|'))`, &out)); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := rows("#sensors-table tbody tr")
	if len(got) != 4 {
		t.Fatalf("sensors table: %q", got)
	}
	// Name|Site|Version|Last heartbeat|State|Packets|Drops|Output drops|Collector lag|Uptime|Rules & intel
	for i, want := range []string{"edge-a|site-1|2.1|", "edge-b|site-2|2.2|", "edge-c|site-3|2.3|", "edge-old|||"} {
		cells := strings.Split(got[i], "|")
		if !strings.HasPrefix(got[i], want) || len(cells) != 11 {
			t.Errorf("row %d: %q, want it to start %q", i, got[i], want)
			continue
		}
		state, packets, lag := cells[4], cells[5], cells[8]
		if i < 3 && (state != "reporting" || packets != []string{"1,000", "2,000", "3,000"}[i] || !strings.HasSuffix(lag, " min") && !strings.HasSuffix(lag, " s")) {
			t.Errorf("row %d: state %q, packets %q, lag %q", i, state, packets, lag)
		}
		if i == 3 && (state != "stale" || cells[10] != "0123456789ab, refused the latest set") {
			t.Errorf("edge-old, silent for an hour, is %q, rules and intel %q", state, cells[10])
		}
		if i < 3 && cells[10] != "local" {
			t.Errorf("row %d: rules and intel %q, want local", i, cells[10])
		}
	}
	if n := count(t, ctx, "#sensor option"); n != 5 {
		t.Errorf("sensor menu: %d options, want all + 4", n)
	}
	screenshot(t, ctx, "sensors.png")

	// edge-b's name: the dashboard of its 2 flows
	if err := chromedp.Run(ctx, chromedp.Click(`//table[@id="sensors-table"]//a[text()="edge-b"]`, chromedp.BySearch)); err != nil {
		t.Fatal(err)
	}
	waitView(t, ctx, "dashboard")
	var flows, title string
	chromedp.Run(ctx, chromedp.Text("#total-flows", &flows, chromedp.ByQuery), chromedp.Text("#main h1", &title, chromedp.ByQuery))
	if !strings.Contains(flows, "2") || !strings.Contains(title, "edge-b") {
		t.Errorf("edge-b's dashboard: %q flows, title %q", flows, title)
	}

	pick := func(name, hash, view string) {
		t.Helper()
		if err := chromedp.Run(ctx, chromedp.Evaluate(`(() => { document.getElementById('sensor').value = '`+name+`'; location.hash = '`+hash+`'; })()`, nil)); err != nil {
			t.Fatal(err)
		}
		waitView(t, ctx, view)
	}
	pick("edge-b", "#/alerts", "alerts")
	if got := rows("#alerts-table tbody tr"); len(got) != 1 || !strings.Contains(got[0], "|edge-b|") {
		t.Errorf("edge-b's alerts: %q", got)
	}
	pick("", "#/talkers", "talkers")
	if got := rows("#talkers-table tbody tr"); len(got) != 3 || !strings.HasPrefix(got[0], "10.0.0.3|") {
		t.Errorf("top talkers of the fleet: %q", got)
	}
	pick("edge-a", "#/flows", "flows")
	if got := rows("#flows-table tbody tr"); len(got) != 1 || !strings.Contains(got[0], "|edge-a|") {
		t.Errorf("edge-a's flows: %q", got)
	}
	pick("edge-a", "#/talkers", "talkers")
	if got := rows("#talkers-table tbody tr"); len(got) != 1 || !strings.HasPrefix(got[0], "10.0.0.1|") {
		t.Errorf("top talkers of edge-a: %q", got)
	}
	pick("", "#/alerts", "alerts")
	got = rows("#alerts-table tbody tr")
	if len(got) != 3 {
		t.Errorf("alerts of the fleet: %q", got)
	}
	for _, name := range storetest.FleetNames {
		if !strings.Contains(strings.Join(got, "\n"), "|"+name+"|") {
			t.Errorf("no alert of %s among the fleet's: %q", name, got)
		}
	}
}

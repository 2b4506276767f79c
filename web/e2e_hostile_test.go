package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/store"
	"github.com/packetsleuth/packetsleuth/store/report"
)

// TestUIHostileStrings renders every view over a store filled from the
// hostile-strings capture (markup, script, formulas and escape sequences
// in HTTP, DNS and TLS fields) and checks that no payload ran or became
// markup, while each shows up as text where the UI lists it.
func TestUIHostileStrings(t *testing.T) {
	ctx := browser(t)
	pcap := filepath.Join(t.TempDir(), "hostile-strings.pcap")
	if err := pcapgen.Write(pcap, pcapgen.HostileStringsCapture()); err != nil {
		t.Fatal(err)
	}
	st, recs, set := replayInto(t, []string{pcap})
	_, hs := testServer(t, Config{Store: st, Rules: set, Live: newFakeLive()})
	cids := map[string]string{} // dataset -> a community id of a hostile flow
	for _, r := range recs {
		if r.Dataset == schemas.DatasetHTTP || r.Dataset == schemas.DatasetDNS || r.Dataset == schemas.DatasetTLS {
			var ev struct {
				Network struct {
					CommunityID string `json:"community_id"`
				} `json:"network"`
			}
			if err := json.Unmarshal(r.JSON, &ev); err == nil && cids[r.Dataset] == "" {
				cids[r.Dataset] = ev.Network.CommunityID
			}
		}
	}
	if len(cids) != 3 {
		t.Fatalf("the capture gave no HTTP, DNS or TLS event: %v", cids)
	}
	err := chromedp.Run(ctx,
		chromedp.Navigate(hs.URL+"/"),
		chromedp.WaitVisible("#login-form", chromedp.ByQuery),
		chromedp.SendKeys("#login-password", testToken, chromedp.ByQuery),
		chromedp.Click(`#login-form button[type="submit"]`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitView(t, ctx, "dashboard")
	views := []struct{ hash, ready, shows string }{
		{"#/", "dashboard", ""},
		{"#/flows", "flows", ""},
		{"#/alerts", "alerts", ""},
		{"#/talkers?group=destination.ip", "talkers", ""},
		{"#/connections", "connections", ""},
		{"#/rules", "rules", ""},
		{"#/status", "status", ""},
		{"#/audit", "audit", ""},
		{"#/flow/" + url.QueryEscape(cids[schemas.DatasetHTTP]), "flow", "<script>window.__psxPwned=1</script>PSX1"},
		{"#/flow/" + url.QueryEscape(cids[schemas.DatasetDNS]), "flow", "PSX1"},
		{"#/flow/" + url.QueryEscape(cids[schemas.DatasetTLS]), "flow", "PSX1"},
		{"#/events/http", "events", "<script>window.__psxPwned=1</script>PSX1"},
		{"#/events/dns", "events", "PSX1"},
		{"#/events/tls", "events", "PSX1"},
		{"#/pivot?field=source.ip&value=" + url.QueryEscape("<img src=x onerror=alert(1)>"), "pivot", "<img src=x onerror=alert(1)>"},
		{"#/events/dns?where=" + url.QueryEscape(`dns.question.name == "<script>window.__psxPwned=1</script>`), "events", ""},
	}
	for _, v := range views {
		if err := chromedp.Run(ctx, chromedp.Navigate(hs.URL+"/"+v.hash)); err != nil {
			t.Fatal(err)
		}
		waitView(t, ctx, v.ready)
		var pwned bool
		var markup int
		var text string
		err := chromedp.Run(ctx,
			chromedp.Evaluate(`window.__psxPwned !== undefined`, &pwned),
			chromedp.Evaluate(`document.querySelectorAll('script:not([src]), img[src="x"], [onerror], [onload], a[href^="javascript:"]').length`, &markup),
			chromedp.Text("#main", &text, chromedp.ByQuery))
		if err != nil {
			t.Fatal(err)
		}
		if pwned || markup != 0 {
			t.Errorf("%s: a payload ran (%v) or became markup (%d elements)", v.hash, pwned, markup)
		}
		if strings.Contains("\n"+text+"\n", "\nnull\n") {
			t.Errorf("%s: a missing part shows as \"null\":\n%s", v.hash, text)
		}
		if v.shows != "" && !strings.Contains(text, v.shows) {
			t.Errorf("%s: the payload is not shown as text (%q):\n%s", v.hash, v.shows, text)
		}
	}
	screenshot(t, ctx, "hostile-flow.png")
}

// TestReportHTMLHostileStrings opens the HTML report in Chromium with every
// hostile payload as a top-talker key and a rule name: none may run or
// become markup.
func TestReportHTMLHostileStrings(t *testing.T) {
	ctx := browser(t)
	r := &report.Report{Since: testBase, Until: testBase.Add(time.Hour), Resolution: "1m"}
	var rows []store.TopRow
	for i, p := range pcapgen.HostileStrings {
		rows = append(rows, store.TopRow{Key: p, Bytes: int64(1000 - i), Packets: 1, Flows: 1})
		r.Alerts = append(r.Alerts, store.AlertCount{RuleID: "R" + strconv.Itoa(i), RuleName: p, MaxSeverity: 50, Count: 1})
	}
	r.Top = []report.Breakdown{{Group: "destination.ip", By: store.ByBytes, Rows: rows}}
	var page bytes.Buffer
	if err := r.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page.Bytes())
	}))
	defer hs.Close()
	var pwned bool
	var markup int
	var text string
	err := chromedp.Run(ctx, chromedp.Navigate(hs.URL+"/report.html"),
		chromedp.WaitReady("body", chromedp.ByQuery),
		chromedp.Evaluate(`window.__psxPwned !== undefined`, &pwned),
		chromedp.Evaluate(`document.querySelectorAll('script, img, [onerror], [onload], a[href^="javascript:"]').length`, &markup),
		chromedp.Text("body", &text, chromedp.ByQuery))
	if err != nil {
		t.Fatal(err)
	}
	if pwned || markup != 0 {
		t.Errorf("a payload ran (%v) or became markup (%d elements)", pwned, markup)
	}
	for _, want := range []string{"<script>window.__psxPwned=1</script>PSX1", "PSX3", `=HYPERLINK("http://x","PSX4")`} {
		if !strings.Contains(text, want) {
			t.Errorf("the report does not show %q as text", want)
		}
	}
}

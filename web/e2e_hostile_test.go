package web

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/packetsleuth/packetsleuth/internal/pcapgen"
	"github.com/packetsleuth/packetsleuth/schemas"
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
		if v.shows != "" && !strings.Contains(text, v.shows) {
			t.Errorf("%s: the payload is not shown as text (%q):\n%s", v.hash, v.shows, text)
		}
	}
	screenshot(t, ctx, "hostile-flow.png")
}

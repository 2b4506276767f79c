package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/packetsleuth/packetsleuth/outputs"
)

// TestUISortsWholeResult: in headless Chromium, a click on the flows
// table's Bytes column sorts all 130 stored flows on the server, not the
// 50 shown: the first row is the largest flow (an old one, not on the
// newest page), the pager counts the whole result, and Next shows the
// rows the API has at offset 50.
func TestUISortsWholeResult(t *testing.T) {
	ctx := browser(t)
	st, _ := storeWithFlows(t, 130)
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret-pass"), bcrypt.MinCost)
	_, hs := testServer(t, Config{Store: st, Version: "e2e",
		Auth: Auth{Token: outputs.Secret(testToken), User: "admin", PasswordHash: outputs.Secret(hash)}})
	uiLogin(t, ctx, hs)
	navigate(t, ctx, hs.URL+"/#/flows", "flows")
	if n := count(t, ctx, "#flows-table tbody tr"); n != 50 {
		t.Fatalf("flows view shows %d rows, want a page of 50", n)
	}
	firstFlow := func() string {
		t.Helper()
		var href string
		if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector('#flows-table tbody tr a.flow-link').getAttribute('href')`, &href)); err != nil {
			t.Fatal(err)
		}
		cid, _ := url.PathUnescape(strings.TrimPrefix(href, "#/flow/"))
		return cid
	}
	apiFlow := func(offset int) string {
		t.Helper()
		var pg SortedPage
		get(t, hs, fmt.Sprintf("/api/v1/flows?since=2026-11-01T00:00:00Z&sort=network.bytes&order=desc&limit=50&offset=%d", offset), &pg)
		if len(pg.Items) == 0 {
			t.Fatalf("API: no sorted row at %d", offset)
		}
		return evString(pg.Items[0], "network", "community_id")
	}
	var newest ListPage
	get(t, hs, "/api/v1/flows?since=2026-11-01T00:00:00Z&limit=50", &newest)
	largest := apiFlow(0)
	for _, it := range newest.Items {
		if evString(it, "network", "community_id") == largest {
			t.Fatal("the largest flow is on the newest page: the test proves nothing")
		}
	}

	th := `#flows-table th[data-field="network.bytes"]`
	var said string
	err := chromedp.Run(ctx,
		chromedp.Click(th, chromedp.ByQuery), chromedp.WaitVisible(th+`[data-dir="asc"]`, chromedp.ByQuery),
		chromedp.Click(th, chromedp.ByQuery), chromedp.WaitVisible(th+`[data-dir="desc"]`, chromedp.ByQuery),
		chromedp.Text("#page-said", &said, chromedp.ByQuery))
	if err != nil {
		t.Fatal(err)
	}
	if got := firstFlow(); got != largest {
		t.Errorf("sorted by bytes, the first row is %s; the largest flow is %s", got, largest)
	}
	if !strings.Contains(said, "rows 1–50 of 130") {
		t.Errorf("pager says %q", said)
	}
	err = chromedp.Run(ctx, chromedp.Click("#page-next", chromedp.ByQuery),
		chromedp.WaitVisible(`#page-prev:not([disabled])`, chromedp.ByQuery), chromedp.Text("#page-said", &said, chromedp.ByQuery))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := firstFlow(), apiFlow(50); got != want || !strings.Contains(said, "rows 51–100 of 130") {
		t.Errorf("next sorted page starts with %s (%q); the API's row 51 is %s", got, said, want)
	}
}

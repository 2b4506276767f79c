package web

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/packetsleuth/packetsleuth/outputs"
)

// TestUIEventViewsPivotAndPcap drives the DNS/TLS views, the where filter
// (its error shown at the input), column sorting, a pivot from a domain,
// a chart drag that sets the range, and the Download pcap link, in
// headless Chromium.
func TestUIEventViewsPivotAndPcap(t *testing.T) {
	ctx := browser(t)
	paths := []string{"../testdata/pcaps/http-ethernet.pcap", "../testdata/pcaps/http-ipv6.pcap"}
	for _, name := range []string{"dns-a-aaaa-mx.pcap", "dns-nxdomain-soa.pcap", "tls12-handshake-cert.pcap", "tls-sni.pcapng"} {
		paths = append(paths, "../../shared/pcaps/"+name)
	}
	for _, p := range paths[2:] {
		if _, err := os.Stat(p); err != nil {
			t.Skip("../shared/pcaps is not beside the repository; the shared capture tests need it")
		}
	}
	dir, _, recs := indexedReplay(t, paths)
	st := openStore(t)
	if _, err := st.Insert(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	_, newest, _ := st.Bounds(context.Background())
	addTraffic(t, st, newest)
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret-pass"), bcrypt.MinCost)
	_, hs := testServer(t, Config{Store: st, Version: "e2e", Pcap: PcapSource{IndexDirs: []string{dir}},
		Auth: Auth{Token: outputs.Secret(testToken), User: "admin", PasswordHash: outputs.Secret(hash)}})
	uiLogin(t, ctx, hs)

	// Dragging across the chart picks that range for every view.
	var picked string
	err := chromedp.Run(ctx, chromedp.Evaluate(`(() => {
		const svg = document.getElementById('traffic-chart'); const r = svg.getBoundingClientRect();
		const at = (type, f) => svg.dispatchEvent(new MouseEvent(type, { clientX: r.left + r.width * f, clientY: r.top + r.height / 2, bubbles: true }));
		at('mousedown', 0.3); at('mousemove', 0.6); at('mouseup', 0.6);
		return document.getElementById('range').value; })()`, &picked))
	if err != nil || picked != "custom" {
		t.Fatalf("chart drag: range %q, %v", picked, err)
	}
	waitView(t, ctx, "dashboard")
	chromedp.Run(ctx, chromedp.Evaluate(`(() => { const s = document.getElementById('range'); s.value = 'all'; })()`, nil))

	// The DNS view lists what the API lists.
	navigate(t, ctx, hs.URL+"/#/events/dns", "events")
	var dns ListPage
	get(t, hs, "/api/v1/events?dataset=dns&limit=50", &dns)
	if len(dns.Items) < 2 {
		t.Fatalf("API has %d DNS events", len(dns.Items))
	}
	if n := count(t, ctx, "#events-table tbody tr"); n != len(dns.Items) {
		t.Errorf("DNS view lists %d events, API %d", n, len(dns.Items))
	}
	// Sorting by the query column (on the server) orders the rows by it.
	q := `#events-table th[data-field="dns.question.name"]`
	var sorted bool
	err = chromedp.Run(ctx, chromedp.Click(q, chromedp.ByQuery), chromedp.WaitVisible(q+`[data-dir="asc"]`, chromedp.ByQuery),
		chromedp.Click(q, chromedp.ByQuery), chromedp.WaitVisible(q+`[data-dir="desc"]`, chromedp.ByQuery),
		chromedp.Evaluate(`(() => {
		const ths = [...document.querySelectorAll('#events-table th')]; const i = ths.findIndex(th => th.textContent === 'Query');
		const v = [...document.querySelectorAll('#events-table tbody tr')].map(tr => tr.children[i].textContent);
		return v.every((x, k) => k === 0 || v[k-1] >= x) && new Set(v).size > 1; })()`, &sorted))
	if err != nil || !sorted {
		t.Errorf("sorting by query: %v %v", sorted, err)
	}
	// A misspelt field: the error is shown at the input, with the hint.
	setWhere(t, ctx, `dns.question.nam == "x"`)
	var msg string
	chromedp.Run(ctx, chromedp.WaitVisible("#where-error", chromedp.ByQuery), chromedp.Text("#where-error", &msg, chromedp.ByQuery))
	if !strings.Contains(msg, "column 1") || !strings.Contains(msg, `did you mean "dns.question.name"`) {
		t.Errorf("where error shown: %q", msg)
	}
	// A good one lists what the API lists for it.
	const where = `dns.response_code == "NXDOMAIN"`
	setWhere(t, ctx, where)
	var nx ListPage
	get(t, hs, "/api/v1/events?dataset=dns&limit=50&where="+url.QueryEscape(where), &nx)
	if n := count(t, ctx, "#events-table tbody tr"); len(nx.Items) == 0 || n != len(nx.Items) {
		t.Errorf("where %s: view lists %d events, API %d", where, n, len(nx.Items))
	}
	screenshot(t, ctx, "events-dns.png")

	// Save it; it comes back in the list, and choosing it opens the view.
	var said string
	err = chromedp.Run(ctx, chromedp.SendKeys("#save-name", "nxdomains", chromedp.ByQuery),
		chromedp.Click("#save-search", chromedp.ByQuery), chromedp.Poll(`document.getElementById('save-said').textContent`, &said))
	if err != nil || said != "saved as nxdomains" {
		t.Fatalf("save search: %q %v", said, err)
	}
	navigate(t, ctx, hs.URL+"/#/events/dns", "events")
	err = chromedp.Run(ctx, chromedp.Evaluate(`(() => { const s = document.getElementById('saved-pick');
		s.value = [...s.options].find(o => o.textContent === 'nxdomains').value; s.dispatchEvent(new Event('change')); })()`, nil))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	waitView(t, ctx, "events")
	if n := count(t, ctx, "#events-table tbody tr"); n != len(nx.Items) {
		t.Errorf("saved search opens %d rows, want %d", n, len(nx.Items))
	}

	// Pivot from a domain in the TLS view: every event naming it.
	navigate(t, ctx, hs.URL+"/#/events/tls", "events")
	var domain string
	if err := chromedp.Run(ctx, chromedp.Text("#events-table a.pivot[href*='tls.client.server_name']", &domain, chromedp.ByQuery),
		chromedp.Click("#events-table a.pivot[href*='tls.client.server_name']", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitView(t, ctx, "pivot")
	var shown string
	chromedp.Run(ctx, chromedp.Text("#pivot-value", &shown, chromedp.ByQuery))
	var tls ListPage
	get(t, hs, "/api/v1/events?dataset=tls&limit=100&where="+url.QueryEscape(fmt.Sprintf(`tls.client.server_name == %q or url.domain == %q or dns.question.name == %q or destination.domain == %q`, domain, domain, domain, domain)), &tls)
	if shown != domain || count(t, ctx, "#pivot-tls tbody tr") != len(tls.Items) || len(tls.Items) == 0 {
		t.Errorf("pivot on %q shows %q with %d TLS rows, API %d", domain, shown, count(t, ctx, "#pivot-tls tbody tr"), len(tls.Items))
	}
	screenshot(t, ctx, "pivot.png")

	// Download pcap: the browser gets the flow's packets (the cookie session
	// is an analyst's).
	navigate(t, ctx, hs.URL+"/#/flows", "flows")
	err = chromedp.Run(ctx, chromedp.Evaluate(`window.pcapSize = -1; fetch(document.querySelector('#flows-table a.pcap-link').href, { credentials: 'same-origin' })
		.then(r => r.ok && r.headers.get('Content-Type') === 'application/vnd.tcpdump.pcap' ? r.arrayBuffer() : new ArrayBuffer(0))
		.then(b => { window.pcapSize = b.byteLength; }); 0`, nil))
	size := -1
	for i := 0; i < 50 && size < 0 && err == nil; i++ {
		time.Sleep(100 * time.Millisecond)
		err = chromedp.Run(ctx, chromedp.Evaluate(`window.pcapSize`, &size))
	}
	if err != nil || size <= 24 { // a pcap header is 24 bytes
		t.Errorf("Download pcap fetched %d bytes: %v", size, err)
	}
}

func navigate(t *testing.T, ctx context.Context, u, view string) {
	t.Helper()
	if err := chromedp.Run(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatal(err)
	}
	waitView(t, ctx, view)
}

func setWhere(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	err := chromedp.Run(ctx, chromedp.SetValue("#where-input", expr, chromedp.ByQuery),
		chromedp.Click(`form.where button[type="submit"]`, chromedp.ByQuery))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the hash change re-renders
	waitView(t, ctx, "events")
}

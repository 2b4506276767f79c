package web

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/store"
)

// windowsStore replays shared captures of the Windows protocols (PsExec
// over SMB2 with Kerberos and svcctl, a Kerberoasting TGS exchange, a
// DRSUAPI bind authenticated with Kerberos) into a new store.
func windowsStore(t *testing.T) *store.Store {
	t.Helper()
	var paths []string
	for _, name := range []string{"dcerpc-psexec-svcctl.pcap", "krb-kerberoast-rc4.pcap", "dcerpc-drsuapi-kerberos.pcap"} {
		p := filepath.Join("../../shared/pcaps", name)
		if _, err := os.Stat(p); err != nil {
			t.Skip("../shared/pcaps is not beside the repository; the shared capture tests need it")
		}
		paths = append(paths, p)
	}
	st, _, _ := replayInto(t, paths)
	return st
}

// GET /api/v1/events lists the SMB, Kerberos and DCE/RPC events the store
// keeps, with the where filter, and names the datasets it knows when
// asked for another.
func TestWindowsEventsAPI(t *testing.T) {
	_, hs := testServer(t, Config{Store: windowsStore(t)})
	want := map[string][]string{
		"smb":      {`"kerberos":{"service":"cifs/dc1.contoso.local"`, `PSEXESVC.exe`, `"share_name":"ADMIN$"`},
		"kerberos": {`"service":"HTTP/dc-mantvydas.offense.local"`, `"ticket_cipher":"rc4-hmac"`},
		"dcerpc":   {`"name":"svcctl"`, `"service":"LDAP/obed.s4.howto.abartlet.net"`},
	}
	for ds, needles := range want {
		var page ListPage
		if code := get(t, hs, "/api/v1/events?limit=1000&dataset="+ds, &page); code != 200 || len(page.Items) == 0 {
			t.Fatalf("%s: %d, %d items", ds, code, len(page.Items))
		}
		var all strings.Builder
		for _, it := range page.Items {
			if it.Dataset != "packetsleuth."+ds {
				t.Errorf("%s: item of %s", ds, it.Dataset)
			}
			all.Write(it.JSON)
		}
		for _, n := range needles {
			if !strings.Contains(all.String(), n) {
				t.Errorf("%s: no event holds %s", ds, n)
			}
		}
	}
	var admin, all ListPage
	get(t, hs, "/api/v1/events?limit=1000&dataset=smb", &all)
	get(t, hs, "/api/v1/events?limit=1000&dataset=smb&where="+url.QueryEscape(`packetsleuth.smb.admin_share and packetsleuth.smb.action == "tree_connect"`), &admin)
	if len(admin.Items) == 0 || len(admin.Items) >= len(all.Items) {
		t.Errorf("admin share tree connects: %d of %d SMB events", len(admin.Items), len(all.Items))
	}
	for _, it := range admin.Items {
		if !strings.Contains(string(it.JSON), `"admin_share":true`) {
			t.Errorf("filtered event %s", it.JSON)
		}
	}
	if code := get(t, hs, "/api/v1/events?dataset=ssh", &ListPage{}); code != 400 {
		t.Errorf("dataset ssh: %d", code)
	}
}

// The SMB, Kerberos and DCE/RPC views of the UI, reached from the
// navigation bar, list what the API lists, with their columns, in
// headless Chromium.
func TestUIWindowsViews(t *testing.T) {
	ctx := browser(t)
	st := windowsStore(t)
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret-pass"), bcrypt.MinCost)
	_, hs := testServer(t, Config{Store: st, Version: "e2e",
		Auth: Auth{Token: outputs.Secret(testToken), User: "admin", PasswordHash: outputs.Secret(hash)}})
	uiLogin(t, ctx, hs)
	chromedp.Run(ctx, chromedp.Evaluate(`(() => { const s = document.getElementById('range'); s.value = 'all'; })()`, nil))
	for ds, cell := range map[string]string{"smb": "cifs/dc1.contoso.local", "kerberos": "HTTP/dc-mantvydas.offense.local", "dcerpc": "svcctl"} {
		var linked bool
		if err := chromedp.Run(ctx, chromedp.Evaluate(`!!document.querySelector('#nav a[href="#/events/`+ds+`"]')`, &linked)); err != nil || !linked {
			t.Errorf("%s: no link in the navigation bar", ds)
		}
		navigate(t, ctx, hs.URL+"/#/events/"+ds, "events")
		var page ListPage
		get(t, hs, "/api/v1/events?dataset="+ds, &page)
		if n := count(t, ctx, "#events-table tbody tr"); n == 0 || n != len(page.Items) {
			t.Errorf("%s view lists %d events, API %d", ds, n, len(page.Items))
		}
		var text string
		if err := chromedp.Run(ctx, chromedp.Text("#events-table tbody", &text, chromedp.ByQuery)); err != nil || !strings.Contains(text, cell) {
			t.Errorf("%s view does not show %s (%v)", ds, cell, err)
		}
		screenshot(t, ctx, "events-"+ds+".png")
	}
}

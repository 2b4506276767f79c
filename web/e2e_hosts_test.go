package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/packetsleuth/packetsleuth/schemas"
)

// The Hosts page lists the stored DHCP leases, and the flows table shows
// the host name and MAC the lease table gave each end (Chromium).
func TestUIHosts(t *testing.T) {
	ctx := browser(t)
	st := openStore(t)
	now := time.Now().UTC().Truncate(time.Second)
	lease := &schemas.Event{Timestamp: now.Add(-2 * time.Minute)}
	lease.ECS.Version = schemas.ECSVersion
	lease.Event = schemas.EventMeta{ID: "lease-1", Kind: "event", Dataset: schemas.DatasetDHCP}
	lease.Observer.Name = "edge-a"
	lease.Network.Protocol = "dhcp"
	lease.Sensor.DHCP.MessageType = "ack"
	lease.Sensor.DHCP.Lease = schemas.DHCPLease{Action: "assigned", IP: "192.168.0.10", MAC: "00-0B-82-01-FC-42", Hostname: "laptop-7", End: now.Add(time.Hour)}
	flow := &schemas.Event{Timestamp: now.Add(-time.Minute)}
	flow.ECS.Version = schemas.ECSVersion
	flow.Event = schemas.EventMeta{ID: "flow-1", Kind: "event", Dataset: schemas.DatasetFlow}
	flow.Observer.Name = "edge-a"
	flow.Network.Transport, flow.Network.CommunityID = "udp", "1:hosts"
	flow.Source = schemas.Endpoint{IP: "192.168.0.10", Port: 40000, Domain: "laptop-7", MAC: "00-0B-82-01-FC-42"}
	flow.Destination = schemas.Endpoint{IP: "192.0.2.53", Port: 53}
	insertEvents(t, st, lease, flow)
	_, hs := testServer(t, Config{Store: st})
	loginAt(t, ctx, hs.URL+"/#/hosts")
	waitView(t, ctx, "hosts")
	rows := func(sel string) []string { return tableRows(t, ctx, sel) }
	// Address|Host name|MAC|Protocol|Sensor|Leased|Until|State
	if got := rows("#hosts-table tbody tr"); len(got) != 1 || !strings.HasPrefix(got[0], "192.168.0.10|laptop-7|00-0B-82-01-FC-42|dhcp|edge-a|") ||
		!strings.HasSuffix(got[0], "|active") {
		t.Errorf("hosts table: %q", got)
	}
	screenshot(t, ctx, "hosts.png")
	if err := chromedp.Run(ctx, chromedp.Click(`//table[@id="hosts-table"]//a[text()="192.168.0.10"]`, chromedp.BySearch)); err != nil {
		t.Fatal(err)
	}
	waitView(t, ctx, "flows")
	if got := rows("#flows-table tbody tr"); len(got) != 1 || !strings.Contains(got[0], "|192.168.0.10:40000|laptop-7 (00-0B-82-01-FC-42)|192.0.2.53:53||") {
		t.Errorf("flows table: %q", got)
	}
}

// loginAt opens url in the browser and logs in with the test token.
func loginAt(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Run(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible("#login-form", chromedp.ByQuery),
		chromedp.SendKeys("#login-password", testToken, chromedp.ByQuery),
		chromedp.Click(`#login-form button[type="submit"]`, chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
}

// tableRows is the text of the rows sel selects, cells joined by "|".
func tableRows(t *testing.T, ctx context.Context, sel string) []string {
	t.Helper()
	var out []string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll(`+"`"+sel+"`"+`)].map(tr => [...tr.children].map(td => td.textContent).join('|'))`, &out)); err != nil {
		t.Fatal(err)
	}
	return out
}

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
	var recs []schemas.Record
	for _, ev := range []*schemas.Event{lease, flow} {
		rec, err := schemas.NewRecord(ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if _, err := st.Insert(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	_, hs := testServer(t, Config{Store: st})
	if err := chromedp.Run(ctx,
		chromedp.Navigate(hs.URL+"/#/hosts"),
		chromedp.WaitVisible("#login-form", chromedp.ByQuery),
		chromedp.SendKeys("#login-password", testToken, chromedp.ByQuery),
		chromedp.Click(`#login-form button[type="submit"]`, chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	waitView(t, ctx, "hosts")
	rows := func(sel string) []string {
		t.Helper()
		var out []string
		if err := chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll(`+"`"+sel+"`"+`)].map(tr => [...tr.children].map(td => td.textContent).join('|'))`, &out)); err != nil {
			t.Fatal(err)
		}
		return out
	}
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

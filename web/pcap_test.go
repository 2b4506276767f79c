package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/schemas"
	"github.com/packetsleuth/packetsleuth/sensor/carve"
	"github.com/packetsleuth/packetsleuth/sensor/decode"
	"github.com/packetsleuth/packetsleuth/sensor/pcapindex"
	"github.com/packetsleuth/packetsleuth/sensor/pipeline"
)

// indexedReplay replays captures into a store with a packet index, as
// replay --store --index does, and returns the store's flow IDs.
func indexedReplay(t *testing.T, paths []string) (dir string, cids []string, recs []schemas.Record) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "ps.db.pcapidx")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	w := pcapindex.NewWriter(dir, 0, decode.DefragConfig{}, nil)
	rec := &recorder{}
	p, err := pipeline.New(pipeline.Config{Output: rec, OpenTap: func(path string) pipeline.Tap { return w.Open(path) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Replay(context.Background(), paths); err != nil {
		t.Fatal(err)
	}
	if len(w.Errors()) > 0 || len(w.Written()) != len(paths) {
		t.Fatalf("indexes: %v written, errors %v", w.Written(), w.Errors())
	}
	seen := map[string]bool{}
	for _, r := range rec.recs {
		if r.Dataset == schemas.DatasetFlow && r.Key != "" && !seen[r.Key] {
			seen[r.Key] = true
			cids = append(cids, r.Key)
		}
	}
	return dir, cids, rec.recs
}

// downloadEqualsCarve downloads flow cid's packets and checks they are
// what sensor carve scans out of the captures at paths.
func downloadEqualsCarve(t *testing.T, hs *httptest.Server, paths []string, cid string) {
	t.Helper()
	req, _ := http.NewRequest("GET", hs.URL+"/api/v1/flows/"+url.PathEscape(cid)+"/pcap", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	res, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var want bytes.Buffer
	pw := carve.NewWriter(&want, false)
	if _, err := carve.Carve(context.Background(), paths, carve.Options{CommunityID: cid, NoIndex: true}, pw); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/vnd.tcpdump.pcap" || !bytes.Equal(body, want.Bytes()) {
		t.Errorf("%s: %d %s, %d bytes; carve gives %d bytes", cid, res.StatusCode, res.Header.Get("Content-Type"), len(body), want.Len())
	}
}

// TestFlowPcapDownload: an analyst gets each flow's packets, the same as
// sensor carve gives, audit-logged; a viewer is refused, a bad ID is 400,
// an unknown one 404, and too many at once 429.
func TestFlowPcapDownload(t *testing.T) {
	paths := []string{"../testdata/pcaps/http-ethernet.pcap.gz", "../testdata/pcaps/fragments.pcap", "../testdata/pcaps/multi-interface.pcapng"}
	dir, cids, _ := indexedReplay(t, paths)
	st := openStore(t)
	s, hs := testServer(t, Config{Store: st, Auth: Auth{Token: outputs.Secret(testToken), ViewerToken: viewerToken}, Pcap: PcapSource{IndexDirs: []string{dir}}})
	bearer := header("Authorization", "Bearer "+testToken)
	for _, cid := range cids {
		downloadEqualsCarve(t, hs, paths, cid)
	}
	var audit AuditPage
	getJSON(t, hs, "/api/v1/audit?limit=1000", &audit, bearer)
	n := 0
	for _, e := range audit.Items {
		if e.Action == "pcap_download" && e.Role == RoleAnalyst {
			n++
		}
	}
	if n != len(cids) {
		t.Errorf("%d pcap_download audit entries for %d downloads", n, len(cids))
	}
	for path, want := range map[string]int{
		"/api/v1/flows/" + url.PathEscape(cids[0]) + "/pcap":                          403,
		"/api/v1/flows/x/pcap":                                                        400,
		"/api/v1/flows/" + url.PathEscape("1:AAAAAAAAAAAAAAAAAAAAAAAAAAA=") + "/pcap": 404,
	} {
		opt := bearer
		if want == 403 {
			opt = header("Authorization", "Bearer "+viewerToken)
		}
		if got := do(t, hs, "GET", path, "", opt).StatusCode; got != want {
			t.Errorf("GET %s: %d, want %d", path, got, want)
		}
	}
	for range pcapPerUser {
		s.pcapGate.enter("token")
	}
	res := do(t, hs, "GET", "/api/v1/flows/"+url.PathEscape(cids[0])+"/pcap", "", bearer)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Errorf("over the per-user bound: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Without any packet source the answer says how to get one.
	_, bare := testServer(t, Config{Store: st})
	if got := do(t, bare, "GET", "/api/v1/flows/"+url.PathEscape(cids[0])+"/pcap", "", bearer).StatusCode; got != 404 {
		t.Errorf("no packet source: %d", got)
	}
}

package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWhereFilter: where= keeps the events the expression holds for (the
// language of the rules and export --where), pages through the rest, and a
// bad expression is a 400 naming its column.
func TestWhereFilter(t *testing.T) {
	st, recs, _ := replayInto(t, []string{"../testdata/pcaps/http-ethernet.pcap", "../testdata/pcaps/http-ipv6.pcap", "../testdata/pcaps/tcp-states.pcap"})
	_, hs := testServer(t, Config{Store: st})
	var all, some ListPage
	get(t, hs, "/api/v1/flows?limit=1000", &all)
	want := 0
	for _, it := range all.Items {
		if strings.Contains(string(it.JSON), `"type":"ipv6"`) {
			want++
		}
	}
	if want == 0 || want == len(all.Items) || len(recs) == 0 {
		t.Fatalf("need flows of both IP versions: %d of %d", want, len(all.Items))
	}
	// One row per page: the cursor walks past the rows that do not match.
	next, got := "", 0
	for {
		some = ListPage{} // "next" is left out on the last page
		if code := get(t, hs, "/api/v1/flows?limit=1&where="+url.QueryEscape(`network.type == "ipv6"`)+"&cursor="+next, &some); code != 200 {
			t.Fatalf("where: %d", code)
		}
		got += len(some.Items)
		for _, it := range some.Items {
			if !strings.Contains(string(it.JSON), `"type":"ipv6"`) {
				t.Errorf("kept %s", it.JSON)
			}
		}
		if some.Next == "" {
			break
		}
		next = some.Next
	}
	if got != want {
		t.Errorf("where kept %d flows, want %d", got, want)
	}
	req, _ := http.NewRequest("GET", hs.URL+"/api/v1/events?dataset=http&where="+url.QueryEscape(`network.type == "ipv6" and sourc.ip == "x"`), nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	res, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var we WhereError
	if res.StatusCode != 400 || json.Unmarshal(b, &we) != nil || we.Column != 28 || !strings.Contains(we.Error, "source.ip") {
		t.Errorf("bad where: %d %s", res.StatusCode, b)
	}
}

package web

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/store"
)

// TestSavedSearchesAPI: searches are kept per user; a viewer may not save
// (viewers change nothing) but lists their own; bad views and names are 400.
func TestSavedSearchesAPI(t *testing.T) {
	st := openStore(t)
	_, hs := testServer(t, Config{Store: st, Auth: Auth{Token: outputs.Secret(testToken), ViewerToken: viewerToken}})
	call := func(method, path, body, token string) (int, []byte) {
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	code, b := call("POST", "/api/v1/searches", `{"name":"nx","view":"events/dns","query":"where=dns.response_code == \"NXDOMAIN\""}`, testToken)
	var saved store.SavedSearch
	if code != 200 || json.Unmarshal(b, &saved) != nil || saved.ID == 0 {
		t.Fatalf("save: %d %s", code, b)
	}
	for _, bad := range []string{`{"name":"x","view":"javascript:alert(1)"}`, `{"name":"","view":"flows"}`, `{"name":"x","view":"flows","extra":1}`} {
		if code, b := call("POST", "/api/v1/searches", bad, testToken); code != 400 {
			t.Errorf("save %s: %d %s", bad, code, b)
		}
	}
	if code, _ := call("POST", "/api/v1/searches", `{"name":"v","view":"flows"}`, viewerToken); code != 403 {
		t.Errorf("viewer saves: %d", code)
	}
	var list struct{ Items []store.SavedSearch }
	if code, b := call("GET", "/api/v1/searches", "", viewerToken); code != 200 || json.Unmarshal(b, &list) != nil || len(list.Items) != 0 {
		t.Errorf("viewer sees %d %s", code, b)
	}
	if code, b := call("GET", "/api/v1/searches", "", testToken); code != 200 || json.Unmarshal(b, &list) != nil || len(list.Items) != 1 || list.Items[0].Name != "nx" {
		t.Errorf("analyst's list: %d %s", code, b)
	}
	if code, _ := call("DELETE", "/api/v1/searches/"+itoa64(saved.ID), "", testToken); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if code, _ := call("DELETE", "/api/v1/searches/"+itoa64(saved.ID), "", testToken); code != 404 {
		t.Errorf("delete again: %d", code)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

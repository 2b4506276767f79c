package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/packetsleuth/packetsleuth/outputs"
)

const viewerToken = "viewer-token-0123456789abcdef"

// A viewer (token or user) reads but may not acknowledge nor read the
// audit trail; an analyst may; logins, failures, logouts and
// acknowledgements land in the audit trail with user, role and address.
func TestRolesAndAudit(t *testing.T) {
	an, _ := bcrypt.GenerateFromPassword([]byte("analyst pw"), bcrypt.MinCost)
	vw, _ := bcrypt.GenerateFromPassword([]byte("viewer pw"), bcrypt.MinCost)
	st := storeWithAlert(t)
	_, hs := testServer(t, Config{Store: st, Auth: Auth{Token: outputs.Secret(testToken), ViewerToken: viewerToken,
		User: "ana", PasswordHash: outputs.Secret(an), ViewerUser: "vic", ViewerPasswordHash: outputs.Secret(vw)}})
	vbearer := header("Authorization", "Bearer "+viewerToken)
	const ack = "/api/v1/alerts/1/acknowledge"

	var sess struct{ User, Role string }
	getJSON(t, hs, "/api/v1/session", &sess, vbearer)
	if sess.Role != RoleViewer {
		t.Errorf("viewer token session: %+v", sess)
	}
	for path, want := range map[string]int{"/api/v1/alerts": 200, "/api/v1/audit": 403} {
		if got := do(t, hs, "GET", path, "", vbearer).StatusCode; got != want {
			t.Errorf("viewer GET %s: %d, want %d", path, got, want)
		}
	}
	if got := postJSON(t, hs, ack, `{"acknowledged":true}`, vbearer); got != 403 {
		t.Errorf("viewer token acknowledges: %d, want 403", got)
	}
	// The viewer user logs in through the form; its cookie may not change
	// anything either.
	if got := postJSON(t, hs, "/api/v1/login", `{"username":"vic","password":"wrong"}`, csrf); got != 401 {
		t.Errorf("viewer wrong password: %d", got)
	}
	res := do(t, hs, "POST", "/api/v1/login", `{"username":"vic","password":"viewer pw"}`, csrf)
	if res.StatusCode != 200 {
		t.Fatalf("viewer login: %d", res.StatusCode)
	}
	vcookie := cookie(res.Cookies()[0])
	if got := postJSON(t, hs, ack, `{"acknowledged":true}`, vcookie, csrf); got != 403 {
		t.Errorf("viewer cookie acknowledges: %d, want 403", got)
	}
	if got := postJSON(t, hs, "/api/v1/logout", "", vcookie, csrf); got != 204 {
		t.Errorf("viewer logout: %d", got)
	}
	// The analyst may.
	res = do(t, hs, "POST", "/api/v1/login", `{"username":"ana","password":"analyst pw"}`, csrf)
	if res.StatusCode != 200 {
		t.Fatalf("analyst login: %d", res.StatusCode)
	}
	acookie := cookie(res.Cookies()[0])
	getJSON(t, hs, "/api/v1/session", &sess, acookie)
	if sess.Role != RoleAnalyst || sess.User != "ana" {
		t.Errorf("analyst session: %+v", sess)
	}
	for _, body := range []string{`{"acknowledged":true}`, `{"acknowledged":false}`} {
		if got := postJSON(t, hs, ack, body, acookie, csrf); got != 200 {
			t.Errorf("analyst %s: %d", body, got)
		}
	}
	var page AuditPage
	getJSON(t, hs, "/api/v1/audit?limit=4", &page, bearer)
	var got []string
	for _, e := range page.Items {
		got = append(got, e.Action+":"+e.User+":"+e.Role+":"+e.Client+":"+e.Target)
	}
	want := []string{"unacknowledge:ana:analyst:127.0.0.1:alert 1", "acknowledge:ana:analyst:127.0.0.1:alert 1",
		"login:ana:analyst:127.0.0.1:", "logout:vic:viewer:127.0.0.1:"}
	if len(got) != 4 || page.Next == "" {
		t.Fatalf("audit page %v, next %q", got, page.Next)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("audit[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	getJSON(t, hs, "/api/v1/audit?cursor="+page.Next, &page, bearer)
	if len(page.Items) != 2 || page.Items[0].Action != "login" || page.Items[1].Action != "login_failed" ||
		page.Items[1].User != "vic" || page.Next != "" {
		t.Errorf("second audit page: %+v", page)
	}
}

// getJSON GETs path with opts and decodes a 200 answer into v.
func getJSON(t *testing.T, hs *httptest.Server, path string, v any, opts ...reqOpt) {
	t.Helper()
	req, _ := http.NewRequest("GET", hs.URL+path, nil)
	for _, o := range opts {
		o(req)
	}
	res, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

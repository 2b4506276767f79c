package web

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/packetsleuth/packetsleuth/files"
	"github.com/packetsleuth/packetsleuth/outputs"
	"github.com/packetsleuth/packetsleuth/parsers"
)

// keptStore is a file store holding one PE file named evil.pdf.exe; it
// returns the store and the file's SHA-256.
func keptStore(t *testing.T) (*files.Store, string, []byte) {
	t.Helper()
	fs, err := files.OpenStore(files.StoreConfig{Dir: filepath.Join(t.TempDir(), "files"), When: files.WhenAll})
	if err != nil {
		t.Fatal(err)
	}
	data := append([]byte("MZ"), bytes.Repeat([]byte{0x90}, 5000)...)
	var sum string
	f := files.NewTracker(files.Config{Store: fs}, nil).Open(&parsers.FileInfo{Name: "evil.pdf.exe", Size: -1}, files.ReportFunc(func(r *files.Result) {
		sum = r.SHA256
		if ok, err := r.Keep(&files.Sidecar{Name: "evil.pdf.exe", Protocol: "http", Source: "10.0.0.5", MimeType: r.MimeType}, []string{"PS-FILE-004"}); !ok || err != nil {
			t.Fatalf("not kept: %v", err)
		}
	}))
	f.Write(data)
	f.Close(parsers.FileComplete, time.Unix(1700000000, 0))
	return fs, sum, data
}

func TestFilesAPI(t *testing.T) {
	fs, sum, data := keptStore(t)
	st := openStore(t)
	_, hs := testServer(t, Config{Store: st, Files: fs, Auth: Auth{Token: outputs.Secret(testToken), ViewerToken: viewerToken}})

	var page FilesPage
	for q, want := range map[string]int{
		"": 1, "?name=PDF.EXE": 1, "?rule=PS-FILE-004": 1, "?rule=PS-FILE-001": 0, "?sha256=" + sum: 1,
		"?ip=10.0.0.5": 1, "?ip=10.0.0.6": 0, "?mime_type=application/": 1, "?mime_type=image/": 0, "?protocol=smtp": 0,
	} {
		page = FilesPage{}
		if code := get(t, hs, "/api/v1/files"+q, &page); code != 200 || page.Total != want || len(page.Items) != want {
			t.Errorf("files%s: %d, %d items, want %d", q, code, page.Total, want)
		}
	}
	if code := get(t, hs, "/api/v1/files?limit=0", nil); code != 400 {
		t.Errorf("limit=0: %d", code)
	}

	download := func(token, s string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", hs.URL+"/api/v1/files/"+s+"/download", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	if res, _ := download(viewerToken, sum); res.StatusCode != 403 {
		t.Errorf("viewer download: %d", res.StatusCode)
	}
	if res, _ := download(testToken, "../../etc/passwd"); res.StatusCode != 400 && res.StatusCode != 404 {
		t.Errorf("path as hash: %d", res.StatusCode)
	}
	if res, _ := download(testToken, "0000000000000000000000000000000000000000000000000000000000000000"); res.StatusCode != 404 {
		t.Errorf("unknown hash: %d", res.StatusCode)
	}
	res, body := download(testToken, sum)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %s", res.StatusCode, body)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != sum+".bin" || zr.File[0].Flags&1 == 0 {
		t.Fatalf("zip: %v %+v", err, zr)
	}
	if bytes.Contains(body, data[:100]) {
		t.Fatal("the sample is in the clear in the zip")
	}
	if unzip, err := exec.LookPath("unzip"); err == nil {
		zpath := filepath.Join(t.TempDir(), "s.zip")
		os.WriteFile(zpath, body, 0o600)
		out, err := exec.Command(unzip, "-p", "-P", files.ZipPassword, zpath).Output()
		if err != nil || !bytes.Equal(out, data) {
			t.Errorf("unzip -P infected: %v (%d bytes, want %d)", err, len(out), len(data))
		}
	}

	var audit AuditPage
	get(t, hs, "/api/v1/audit", &audit)
	found := false
	for _, e := range audit.Items {
		found = found || e.Action == "file_download" && e.Target == sum
	}
	if !found {
		t.Errorf("download not in the audit trail: %+v", audit.Items)
	}

	// Without a file store: 404, not a crash.
	_, bare := testServer(t, Config{})
	if code := get(t, bare, "/api/v1/files", &page); code != 404 {
		t.Errorf("no store: %d", code)
	}
}

package enrich

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packetsleuth/packetsleuth/schemas"
)

// EICAR's hashes: the test file every antivirus knows.
const (
	eicarMD5    = "44d88612fea8a8f36de82e1278abb02f"
	eicarSHA1   = "3395856ce81f2b7382dee72602f798b642f14140"
	eicarSHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
)

func fileEvent(md5, sha1, sha256 string) *schemas.Event {
	ev := flow("10.0.0.1", "10.0.0.2")
	ev.File.Hash = schemas.FileHash{MD5: md5, SHA1: sha1, SHA256: sha256}
	return ev
}

func TestIntelFileHashes(t *testing.T) {
	dir := t.TempDir()
	plain := writeFile(t, dir, "bazaar.txt", "# SHA-256 and a bare MD5\n"+eicarSHA256+"\n"+eicarMD5+"\n")
	csvf := writeFile(t, dir, "misp.csv", "type,value\nsha1,"+eicarSHA1+"\nmd5,00000000000000000000000000000001\n")
	nd := writeFile(t, dir, "ti.ndjson", `{"threat":{"feed":{"name":"ECS feed"},"indicator":{"type":"file","file":{"hash":{"sha256":"`+eicarSHA256+`","md5":"`+eicarMD5+`"}}}}}
{"threat":{"indicator":{"file":{"hash":{"sha1":"`+eicarSHA1+`"}}}}}
`)
	s, w := openIntel(t, plain, csvf, nd)

	ev := fileEvent(eicarMD5, eicarSHA1, eicarSHA256)
	w.Enrich(ev)
	expectMatches(t, "eicar", ev,
		"file.hash.sha256="+eicarSHA256+" file bazaar",
		"file.hash.sha256="+eicarSHA256+" file ECS feed",
		"file.hash.sha1="+eicarSHA1+" file misp",
		"file.hash.sha1="+eicarSHA1+" file ti",
		"file.hash.md5="+eicarMD5+" file bazaar",
		"file.hash.md5="+eicarMD5+" file ECS feed",
	)
	// The bare 32-digit value is a JA3 too, as before.
	tls := flow("10.0.0.1", "10.0.0.2")
	tls.TLS.Client.JA3 = eicarMD5
	w.Enrich(tls)
	expectMatches(t, "ja3", tls, "tls.client.ja3="+eicarMD5+" ja3 bazaar")

	other := fileEvent("00000000000000000000000000000002", "", "")
	w.Enrich(other)
	expectMatches(t, "no match", other)
	if c := s.Stats().Intel; c.FileHashes != 7 || c.JA3 != 1 {
		t.Errorf("counted %d file hashes and %d JA3, want 7 and 1", c.FileHashes, c.JA3)
	}

	bad := writeFile(t, dir, "bad.csv", "type,value\nsha256,nothex\nmd5,abc\n")
	_, err := Open(Config{Intel: []string{bad}}, nil)
	if err == nil || !strings.Contains(err.Error(), bad+`:2: bad file hash "nothex"`) || !strings.Contains(err.Error(), bad+`:3: bad file hash "abc"`) {
		t.Errorf("bad hashes: %v", err)
	}
}

// An intel path that is a directory loads every list in it (a fleet set's
// intel directory); dot files are left out.
func TestIntelDirectory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("203.0.113.7\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "b.csv"), []byte("indicator,type\nevil.example,domain\n"), 0o600)
	os.WriteFile(filepath.Join(dir, ".partial"), []byte("not a list at all ::::\n"), 0o600)
	s, err := Open(Config{Intel: []string{dir}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c := s.cur.Load().intel.counts; c.Files != 2 {
		t.Errorf("%d files loaded, want 2: %+v", c.Files, c)
	}
	os.WriteFile(filepath.Join(dir, "c.csv"), []byte("indicator,type\nnot an indicator at all,ip\n"), 0o600)
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "c.csv") {
		t.Errorf("a bad list in the directory: %v", err)
	}
}

package files

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The archive opens with the password in Python's zipfile (an independent
// ZipCrypto implementation), and not without it.
func TestWriteZipOpensWithPassword(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: its zipfile module checks the archive")
	}
	data := append(peFile(), bytes.Repeat([]byte("sample bytes "), 5000)...)
	dir := t.TempDir()
	zpath := filepath.Join(dir, "s.zip")
	var buf bytes.Buffer
	if err := WriteZip(&buf, "abc.exe", bytes.NewReader(data), ZipPassword, time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(zpath, buf.Bytes(), 0o600)
	if bytes.Contains(buf.Bytes(), []byte("sample bytes sample")) || bytes.Contains(buf.Bytes(), []byte("PE\x00\x00")) {
		t.Fatal("the content is in the clear")
	}
	script := `
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
info = z.infolist()[0]
assert info.flag_bits & 1, "not encrypted"
try:
    z.read(info.filename, pwd=b"wrong")
    print("opened with a wrong password")
except RuntimeError:
    pass
except Exception:
    pass
sys.stdout.buffer.write(info.filename.encode() + b"\n")
open(sys.argv[2], "wb").write(z.read(info.filename, pwd=b"infected"))
`
	out := filepath.Join(dir, "out")
	res, err := exec.Command(py, "-c", script, zpath, out).CombinedOutput()
	if err != nil || string(res) != "abc.exe\n" {
		t.Fatalf("python zipfile: %v: %s", err, res)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, data) {
		t.Fatalf("decrypted %d bytes differ from the %d written", len(got), len(data))
	}
}

package source

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A replayed directory follows links to capture files and directories
// (each directory once, so a loop ends) and refuses a broken link.
func TestExpandFollowsSymlinks(t *testing.T) {
	root := t.TempDir()
	other := t.TempDir()
	write := func(p string) {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "a.pcap"))
	write(filepath.Join(other, "linked.pcap"))
	os.Mkdir(filepath.Join(other, "sub"), 0o755)
	write(filepath.Join(other, "sub", "deep.pcap"))
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	link(filepath.Join(other, "linked.pcap"), "b.pcap")
	link(filepath.Join(other, "sub"), "c")
	link(root, "loop")

	got, err := Expand([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(root, "a.pcap"), filepath.Join(root, "b.pcap"), filepath.Join(root, "c", "deep.pcap")}
	if !slices.Equal(got, want) {
		t.Fatalf("Expand = %v, want %v", got, want)
	}

	link(filepath.Join(other, "gone.pcap"), "d.pcap")
	if _, err := Expand([]string{root}); err == nil || !strings.Contains(err.Error(), "broken symbolic link") {
		t.Fatalf("a broken link: %v", err)
	}
}
